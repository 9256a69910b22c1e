"""Products: the ``Dot`` op and ``dot``, ``tensordot``, ``outer``, ``batched_dot``.

``Dot`` is the one matrix-product primitive.  It covers NumPy's ``dot`` when
``b`` is a vector or a matrix: the last axis of ``a`` is contracted with the
first axis of ``b``, so vector·vector -> scalar, matrix·vector,
vector·matrix, matrix·matrix and N-d·matrix / N-d·vector (the LSTM's
``dot(emb, W)`` on a tensor3).  Code generation sees every such node as a GEMM
or GEMV over ``a`` with its leading axes merged.

``dot`` adds what Theano's ``T.dot`` does around it: a scalar operand is an
elementwise product, and a ``b`` of more than two dimensions follows NumPy
(contract the last axis of ``a`` with the second-to-last of ``b``) through
:func:`tensordot`, built from dimshuffles, reshapes and one ``Dot``.
``outer`` and ``batched_dot`` are compositions as well, so every product gets
its gradient from the primitives.

Dtypes follow NumPy promotion; int·int is allowed (and has no gradient).
Inner sizes that are known when the graph is built (constants, broadcastable
axes) must agree there; otherwise they are checked at run time, and a mismatch
is a ShapeError (a ValueError) that lists both shapes.
"""
import numpy as np

from ...errors import AotcTypeError, AotcValueError, ShapeError
from ..graph import Apply, Constant, Op, TensorVariable, as_tensor_variable, user_src_loc
from ..types import TensorType, is_float, upcast

__all__ = ["Dot", "Gemm", "GatherDot", "dot", "gemm", "tensordot", "outer", "batched_dot"]


def _at():
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def _static_dim(v, axis):
    """The length of axis ``axis`` of ``v`` if known when the graph is built, else None."""
    if isinstance(v, Constant):
        return int(v.data.shape[axis])
    if v.broadcastable[axis]:
        return 1
    return None


def _check_inner(opname, a, a_axis, b, b_axis):
    na, nb = _static_dim(a, a_axis), _static_dim(b, b_axis)
    if na is not None and nb is not None and na != nb:
        raise ShapeError(
            "%s: inner dimensions must match: axis %d of a has length %d, axis %d of b has "
            "length %d\n  got:  a %s, b %s%s"
            % (opname, a_axis, na, b_axis, nb, a.type, b.type, _at()))


class Dot(Op):
    """``numpy.dot(a, b)`` for ``a`` of ndim >= 1 and ``b`` a vector or a matrix.

    The output type is ``a``'s axes but the last, then ``b``'s axes but the
    first; the dtype is the NumPy promotion of both dtypes.
    """

    __props__ = ()
    c = "c/gemm"
    cuda = "cuda/gemm"

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim < 1 or b.ndim not in (1, 2):
            raise AotcTypeError(
                "dot: the Dot op contracts the last axis of a with the first axis of b, and "
                "needs a of ndim >= 1 and b a vector or a matrix\n  got:  a %s (ndim %d), "
                "b %s (ndim %d)%s\n  hint: T.dot handles scalars and N-d b; T.tensordot and "
                "T.batched_dot other layouts"
                % (a.type, a.ndim, b.type, b.ndim, _at()))
        _check_inner("dot", a, a.ndim - 1, b, 0)
        bcast = a.broadcastable[:-1] + b.broadcastable[1:]
        out = TensorVariable(TensorType(upcast(a.dtype, b.dtype), bcast))
        return Apply(self, [a, b], [out])

    def infer_shape(self, node, input_shapes):
        sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]

    def perform(self, node, inputs):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ValueError("inner dimensions must match: a has shape %s (last axis %d), b has "
                             "shape %s (first axis %d)"
                             % (a.shape, a.shape[-1], b.shape, b.shape[0]))
        out_dtype = node.outputs[0].dtype
        # compute in the output dtype, as np.dot does for mixed operands (the cast is a
        # no-op in the common case of equal dtypes)
        res = np.asarray(np.dot(a.astype(out_dtype, copy=False), b.astype(out_dtype, copy=False)))
        return [res if res.dtype.name == out_dtype else res.astype(out_dtype)]

    def grad(self, node, output_grads):
        from .elemwise import mul
        from .shape import dimshuffle
        a, b = node.inputs
        (gz,) = output_grads
        na, nb = a.ndim, b.ndim
        ga = gb = None
        if nb == 1:
            if na == 1:
                # scalar gz: d(a.b)/da = b
                ga, gb = mul(gz, b), mul(gz, a)
            else:
                # out[..., ] = sum_k a[..., k] b[k]
                ga = mul(dimshuffle(gz, tuple(range(na - 1)) + ("x",)), b)
                gb = dot(_merge_leading(gz, 0), _merge_leading(a, 1))
        else:
            bt = dimshuffle(b, (1, 0))
            if na == 1:
                ga = dot(b, gz)
                gb = mul(dimshuffle(a, (0, "x")), dimshuffle(gz, ("x", 0)))
            elif na == 2:
                ga = dot(gz, bt)
                gb = dot(dimshuffle(a, (1, 0)), gz)
            else:
                ga = dot(gz, bt)
                gb = dot(dimshuffle(_merge_leading(a, 1), (1, 0)), _merge_leading(gz, 1))
        return [_fit(ga, a), _fit(gb, b)]


