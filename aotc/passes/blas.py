"""GEMM recognition: a product scaled by a constant and added to a bias becomes one Gemm.

    add(dot(a, b), c)               -> Gemm{alpha=1}(c, a, b)
    add(mul(dot(a, b), k), c)       -> Gemm{alpha=k}(c, a, b)      (k a scalar constant)

Canonical form after this pass: no ``add`` whose operand is a float ``Dot``
(or a constant multiple of one) used nowhere else, when the other operand has
the product's dtype and rank and does not stretch it.  The product must have
no other use (else the GEMM would run twice); the bias is copied into the
output, then one GEMM call accumulates onto it (beta = 1): one pass over the
output instead of a product and an elementwise pass.  The LSTM gets it twice:
its input projection ``dot(emb, W) + b`` and each step's ``dot(h, U) + x_t``.
"""
import numpy as np

from ..config import config
from ..frontend.evaluator import toposort
from ..frontend.graph import Constant, src_loc_override
from ..frontend.printing import pp
from .rewrite import clients_of, rebuild

RULE = "gemm"
_FLOATS = ("float32", "float64")


def _scalar_const(v):
    """The value of a constant whose elements are all equal (through broadcasting
    DimShuffles), or None."""
    while v.owner is not None and type(v.owner.op).__name__ == "DimShuffle":
        v = v.owner.inputs[0]
    if not isinstance(v, Constant) or v.data.size == 0:
        return None
    flat = np.asarray(v.data).reshape(-1)
    return float(flat[0]) if np.all(flat == flat[0]) and np.isfinite(flat[0]) else None


def _scalar_name(node):
    sop = getattr(node.op, "scalar_op", None) if node is not None else None
    return sop.name if sop is not None else None


def _product(v, uses):
    """(a, b, alpha) when ``v`` is a Dot (or a constant multiple of one) used once."""
    from ..frontend.ops.blas import Dot
    node = v.owner
    if node is None or uses(v) != 1:
        return None
    if isinstance(node.op, Dot):
        return node.inputs[0], node.inputs[1], 1.0
    if _scalar_name(node) == "mul" and len(node.inputs) == 2:
        for d, k in (node.inputs, node.inputs[::-1]):
            alpha = _scalar_const(k)
            if alpha is not None and d.owner is not None and isinstance(d.owner.op, Dot) \
                    and uses(d) == 1 and d.dtype == v.dtype and d.broadcastable == v.broadcastable:
                return d.owner.inputs[0], d.owner.inputs[1], alpha
    return None


def _match(node, uses):
    if _scalar_name(node) != "add" or len(node.inputs) != 2:
        return None
    out = node.outputs[0]
    if out.dtype not in _FLOATS:
        return None
    for p, c in (node.inputs, node.inputs[::-1]):
        found = _product(p, uses)
        if found is None:
            continue
        a, b, alpha = found
        if not (a.dtype == b.dtype == c.dtype == p.dtype == out.dtype):
            continue
        if c.ndim != out.ndim or out.broadcastable != p.broadcastable:
            continue   # c would stretch the product (or lacks its rank)
        return c, a, b, alpha
    return None


def recognize_gemm(outputs, trace=None):
    """Replace each add of a single-use product and a bias by a Gemm node."""
    from ..frontend.ops.blas import Gemm
    outputs = list(outputs)
    order = toposort(outputs)
    clients = clients_of(order, outputs)
    memo, original = {}, {}

    def uses(v):
        return len(clients.get(id(original.get(id(v), v)), ()))

    with config.change_flags(compute_test_value="off"):
        for node in order:
            cur = rebuild(node, memo)
            for old, new in zip(node.outputs, cur.outputs):
                original[id(new)] = old
            found = _match(cur, uses)
            if found is None:
                continue
            c, a, b, alpha = found
            with src_loc_override(node.src_loc):
                new = Gemm(alpha)(c, a, b)
            if new.type != cur.outputs[0].type:
                continue
            memo[id(node.outputs[0])] = new
            original[id(new)] = node.outputs[0]
            if trace is not None:
                trace.append((RULE, pp(cur.outputs[0]), pp(new)))
    return [memo.get(id(o), o) for o in outputs]
