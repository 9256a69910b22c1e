"""Scan rewrites: sequence maps leave the loop; summed map outputs become running sums.

1. hoist_sequence_maps: work that reads only the sequences is done once for all
   steps, before the loop:

    scan(step(x_t) = f(dot(x_t, W) + b, h), sequences=X)
      -> P = dot(X, W) + b                       (one GEMM over all rows of X)
         scan(step(p_t) = f(p_t, h), sequences=[X, P])

Loop-invariant work (what reads only non-sequences) already leaves the loop
when the Scan is built (frontend/scan.py).  This pass takes the next step: an
inner node whose inputs are sequence slices of one outer sequence, non-
sequences and constants — a ``Dot`` with the slice on the left, an
``Elemwise``, a ``DimShuffle``, a ``Subtensor`` with constant indices — is the
same op applied to every row, so it is applied once to the whole outer sequence
(non-sequences get a leading broadcastable axis).  Where such a value meets the
recurrence, it becomes a new sequence of the loop.  Such a value leaves the loop
when its subgraph holds a ``Dot`` (a product over all rows at once is one large
GEMM instead of ``n_steps`` small ones), or when the loop would spend kernel
calls of their own on it every step: a view (``mask[t][:, None]``), or
elementwise work of another broadcast pattern than the step's elementwise work
that reads it (``(1 - mask[t])[:, None]`` next to the (batch, hidden) gate
math), which fusion cannot take into the step's loop.  Elementwise work of the
reader's pattern stays: fused into the step, it costs no call, and hoisting it
would only add a pass over memory.

Canonical form after this pass: no Scan whose step graph holds a Dot of a
sequence slice by a non-sequence (or of a value computed from one sequence's
slices, non-sequences and constants), nor such a value that is a view or
elementwise work not fusable with its readers.  Rows past ``n_steps`` are
computed too (a sequence may be longer than the loop); ``go_backwards`` reads
the new sequence from its end like the old one, row for row.
"""
from ..config import config
from ..frontend.evaluator import toposort
from ..frontend.graph import Constant, src_loc_override
from ..frontend.printing import pp
from .merge import merge_nodes
from .rewrite import clients_of, rebuild

RULE = "scan_hoist_sequence_map"


def _outer_node(node, args, batched_flags):
    """The op of ``node`` applied to whole sequences (``args``: outer values; batched
    ones carry the leading time axis).  None when the op has no such form here."""
    from ..frontend.ops.blas import Dot, dot
    from ..frontend.ops.elemwise import Elemwise
    from ..frontend.ops.shape import DimShuffle, dimshuffle
    from ..frontend.ops.subtensor import Subtensor
    op = node.op
    if isinstance(op, Dot):
        if batched_flags[0] and not batched_flags[1] and node.inputs[1].ndim in (1, 2):
            return dot(args[0], args[1])
        return None
    if type(op) is Elemwise:
        new = []
        for a, b, v in zip(args, batched_flags, node.inputs):
            new.append(a if b else dimshuffle(a, ("x",) + tuple(range(v.ndim))))
        return op.make_node(*new).outputs[0]
    if isinstance(op, DimShuffle) and batched_flags[0]:
        order = (0,) + tuple(p if p == "x" else p + 1 for p in op.new_order)
        return dimshuffle(args[0], order)
    if type(op) is Subtensor and batched_flags[0] and len(args) == 1:
        # constant basic indexing of each row is the same indexing after a full ':'
        return Subtensor(((None, None, None),) + op.idx_list)(args[0])
    return None


def _calls_of_its_own(v, readers):
    """Whether ``v`` (hoistable, no Dot in it) costs the loop kernel calls of its own each
    step that hoisting saves: all its readers are elementwise work, and fusion cannot
    take ``v``'s producer into their loop (a view, or elementwise work of another broadcast
    pattern).  Elementwise work of a reader's pattern stays: fused into the step, it costs
    no call, and hoisting it would only add a pass over memory.  Values read by anything
    else (a Dot of a transposed state) stay for the step-product rewrites."""
    from ..frontend.ops.elemwise import Elemwise
    if not readers or any(r is None or type(r.op) is not Elemwise for r in readers):
        return False
    if v.owner is None or type(v.owner.op) is not Elemwise:
        return True
    return all(r.outputs[0].broadcastable != v.broadcastable for r in readers)


