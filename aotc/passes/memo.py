"""Embedding products kept between calls (functions that update no shared variable).

A model that looks words up in an embedding and projects them,
``dot(E[idx], W) + b`` with ``E`` and ``W`` shared variables (the LSTM's input
projection), computes the same row of ``E.dot(W) + b`` each time a word comes
back.  In a function that updates no shared variable (``predict``), this pass
turns the Gemm over the lookup into one ``GatherDot`` node; its compiled kernel
keeps the rows it computed in a table (``E.shape[0]`` rows), computes only the
rows of words no earlier call asked for, and copies the others.  The table is
dropped when any shared value of the module changes (``set_value``,
``load_params``, another function's updates) or ``b`` differs.

Rules (run by ``optimize(..., stateless=True)``, see ``passes/__init__.py``):
- ``gather_dot``: ``Gemm(c, E[idx], W)`` -> ``GatherDot(c, E, idx, W)``;
- ``gather_dot_reshaped``: ``Gemm(c, reshape(E[idx], [..., k]), W)`` ->
  ``reshape(GatherDot(c, E, idx, W), [..., W.shape[1]])`` (the LSTM's form: its
  lookup is flattened, then reshaped to (steps, samples, k));
- ``shape_of_reshape``: ``reshape(x, s).shape`` -> ``s`` when every entry of ``s``
  is a size (a constant >= 0 or an entry of a shape), so that a shape read
  (scan's ``n_steps``) does not keep the lookup alive.

The table costs ``E.shape[0] * W.shape[1]`` elements: above ``MAX_TABLE_BYTES``
(at build time, from the shared values; at run time, from the arrays) the
product is computed directly each call.
"""
from ..frontend.graph import Constant, SharedVariable
from .rewrite import op, rewrite, rule, var

#: The largest table kept (bytes); the C kernel holds the same bound.
MAX_TABLE_BYTES = 64 << 20


def _shared_matrix(v):
    return isinstance(v, SharedVariable) and v.ndim == 2


def _table_fits(E, W):
    e, w = E.container.value, W.container.value
    return e.shape[0] * w.shape[1] * w.dtype.itemsize <= MAX_TABLE_BYTES


def _row_bias(c):
    """``c`` (the Gemm's bias, broadcast over every axis but the last) as a vector, or None."""
    if not all(c.broadcastable[:-1]):
        return None
    return c.dimshuffle(c.ndim - 1) if c.ndim > 1 else c


def _ok(c, E, W):
    return _shared_matrix(E) and _shared_matrix(W) and _table_fits(E, W) and \
        _row_bias(c) is not None


def _is_size(v):
    if isinstance(v, Constant):
        return v.data.ndim == 0 and int(v.data) >= 0
    node = v.owner
    return (node is not None and type(node.op).__name__ == "Subtensor" and v.ndim == 0
            and node.inputs[0].owner is not None
            and type(node.inputs[0].owner.op).__name__ == "Shape")


def _sizes(s):
    node = s.owner
    return node is not None and type(node.op).__name__ == "MakeVector" and \
        all(_is_size(v) for v in node.inputs)


def _last_const(s):
    """The constant last entry of the MakeVector ``s`` (>= 1), or None."""
    if s.owner is None or type(s.owner.op).__name__ != "MakeVector":
        return None
    last = s.owner.inputs[-1]
    if isinstance(last, Constant) and last.data.ndim == 0 and int(last.data) >= 1:
        return int(last.data)
    return None


def rules():
    from ..frontend.ops.blas import GatherDot, Gemm
    from ..frontend.ops.shape import MakeVector, Reshape, Shape
    from ..frontend.ops.subtensor import AdvancedSubtensor1
    E, W, c, idx, s, x = (var(n) for n in ("E", "W", "c", "idx", "s", "x"))

    def direct(c, E, idx, W, g):
        return GatherDot(g.op.alpha)(_row_bias(c), E, idx, W)

    def reshaped(c, E, idx, W, s, g, rs):
        out = GatherDot(g.op.alpha, _last_const(s))(_row_bias(c), E, idx, W)
        lead = list(s.owner.inputs[:-1])
        shape = MakeVector("int64")(*(lead + [W.shape[1]]))
        return Reshape(rs.op.ndim)(out, shape)

    return [
        rule("gather_dot", op(Gemm, c, op(AdvancedSubtensor1, E, idx), W, bind="g"), direct,
             guard=lambda c, E, idx, W, g: _ok(c, E, W)),
        rule("gather_dot_reshaped",
             op(Gemm, c, op(Reshape, op(AdvancedSubtensor1, E, idx), s, bind="rs"), W, bind="g"),
             reshaped,
             guard=lambda c, E, idx, W, s, g, rs: _ok(c, E, W) and _last_const(s) is not None),
        rule("shape_of_reshape", op(Shape, op(Reshape, x, s)), lambda x, s: s,
             guard=lambda x, s: _sizes(s)),
    ]


def memoize_embedding_products(outputs, trace=None):
    return rewrite(outputs, rules(), trace)