class Gemm(Op):
    """``c + alpha * numpy.dot(a, b)`` in one product: what the optimizer makes of a
    ``Dot`` whose only use is scaled by a constant and added to ``c`` (a bias).

    ``a``, ``b`` and ``c`` share one float dtype; ``b`` is a matrix or a vector as
    for ``Dot``; ``c`` has the output's rank and either its size or length 1 on
    each axis marked broadcastable (a bias row broadcast over the rows): it never
    stretches the output.  Run-time shape errors are the ones ``add`` gives.
    """

    __props__ = ("alpha",)
    c = "c/gemm"
    cuda = "cuda/gemm"

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def __str__(self):
        return "Gemm{alpha=%g}" % self.alpha if self.alpha != 1.0 else "Gemm"

    def make_node(self, c, a, b):
        c, a, b = as_tensor_variable(c), as_tensor_variable(a), as_tensor_variable(b)
        d = Dot().make_node(a, b).outputs[0]
        if not is_float(d.dtype) or not (a.dtype == b.dtype == c.dtype == d.dtype):
            raise AotcTypeError("Gemm: a, b and c must share one float dtype, got %s, %s and "
                                "%s%s" % (a.dtype, b.dtype, c.dtype, _at()))
        if c.ndim != d.ndim or any(bd and not bc for bc, bd in zip(c.broadcastable,
                                                                    d.broadcastable)):
            raise AotcTypeError("Gemm: c must have the product's rank %d and must not stretch "
                                "it, got c %s for a product %s%s" % (d.ndim, c.type, d.type, _at()))
        return Apply(self, [c, a, b], [TensorVariable(TensorType(d.dtype, d.broadcastable))])

    def infer_shape(self, node, input_shapes):
        sc, sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]

    def perform(self, node, inputs):
        c, a, b = inputs
        prod = Dot().perform(_DotNode(node.outputs[0].dtype), [a, b])[0]
        for ax, (sc, sp, bc) in enumerate(zip(c.shape, prod.shape, node.inputs[0].broadcastable)):
            if sc != sp and not (bc and sc == 1):
                raise ShapeError("Gemm: c has shape %s, the product dot(a, b) shape %s: they "
                                 "do not agree on axis %d" % (c.shape, prod.shape, ax))
        out = c + prod * prod.dtype.type(self.alpha) if self.alpha != 1.0 else c + prod
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        from .elemwise import mul
        from .reduce import sum as rsum
        c, a, b = node.inputs
        (gz,) = output_grads
        dn = Dot().make_node(a, b)
        gd = gz if self.alpha == 1.0 else mul(gz, np.asarray(self.alpha, dtype=gz.dtype))
        ga, gb = Dot().grad(dn, [gd])
        axes = tuple(k for k, bc in enumerate(c.broadcastable) if bc)
        gc = rsum(gz, axis=axes, keepdims=True) if axes else gz
        return [_fit(gc, c), ga, gb]