def _hoist_one(node, trace):
    """A new Scan node equivalent to ``node`` with its sequence maps hoisted, or None."""
    from ..frontend.ops.blas import Dot
    from ..frontend.scan import InnerGraph, Scan, _placeholder
    op = node.op
    if not op.pure:
        return None
    xs, hs, zs, ws, _, _, _ = op.inner_parts()
    _, seqs, inits, shared, nonseqs = op.outer_parts(list(node.inputs))
    outer = {}                 # inner var id -> (outer value, batched source or None)
    for i, (x, s) in enumerate(zip(xs, seqs)):
        outer[id(x)] = (s, i)
    for w, v in zip(ws, nonseqs):
        outer[id(w)] = (v, None)
    has_dot = set()            # inner var ids whose hoisted graph holds a Dot
    const_only = set()         # inner var ids computed from constants alone
    # the step graph merged first (it is not yet): m[:, None] written twice in the step
    # would be two equal new sequences
    inner_outs = merge_nodes(list(op.inner.outputs))
    order = toposort(inner_outs)
    with config.change_flags(compute_test_value="off"):
        for n in order:
            if len(n.outputs) != 1:
                continue
            srcs, args, flags, ok = set(), [], [], True
            for i in n.inputs:
                if isinstance(i, Constant):
                    args.append(i)
                    flags.append(False)
                elif id(i) in outer:
                    val, src = outer[id(i)]
                    args.append(val)
                    flags.append(src is not None)
                    if src is not None:
                        srcs.add(src)
                else:
                    ok = False
                    break
            if ok and not srcs and n.op.pure and all(isinstance(i, Constant) or
                                                     id(i) in const_only for i in n.inputs):
                # work on constants only (DimShuffle{x}(1.)): the same value outside
                const_only.add(id(n.outputs[0]))
                outer[id(n.outputs[0])] = (n.outputs[0], None)
                continue
            if not ok or len(srcs) != 1:
                continue
            with src_loc_override(n.src_loc):
                val = _outer_node(n, args, flags)
            if val is None:
                continue
            out = n.outputs[0]
            if val.dtype != out.dtype or val.ndim != out.ndim + 1:
                continue
            outer[id(out)] = (val, srcs.pop())
            if isinstance(n.op, Dot) or any(id(i) in has_dot for i in n.inputs):
                has_dot.add(id(out))
    # the frontier: hoisted values read by work that stays in the loop, when they hold
    # a Dot, or when computing them in the loop would be kernel calls of their own
    # each step (views, elementwise work the step's fused loop cannot take in)
    seq_ids = {id(x) for x in xs}
    frontier = {}
    hoisted = {k for k, (_, src) in outer.items() if src is not None and k not in seq_ids}
    staying = [n for n in order if not (id(n.outputs[0]) in hoisted and len(n.outputs) == 1)]
    clients = clients_of(staying, [])
    for n in staying:
        for i in n.inputs:
            if id(i) in hoisted and (id(i) in has_dot
                                     or _calls_of_its_own(i, clients.get(id(i), []))):
                frontier.setdefault(id(i), i)
    for o in inner_outs:
        if id(o) in hoisted and id(o) in has_dot:
            frontier.setdefault(id(o), o)
    if not frontier:
        return None
    phs = []
    memo = {}
    for k, v in frontier.items():
        ph = _placeholder(v.type, "%s[t]" % (v.name or "hoisted"))
        memo[k] = ph
        phs.append(ph)
    for n in order:
        if id(n.outputs[0]) not in memo:
            rebuild(n, memo)
    n_old = op.n_seqs
    inputs = list(op.inner.inputs[:n_old]) + phs + list(op.inner.inputs[n_old:])
    outputs = [memo.get(id(o), o) for o in inner_outs]
    new_op = Scan(InnerGraph(inputs, outputs), n_old + len(phs), op.taps, op.n_nit_sot,
                  op.n_shared_outs, op.n_non_seqs, op.truncate_gradient, op.go_backwards,
                  op.name, op.n_sums)
    new_seqs = [outer[k][0] for k in frontier]
    outer_in = [node.inputs[0]] + list(seqs) + new_seqs + list(inits) + list(shared) + \
        list(nonseqs)
    with src_loc_override(node.src_loc):
        new_node = new_op.make_node(*outer_in)
    if trace is not None:
        for v in new_seqs:
            trace.append((RULE, "%s inside %s" % (pp(v), op), pp(v)))
    return new_node


