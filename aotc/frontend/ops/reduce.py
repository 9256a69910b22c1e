"""Reductions: sum, prod, max, min, all, any (one ``Reduce`` op) and argmax / argmin.

Semantics (NumPy's, where Theano agrees):

- ``axis`` is None (every axis), an int, or a tuple/list of ints; negative axes
  count from the end.  A duplicate or out-of-range axis is an AotcValueError
  raised when the graph is built, naming the user's line.
- The reduced axes disappear from the output (``keepdims=True`` puts them back
  as broadcastable length-1 axes, through a DimShuffle).
- Output dtypes: ``sum`` / ``prod`` of bool and signed ints give int64, of
  unsigned ints uint64, of floats the same float (float32 stays float32).
  ``max`` / ``min`` keep the input dtype; ``all`` / ``any`` give bool;
  ``mean`` of ints gives float64; ``argmax`` / ``argmin`` give int64.
- Accumulation: in the output dtype, except float16 which accumulates in
  float32 (as NumPy does); ints accumulate in int64 / uint64, so a sum with
  ``dtype='int8'`` wraps exactly as the int64 sum cast to int8 would.
- Gradients follow Theano: ``sum`` broadcasts the output gradient back over
  the reduced axes; ``max`` / ``min`` send it to *every* element equal to the
  extremum (ties share it, each gets the full gradient); ``prod`` is exact with
  zeros in the input (see :func:`_prod_grad`); ``all``, ``any``, ``argmax`` and
  ``argmin`` have no gradient (zero).
"""
import numpy as np

from ...errors import AotcTypeError, AotcValueError
from ..graph import (Apply, Constant, Op, TensorVariable, Variable, as_tensor_variable,
                     user_src_loc)
from ..types import COMPLEX_DTYPES, TensorType, canonical_dtype, is_float

__all__ = ["Reduce", "Argmax", "sum", "prod", "max", "min", "all", "any", "mean", "var",
           "std", "argmax", "argmin", "max_and_argmax"]

KINDS = ("sum", "prod", "max", "min", "all", "any")

# numpy's ufunc reduction behind each kind (used by the reference ``perform``)
_NUMPY = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min,
          "all": np.all, "any": np.any}


def _at():
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def normalize_axis(opname, x, axis):
    """``axis`` (None / int / tuple / list) as a sorted tuple of non-negative ints.

    Raises AotcValueError for a duplicate or out-of-range axis and AotcTypeError
    for a symbolic one, with the user's line.

    >>> normalize_axis('sum', T.tensor3(), (-1, 0))
    (0, 2)
    """
    ndim = x.ndim
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Constant):
        axis = axis.data.tolist()
    elif isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if isinstance(axis, Variable):
        raise AotcTypeError("%s: axis must be known when the graph is built (an int or a tuple "
                            "of ints), got the symbolic %s%s" % (opname, axis, _at()))
    raw = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    out = []
    for a in raw:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise AotcTypeError("%s: axis must be None, an int or a tuple of ints, got %r%s"
                                % (opname, axis, _at()))
        a = int(a)
        if not -ndim <= a < ndim:
            raise AotcValueError(
                "%s: axis %d is out of range for %s of type %s (ndim %d); valid axes are "
                "%s%s" % (opname, a, x, x.type, ndim,
                          ("%d..%d" % (-ndim, ndim - 1)) if ndim else "none (a scalar has no axes)",
                          _at()))
        a = a + ndim if a < 0 else a
        if a in out:
            raise AotcValueError("%s: axis %d appears twice in axis=%r%s" % (opname, a, axis, _at()))
        out.append(a)
    return tuple(sorted(out))


def _check_axes(axis):
    """True when ``axis`` is not a sorted tuple of distinct non-negative ints.

    (This module's ``any``/``all``/``sum``/``max``/``min`` shadow the builtins,
    so plain loops are used here.)
    """
    for a in axis:
        if a < 0:
            return True
    return list(axis) != sorted(set(axis))


def _keepdims(out, ndim, axes):
    """Reinsert the reduced axes of ``out`` as broadcastable length-1 axes."""
    from .shape import dimshuffle
    pattern, j = [], 0
    for i in range(ndim):
        if i in axes:
            pattern.append("x")
        else:
            pattern.append(j)
            j += 1
    return dimshuffle(out, tuple(pattern))


def default_dtype(kind, in_dtype):
    """The output dtype NumPy gives for reduction ``kind`` of ``in_dtype``."""
    if kind in ("all", "any"):
        return "bool"
    if kind in ("sum", "prod"):
        if in_dtype == "bool" or in_dtype.startswith("int"):
            return "int64"
        if in_dtype.startswith("uint"):
            return "uint64"
    return in_dtype


