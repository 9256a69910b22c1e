"""``aotc.scan``: a loop is one op, :class:`Scan`, holding its step function as an inner graph.

Layout of a Scan node (the props of :class:`Scan`; what a lowering reads)::

    outer inputs   n_steps (int64 scalar)
                   + sequences                     (n_seqs)
                   + initial buffers               (one per entry of ``taps``)
                   + initial shared values         (n_shared_outs)
                   + non-sequences                 (n_non_seqs)
    outer outputs  state buffers                   (one per entry of ``taps``)
                   + map outputs                   (n_nit_sot)
                   + final shared values           (n_shared_outs)
    inner inputs   one slice per sequence
                   + one per (state j, tap k), in ``taps[j]`` order
                   + one per shared state + one per non-sequence
    inner outputs  the new value of each state + each map output + each shared state

Step ``s = 0 .. n_steps-1``: sequence i gives ``seq_i[s]`` (``go_backwards``:
``seq_i[len_i - 1 - s]``).  State j has ``L_j = -min(taps[j])`` initial rows and
a buffer ``B_j`` of ``L_j + n_steps`` rows whose first ``L_j`` rows are its
initial buffer: tap k reads ``B_j[L_j + s + k]`` and the new value is written to
``B_j[L_j + s]``.  Map output m stores its value in row s of an
``(n_steps, ...)`` array.  A shared state is carried from step to step and only
its final value is returned (no history: nothing differentiates through it).
Non-sequences are the same at every step.  Sequences must have at least
``n_steps`` rows; the user-level :func:`scan` passes the shortest length.

The inner graph only reads its inner inputs and constants: work that does not
change from step to step (including the loop-invariant part of a gradient
step) is hoisted out of the loop when the Scan is built and enters as a
non-sequence.  The gradient of a Scan is another Scan running backwards over
the stored state buffers (backpropagation through time), built from symbolic
ops, so it can be differentiated again.
"""
from collections import OrderedDict

import numpy as np

from ..errors import AotcError, AotcTypeError, AotcValueError, ShapeError
from .evaluator import evaluate, run_node, toposort
from .graph import Apply, Constant, Op, as_tensor_variable, constant
from .types import TensorType, is_float, is_int

__all__ = ["Scan", "build_scan"]


# ---------------------------------------------------------------------------
# the inner graph
# ---------------------------------------------------------------------------

class InnerGraph:
    """The frozen step function of a Scan: inner input variables -> inner output variables.

    The toposort and a slot table for the reference loop are computed once here.
    It compares by identity: two Scans are equal only when they share one inner graph.
    """

    def __init__(self, inputs, outputs):
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        if len({id(v) for v in self.inputs}) != len(self.inputs):
            raise AssertionError("internal: an inner input of scan appears twice")
        self.nodes = tuple(toposort(self.outputs))
        slot = {id(v): k for k, v in enumerate(self.inputs)}
        consts = []

        def slot_of(v):
            k = slot.get(id(v))
            if k is None:
                if not isinstance(v, Constant):
                    raise AssertionError("internal: the inner graph of scan reads %s, which is "
                                         "neither an inner input nor a constant" % v)
                k = slot[id(v)] = len(slot)
                consts.append((k, v.data))
            return k

        steps = []
        for node in self.nodes:
            ins = tuple(slot_of(i) for i in node.inputs)
            outs = []
            for o in node.outputs:
                slot[id(o)] = len(slot)
                outs.append(slot[id(o)])
            steps.append((node, ins, tuple(outs)))
        self._out_slots = tuple(slot_of(o) for o in self.outputs)
        self._template = [None] * len(slot)
        for k, data in consts:
            self._template[k] = data
        self._steps = tuple(steps)
        self.lazy = any(getattr(n.op, "lazy", False) for n in self.nodes)
        self.pure = all(n.op.pure for n in self.nodes)

    def run(self, values):
        """Output values for one step, given one value per inner input."""
        if self.lazy:  # lazy ops (ifelse) ask for what they need: the evaluator knows how
            return evaluate(list(self.outputs), {id(v): x for v, x in zip(self.inputs, values)})
        mem = list(self._template)
        mem[:len(values)] = values
        for node, ins, outs in self._steps:
            res = run_node(node, [mem[i] for i in ins])
            for k, r in zip(outs, res):
                mem[k] = r
        return [mem[k] for k in self._out_slots]

    def infer_shapes(self, input_shapes):
        """Output shapes from the inner inputs' shapes; None for an output whose shape is
        not known (an input shape is None, or an op's size depends on values)."""
        known = {id(v): (tuple(s) if s is not None else None)
                 for v, s in zip(self.inputs, input_shapes)}

        def shp(v):
            return v.data.shape if isinstance(v, Constant) else known.get(id(v))

        for node in self.nodes:
            ins = [shp(i) for i in node.inputs]
            res = None
            if all(s is not None and all(d is not None for d in s) for s in ins):
                try:
                    res = node.op.infer_shape(node, ins)
                except Exception:  # noqa: BLE001 - a best-effort hint; run time checks sizes
                    res = None
            for k, o in enumerate(node.outputs):
                known[id(o)] = tuple(res[k]) if res is not None else None
        return [shp(o) for o in self.outputs]

    def __str__(self):
        return "InnerGraph(%d inputs, %d nodes, %d outputs)" % (
            len(self.inputs), len(self.nodes), len(self.outputs))

    __repr__ = __str__