def _rewrite_scans(outputs, one):
    """The graph of ``outputs`` with each Scan node replaced by ``one(node)``: a node
    with the same outputs (of the same types), or None to keep the node."""
    from ..frontend.scan import Scan
    outputs = list(outputs)
    memo = {}
    for node in toposort(outputs):
        cur = rebuild(node, memo)
        if not isinstance(cur.op, Scan):
            continue
        new = one(cur)
        if new is None or any(nv.type != old.type for old, nv in zip(node.outputs, new.outputs)):
            continue
        for old, nv in zip(node.outputs, new.outputs):
            memo[id(old)] = nv
    return [memo.get(id(o), o) for o in outputs]


def hoist_sequence_maps(outputs, trace=None):
    """Apply the rewrite to every Scan of the graph of ``outputs``."""
    return _rewrite_scans(outputs, lambda node: _hoist_one(node, trace))


# ---------------------------------------------------------------------------
# 2. sum_map_outputs: sum(map_output, axis=0) -> a running sum inside the loop
# ---------------------------------------------------------------------------
#
# The gradient of a loop with respect to a non-sequence (the LSTM's recurrent
# weights) is a map output, one (D, 4D) slice per step, summed afterwards.  When
# that sum is the map output's only use, the loop keeps a running sum instead
# (Scan.n_sums): no (n_steps, D, 4D) array is written and read back.  Canonical
# form after this pass: no map output of a Scan whose only client is a sum over
# axis 0 accumulating in the output dtype.

SUM_RULE = "scan_sum_map_output"


def _summed_by(var, clients):
    """The Sum{axis=(0,)} node that is ``var``'s only client, or None."""
    from ..frontend.ops.reduce import Reduce
    users = clients.get(id(var), [])
    if len(users) != 1 or users[0] is None:
        return None
    node = users[0]
    op = node.op
    if not isinstance(op, Reduce) or op.scalar != "sum" or op.axis != (0,):
        return None
    if node.outputs[0].dtype != var.dtype or op.acc_for(var.dtype) != var.dtype:
        return None
    return node


def _step_product(val):
    """(p, q) when the step value ``val`` is ``dot(p.T, q)`` of two matrices (the
    gradient of a recurrent weight: h_{t-1}^T . dpreact_t), else None."""
    from ..frontend.ops.blas import Dot
    from ..frontend.ops.shape import DimShuffle
    node = val.owner
    if node is None or not isinstance(node.op, Dot):
        return None
    a, q = node.inputs
    if a.ndim != 2 or q.ndim != 2 or a.owner is None or not isinstance(a.owner.op, DimShuffle) \
            or tuple(a.owner.op.new_order) != (1, 0):
        return None
    return a.owner.inputs[0], q


def _rows_of(stack):
    """A (steps, rows, cols) stack as one (steps * rows, cols) matrix."""
    from ..frontend.ops.shape import reshape
    return reshape(stack, (-1, stack.shape[2]), ndim=2)