class GatherDot(Op):
    """``c + alpha * numpy.dot(E[idx], W)``: an embedding lookup followed by a product,
    as one node.  Only the optimizer makes it (``passes/memo.py``), in functions that
    update no shared variable, where ``E`` and ``W`` are shared variables.

    ``c`` is a vector of length ``W.shape[1]`` (or 1, broadcast); the output has
    shape ``idx.shape + (W.shape[1],)``.  ``row_len`` >= 0 is the row length the
    original graph reshaped ``E[idx]`` to (its product then had that inner size):
    a different ``E.shape[1]`` at run time is the reshape's error.

    Compiled, the rows of ``E.dot(W) + c`` are kept between calls: each call computes
    only the rows of indices no earlier call asked for, while E, W (the module's
    shared state) and c stay the same.
    """

    __props__ = ("alpha", "row_len")
    c = "c/gather_dot"
    differentiable = False

    def __init__(self, alpha=1.0, row_len=-1):
        self.alpha = float(alpha)
        self.row_len = int(row_len)

    def make_node(self, c, e, idx, w):
        c, e, idx, w = (as_tensor_variable(v) for v in (c, e, idx, w))
        dt = w.dtype
        if not is_float(dt) or not (c.dtype == e.dtype == dt) or c.ndim != 1 or e.ndim != 2 \
                or w.ndim != 2 or idx.ndim < 1 or not idx.dtype.startswith(("int", "uint")):
            raise AotcTypeError("GatherDot: expected c a vector, E and W matrices of one float "
                                "dtype and an integer index array, got %s, %s, %s, %s%s"
                                % (c.type, e.type, idx.type, w.type, _at()))
        bcast = idx.broadcastable + w.broadcastable[1:]
        return Apply(self, [c, e, idx, w], [TensorVariable(TensorType(dt, bcast))])

    def infer_shape(self, node, input_shapes):
        sc, se, si, sw = input_shapes
        return [tuple(si) + (sw[1],)]

    def perform(self, node, inputs):
        from .subtensor import _check_array_bounds
        c, e, idx, w = inputs
        if self.row_len >= 0 and e.shape[1] != self.row_len:
            raise ShapeError("GatherDot: the rows of E have length %d, the graph reshaped them "
                             "to length %d" % (e.shape[1], self.row_len))
        idx = _check_array_bounds("AdvancedSubtensor1", idx, e.shape[0], 0)
        rows = e[idx]
        out = Gemm(self.alpha).perform(
            _GemmNode(node.outputs[0].type, node.inputs[0].broadcastable[0]), [c.reshape((1,) * (rows.ndim - 1) + c.shape), rows, w])
        return out

    def grad(self, node, output_grads):
        raise AotcValueError("GatherDot has no gradient: the optimizer makes it after "
                             "gradients are taken")


class _GemmNode:
    """The piece of an Apply node Gemm.perform reads (c's broadcastable flags, the dtype)."""

    def __init__(self, out_type, c_bcast):
        self.outputs = [TensorVariable(out_type)]
        self.inputs = [TensorVariable(TensorType(out_type.dtype, (True,) * (out_type.ndim - 1)
                                                 + (bool(c_bcast),)))]


class _DotNode:
    """The piece of an Apply node Dot.perform reads (its output dtype)."""

    def __init__(self, dtype):
        self.outputs = [TensorVariable(TensorType(dtype, ()))]


def gemm(c, a, b, alpha=1.0):
    """``c + alpha * dot(a, b)`` as one Gemm node (see :class:`Gemm`)."""
    return Gemm(alpha)(c, a, b)