def default_acc_dtype(kind, out_dtype):
    """The dtype a reduction accumulates in, given its output dtype."""
    if kind in ("sum", "prod"):
        if out_dtype == "bool" or out_dtype.startswith("int"):
            return "int64"
        if out_dtype.startswith("uint"):
            return "uint64"
        if out_dtype == "float16":
            return "float32"
    return out_dtype


class Reduce(Op):
    """Reduce over ``axis`` (a sorted tuple of non-negative ints) with ``scalar``.

    ``scalar`` is one of 'sum', 'prod', 'max', 'min', 'all', 'any'.  ``dtype``
    and ``acc_dtype`` are the output and accumulator dtypes; None means the
    default for the input (:func:`default_dtype`, :func:`default_acc_dtype`).
    The functions below always pass concrete dtypes.
    """

    __props__ = ("scalar", "axis", "dtype", "acc_dtype")
    c = "c/reduce"
    cuda = "cuda/reduce"

    def __init__(self, scalar, axis, dtype=None, acc_dtype=None):
        if scalar not in KINDS:
            raise AotcValueError("Reduce: scalar must be one of %s, got %r" % (", ".join(KINDS), scalar))
        axis = tuple(int(a) for a in axis)
        if _check_axes(axis):
            raise AotcValueError("Reduce: axis must be a sorted tuple of distinct non-negative "
                                 "ints, got %r" % (axis,))
        self.scalar = scalar
        self.axis = axis
        self.dtype = None if dtype is None else canonical_dtype(dtype)
        self.acc_dtype = None if acc_dtype is None else canonical_dtype(acc_dtype)

    def __str__(self):
        parts = ["axis=%s" % (self.axis,)]
        if self.dtype is not None:
            parts.append("dtype=%s" % self.dtype)
        if self.acc_dtype is not None and self.acc_dtype != self.dtype:
            parts.append("acc_dtype=%s" % self.acc_dtype)
        return "%s{%s}" % (self.scalar.capitalize(), ", ".join(parts))

    def out_dtype(self, in_dtype):
        return self.dtype or default_dtype(self.scalar, in_dtype)

    def acc_for(self, in_dtype):
        """The accumulator dtype for an input of ``in_dtype`` (what codegen uses)."""
        return self.acc_dtype or default_acc_dtype(self.scalar, self.out_dtype(in_dtype))

    def make_node(self, x):
        x = as_tensor_variable(x)
        name = self.scalar
        if self.axis and self.axis[-1] >= x.ndim:
            raise AotcValueError("%s: axis %d is out of range for %s of type %s (ndim %d)%s"
                                 % (name, self.axis[-1], x, x.type, x.ndim, _at()))
        if name in ("max", "min") and x.dtype in COMPLEX_DTYPES:
            raise AotcTypeError("%s: complex inputs have no order, got %s of type %s%s"
                                % (name, x, x.type, _at()))
        bcast = tuple(b for i, b in enumerate(x.broadcastable) if i not in self.axis)
        out = TensorVariable(TensorType(self.out_dtype(x.dtype), bcast))
        return Apply(self, [x], [out])

    def infer_shape(self, node, input_shapes):
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axis)]

    def perform(self, node, inputs):
        (x,) = inputs
        out_dtype = node.outputs[0].dtype
        kind = self.scalar
        with np.errstate(all="ignore"):
            if kind in ("sum", "prod"):
                res = _NUMPY[kind](x, axis=self.axis, dtype=self.acc_for(x.dtype.name))
            else:
                # max/min of an empty axis raise ValueError: the evaluator reports the node
                res = _NUMPY[kind](x, axis=self.axis)
            res = np.asarray(res)
            if res.dtype.name != out_dtype:
                res = res.astype(out_dtype)
        return [res]

    def grad(self, node, output_grads):
        (x,) = node.inputs
        (gz,) = output_grads
        if not is_float(x.dtype) or self.scalar in ("all", "any"):
            return [None]
        gz_kept = _keepdims(gz, x.ndim, self.axis)
        if self.scalar == "sum":
            g = _broadcast_like(gz_kept, x)
        elif self.scalar in ("max", "min"):
            from .elemwise import eq, mul
            out_kept = _keepdims(node.outputs[0], x.ndim, self.axis)
            g = mul(gz_kept, eq(x, out_kept))
        else:
            g = _prod_grad(x, gz_kept, self.axis, node.outputs[0].dtype)
        return [_fit(g, x)]


def _fit(g, x):
    """``g`` with the dtype and broadcastable pattern of ``x``."""
    from .elemwise import cast
    if g.dtype != x.dtype:
        g = cast(g, x.dtype)
    if g.broadcastable != x.broadcastable:
        from .shape import patternbroadcast
        g = patternbroadcast(g, x.broadcastable)
    return g