def _placeholder(ttype, name):
    return TensorType(ttype.dtype, ttype.broadcastable)(name)


def _at_user():
    from .ops.shape import at_user_line
    return at_user_line()


# ---------------------------------------------------------------------------
# the op
# ---------------------------------------------------------------------------

class Scan(Op):
    """A loop: ``n_steps`` applications of an inner graph (see the module docstring
    for the layout of inputs and outputs).

    ``taps`` holds, per recurrent state, the negative offsets the step reads;
    ``truncate_gradient`` (-1: full) limits backpropagation to the last steps;
    ``go_backwards`` reads the sequences from their end.
    """

    __props__ = ("n_seqs", "taps", "n_nit_sot", "n_shared_outs", "n_non_seqs",
                 "truncate_gradient", "go_backwards", "name", "inner", "n_sums")
    c = "c/scan"
    cuda = "cuda/scan"

    def __init__(self, inner, n_seqs, taps, n_nit_sot, n_shared_outs, n_non_seqs,
                 truncate_gradient=-1, go_backwards=False, name=None, n_sums=0):
        self.inner = inner
        self.n_seqs = int(n_seqs)
        self.taps = tuple(tuple(int(k) for k in t) for t in taps)
        self.n_nit_sot = int(n_nit_sot)
        # the last n_sums map outputs are summed over the steps instead of stacked (the
        # optimizer makes these from sum(map_output, axis=0): no (n_steps, ...) array)
        self.n_sums = int(n_sums)
        if not 0 <= self.n_sums <= self.n_nit_sot:
            raise AssertionError("internal: scan n_sums %d of %d map outputs"
                                 % (self.n_sums, self.n_nit_sot))
        self.n_shared_outs = int(n_shared_outs)
        self.n_non_seqs = int(n_non_seqs)
        self.truncate_gradient = int(truncate_gradient)
        self.go_backwards = bool(go_backwards)
        self.name = name
        self.pure = inner.pure
        n_in = self.n_seqs + sum(len(t) for t in self.taps) + self.n_shared_outs + self.n_non_seqs
        n_out = len(self.taps) + self.n_nit_sot + self.n_shared_outs
        if len(inner.inputs) != n_in or len(inner.outputs) != n_out:
            raise AssertionError("internal: scan layout wants %d inner inputs and %d outputs, the "
                                 "inner graph has %d and %d" % (n_in, n_out, len(inner.inputs),
                                                                len(inner.outputs)))
        for t in self.taps:
            if not t or any(k >= 0 for k in t):
                raise AssertionError("internal: state taps must be negative, got %s" % (t,))
        xs, hs, zs, ws, h_out, y_out, z_out = self.inner_parts()
        for j, (phs, out) in enumerate(zip(hs, h_out)):
            for ph in phs:
                if ph.type != out.type:
                    raise AssertionError("internal: state %d has type %s, its new value %s"
                                         % (j, ph.type, out.type))
        for z, out in zip(zs, z_out):
            if z.type != out.type:
                raise AssertionError("internal: shared state has type %s, its new value %s"
                                     % (z.type, out.type))

    # -- layout helpers -------------------------------------------------------
    @property
    def lags(self):
        """Initial rows per state: ``-min(taps[j])``."""
        return tuple(-min(t) for t in self.taps)

    def inner_parts(self):
        """(seq slices, per-state tap lists, shared states, non-seqs, new states, map outputs,
        new shared values) of the inner graph."""
        ins, p = self.inner.inputs, 0
        xs = ins[p:p + self.n_seqs]
        p += self.n_seqs
        hs = []
        for t in self.taps:
            hs.append(ins[p:p + len(t)])
            p += len(t)
        zs = ins[p:p + self.n_shared_outs]
        ws = ins[p + self.n_shared_outs:]
        outs, nr = self.inner.outputs, len(self.taps)
        return (xs, hs, zs, ws, outs[:nr], outs[nr:nr + self.n_nit_sot],
                outs[nr + self.n_nit_sot:])

    def outer_parts(self, inputs):
        """(n_steps, sequences, initial buffers, shared initial values, non-seqs)."""
        p = 1
        seqs = inputs[p:p + self.n_seqs]
        p += self.n_seqs
        inits = inputs[p:p + len(self.taps)]
        p += len(self.taps)
        shared = inputs[p:p + self.n_shared_outs]
        return inputs[0], seqs, inits, shared, inputs[p + self.n_shared_outs:]

    def with_inner(self, inner):
        """This loop with another step graph of the same layout (for rewrites of the body)."""
        return Scan(inner, self.n_seqs, self.taps, self.n_nit_sot, self.n_shared_outs,
                    self.n_non_seqs, self.truncate_gradient, self.go_backwards, self.name,
                    self.n_sums)

    def with_outputs(self, inner_outputs, n_nit_sot, n_sums):
        """This loop with other inner outputs over the same inner inputs: ``n_nit_sot``
        map outputs, the last ``n_sums`` of them summed (rewrites that add, drop or
        merge map outputs)."""
        return Scan(InnerGraph(self.inner.inputs, inner_outputs), self.n_seqs, self.taps,
                    n_nit_sot, self.n_shared_outs, self.n_non_seqs, self.truncate_gradient,
                    self.go_backwards, self.name, n_sums)

    def _label(self):
        return "scan %r" % self.name if self.name else "scan"

    def __str__(self):
        return "Scan{%s}" % (self.name or "scan")

    __repr__ = __str__

    # -- make_node ------------------------------------------------------------
    def make_node(self, *inputs):
        from .ops.shape import patternbroadcast
        from .ops.elemwise import cast
        inputs = [as_tensor_variable(i) for i in inputs]
        xs, hs, zs, ws, h_out, y_out, z_out = self.inner_parts()
        nr = len(self.taps)
        want = 1 + self.n_seqs + nr + self.n_shared_outs + self.n_non_seqs
        if len(inputs) != want:
            raise AotcValueError("%s: expected %d inputs, got %d%s"
                                 % (self._label(), want, len(inputs), _at_user()))
        n = inputs[0]
        if n.ndim != 0 or not is_int(n.dtype) or n.dtype == "bool":
            raise AotcTypeError("%s: n_steps must be an integer scalar, got %s of type %s%s"
                                % (self._label(), n, n.type, _at_user()))
        if n.dtype != "int64":
            n = cast(n, "int64")
        _, seqs, inits, shared, nonseqs = self.outer_parts(inputs)

        def fit(outer, inner_type, lead, what):
            # outer must carry inner_type (after ``lead`` leading axes); a flag the inner
            # graph relies on (broadcastable) is asserted with a checked Rebroadcast
            if outer.dtype != inner_type.dtype or outer.ndim != inner_type.ndim + lead:
                raise AotcTypeError("%s: %s must have dtype %s and ndim %d, got %s of type %s%s"
                                    % (self._label(), what, inner_type.dtype,
                                       inner_type.ndim + lead, outer, outer.type, _at_user()))
            bc = outer.broadcastable
            need = bc[:lead] + tuple(a or b for a, b in zip(bc[lead:], inner_type.broadcastable))
            return outer if need == bc else patternbroadcast(outer, need)

        new = [n]
        new += [fit(s, x.type, 1, "sequence %d" % i) for i, (s, x) in enumerate(zip(seqs, xs))]
        new += [fit(b, h[0].type, 1, "the initial value of state %d" % j)
                for j, (b, h) in enumerate(zip(inits, hs))]
        new += [fit(s, z.type, 0, "shared state %d" % r)
                for r, (s, z) in enumerate(zip(shared, zs))]
        new += [fit(v, w.type, 0, "non-sequence %d" % p)
                for p, (v, w) in enumerate(zip(nonseqs, ws))]
        outs = [TensorType(o.dtype, (False,) + o.broadcastable)() for o in h_out]
        n_stacked = self.n_nit_sot - self.n_sums
        outs += [TensorType(o.dtype, (False,) + o.broadcastable)() for o in y_out[:n_stacked]]
        outs += [TensorType(o.dtype, o.broadcastable)() for o in y_out[n_stacked:]]
        outs += [TensorType(o.dtype, o.broadcastable)() for o in z_out]
        return Apply(self, new, outs)

    # -- reference loop -------------------------------------------------------
    def perform(self, node, inputs):
        n = int(inputs[0])
        label = self._label()
        if n < 0:
            raise AotcValueError("%s: n_steps must be >= 0, got %d (a negative n_steps is not "
                                 "supported; use go_backwards=True)" % (label, n))
        _, seqs, inits, shared0, nonseqs = self.outer_parts(list(inputs))
        for i, s in enumerate(seqs):
            if s.shape[0] < n:
                raise ShapeError("%s: sequence %d has %d entries, fewer than the %d steps asked "
                                 "for (n_steps)" % (label, i, s.shape[0], n))
        lags = self.lags
        bufs = []
        for j, (init, lag) in enumerate(zip(inits, lags)):
            if init.shape[0] != lag:
                raise ShapeError("%s: state %d reads taps %s, so its initial value needs %d "
                                 "row(s), got shape %s" % (label, j, list(self.taps[j]), lag,
                                                           init.shape))
            buf = np.empty((lag + n,) + init.shape[1:], dtype=node.outputs[j].dtype)
            buf[:lag] = init
            bufs.append(buf)
        nr, nn = len(self.taps), self.n_nit_sot
        maps = [None] * nn
        shared = list(shared0)
        n_state_in = self.n_seqs + sum(len(t) for t in self.taps) + self.n_shared_outs
        vals = [None] * n_state_in + list(nonseqs)
        for s in range(n):
            k = 0
            for seq in seqs:
                vals[k] = seq[(seq.shape[0] - 1 - s) if self.go_backwards else s, ...]
                k += 1
            for buf, lag, taps in zip(bufs, lags, self.taps):
                for tap in taps:
                    vals[k] = buf[lag + s + tap, ...]
                    k += 1
            for z in shared:
                vals[k] = z
                k += 1
            try:
                outs = self.inner.run(vals)
            except AotcError as e:
                raise type(e)("%s\nInside %s, at step %d of %d." % (e, label, s, n)) from None
            for j, (buf, lag) in enumerate(zip(bufs, lags)):
                o = outs[j]
                if o.shape != buf.shape[1:]:
                    raise ShapeError("%s: the step's new value of state %d has shape %s, but the "
                                     "state has shape %s (from its initial value); at step %d"
                                     % (label, j, o.shape, buf.shape[1:], s))
                buf[lag + s] = o
            for m in range(nn):
                o = outs[nr + m]
                summed = m >= nn - self.n_sums
                if maps[m] is None:
                    maps[m] = (np.array(o, dtype=node.outputs[nr + m].dtype) if summed else
                               np.empty((n,) + o.shape, dtype=node.outputs[nr + m].dtype))
                    if summed:
                        continue
                row = maps[m].shape if summed else maps[m].shape[1:]
                if o.shape != row:
                    raise ShapeError("%s: output %d has shape %s at step %d but %s at step 0; "
                                     "every step must give one shape"
                                     % (label, nr + m, o.shape, s, row))
                if summed:
                    maps[m] += o
                else:
                    maps[m][s] = o
            shared = outs[nr + nn:]
        if n == 0 and nn:
            maps = self._empty_maps(node, seqs, inits, shared0, nonseqs)
            for m in range(nn - self.n_sums, nn):
                maps[m] = np.zeros(maps[m].shape[1:], dtype=maps[m].dtype)
        finals = [np.array(v, dtype=var.dtype, copy=True)
                  for v, var in zip(shared, node.outputs[nr + nn:])]
        return bufs + maps + finals

    def _inner_input_shapes(self, seq_shapes, init_shapes, shared_shapes, nonseq_shapes):
        shapes = [tuple(s[1:]) for s in seq_shapes]
        for t, s in zip(self.taps, init_shapes):
            shapes += [tuple(s[1:])] * len(t)
        return shapes + [tuple(s) for s in shared_shapes] + [tuple(s) for s in nonseq_shapes]

    def _empty_maps(self, node, seqs, inits, shared, nonseqs):
        # zero steps: no step ran to tell the map outputs' shapes; ask the inner graph
        shapes = self.inner.infer_shapes(self._inner_input_shapes(
            [s.shape for s in seqs], [b.shape for b in inits], [z.shape for z in shared],
            [w.shape for w in nonseqs]))
        nr = len(self.taps)
        out = []
        for m in range(self.n_nit_sot):
            var = node.outputs[nr + m]
            shp = shapes[nr + m]
            if shp is None or any(d is None for d in shp):
                bc = var.broadcastable if m >= self.n_nit_sot - self.n_sums else \
                    var.broadcastable[1:]
                shp = tuple(1 if b else 0 for b in bc)
            out.append(np.empty((0,) + tuple(int(d) for d in shp), dtype=var.dtype))
        return out

    def infer_shape(self, node, input_shapes):
        _, seqs, inits, shared, nonseqs = self.outer_parts(list(input_shapes))
        n = int(node.inputs[0].data) if isinstance(node.inputs[0], Constant) else None
        inner = self.inner.infer_shapes(self._inner_input_shapes(seqs, inits, shared, nonseqs))
        nr, nn = len(self.taps), self.n_nit_sot
        out = []
        for j, (init, lag) in enumerate(zip(inits, self.lags)):
            out.append((lag + n if n is not None else None,) + tuple(init[1:]))
        for m in range(nn):
            summed = m >= nn - self.n_sums
            shp = inner[nr + m] or (None,) * (node.outputs[nr + m].ndim - (0 if summed else 1))
            out.append(tuple(shp) if summed else (n,) + tuple(shp))
        for r in range(self.n_shared_outs):
            shp = inner[nr + nn + r] or (None,) * node.outputs[nr + nn + r].ndim
            out.append(tuple(shp))
        return out

    # -- gradient: a backward Scan ----------------------------------------------
    def grad(self, node, output_grads):
        if self.n_sums:
            raise AotcError("%s: a loop with summed outputs is made by the optimizer after "
                            "differentiation and has no gradient" % self._label())
        return _scan_grad(self, node, output_grads)


