"""Elementwise fusion: connected Elemwise nodes become one FusedElemwise node.

Canonical form after this phase: every group of two or more connected
Elemwise nodes of one output type pattern (same ndim, same broadcastable
flags) whose intermediate results are consumed only inside the group, or only
by nodes that come after the group, is one :class:`FusedElemwise` node.  Its
outputs are the group's results that something outside the group (or the
function) uses; the other intermediates live in registers of one C loop.

How groups form (deterministic: topological indices, never sets or ids):
the nodes are visited from the last to the first; an unassigned Elemwise node
starts a group (its root), which then absorbs producers in decreasing
topological order.  A producer joins when

- it is an Elemwise node with the root's output ndim and broadcastable flags
  and only dtypes C has a type for;
- each consumer of its result is in the group, or comes after the root in
  topological order (or is a function output): then the result becomes an
  extra output of the fused node.  Consumers after the root cannot feed the
  group, so no cycle can form;
- the group keeps below MAX_OPERANDS inputs plus outputs.

Because producers are popped in decreasing topological order, every consumer
that will ever join a group has joined before a producer is judged, so the
decision is final.  The fused node takes the root's place in the graph.

Fusion runs after gradients: FusedElemwise has no grad.
"""
import heapq

import numpy as np

from ..config import config
from ..errors import AotcTypeError
from ..frontend.evaluator import toposort
from ..frontend.graph import Apply, Op, TensorVariable, as_tensor_variable
from ..frontend.ops.elemwise import SCALAR_OPS, Elemwise, broadcast_shapes
from ..frontend.types import TensorType, broadcast_pattern

#: inputs plus outputs of one fused node (the C kernel keeps a stride table per operand)
MAX_OPERANDS = 32

#: dtypes the C backend has types for (fusing others would only stop the group compiling)
_C_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float32", "float64")

SCALAR_BY_NAME = {s.name: s for s in SCALAR_OPS}


def _ref(k, nin):
    """The name of operand ``k`` in the inner program: inputs i0.., inner results t0..."""
    return "i%d" % k if k < nin else "t%d" % (k - nin)