def _broadcast_like(g_kept, x):
    """``g_kept`` (length 1 on the reduced axes) stretched to the shape of ``x``."""
    from .shape import fill
    # an Alloc of x's shape: broadcastable axes of x stay broadcastable
    return fill(x, g_kept)


def _prod_grad(x, gz_kept, axes, out_dtype):
    """Gradient of ``prod(x, axes)``, exact where ``x`` holds zeros.

    d prod / d x_i is the product of the other elements.  ``prod / x_i`` gives
    that only when no element is zero, so the zeros are counted per group:
    no zero -> prod / x_i; exactly one zero -> the product of the non-zero
    elements at the zero's position, 0 elsewhere; two or more zeros -> 0.
    Division only ever sees non-zero values, so second derivatives stay finite.
    """
    from .elemwise import and_, eq, mul, switch, true_div
    zero = eq(x, 0)
    nonzero_x = switch(zero, as_tensor_variable(np.asarray(1, dtype=x.dtype)), x)
    p_nz = prod(nonzero_x, axis=axes, keepdims=True, dtype=out_dtype)
    n_zeros = sum(zero, axis=axes, keepdims=True)
    g = switch(eq(n_zeros, 0), true_div(p_nz, nonzero_x),
               switch(and_(zero, eq(n_zeros, 1)), p_nz, _zero_of(out_dtype)))
    return mul(gz_kept, g)


def _zero_of(dtype):
    return as_tensor_variable(np.asarray(0, dtype=dtype))


# ---------------------------------------------------------------------------
# the reduction functions
# ---------------------------------------------------------------------------

def _reduce(kind, x, axis, keepdims, dtype=None, acc_dtype=None, opname=None):
    x = as_tensor_variable(x)
    axes = normalize_axis(opname or kind, x, axis)
    out_dtype = canonical_dtype(dtype) if dtype is not None else default_dtype(kind, x.dtype)
    acc = (canonical_dtype(acc_dtype) if acc_dtype is not None
           else default_acc_dtype(kind, out_dtype))
    out = Reduce(kind, axes, out_dtype, acc)(x)
    return _keepdims(out, x.ndim, axes) if keepdims else out


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):  # noqa: A001 - Theano's name
    """Sum over ``axis`` (None: all; int; tuple/list; negatives count from the end).

    bool and signed ints sum to int64, unsigned ints to uint64, floats keep their dtype.

    >>> x = T.dtensor3('x')
    >>> x.sum(axis=(0, 2)).eval({x: np.ones((2, 3, 5))})
    array([10., 10., 10.])
    """
    return _reduce("sum", x, axis, keepdims, dtype, acc_dtype)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    """Product over ``axis``; dtypes as :func:`sum`.  The gradient is exact with zeros.

    ``no_zeros_in_input`` is accepted for Theano's signature; the gradient
    handles zeros either way.

    >>> v = T.dvector('v'); T.prod(v).eval({v: [2., 3.]})
    array(6.)
    """
    return _reduce("prod", x, axis, keepdims, dtype, acc_dtype)


def max(x, axis=None, keepdims=False):  # noqa: A001 - Theano's name
    """Maximum over ``axis``; the gradient goes to every element equal to the maximum.

    >>> m = T.dmatrix('m'); m.max(axis=1).eval({m: [[1., 5.], [7., 2.]]})
    array([5., 7.])
    """
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - Theano's name
    """Minimum over ``axis``; the gradient goes to every element equal to the minimum."""
    return _reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001 - Theano's name
    """True where every element along ``axis`` is non-zero (bool output, no gradient)."""
    return _reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - Theano's name
    """True where some element along ``axis`` is non-zero (bool output, no gradient)."""
    return _reduce("any", x, axis, keepdims)


def _mean_dtype(in_dtype, dtype):
    if dtype is not None:
        return canonical_dtype(dtype)
    if in_dtype == "bool" or in_dtype.startswith("int") or in_dtype.startswith("uint"):
        return "float64"
    return in_dtype