def _fit(g, x):
    """``g`` with the dtype and broadcastable pattern of ``x`` (None for non-float ``x``)."""
    if not is_float(x.dtype):
        return None
    from .elemwise import cast
    if g.dtype != x.dtype:
        g = cast(g, x.dtype)
    if g.broadcastable != x.broadcastable:
        from .shape import patternbroadcast
        g = patternbroadcast(g, x.broadcastable)
    return g


def _merge_leading(x, keep):
    """Reshape ``x`` so that all but its last ``keep`` axes become one axis (-1)."""
    from .shape import reshape, shape
    if x.ndim == keep + 1:
        return x
    shp = shape(x)
    sizes = [-1] + [shp[x.ndim - keep + i] for i in range(keep)]
    return reshape(x, sizes, ndim=keep + 1)


def dot(a, b):
    """Theano's ``T.dot``: NumPy's ``dot`` with Theano's special cases.

    - a scalar operand: the elementwise product ``a * b``;
    - ``b`` a vector or a matrix: one :class:`Dot` node (vector·vector -> scalar,
      matrix·vector, vector·matrix, matrix·matrix, N-d·matrix, N-d·vector);
    - ``b`` of ndim > 2: NumPy's rule, the last axis of ``a`` with the
      second-to-last of ``b``, through :func:`tensordot`.

    >>> x = T.dtensor3('x'); W = T.dmatrix('W')
    >>> dot(x, W).ndim
    3
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        from .elemwise import mul
        return mul(a, b)
    if b.ndim <= 2:
        return Dot()(a, b)
    return tensordot(a, b, [[a.ndim - 1], [b.ndim - 2]])


def _axes_list(opname, v, axes):
    out = []
    for ax in axes:
        if isinstance(ax, (bool, np.bool_)) or not isinstance(ax, (int, np.integer)):
            raise AotcTypeError("%s: axes must be ints, got %r%s" % (opname, axes, _at()))
        ax = int(ax)
        if not -v.ndim <= ax < v.ndim:
            raise AotcValueError("%s: axis %d is out of range for %s (ndim %d)%s"
                                 % (opname, ax, v.type, v.ndim, _at()))
        ax = ax + v.ndim if ax < 0 else ax
        if ax in out:
            raise AotcValueError("%s: axis %d appears twice in %r%s" % (opname, ax, axes, _at()))
        out.append(ax)
    return out


def tensordot(a, b, axes=2):
    """``numpy.tensordot``: sum products over ``axes`` of ``a`` and ``b``.

    ``axes`` is an int n (the last n axes of ``a`` with the first n of ``b``)
    or a pair of sequences ``[a_axes, b_axes]``.  The output has the free axes
    of ``a`` then the free axes of ``b``.  Built as dimshuffle -> reshape to
    2-d -> :class:`Dot` -> reshape, so it has a gradient.

    >>> tensordot(T.dtensor3(), T.dmatrix(), [[1, 2], [0, 1]]).ndim
    1
    """
    from .elemwise import mul
    from .shape import dimshuffle, patternbroadcast
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0 or n > a.ndim or n > b.ndim:
            raise AotcValueError("tensordot: axes=%d needs both operands of ndim >= %d, got a %s, "
                                 "b %s%s" % (n, n, a.type, b.type, _at()))
        a_axes, b_axes = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            a_ax, b_ax = axes
        except (TypeError, ValueError):
            raise AotcTypeError("tensordot: axes must be an int or a pair of axis lists, got %r%s"
                                % (axes, _at())) from None
        a_ax = [a_ax] if isinstance(a_ax, (int, np.integer)) else list(a_ax)
        b_ax = [b_ax] if isinstance(b_ax, (int, np.integer)) else list(b_ax)
        if len(a_ax) != len(b_ax):
            raise AotcValueError("tensordot: a and b need as many axes each, got %r%s"
                                 % (axes, _at()))
        a_axes, b_axes = _axes_list("tensordot", a, a_ax), _axes_list("tensordot", b, b_ax)
    for i, j in zip(a_axes, b_axes):
        _check_inner("tensordot", a, i, b, j)
    free_a = [i for i in range(a.ndim) if i not in a_axes]
    free_b = [j for j in range(b.ndim) if j not in b_axes]
    out_bcast = tuple(a.broadcastable[i] for i in free_a) + tuple(b.broadcastable[j] for j in free_b)
    if not a_axes:
        # no contraction: an outer product, by broadcasting
        out = mul(dimshuffle(a, tuple(range(a.ndim)) + ("x",) * b.ndim),
                  dimshuffle(b, ("x",) * a.ndim + tuple(range(b.ndim))))
        return out
    at = dimshuffle(a, tuple(free_a + a_axes))
    bt = dimshuffle(b, tuple(b_axes + free_b))
    a2 = _to_ndim(at, len(free_a))
    b2 = _to_ndim(bt, len(b_axes))
    out = Dot()(a2, b2)
    if out.ndim != len(out_bcast) or len(free_a) > 1 or len(free_b) > 1:
        from .shape import reshape, shape
        sa, sb = shape(at), shape(bt)
        sizes = [sa[i] for i in range(len(free_a))] + [sb[len(b_axes) + j]
                                                       for j in range(len(free_b))]
        out = reshape(out, sizes, ndim=len(sizes))
    if out.broadcastable != out_bcast:
        out = patternbroadcast(out, out_bcast)
    return out


def _to_ndim(x, n_first):
    """Merge the first ``n_first`` axes of ``x`` into one and the rest into another.

    An empty group disappears, so the result is a vector or a matrix.
    """
    from .shape import reshape, shape
    groups = [g for g in (n_first, x.ndim - n_first) if g > 0]
    if len(groups) == x.ndim:
        return x
    shp = shape(x)
    sizes, start = [], 0
    for g in groups:
        size = shp[start]
        for k in range(start + 1, start + g):
            size = size * shp[k]
        sizes.append(size)
        start += g
    return reshape(x, sizes, ndim=len(sizes))


def outer(x, y):
    """Outer product of two vectors (others are flattened first, as Theano does).

    >>> outer(T.dvector(), T.dvector()).ndim
    2
    """
    from .elemwise import mul
    from .shape import dimshuffle, flatten
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = flatten(x, 1)
    if y.ndim != 1:
        y = flatten(y, 1)
    return mul(dimshuffle(x, (0, "x")), dimshuffle(y, ("x", 0)))


def batched_dot(a, b):
    """``dot(a[i], b[i])`` for every ``i`` along the first axis.

    (B, n)·(B, n) -> (B,); (B, m, n)·(B, n) -> (B, m); (B, n)·(B, n, k) -> (B, k);
    (B, m, n)·(B, n, k) -> (B, m, k); two vectors give their elementwise product.
    Built as a broadcast product summed over the contracted axis (simple and
    differentiable; it holds a B·m·n·k temporary for the 3-d·3-d case).
    """
    from .elemwise import mul
    from .reduce import sum as _sum
    from .shape import dimshuffle
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 1 and b.ndim == 1:
        return mul(a, b)
    if a.ndim < 2 or b.ndim < 2:
        raise AotcTypeError("batched_dot: expected two vectors or operands of ndim >= 2, got a %s, "
                            "b %s%s" % (a.type, b.type, _at()))
    _check_inner("batched_dot", a, a.ndim - 1, b, 1)
    na, nb = a.ndim, b.ndim
    ae = dimshuffle(a, tuple(range(na)) + ("x",) * (nb - 2))
    be = dimshuffle(b, (0,) + ("x",) * (na - 2) + tuple(range(1, nb)))
    return _sum(mul(ae, be), axis=na - 1)


OPS = (Dot, Gemm)