class FusedElemwise(Op):
    """Several elementwise scalar ops evaluated in one loop over broadcast inputs.

    ``inner`` is the expression DAG in evaluation order: one entry
    ``(scalar_op_name, dtype_override, operand_refs, out_dtype)`` per inner
    result ``t0, t1, ...``; an operand ref is ``"iK"`` (input K) or ``"tJ"``
    (an earlier inner result).  ``in_types`` holds ``(dtype, broadcastable)``
    per input; ``outputs`` names the inner results the node returns, in order.
    Every inner result has the broadcastable pattern of the outputs, which is
    the broadcast of the inputs' patterns.
    """

    __props__ = ("inner", "in_types", "outputs")
    c = "c/fused_elemwise"
    cuda = "cuda/fused_elemwise"
    differentiable = False  # fusion runs after grad

    def __init__(self, inner, in_types, outputs):
        self.inner = tuple((str(n), d, tuple(r), str(o)) for n, d, r, o in inner)
        self.in_types = tuple((str(d), tuple(bool(b) for b in bc)) for d, bc in in_types)
        self.outputs = tuple(str(o) for o in outputs)
        nin = len(self.in_types)
        known = {"i%d" % k for k in range(nin)}
        for j, (name, _, refs, _) in enumerate(self.inner):
            if name not in SCALAR_BY_NAME:
                raise AotcTypeError("FusedElemwise: unknown scalar op %r" % name)
            if SCALAR_BY_NAME[name].arity != len(refs) or any(r not in known for r in refs):
                raise AotcTypeError("FusedElemwise: entry t%d %s has bad operands %r"
                                    % (j, name, refs))
            known.add("t%d" % j)
        if not self.outputs or any(o not in known or o[0] != "t" for o in self.outputs):
            raise AotcTypeError("FusedElemwise: outputs %r must name inner results" % (self.outputs,))

    # ---- printing -----------------------------------------------------------

    def expr_text(self):
        """The inner program as text: ``t3=...; t5=...; out0, out1``.

        A result used more than once inside, or both used inside and returned,
        is named and defined first, so the text stays linear in the program's
        size; the outputs follow, separated by commas.
        """
        uses = {}
        for _, _, refs, _ in self.inner:
            for r in refs:
                uses[r] = uses.get(r, 0) + 1
        text, defs = {"i%d" % k: "i%d" % k for k in range(len(self.in_types))}, []
        for j, (name, dtype, refs, _) in enumerate(self.inner):
            ops = [text[r] for r in refs]
            sop = SCALAR_BY_NAME[name]
            if name == "cast":
                s = "cast{%s}(%s)" % (dtype, ops[0])
            elif sop.symbol is not None and len(ops) == 2:
                s = "(%s %s %s)" % (ops[0], sop.symbol, ops[1])
            elif sop.symbol is not None and len(ops) == 1:
                s = "%s%s" % (sop.symbol, ops[0])
            else:
                s = "%s(%s)" % (name, ", ".join(ops))
            key = "t%d" % j
            n_uses = uses.get(key, 0)
            if n_uses > 1 or (n_uses and key in self.outputs):
                defs.append("%s=%s" % (key, s))
                s = key
            text[key] = s
        outs = ", ".join(text[o] for o in self.outputs)
        return "; ".join(defs + [outs])

    def __str__(self):
        return "FusedElemwise{%s}" % self.expr_text()

    # ---- facets -------------------------------------------------------------

    def make_node(self, *inputs):
        if len(inputs) != len(self.in_types):
            raise AotcTypeError("%s: expected %d inputs, got %d"
                                % (self, len(self.in_types), len(inputs)))
        inputs = [as_tensor_variable(i) for i in inputs]
        for k, (i, (dtype, bcast)) in enumerate(zip(inputs, self.in_types)):
            if i.dtype != dtype or tuple(i.broadcastable) != bcast:
                raise AotcTypeError("FusedElemwise: input %d must be %s with broadcastable %s, got %s"
                                    % (k, dtype, bcast, i.type))
        bcast = broadcast_pattern(*[b for _, b in self.in_types])
        index = {"t%d" % j: e for j, e in enumerate(self.inner)}
        outs = [TensorVariable(TensorType(index[o][3], bcast)) for o in self.outputs]
        return Apply(self, inputs, outs)

    def infer_shape(self, node, input_shapes):
        shape = broadcast_shapes(node, input_shapes)
        return [shape for _ in node.outputs]

    def perform(self, node, inputs):
        # the shape check of the unfused nodes (each of them checks its own inputs)
        shape = broadcast_shapes(node, [np.shape(x) for x in inputs])
        values = {"i%d" % k: x for k, x in enumerate(inputs)}
        with np.errstate(all="ignore"):
            for j, (name, _, refs, out_dtype) in enumerate(self.inner):
                res = np.asarray(SCALAR_BY_NAME[name].numpy(*[values[r] for r in refs]))
                if res.dtype != out_dtype:
                    res = res.astype(out_dtype)
                values["t%d" % j] = res
        outs = []
        for o in self.outputs:
            v = values[o]
            if v.shape != shape:
                # cannot happen for groups the pass builds (every inner result has the
                # outputs' pattern); kept so a hand-built node still returns its shape
                v = np.broadcast_to(v, shape).copy()
            outs.append(v)
        return outs


# ---------------------------------------------------------------------------
# the pass
# ---------------------------------------------------------------------------

def _fusable(node):
    if type(node.op) is not Elemwise or len(node.outputs) != 1:
        return False
    return all(v.dtype in _C_DTYPES for v in list(node.inputs) + node.outputs)


def _regions(outputs, order):
    """Per node index, when it runs: "eager", or the set of (lazy node, side) whose
    taken side needs it.  Only nodes of one region fuse, so fusion never makes a
    branch's work eager (or one branch's work part of the other's)."""
    from ..frontend.evaluator import toposort
    eager = {id(n) for n in toposort(outputs, lazy=True)}
    sig = {}
    for node in order:
        if getattr(node.op, "lazy", False):
            n = node.op.n_outs
            for side, vals in enumerate((node.inputs[1:1 + n], node.inputs[1 + n:])):
                for m in toposort(vals):
                    sig.setdefault(id(m), set()).add((id(node), side))
    return [("eager",) if id(node) in eager else frozenset(sig.get(id(node), ()))
            for node in order]