def sum_map_outputs(outputs, trace=None):
    """Map outputs summed over the steps (their only use): a running sum in the loop
    (Scan.n_sums); or, when each step's value is ``dot(p_t.T, q_t)`` of matrices, one
    product ``dot(P.T, Q)`` after the loop over the stacked rows of every step (p_t and
    q_t stacked as map outputs, or read from the outer sequence they slice): one large
    GEMM instead of a small one and a running sum per step (PRODUCT_RULE)."""
    from ..frontend.ops.blas import dot
    from ..frontend.ops.shape import dimshuffle
    from ..frontend.scan import Scan
    outputs = list(outputs)
    order = toposort(outputs)
    clients = clients_of(order, outputs)
    memo = {}
    for node in order:
        if all(id(o) in memo for o in node.outputs):
            continue                                    # a sum replaced below
        cur = rebuild(node, memo)
        if not isinstance(cur.op, Scan) or not cur.op.pure:
            continue
        op = cur.op
        nr, nn = len(op.taps), op.n_nit_sot
        stacked = list(range(nn - op.n_sums))
        sums = {m: _summed_by(node.outputs[nr + m], clients) for m in stacked}
        moved = [m for m in stacked if sums[m] is not None]
        if not moved:
            continue
        inner_out = list(op.inner.outputs)
        xs = op.inner_parts()[0]
        seq_pos = {id(x): k for k, x in enumerate(xs)}
        products = {}
        for m in moved:
            pq = _step_product(inner_out[nr + m])
            if pq is not None and pq[0].ndim == pq[1].ndim == 2:
                products[m] = pq
        running = [m for m in moved if m not in products]
        kept = [m for m in stacked if m not in moved]
        old_summed = list(range(nn - op.n_sums, nn))
        # the step values stacked for the products (each once), unless a sequence slice
        extra = []
        for p, q in products.values():
            for v in (p, q):
                if id(v) not in seq_pos and all(v is not e for e in extra):
                    extra.append(v)
        outs = (inner_out[:nr] + [inner_out[nr + m] for m in kept] + extra
                + [inner_out[nr + m] for m in old_summed + running] + inner_out[nr + nn:])
        n_maps = len(kept) + len(extra) + len(old_summed) + len(running)
        new_op = op.with_outputs(outs, n_maps, op.n_sums + len(running))
        with src_loc_override(node.src_loc):
            new = new_op.make_node(*cur.inputs)
        for j in range(nr):
            memo[id(node.outputs[j])] = new.outputs[j]
        pos = nr
        for m in kept:
            memo[id(node.outputs[nr + m])] = new.outputs[pos]
            pos += 1
        extra_out = {id(v): new.outputs[pos + k] for k, v in enumerate(extra)}
        pos += len(extra)
        for m in old_summed + running:
            target = sums[m].outputs[0] if m in running else node.outputs[nr + m]
            memo[id(target)] = new.outputs[pos]
            if m in running and trace is not None:
                trace.append((SUM_RULE, pp(target), "%s output %d" % (new_op, pos)))
            pos += 1
        for r in range(op.n_shared_outs):
            memo[id(node.outputs[nr + nn + r])] = new.outputs[nr + n_maps + r]
        if products:
            n_steps, seqs = cur.inputs[0], op.outer_parts(cur.inputs)[1]

            def stack_of(v):
                if id(v) in extra_out:
                    return extra_out[id(v)]
                s = seqs[seq_pos[id(v)]]
                return (s[::-1] if op.go_backwards else s)[:n_steps]
            with src_loc_override(node.src_loc):
                for m, (p, q) in products.items():
                    target = sums[m].outputs[0]
                    total = dot(dimshuffle(_rows_of(stack_of(p)), (1, 0)), _rows_of(stack_of(q)))
                    memo[id(target)] = total
                    if trace is not None:
                        trace.append((PRODUCT_RULE, pp(target), pp(total)))
    return [memo.get(id(o), o) for o in outputs]


PRODUCT_RULE = "scan_sum_of_step_products"


PRUNE_RULE = "scan_prune_unused_outputs"