def _count(x, axes, dtype):
    """The number of elements reduced over ``axes``: a symbolic scalar of ``dtype``.

    Broadcastable axes are known to be 1 and are left out; None when the count is 1.
    """
    from .elemwise import cast, mul
    from .shape import shape
    count = None
    shp = None
    for a in axes:
        if x.broadcastable[a]:
            continue
        if shp is None:
            shp = shape(x)
        count = shp[a] if count is None else mul(count, shp[a])
    return None if count is None else cast(count, dtype)


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Arithmetic mean over ``axis``: ``sum / count`` with the count read from the shape.

    Integer and bool inputs give float64 (as NumPy); floats keep their dtype.

    >>> v = T.ivector('v'); v.mean().eval({v: [1, 2]})
    array(1.5)
    """
    x = as_tensor_variable(x)
    axes = normalize_axis("mean", x, axis)
    out_dtype = _mean_dtype(x.dtype, dtype)
    # float16 divides in float32: the count alone could overflow float16
    work = "float32" if out_dtype == "float16" else out_dtype
    from .elemwise import true_div
    s = sum(x, axis=axes, dtype=work, acc_dtype=acc_dtype)
    count = _count(x, axes, work)
    out = s if count is None else true_div(s, count)
    if out.dtype != out_dtype:
        from .elemwise import cast
        out = cast(out, out_dtype)
    return _keepdims(out, x.ndim, axes) if keepdims else out


def var(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Variance over ``axis``: ``mean((x - mean(x))**2)``, divided by ``n - ddof``.

    Integer inputs give float64.  ``corrected`` is accepted for Theano's
    signature and ignored (the two-pass formula is already accurate).
    """
    from .elemwise import mul, sub, true_div, cast
    x = as_tensor_variable(x)
    axes = normalize_axis("var", x, axis)
    m = mean(x, axis=axes, keepdims=True)
    d = sub(x, m)
    v = mean(mul(d, d), axis=axes)
    if ddof:
        n = _count(x, axes, v.dtype)
        if n is None:
            n = as_tensor_variable(np.asarray(1, dtype=v.dtype))
        v = true_div(mul(v, n), sub(n, cast(as_tensor_variable(ddof), v.dtype)))
    return _keepdims(v, x.ndim, axes) if keepdims else v


def std(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Standard deviation over ``axis``: ``sqrt(var(x, axis))``."""
    from .elemwise import sqrt
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


class Argmax(Op):
    """Index of the maximum (``kind='max'``) or minimum over ``axis``, as int64.

    ``axis`` is a sorted tuple of non-negative ints.  Several axes are treated
    as one flattened axis (C order), so axis=every axis is the index into the
    flattened input, as ``numpy.argmax(x)`` with ``axis=None``.  Ties give the
    first index.  Not differentiable.
    """

    __props__ = ("kind", "axis")
    c = "c/argmax"
    cuda = "cuda/argmax"
    differentiable = False

    def __init__(self, axis, kind="max"):
        if kind not in ("max", "min"):
            raise AotcValueError("Argmax: kind must be 'max' or 'min', got %r" % (kind,))
        axis = tuple(int(a) for a in axis)
        if _check_axes(axis):
            raise AotcValueError("Argmax: axis must be a sorted tuple of distinct non-negative "
                                 "ints, got %r" % (axis,))
        self.axis = axis
        self.kind = kind

    def __str__(self):
        return "Arg%s{axis=%s}" % (self.kind, self.axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        name = "arg" + self.kind
        if self.axis and self.axis[-1] >= x.ndim:
            raise AotcValueError("%s: axis %d is out of range for %s of type %s (ndim %d)%s"
                                 % (name, self.axis[-1], x, x.type, x.ndim, _at()))
        if x.dtype in COMPLEX_DTYPES:
            raise AotcTypeError("%s: complex inputs have no order, got %s of type %s%s"
                                % (name, x, x.type, _at()))
        bcast = tuple(b for i, b in enumerate(x.broadcastable) if i not in self.axis)
        return Apply(self, [x], [TensorVariable(TensorType("int64", bcast))])

    def infer_shape(self, node, input_shapes):
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axis)]

    def perform(self, node, inputs):
        (x,) = inputs
        keep = [i for i in range(x.ndim) if i not in self.axis]
        moved = np.transpose(x, keep + list(self.axis))
        kept_shape = moved.shape[:len(keep)]
        flat = moved.reshape(kept_shape + (-1,))
        if flat.shape[-1] == 0:
            raise ValueError("attempt to get arg%s of an empty sequence (input shape %s)"
                             % (self.kind, x.shape))
        fn = np.argmax if self.kind == "max" else np.argmin
        return [np.asarray(fn(flat, axis=-1), dtype="int64")]


def _arg(kind, x, axis, keepdims):
    x = as_tensor_variable(x)
    axes = normalize_axis("arg" + kind, x, axis)
    out = Argmax(axes, kind)(x)
    return _keepdims(out, x.ndim, axes) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    """Index (int64) of the maximum along ``axis``; None: into the flattened input.

    >>> m = T.dmatrix('m'); T.argmax(m, axis=1).eval({m: [[1., 5.], [7., 2.]]})
    array([1, 0])
    """
    return _arg("max", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index (int64) of the minimum along ``axis``; None: into the flattened input."""
    return _arg("min", x, axis, keepdims)


def max_and_argmax(x, axis=None, keepdims=False):
    """``[max(x, axis), argmax(x, axis)]`` (Theano's ``T.max_and_argmax``)."""
    return [max(x, axis=axis, keepdims=keepdims), argmax(x, axis=axis, keepdims=keepdims)]


OPS = (Reduce, Argmax)
