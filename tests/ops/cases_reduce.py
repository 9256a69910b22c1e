"""Op-table cases for reductions (Reduce, Argmax), products (Dot) and nnet ops.

Shapes use distinct sizes (2, 3, 5) so that a swapped or wrongly dropped axis
cannot hide.  max/min/argmax inputs come from the 'distinct' sampler so the
extremum is unique (the gradient is then well defined).
"""
import numpy as np

from aotc.frontend.ops import blas, nnet, reduce as R
from .cases import Input, OpCase

F3 = Input((2, 3, 5))
F3D = Input((2, 3, 5), sampler="distinct")
INTS = ("int32", "int64")

CASES = []


def _add(*cases):
    CASES.extend(cases)


# ---------------------------------------------------------------------------
# sum / prod / max / min / all / any over every kind of axis
# ---------------------------------------------------------------------------

_AXES = [None, 0, 1, -1, (0, 2), [1, 2], (0, 1, 2), (-3, -1)]


def _axis_name(axis):
    return "all" if axis is None else str(axis).replace(" ", "")


for _ax in _AXES:
    _add(OpCase("sum_axis%s" % _axis_name(_ax), "Reduce",
                (lambda ax: lambda x: R.sum(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.sum(x, axis=None if ax is None else tuple(np.atleast_1d(ax))))(_ax),
                [F3], rtol=1e-5),
         OpCase("prod_axis%s" % _axis_name(_ax), "Reduce",
                (lambda ax: lambda x: R.prod(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.prod(x, axis=None if ax is None else tuple(np.atleast_1d(ax))))(_ax),
                [Input((2, 3, 5), sampler="nonzero")], rtol=1e-5),
         OpCase("max_axis%s" % _axis_name(_ax), "Reduce",
                (lambda ax: lambda x: R.max(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.max(x, axis=None if ax is None else tuple(np.atleast_1d(ax))))(_ax),
                [F3D]),
         OpCase("min_axis%s" % _axis_name(_ax), "Reduce",
                (lambda ax: lambda x: R.min(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.min(x, axis=None if ax is None else tuple(np.atleast_1d(ax))))(_ax),
                [F3D]),
         OpCase("mean_axis%s" % _axis_name(_ax), "Reduce",
                (lambda ax: lambda x: R.mean(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.mean(x, axis=None if ax is None else tuple(np.atleast_1d(ax))))(_ax),
                [F3], rtol=1e-5))

_add(
    # keepdims
    OpCase("sum_keepdims", "Reduce", lambda x: R.sum(x, axis=(0, 2), keepdims=True),
           lambda x: np.sum(x, axis=(0, 2), keepdims=True), [F3], rtol=1e-5),
    OpCase("max_keepdims", "Reduce", lambda x: R.max(x, axis=-1, keepdims=True),
           lambda x: np.max(x, axis=-1, keepdims=True), [F3D]),
    OpCase("mean_keepdims", "Reduce", lambda x: R.mean(x, axis=1, keepdims=True),
           lambda x: np.mean(x, axis=1, keepdims=True), [F3], rtol=1e-5),
    OpCase("prod_keepdims_all", "Reduce", lambda x: R.prod(x, keepdims=True),
           lambda x: np.prod(x, keepdims=True), [Input((3, 5), sampler="nonzero")], rtol=1e-5),
    # methods and small ranks
    OpCase("sum_method_vector", "Reduce", lambda x: x.sum(), np.sum, [Input((5,))]),
    OpCase("sum_scalar", "Reduce", lambda x: R.sum(x), np.sum, [Input(())]),
    OpCase("max_method_matrix", "Reduce", lambda x: x.max(axis=1), lambda x: x.max(axis=1),
           [Input((3, 5), sampler="distinct")]),
    # a broadcastable axis reduced: the count in mean skips it, the gradient keeps the pattern
    OpCase("sum_bcast_axis", "Reduce", lambda x: R.sum(x, axis=0),
           lambda x: np.sum(x, axis=0), [Input((1, 5), broadcastable=(True, False))]),
    OpCase("mean_bcast_axis", "Reduce", lambda x: R.mean(x, axis=(0, 1)),
           lambda x: np.mean(x, axis=(0, 1)), [Input((1, 5), broadcastable=(True, False))]),
    # prod with zeros (exact gradient: products of the other elements)
    OpCase("prod_with_zeros", "Reduce", lambda x: R.prod(x, axis=1),
           lambda x: np.prod(x, axis=1), [Input((3, 5), sampler="int:-1:2")]),
    # composites built on Reduce
    OpCase("var_axis1", "Reduce", lambda x: R.var(x, axis=1), lambda x: np.var(x, axis=1),
           [F3], rtol=1e-5),
    OpCase("var_all", "Reduce", lambda x: R.var(x), lambda x: np.var(x), [F3], rtol=1e-5),
    OpCase("var_ddof1", "Reduce", lambda x: R.var(x, axis=-1, ddof=1),
           lambda x: np.var(x, axis=-1, ddof=1), [F3], rtol=1e-5),
    OpCase("std_axis02", "Reduce", lambda x: R.std(x, axis=(0, 2)),
           lambda x: np.std(x, axis=(0, 2)), [F3], rtol=1e-5),
    OpCase("std_keepdims", "Reduce", lambda x: R.std(x, axis=1, keepdims=True),
           lambda x: np.std(x, axis=1, keepdims=True), [F3], rtol=1e-5),
    # all / any (bool output, no gradient)
    OpCase("all_axis1", "Reduce", lambda x: R.all(x, axis=1), lambda x: np.all(x, axis=1),
           [Input((3, 5), sampler="int:0:2")], dtypes=INTS + ("float64",), grad=False),
    OpCase("any_axis02", "Reduce", lambda x: R.any(x, axis=(0, 2)),
           lambda x: np.any(x, axis=(0, 2)), [Input((2, 3, 5), sampler="int:0:2")],
           dtypes=INTS, grad=False),
    OpCase("all_none_keepdims", "Reduce", lambda x: R.all(x, keepdims=True),
           lambda x: np.all(x, keepdims=True), [Input((3, 5), sampler="int:0:2")],
           dtypes=INTS, grad=False),
    OpCase("any_neg_axis", "Reduce", lambda x: R.any(x, axis=-1),
           lambda x: np.any(x, axis=-1), [Input((3, 5), sampler="int:0:2")],
           dtypes=INTS, grad=False),
    # integer inputs: sums accumulate like NumPy (int64), mean gives float64
    OpCase("sum_int_axis02", "Reduce", lambda x: R.sum(x, axis=(0, 2)),
           lambda x: np.sum(x, axis=(0, 2), dtype="int64"), [F3], dtypes=INTS, grad=False),
    OpCase("sum_int_all", "Reduce", lambda x: R.sum(x), lambda x: np.sum(x, dtype="int64"),
           [F3], dtypes=INTS, grad=False),
    OpCase("prod_int_axis1", "Reduce", lambda x: R.prod(x, axis=1),
           lambda x: np.prod(x, axis=1, dtype="int64"), [F3], dtypes=INTS, grad=False),
    OpCase("max_int_neg_axis", "Reduce", lambda x: R.max(x, axis=-2),
           lambda x: np.max(x, axis=-2), [F3], dtypes=INTS, grad=False),
    OpCase("min_int_axis02", "Reduce", lambda x: R.min(x, axis=(0, 2)),
           lambda x: np.min(x, axis=(0, 2)), [F3], dtypes=INTS, grad=False),
    OpCase("mean_int", "Reduce", lambda x: R.mean(x, axis=1), lambda x: np.mean(x, axis=1),
           [F3], dtypes=INTS, grad=False, rtol=1e-12, atol=1e-12),
    OpCase("sum_dtype_float64", "Reduce", lambda x: R.sum(x, axis=0, dtype="float64"),
           lambda x: np.sum(x, axis=0, dtype="float64"), [F3], dtypes=("float32",)),
)

# ---------------------------------------------------------------------------
# argmax / argmin
# ---------------------------------------------------------------------------

for _ax in (None, 0, 1, -1, 2):
    _add(OpCase("argmax_axis%s" % _axis_name(_ax), "Argmax",
                (lambda ax: lambda x: R.argmax(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.argmax(x, axis=ax))(_ax), [F3D], grad=False),
         OpCase("argmin_axis%s" % _axis_name(_ax), "Argmax",
                (lambda ax: lambda x: R.argmin(x, axis=ax))(_ax),
                (lambda ax: lambda x: np.argmin(x, axis=ax))(_ax), [F3D], grad=False))

_add(
    OpCase("argmax_int", "Argmax", lambda x: R.argmax(x, axis=1),
           lambda x: np.argmax(x, axis=1), [Input((3, 5), sampler="distinct")],
           dtypes=("float64",) + INTS, grad=False),
    OpCase("argmax_keepdims", "Argmax", lambda x: R.argmax(x, axis=1, keepdims=True),
           lambda x: np.argmax(x, axis=1)[:, None, :], [F3D], grad=False),
    OpCase("argmax_axis_tuple", "Argmax", lambda x: R.argmax(x, axis=(1, 2)),
           lambda x: np.argmax(x.reshape(2, 15), axis=1), [F3D], grad=False),
    OpCase("argmax_vector", "Argmax", lambda x: x.argmax(), np.argmax,
           [Input((5,), sampler="distinct")], grad=False),
    OpCase("max_and_argmax", "Argmax", lambda x: R.max_and_argmax(x, axis=1)[1],
           lambda x: np.argmax(x, axis=1), [F3D], grad=False),
)

# ---------------------------------------------------------------------------
# dot for every rank combination, tensordot, outer, batched_dot
# ---------------------------------------------------------------------------

_DOT_SHAPES = [
    ("vv", (5,), (5,)),
    ("mv", (3, 5), (5,)),
    ("vm", (5,), (5, 4)),
    ("mm", (3, 5), (5, 4)),
    ("t3m", (2, 3, 5), (5, 4)),
    ("t3v", (2, 3, 5), (5,)),
    ("t4m", (2, 3, 4, 5), (5, 6)),
]
for _name, _sa, _sb in _DOT_SHAPES:
    _add(OpCase("dot_%s" % _name, "Dot", blas.dot, np.dot, [Input(_sa), Input(_sb)], rtol=1e-5),
         OpCase("dot_%s_int" % _name, "Dot", blas.dot, np.dot, [Input(_sa), Input(_sb)],
                dtypes=INTS, grad=False))

# Gemm (what recognize_gemm makes of dot(a, b) * k + c): bias row, full bias, vector b
_add(
    OpCase("gemm_bias_row", "Gemm", lambda c, a, b: blas.gemm(c.dimshuffle("x", 0), a, b),
           lambda c, a, b: c[None, :] + np.dot(a, b), [Input((4,)), Input((3, 5)), Input((5, 4))],
           rtol=1e-5),
    OpCase("gemm_alpha_full_c", "Gemm", lambda c, a, b: blas.gemm(c, a, b, alpha=-0.5),
           lambda c, a, b: c - 0.5 * np.dot(a, b), [Input((3, 4)), Input((3, 5)), Input((5, 4))],
           rtol=1e-5),
    OpCase("gemm_t3_matrix", "Gemm", lambda c, a, b: blas.gemm(c.dimshuffle("x", "x", 0), a, b),
           lambda c, a, b: c + np.dot(a, b), [Input((4,)), Input((2, 3, 5)), Input((5, 4))],
           rtol=1e-5),
    OpCase("gemm_matrix_vector", "Gemm", lambda c, a, b: blas.gemm(c, a, b, alpha=2.0),
           lambda c, a, b: c + 2.0 * np.dot(a, b), [Input((3,)), Input((3, 5)), Input((5,))],
           rtol=1e-5),
    # c read where it lies (every other row of a matrix; a 3-d c whose rows merge) or
    # copied first (a transposed c: column stride not 1)
    OpCase("gemm_row_strided_c", "Gemm", lambda c, a, b: blas.gemm(c[::2], a, b),
           lambda c, a, b: c[::2] + np.dot(a, b), [Input((6, 4)), Input((3, 5)), Input((5, 4))],
           rtol=1e-5),
    OpCase("gemm_t3_full_c", "Gemm", lambda c, a, b: blas.gemm(c, a, b, alpha=1.5),
           lambda c, a, b: c + 1.5 * np.dot(a, b),
           [Input((2, 3, 4)), Input((2, 3, 5)), Input((5, 4))], rtol=1e-5),
    OpCase("gemm_transposed_c", "Gemm", lambda c, a, b: blas.gemm(c.T, a, b),
           lambda c, a, b: c.T + np.dot(a, b), [Input((4, 3)), Input((3, 5)), Input((5, 4))],
           rtol=1e-5),
    # a bias row is read in place with row stride 0, also by the GEMV kernels (one
    # column: a dot per row, or with a transposed a, an axpy over its columns)
    OpCase("gemm_bias_row_one_column", "Gemm",
           lambda c, a, b: blas.gemm(c.dimshuffle("x", 0), a, b),
           lambda c, a, b: c[None, :] + np.dot(a, b), [Input((1,)), Input((3, 5)), Input((5, 1))],
           rtol=1e-5),
    OpCase("gemm_bias_row_one_column_at", "Gemm",
           lambda c, a, b: blas.gemm(c.dimshuffle("x", 0), a.T, b),
           lambda c, a, b: c[None, :] + np.dot(a.T, b),
           [Input((1,)), Input((5, 3)), Input((5, 1))], rtol=1e-5),
)

_add(
    OpCase("dot_scalar_matrix", "mul", blas.dot, np.dot, [Input(()), Input((3, 5))]),
    OpCase("dot_matrix_scalar", "mul", blas.dot, np.dot, [Input((3, 5)), Input(())]),
    OpCase("dot_t3_t3_numpy_rule", "Dot", blas.dot, np.dot,
           [Input((2, 3, 5)), Input((4, 5, 6))], rtol=1e-5),
    OpCase("dot_m_t3_numpy_rule", "Dot", blas.dot, np.dot,
           [Input((3, 5)), Input((2, 5, 4))], rtol=1e-5),
    OpCase("dot_matmul_operator", "Dot", lambda a, b: a @ b, np.dot,
           [Input((3, 5)), Input((5, 4))], rtol=1e-5),
    OpCase("dot_row_matrix", "Dot", blas.dot, np.dot,
           [Input((1, 5), broadcastable=(True, False)), Input((5, 4))], rtol=1e-5),
    OpCase("dot_matrix_col", "Dot", blas.dot, np.dot,
           [Input((3, 5)), Input((5, 1), broadcastable=(False, True))], rtol=1e-5),
    OpCase("tensordot_2", "Dot", lambda a, b: blas.tensordot(a, b, 2),
           lambda a, b: np.tensordot(a, b, 2), [Input((2, 3, 5)), Input((3, 5, 4))], rtol=1e-5),
    OpCase("tensordot_pairs", "Dot", lambda a, b: blas.tensordot(a, b, [[0, 2], [2, 0]]),
           lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]),
           [Input((2, 3, 5)), Input((5, 4, 2))], rtol=1e-5),
    OpCase("tensordot_full", "Dot", lambda a, b: blas.tensordot(a, b, [[0, 1], [1, 0]]),
           lambda a, b: np.tensordot(a, b, [[0, 1], [1, 0]]), [Input((3, 5)), Input((5, 3))],
           rtol=1e-5),
    OpCase("tensordot_0", "mul", lambda a, b: blas.tensordot(a, b, 0),
           lambda a, b: np.tensordot(a, b, 0), [Input((2, 3)), Input((5,))]),
    OpCase("outer", "mul", blas.outer, np.outer, [Input((3,)), Input((5,))]),
    OpCase("batched_dot_33", "Reduce", blas.batched_dot,
           lambda a, b: np.einsum("bmn,bnk->bmk", a, b), [Input((2, 3, 5)), Input((2, 5, 4))],
           rtol=1e-5),
    OpCase("batched_dot_32", "Reduce", blas.batched_dot,
           lambda a, b: np.einsum("bmn,bn->bm", a, b), [Input((2, 3, 5)), Input((2, 5))],
           rtol=1e-5),
    OpCase("batched_dot_22", "Reduce", blas.batched_dot,
           lambda a, b: np.einsum("bn,bn->b", a, b), [Input((3, 5)), Input((3, 5))], rtol=1e-5),
)

# ---------------------------------------------------------------------------
# softmax family and the nnet compositions
# ---------------------------------------------------------------------------


def _np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_log_softmax(x):
    xm = x - x.max(axis=-1, keepdims=True)
    return xm - np.log(np.exp(xm).sum(axis=-1, keepdims=True))


def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _np_softmax_grad(dy, x):
    sm = _np_softmax(x)
    return (dy - (dy * sm).sum(axis=-1, keepdims=True)) * sm


def _np_ultra_fast_sigmoid(x):
    h = np.abs(x) * 0.5
    z = np.where(h < 1.7, 1.5 * h / (1 + h),
                 np.where(h < 3, 0.935409070603099 + 0.0458812946797165 * (h - 1.7),
                          0.99505475368673))
    return 0.5 * (np.where(x >= 0, z, -z) + 1)


def _big(x):
    # magnitudes around +-1000: exp overflows unless the row maximum is subtracted
    return x * 1000


_add(
    OpCase("softmax_matrix", "Softmax", nnet.softmax, _np_softmax, [Input((3, 5))], rtol=1e-5),
    OpCase("softmax_vector", "Softmax", nnet.softmax, _np_softmax, [Input((5,))], rtol=1e-5),
    OpCase("softmax_large", "Softmax", lambda x: nnet.softmax(_big(x)),
           lambda x: _np_softmax(_big(x)), [Input((3, 5), sampler="distinct")], grad=False,
           rtol=1e-5, atol=1e-6),
    OpCase("softmax_row_bcast", "Softmax", nnet.softmax, _np_softmax,
           [Input((1, 5), broadcastable=(True, False))], rtol=1e-5),
    OpCase("softmax_int", "Softmax", nnet.softmax, lambda x: _np_softmax(x.astype("float64")),
           [Input((3, 5))], dtypes=INTS, grad=False, rtol=1e-12, atol=1e-12),
    OpCase("softmax_grad", "SoftmaxGrad",
           lambda dy, x: nnet.SoftmaxGrad()(dy, nnet.softmax(x)), _np_softmax_grad,
           [Input((3, 5)), Input((3, 5))], rtol=1e-5),
    OpCase("softmax_grad_vector", "SoftmaxGrad",
           lambda dy, x: nnet.SoftmaxGrad()(dy, nnet.softmax(x)), _np_softmax_grad,
           [Input((5,)), Input((5,))], rtol=1e-5),
    OpCase("log_softmax_matrix", "LogSoftmax", nnet.log_softmax, _np_log_softmax,
           [Input((3, 5))], rtol=1e-5),
    OpCase("log_softmax_vector", "LogSoftmax", nnet.log_softmax, _np_log_softmax,
           [Input((5,))], rtol=1e-5),
    OpCase("log_softmax_large", "LogSoftmax", lambda x: nnet.log_softmax(_big(x)),
           lambda x: _np_log_softmax(_big(x)), [Input((3, 5), sampler="distinct")],
           rtol=1e-5, atol=1e-3, rtol64=1e-10, atol64=1e-9),
    OpCase("relu", "maximum", nnet.relu, lambda x: np.maximum(x, 0), [Input((3, 5), sampler="nonzero")]),
    OpCase("relu_leaky", "switch", lambda x: nnet.relu(x, 0.1),
           lambda x: np.where(x > 0, x, np.asarray(0.1, x.dtype) * x),
           [Input((3, 5), sampler="nonzero")]),
    OpCase("relu_int", "maximum", nnet.relu, lambda x: np.maximum(x, 0), [Input((3, 5))],
           dtypes=INTS, grad=False),
    OpCase("elu", "switch", nnet.elu, lambda x: np.where(x > 0, x, np.expm1(x)),
           [Input((3, 5), sampler="nonzero")], rtol=1e-5),
    OpCase("softplus", "softplus", nnet.softplus, _np_softplus, [Input((3, 5))], rtol=1e-5),
    OpCase("softsign", "true_div", nnet.softsign, lambda x: x / (1 + np.abs(x)),
           [Input((3, 5), sampler="nonzero")], rtol=1e-5),
    OpCase("hard_sigmoid", "clip", nnet.hard_sigmoid,
           lambda x: np.clip(x * np.asarray(0.2, x.dtype) + np.asarray(0.5, x.dtype), 0, 1),
           [Input((3, 5))], rtol=1e-5),
    OpCase("ultra_fast_sigmoid", "switch", nnet.ultra_fast_sigmoid, _np_ultra_fast_sigmoid,
           [Input((3, 5), sampler="nonzero")], rtol=1e-5, atol=1e-6),
    OpCase("categorical_crossentropy_idx", "Softmax",
           lambda x, y: nnet.categorical_crossentropy(nnet.softmax(x), y),
           lambda x, y: -np.log(_np_softmax(x)[np.arange(x.shape[0]), y]),
           [Input((3, 5)), Input((3,), dtype="int64", sampler="int:0:5")], rtol=1e-5),
    OpCase("categorical_crossentropy_onehot", "Softmax",
           lambda x, t: nnet.categorical_crossentropy(nnet.softmax(x), t),
           lambda x, t: -np.sum(t * np.log(_np_softmax(x)), axis=1),
           [Input((3, 5)), Input((3, 5), sampler="positive")], rtol=1e-5),
    OpCase("binary_crossentropy", "log",
           lambda x, t: nnet.binary_crossentropy(nnet.sigmoid(x), t),
           lambda x, t: -(t * np.log(_np_sigmoid(x)) + (1 - t) * np.log(1 - _np_sigmoid(x))),
           [Input((3, 5)), Input((3, 5), sampler="unit")], rtol=1e-5, atol=1e-5),
    OpCase("sigmoid_binary_crossentropy", "softplus", nnet.sigmoid_binary_crossentropy,
           lambda x, t: t * _np_softplus(-x) + (1 - t) * _np_softplus(x),
           [Input((3, 5)), Input((3, 5), sampler="unit")], rtol=1e-5),
    OpCase("crossentropy_softmax_1hot", "LogSoftmax",
           lambda x, y: nnet.crossentropy_softmax_1hot(x, y)[0],
           lambda x, y: -_np_log_softmax(x)[np.arange(x.shape[0]), y],
           [Input((3, 5)), Input((3,), dtype="int64", sampler="int:0:5")], rtol=1e-5),
)