OPS = (Scan,)


# ---------------------------------------------------------------------------
# building a Scan from traced step expressions
# ---------------------------------------------------------------------------

def _ancestors_within(outputs, inside):
    """Ids of the variables ``outputs`` depend on through nodes whose outputs are in ``inside``."""
    seen, stack = set(), list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is not None and id(v) in inside:
            stack.extend(v.owner.inputs)
    return seen


def _hoist(var, inv_map, memo):
    """``var`` (loop-invariant) rebuilt outside the loop: the placeholders in ``inv_map``
    replaced by the outer variables they stand for."""
    if not inv_map:
        return var
    for node in toposort([var]):
        if id(node.outputs[0]) in memo:
            continue
        ins = [memo.get(id(i), inv_map.get(id(i), i)) for i in node.inputs]
        if all(a is b for a, b in zip(ins, node.inputs)):
            continue
        new = node.clone_with_new_inputs(ins)
        for old, nv in zip(node.outputs, new.outputs):
            memo[id(old)] = nv
    return memo.get(id(var), inv_map.get(id(var), var))


def build_scan(n_steps, seqs, recs, nits, shareds, invariant=(), truncate_gradient=-1,
               go_backwards=False, name=None, prune_seqs=False):
    """Make a Scan node from step expressions built on placeholders.

    - ``seqs``: ``[(outer_sequence, slice_placeholder)]``;
    - ``recs``: ``[(outer_initial_buffer, taps, tap_placeholders, new_value)]``;
    - ``nits``: map outputs (step expressions);
    - ``shareds``: ``[(outer_initial, root, new_value)]`` where ``root`` is the variable the
      step expressions read for the state (a SharedVariable, replaced here);
    - ``invariant``: ``[(placeholder, outer)]`` placeholders standing for outer variables.

    Everything the step reads that does not vary from step to step (outer variables,
    and nodes depending only on them) becomes a non-sequence.  A shared state whose
    value the other outputs read keeps its history (it becomes a state with taps
    [-1]) so that the gradient can see it.  Returns ``(state buffers, map outputs,
    final shared values)``.
    """
    varying = {id(ph) for _, ph in seqs}
    varying |= {id(ph) for rec in recs for ph in rec[2]}
    varying |= {id(root) for _, root, _ in shareds}
    inv_map = {id(ph): outer for ph, outer in invariant}
    rec_outs = [r[3] for r in recs]
    shared_news = [s[2] for s in shareds]
    all_outs = rec_outs + list(nits) + shared_news
    inner_nodes = []
    constish = set()  # outputs of nodes computed from constants only: they stay inside
    for node in toposort(all_outs):
        if any(id(i) in varying for i in node.inputs):
            inner_nodes.append(node)
            varying.update(id(o) for o in node.outputs)
        elif all(isinstance(i, Constant) or id(i) in constish for i in node.inputs):
            constish.update(id(o) for o in node.outputs)

    # shared states read by the outputs keep their history (transitively)
    keep, need = [], rec_outs + list(nits)
    while True:
        anc = _ancestors_within(need, varying)
        new = [r for r, (_, root, _) in enumerate(shareds) if r not in keep and id(root) in anc]
        if not new:
            break
        keep += new
        need = need + [shareds[r][2] for r in new]

    # non-sequences: what the step reads that does not vary
    boundary = OrderedDict()

    def note(v):
        if id(v) not in varying and id(v) not in constish and not isinstance(v, Constant):
            boundary.setdefault(id(v), v)

    for node in inner_nodes:
        for i in node.inputs:
            note(i)
    for o in all_outs:
        note(o)
    mapping, hoisted, nonseq_outer, nonseq_ph, by_outer = {}, {}, [], [], {}
    for v in boundary.values():
        outer = inv_map[id(v)] if id(v) in inv_map else _hoist(v, inv_map, hoisted)
        if id(outer) in by_outer:
            mapping[id(v)] = by_outer[id(outer)]
            continue
        ph = v if id(v) in inv_map else _placeholder(v.type, v.name)
        if ph is not v:
            mapping[id(v)] = ph
        by_outer[id(outer)] = ph
        nonseq_outer.append(outer)
        nonseq_ph.append(ph)
    shared_ph = []
    for init, root, _ in shareds:
        ph = _placeholder(root.type, "%s[t-1]" % (root.name or "shared"))
        mapping[id(root)] = ph
        shared_ph.append(ph)

    memo = dict(mapping)
    for node in inner_nodes:
        ins = [memo.get(id(i), i) for i in node.inputs]
        if any(a is not b for a, b in zip(ins, node.inputs)):
            new = node.clone_with_new_inputs(ins)
            for old, nv in zip(node.outputs, new.outputs):
                memo[id(old)] = nv

    def inner(v):
        return memo.get(id(v), v)

    used = {id(i) for node in inner_nodes for i in node.inputs} | {id(o) for o in all_outs}
    if prune_seqs:
        seqs = [(s, ph) for s, ph in seqs if id(ph) in used]
    from .ops.shape import shape_padleft
    recs = [(b, tuple(t), list(phs), inner(o)) for b, t, phs, o in recs]
    recs += [(shape_padleft(shareds[r][0]), (-1,), [shared_ph[r]], inner(shareds[r][2]))
             for r in keep]
    kept_shared = [r for r in range(len(shareds)) if r not in keep]
    inputs = [ph for _, ph in seqs] + [ph for rec in recs for ph in rec[2]]
    inputs += [shared_ph[r] for r in kept_shared] + nonseq_ph
    outputs = [rec[3] for rec in recs] + [inner(o) for o in nits]
    outputs += [inner(shareds[r][2]) for r in kept_shared]
    graph = InnerGraph(inputs, outputs)
    op = Scan(graph, len(seqs), [rec[1] for rec in recs], len(nits), len(kept_shared),
              len(nonseq_ph), truncate_gradient, go_backwards, name)
    outer_in = [n_steps] + [s for s, _ in seqs] + [rec[0] for rec in recs]
    outer_in += [shareds[r][0] for r in kept_shared] + nonseq_outer
    outs = op(*outer_in)
    outs = outs if isinstance(outs, list) else [outs]
    n_user = len(recs) - len(keep)
    bufs = outs[:n_user]
    maps = outs[len(recs):len(recs) + len(nits)]
    finals = [None] * len(shareds)
    for pos, r in enumerate(keep):
        finals[r] = outs[n_user + pos][-1]
    for pos, r in enumerate(kept_shared):
        finals[r] = outs[len(recs) + len(nits) + pos]
    return bufs, maps, finals