def prune_scan_outputs(outputs, trace=None):
    """Drop the map outputs of a Scan that nothing reads, with the step work that only
    they needed (the inner graph keeps what its remaining outputs reach), and merge
    map outputs that are one inner variable (the same rows written twice).

    A gradient scan computes the gradient of every sequence, also of those no
    one differentiates (the LSTM's mask): that work goes.  The gradients of two
    sequences that enter the step as one sum are one variable (the LSTM's input
    projection and its bias): one output serves both.  Recurrent states stay
    (the loop reads them) and so do the shared-variable outputs.
    """
    from ..frontend.scan import Scan
    outputs = list(outputs)
    order = toposort(outputs)
    clients = clients_of(order, outputs)
    memo = {}
    for node in order:
        cur = rebuild(node, memo)
        if not isinstance(cur.op, Scan) or not cur.op.pure:
            continue
        op = cur.op
        nr, nn = len(op.taps), op.n_nit_sot
        inner_out = list(op.inner.outputs)
        dead, kept, alias = [], [], {}
        for m in range(nn):
            if not clients.get(id(node.outputs[nr + m])):
                dead.append(m)
                continue
            summed = m >= nn - op.n_sums
            same = [k for k in kept if inner_out[nr + k] is inner_out[nr + m]
                    and (k >= nn - op.n_sums) == summed]
            if same:
                alias[m] = same[0]
            else:
                kept.append(m)
        if not dead and not alias:
            continue
        n_sums = sum(1 for m in kept if m >= nn - op.n_sums)
        outs = inner_out[:nr] + [inner_out[nr + m] for m in kept] + inner_out[nr + nn:]
        new_op = op.with_outputs(outs, len(kept), n_sums)
        with src_loc_override(node.src_loc):
            new = new_op.make_node(*cur.inputs)
        for j in range(nr):
            memo[id(node.outputs[j])] = new.outputs[j]
        for pos, m in enumerate(kept):
            memo[id(node.outputs[nr + m])] = new.outputs[nr + pos]
        for m, k in alias.items():
            memo[id(node.outputs[nr + m])] = new.outputs[nr + kept.index(k)]
        for r in range(op.n_shared_outs):
            memo[id(node.outputs[nr + nn + r])] = new.outputs[nr + len(kept) + r]
        if trace is not None:
            what = (["dropped %s" % dead] if dead else []) + (
                ["merged %s" % ", ".join("%d into %d" % mk for mk in sorted(alias.items()))]
                if alias else [])
            trace.append((PRUNE_RULE, "%s (%d map outputs)" % (op, nn),
                          "%s (%d map outputs; %s)" % (new_op, len(kept), "; ".join(what))))
    return [memo.get(id(o), o) for o in outputs]


TRANSPOSE_RULE = "scan_transpose_invariant_once"


def transpose_invariants_once(outputs, trace=None):
    """A non-sequence that a step's product reads and that is a transposed view
    (``U.T`` in the LSTM's backward step, moved out of the loop when the Scan was
    built) becomes a contiguous copy made once before the loop: the GEMM then reads it
    in place at every step instead of packing the strided view again."""
    from ..frontend.ops.blas import Dot
    from ..frontend.ops.elemwise import identity
    from ..frontend.ops.shape import DimShuffle

    def one(node):
        op = node.op
        ws = op.inner_parts()[3]
        read = {id(v) for n_ in toposort(list(op.inner.outputs)) if isinstance(n_.op, Dot)
                for v in n_.inputs}
        first = len(node.inputs) - len(ws)
        ins = list(node.inputs)
        changed = []
        for k, w in enumerate(ws):
            o = ins[first + k].owner
            if id(w) in read and w.ndim == 2 and o is not None and isinstance(o.op, DimShuffle) \
                    and tuple(o.op.new_order) == (1, 0):
                with src_loc_override(node.src_loc):
                    ins[first + k] = identity(ins[first + k])
                changed.append(w.name or "non-sequence %d" % k)
        if not changed:
            return None
        if trace is not None:
            trace.append((TRANSPOSE_RULE, "%s reads %s transposed" % (op, ", ".join(changed)),
                          "a contiguous copy made before the loop"))
        with src_loc_override(node.src_loc):
            return op.make_node(*ins)
    return _rewrite_scans(outputs, one)


# ---------------------------------------------------------------------------
# 4. reuse_step_products: a product the loop already made, kept instead of redone
# ---------------------------------------------------------------------------
#
# The gradient of a recurrent step needs the step's pre-activations again, so
# the gradient loop reads dot(h_{t-1}, U) for every step; hoisted out of that
# loop it is one product over the forward loop's state rows, dot(H[0:n], U).
# The forward loop computed each of those rows already: its step holds
# dot(h_{t-1}, U).  That step value becomes a map output of the forward loop
# (written straight into its row) and replaces the product: one GEMM fewer.
# Canonical form after this pass: no dot(B_j[0:n_steps], M) of a state buffer
# B_j (taps [-1]) of a forward, pure loop whose step computes dot(h_j, M) with
# the same non-sequence M.