def _grow(root_k, order, pos, clients, assigned, region):
    """The topological indices of the group rooted at ``order[root_k]``, ascending."""
    root = order[root_k]
    ndim = root.outputs[0].ndim
    bcast = tuple(root.outputs[0].broadcastable)
    members = {root_k}                       # membership tests only; the result is sorted
    ins = dict.fromkeys(id(v) for v in root.inputs)   # variables consumed, not produced, inside
    n_outs = 1
    heap, queued = [], set()

    def push(node):
        for v in node.inputs:
            if v.owner is None:
                continue
            k = pos[id(v.owner)]
            if k not in queued and k not in assigned:
                queued.add(k)
                heapq.heappush(heap, -k)

    push(root)
    while heap:
        k = -heapq.heappop(heap)
        node = order[k]
        if not _fusable(node) or region[k] != region[root_k]:
            continue
        out = node.outputs[0]
        if out.ndim != ndim or tuple(out.broadcastable) != bcast:
            continue
        external = [c for c in clients.get(id(out), ()) if c not in members]
        if any(c <= root_k for c in external):
            continue  # an outside consumer before the root could feed the group: a cycle
        new_ins = dict(ins)
        new_ins.pop(id(out), None)
        for v in node.inputs:
            new_ins.setdefault(id(v), None)
        extra = 1 if external else 0
        if len(new_ins) + n_outs + extra > MAX_OPERANDS:
            continue
        members.add(k)
        ins = new_ins
        n_outs += extra
        push(node)
    return sorted(members)


def _build(group, order, clients, memo):
    """The FusedElemwise node for ``group`` (ascending topological indices); maps outputs."""
    nodes = [order[k] for k in group]
    members = set(group)
    produced = {id(n.outputs[0]): j for j, n in enumerate(nodes)}
    inputs, in_index = [], {}
    inner = []
    for n in nodes:
        refs = []
        for v in n.inputs:
            if id(v) in produced:
                refs.append("t%d" % produced[id(v)])
                continue
            if id(v) not in in_index:
                in_index[id(v)] = len(inputs)
                inputs.append(v)
            refs.append("i%d" % in_index[id(v)])
        inner.append((n.op.scalar_op.name, n.op.dtype, tuple(refs), n.outputs[0].dtype))
    outs = [j for j, n in enumerate(nodes)
            if j == len(nodes) - 1
            or any(c not in members for c in clients.get(id(n.outputs[0]), ()))]
    new_inputs = [memo.get(id(v), v) for v in inputs]
    op = FusedElemwise(inner, [(v.dtype, tuple(v.broadcastable)) for v in new_inputs],
                       ["t%d" % j for j in outs])
    fused = op.make_node(*new_inputs)
    fused.src_loc = nodes[-1].src_loc
    for j, new in zip(outs, fused.outputs):
        old = nodes[j].outputs[0]
        if old.name is not None:
            new.name = old.name
        memo[id(old)] = new
    return fused


def fuse_elementwise(outputs, trace=None):
    """Fuse connected Elemwise nodes of ``outputs``' graph; returns the new outputs.

    ``trace`` (a list) receives ``("fuse_elementwise", before, after)`` per group,
    ``before`` listing the fused nodes and ``after`` the new op.
    """
    from ..frontend.printing import pp
    outputs = list(outputs)
    order = toposort(outputs)
    pos = {id(n): k for k, n in enumerate(order)}
    n_order = len(order)
    clients = {}
    for k, n in enumerate(order):
        for v in n.inputs:
            clients.setdefault(id(v), []).append(k)
    for o in outputs:
        clients.setdefault(id(o), []).append(n_order)  # a function output: after everything
    assigned = {}
    roots = {}
    region = _regions(outputs, order)
    for k in range(n_order - 1, -1, -1):
        if k in assigned or not _fusable(order[k]):
            continue
        group = _grow(k, order, pos, clients, assigned, region)
        if len(group) < 2:
            continue
        for m in group:
            assigned[m] = k
        roots[k] = group
    if not roots:
        return outputs
    memo = {}
    with config.change_flags(compute_test_value="off"):
        for k, node in enumerate(order):
            if k in roots:
                group = roots[k]
                fused = _build(group, order, clients, memo)
                if trace is not None:
                    before = [pp(order[m].outputs[0]) for m in group
                              if any(c not in group for c in clients[id(order[m].outputs[0])])]
                    trace.append(("fuse_elementwise", "%d nodes: %s" % (len(group), "; ".join(before)),
                                  pp(fused.outputs[-1]) if len(fused.outputs) == 1
                                  else str(fused.op)))
                continue
            if k in assigned:
                continue
            new_inputs = [memo.get(id(i), i) for i in node.inputs]
            if any(a is not b for a, b in zip(new_inputs, node.inputs)):
                cur = node.clone_with_new_inputs(new_inputs)
                for old, new in zip(node.outputs, cur.outputs):
                    memo[id(old)] = new
    return [memo.get(id(o), o) for o in outputs]