# ---------------------------------------------------------------------------
# the gradient: backpropagation through time as a backward Scan
# ---------------------------------------------------------------------------

def _add_all(terms):
    from .ops.elemwise import add
    out = terms[0]
    for t in terms[1:]:
        out = add(out, t)
    return out


def _scan_grad(op, node, output_grads):
    """The input gradients of a Scan node, computed by a second Scan.

    The backward Scan visits the forward steps last to first (``go_backwards``)
    and reads, per step, the forward sequences, the state taps (slices of the
    stored buffers) and the output gradients.  Its step is the gradient of the
    forward step (the forward step's expressions are recomputed from those inputs).
    It carries, per forward state j, ``L_j`` accumulators: the gradient pending
    for the next ``L_j`` buffer rows (row ``s - d`` in accumulator d).  The
    per-step gradients of sequences and non-sequences are its map outputs; the
    latter are summed.  After the last backward step the accumulators hold the
    gradient of the initial buffer.  With ``truncate_gradient = k`` it runs only
    ``min(n_steps, k)`` steps, and the gradient of the initial buffer through time
    is zero unless that covered every step.
    """
    from .grad import grad as _grad
    from .ops.elemwise import lt, minimum, switch
    from .ops.reduce import sum as _sum
    from .ops.shape import fit_grad, shape_padleft, stack, zeros_like
    from .ops.subtensor import set_subtensor

    xs, hs, zs, ws, h_out, y_out, _ = op.inner_parts()
    n, seqs, inits, _, nonseqs = op.outer_parts(node.inputs)
    nr, nn, lags, taps = len(op.taps), op.n_nit_sot, op.lags, op.taps
    bufs = node.outputs[:nr]
    g_bufs = [fit_grad(g, o) for g, o in zip(output_grads[:nr], bufs)]
    g_maps = [fit_grad(g, o) for g, o in zip(output_grads[nr:nr + nn], node.outputs[nr:nr + nn])]
    result = [None] * len(node.inputs)

    diff_rec = [j for j in range(nr) if is_float(h_out[j].dtype)]
    diff_map = [m for m in range(nn) if is_float(y_out[m].dtype)]
    targets = [h_out[j] for j in diff_rec] + [y_out[m] for m in diff_map]
    inner_ids = {id(o) for nd in op.inner.nodes for o in nd.outputs}
    reach = _ancestors_within(targets, inner_ids)
    wrt_x = [i for i in range(op.n_seqs) if is_float(xs[i].dtype) and id(xs[i]) in reach]
    wrt_h = [(j, k) for j in diff_rec for k in range(len(taps[j])) if id(hs[j][k]) in reach]
    wrt_w = [p for p in range(op.n_non_seqs) if is_float(ws[p].dtype) and id(ws[p]) in reach]
    recurrent = [j for j in diff_rec if any(jj == j for jj, _ in wrt_h)]
    label = op.name or "scan"

    # placeholders of the backward step: output gradients and accumulators
    g_state = {j: _placeholder(h_out[j].type, "d%s[t]" % label) for j in diff_rec}
    g_map = {m: _placeholder(y_out[m].type, "d%s_y%d[t]" % (label, m)) for m in diff_map}
    acc = {j: [_placeholder(hs[j][0].type, "d%s_acc%d[t-1]" % (label, d))
               for d in range(lags[j])] for j in recurrent}
    known = OrderedDict()

    def seed(var, g):
        if isinstance(var, Constant):
            return
        prev = known.get(id(var))
        known[id(var)] = (var, g if prev is None else _add_all([prev[1], g]))

    for j in diff_rec:
        seed(h_out[j], _add_all([g_state[j], acc[j][0]]) if j in recurrent else g_state[j])
    for m in diff_map:
        seed(y_out[m], g_map[m])
    wrt = [xs[i] for i in wrt_x] + [hs[j][k] for j, k in wrt_h] + [ws[p] for p in wrt_w]
    if not wrt or not known:
        return result
    step = _grad(None, wrt, known_grads=OrderedDict(known.values()),
                 disconnected_inputs="ignore")
    g_x = step[:len(wrt_x)]
    g_h = step[len(wrt_x):len(wrt_x) + len(wrt_h)]
    g_w = step[len(wrt_x) + len(wrt_h):]

    # accumulator d' after the step: row s-1-d' = (old row s-1-d' pending) + taps reading it
    new_acc = {}
    for j in recurrent:
        lag, pending = lags[j], [[] for _ in range(lags[j])]
        for (jj, k), g in zip(wrt_h, g_h):
            if jj == j:
                pending[-taps[j][k] - 1].append(g)
        new_acc[j] = []
        for d in range(lag):
            terms = ([acc[j][d + 1]] if d + 1 < lag else []) + pending[d]
            v = _add_all(terms) if terms else zeros_like(acc[j][0])
            new_acc[j].append(fit_grad(v, acc[j][0]))

    full = op.truncate_gradient < 0
    m_steps = n if full else minimum(n, constant(op.truncate_gradient, dtype="int64"))
    b_seqs = []
    for i in range(op.n_seqs):
        x = seqs[i]
        win = x[x.shape[0] - n:][::-1] if op.go_backwards else x[:n]
        b_seqs.append((win, xs[i]))
    for j in range(nr):
        for k, tap in enumerate(taps[j]):
            start = lags[j] + tap
            b_seqs.append((bufs[j][start:start + n], hs[j][k]))
    b_seqs += [(g_bufs[j][lags[j]:], g_state[j]) for j in diff_rec]
    b_seqs += [(g_maps[m], g_map[m]) for m in diff_map]
    b_recs = []
    for j in recurrent:
        init0 = zeros_like(inits[j][:1])
        b_recs += [(init0, (-1,), [acc[j][d]], new_acc[j][d]) for d in range(lags[j])]
    b_maps = [fit_grad(g, xs[i]) for i, g in zip(wrt_x, g_x)]
    b_maps += [fit_grad(g, ws[p]) for p, g in zip(wrt_w, g_w)]
    b_bufs, b_out, _ = build_scan(m_steps, b_seqs, b_recs, b_maps, [],
                                  invariant=list(zip(ws, nonseqs)), go_backwards=True,
                                  name="grad_of_%s" % label, prune_seqs=True)

    for i, g in zip(wrt_x, b_out[:len(wrt_x)]):
        x = seqs[i]
        if op.go_backwards:
            start = x.shape[0] - n
            val = g
        else:
            start = 0 if full else n - m_steps
            val = g[::-1]
        result[1 + i] = fit_grad(set_subtensor(zeros_like(x)[start:start + m_steps], val), x)
    offset = 1 + op.n_seqs + nr + op.n_shared_outs
    for p, g in zip(wrt_w, b_out[len(wrt_x):]):
        result[offset + p] = fit_grad(_sum(g, axis=0), nonseqs[p])
    pos = 0
    for j in diff_rec:
        total = g_bufs[j][:lags[j]]
        if j in recurrent:
            finals = [b_bufs[pos + d][-1] for d in range(lags[j])]
            pos += lags[j]
            rows = [finals[lags[j] - 1 - r] for r in range(lags[j])]
            through = shape_padleft(rows[0]) if len(rows) == 1 else stack(rows)
            if not full:
                through = switch(lt(m_steps, n), zeros_like(through), through)
            total = _add_all([total, through])
        result[1 + op.n_seqs + j] = fit_grad(total, inits[j])
    return result