REUSE_RULE = "scan_reuse_step_product"


def _state_rows_product(node):
    """(scan node, state j, M) when ``node`` is dot(B_j[0:n], M) (or B_j[:n]) of a
    forward, pure Scan's state buffer with taps [-1], n its n_steps; else None."""
    from ..frontend.ops.blas import Dot
    from ..frontend.ops.subtensor import Subtensor
    from ..frontend.scan import Scan
    if not isinstance(node.op, Dot) or len(node.inputs) != 2:
        return None
    rows, M = node.inputs
    sub = rows.owner
    if sub is None or not isinstance(sub.op, Subtensor) or len(sub.op.idx_list) != 1:
        return None
    e = sub.op.idx_list[0]
    if not isinstance(e, tuple) or e[0] not in (0, None) or e[1] != "s" or e[2] not in (None, 1):
        return None
    buf, n = sub.inputs
    loop = buf.owner
    if loop is None or not isinstance(loop.op, Scan) or not loop.op.pure or loop.op.go_backwards:
        return None
    js = [j for j, o in enumerate(loop.outputs[:len(loop.op.taps)]) if o is buf]
    if not js or loop.op.taps[js[0]] != (-1,) or n is not loop.inputs[0]:
        return None
    return loop, js[0], M


def _step_dot(loop, j, M):
    """The inner variable dot(h_j tap -1, w) of ``loop``'s step, w the inner non-sequence
    bound to the outer ``M``; None when the step holds no such product."""
    from ..frontend.ops.blas import Dot
    op = loop.op
    _, hs, _, ws, _, _, _ = op.inner_parts()
    nonseqs = op.outer_parts(loop.inputs)[4]
    inner_ws = {id(w) for w, outer in zip(ws, nonseqs) if outer is M}
    tap = hs[j][0]
    for m in toposort(list(op.inner.outputs)):
        if isinstance(m.op, Dot) and m.inputs[0] is tap and id(m.inputs[1]) in inner_ws:
            return m.outputs[0]
    return None


def reuse_step_products(outputs, trace=None):
    """Replace dot(B_j[0:n], M) after a loop by the loop's own step values (see above)."""
    outputs = list(outputs)
    order = toposort(outputs)
    wanted = {}                 # id(loop) -> [(product node, inner step value)]
    for node in order:
        hit = _state_rows_product(node)
        if hit is None:
            continue
        loop, j, M = hit
        val = _step_dot(loop, j, M)
        if val is not None:
            wanted.setdefault(id(loop), []).append((node, val))
    if not wanted:
        return outputs
    memo, replace = {}, {}      # replace: id(old product output) -> the new map output
    for node in order:
        if id(node) in wanted:
            cur = rebuild(node, memo)
            op = cur.op
            nr, nn = len(op.taps), op.n_nit_sot
            inner_out = list(op.inner.outputs)
            extra = []
            for _, val in wanted[id(node)]:
                if all(val is not x for x in extra):
                    extra.append(val)
            cut = nr + nn - op.n_sums          # new map outputs go before the summed ones
            outs = inner_out[:cut] + extra + inner_out[cut:]
            new_op = op.with_outputs(outs, nn + len(extra), op.n_sums)
            with src_loc_override(node.src_loc):
                new = new_op.make_node(*cur.inputs)
            for k, old in enumerate(node.outputs):
                memo[id(old)] = new.outputs[k if k < cut else k + len(extra)]
            for prod, val in wanted[id(node)]:
                k = next(i for i, x in enumerate(extra) if x is val)
                got = new.outputs[cut + k]
                if got.type == prod.outputs[0].type:
                    replace[id(prod.outputs[0])] = got
                    if trace is not None:
                        trace.append((REUSE_RULE, pp(prod.outputs[0]),
                                      "%s (map output %d)" % (new_op, cut - nr + k)))
            continue
        if node.outputs and id(node.outputs[0]) in replace:
            memo[id(node.outputs[0])] = replace[id(node.outputs[0])]
            continue
        rebuild(node, memo)
    return [memo.get(id(o), o) for o in outputs]
