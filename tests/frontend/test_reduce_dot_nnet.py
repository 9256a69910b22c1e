"""Behaviour of reductions, dot and the nnet functions: values, dtypes, errors, gradients."""
import numpy as np
import pytest

from aotc.errors import AotcTypeError, AotcValueError, ShapeError
from aotc.frontend.constructors import (dmatrix, dscalar, dtensor3, dvector, fmatrix, fvector,
                                        imatrix, ivector, lvector, matrix, tensor, tensor3)
from aotc.frontend.grad import grad
from aotc.frontend.graph import constant
from aotc.frontend.ops import blas, nnet
from aotc.frontend.ops import reduce as R
from aotc.frontend.types import TensorType

RNG = np.random.default_rng(0)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar function ``f`` at every element of ``x``."""
    x = np.array(x, dtype="float64")
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        hi = f(x)
        x[idx] = old - eps
        lo = f(x)
        x[idx] = old
        g[idx] = (hi - lo) / (2 * eps)
    return g


def check_grad(cost, wrt, values, rtol=1e-6, atol=1e-7):
    """``grad(cost, wrt)`` at ``values`` ({var: array}) against central differences."""
    wrt = list(wrt)
    grads = grad(cost, wrt)
    for var, g in zip(wrt, grads):
        got = g.eval(values)

        def f(v, var=var):
            vals = dict(values)
            vals[var] = v
            return float(cost.eval(vals))
        want = numeric_grad(f, values[var])
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------

def test_sum_axis_tuple_on_tensor3_matches_numpy():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(x.sum(axis=(0, 2)).eval({x: v}), v.sum(axis=(0, 2)))
    np.testing.assert_allclose(R.sum(x, axis=[0, 2]).eval({x: v}), v.sum(axis=(0, 2)))
    assert x.sum(axis=(0, 2)).broadcastable == (False,)


def test_max_axis1_on_tensor3_matches_numpy():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    out = x.max(axis=1)
    assert out.ndim == 2
    np.testing.assert_array_equal(out.eval({x: v}), v.max(axis=1))
    np.testing.assert_array_equal(x.max(axis=(1, 2)).eval({x: v}), v.max(axis=(1, 2)))


def test_negative_axis_is_normalized():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    out = x.sum(axis=-1)
    assert out.owner.op.axis == (2,)
    np.testing.assert_allclose(out.eval({x: v}), v.sum(axis=-1))
    assert R.sum(x, axis=(-1, 0)).owner.op.axis == (0, 2)
    np.testing.assert_allclose(x.mean(axis=-2).eval({x: v}), v.mean(axis=-2))


def test_keepdims_inserts_broadcastable_axes():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    out = x.sum(axis=(0, 2), keepdims=True)
    assert out.broadcastable == (True, False, True)
    np.testing.assert_allclose(out.eval({x: v}), v.sum(axis=(0, 2), keepdims=True))
    am = R.argmax(x, axis=1, keepdims=True)
    assert am.broadcastable == (False, True, False)
    np.testing.assert_array_equal(am.eval({x: v}), np.argmax(v, axis=1)[:, None, :])


@pytest.mark.parametrize("axis", [3, -4, (0, 3)])
def test_out_of_range_axis_raises_at_build_time(axis):
    x = dtensor3("x")
    with pytest.raises(AotcValueError) as info:
        x.sum(axis=axis)
    msg = str(info.value)
    assert "out of range" in msg and "test_reduce_dot_nnet.py" in msg


def test_duplicate_axis_raises_at_build_time():
    x = dtensor3("x")
    with pytest.raises(AotcValueError) as info:
        x.max(axis=(1, -2))
    assert "twice" in str(info.value) and "test_reduce_dot_nnet.py" in str(info.value)


def test_symbolic_axis_is_rejected():
    x = dtensor3("x")
    with pytest.raises(AotcTypeError):
        x.sum(axis=lvector("a"))


def test_sum_dtypes_follow_numpy():
    assert tensor("int8", (False,)).sum().dtype == "int64"
    assert tensor("uint8", (False,)).sum().dtype == "uint64"
    assert tensor("bool", (False,)).sum().dtype == "int64"
    assert ivector().sum().dtype == "int64"
    assert fvector().sum().dtype == "float32"
    assert fvector().prod().dtype == "float32"
    assert ivector().max().dtype == "int32"
    assert fvector().any().dtype == "bool"
    assert R.sum(fvector(), dtype="float64").dtype == "float64"
    v = tensor("int8", (False,))
    np.testing.assert_array_equal(v.sum().eval({v: np.full(100, 100, dtype="int8")}), 10000)


def test_mean_of_int_vector_is_float64():
    v = ivector("v")
    m = v.mean()
    assert m.dtype == "float64"
    np.testing.assert_allclose(m.eval({v: np.array([1, 2], dtype="int32")}), 1.5)
    assert fvector().mean().dtype == "float32"
    assert R.mean(ivector(), dtype="float32").dtype == "float32"


def test_var_std_match_numpy():
    x = dmatrix("x")
    v = RNG.standard_normal((3, 5))
    np.testing.assert_allclose(x.var(axis=1).eval({x: v}), v.var(axis=1))
    np.testing.assert_allclose(x.std().eval({x: v}), v.std())
    np.testing.assert_allclose(R.var(x, axis=0, ddof=1).eval({x: v}), v.var(axis=0, ddof=1))
    assert imatrix().var().dtype == "float64"


def test_argmax_is_int64_and_flattens_for_axis_none():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    out = R.argmax(x)
    assert out.dtype == "int64" and out.ndim == 0
    assert int(out.eval({x: v})) == int(np.argmax(v))
    np.testing.assert_array_equal(x.argmax(axis=-1).eval({x: v}), v.argmax(axis=-1))
    np.testing.assert_array_equal(x.argmin(axis=0).eval({x: v}), v.argmin(axis=0))
    assert not R.Argmax((0,)).differentiable


def test_max_and_argmax():
    x = dmatrix("x")
    v = RNG.standard_normal((3, 5))
    m, a = R.max_and_argmax(x, axis=1)
    np.testing.assert_array_equal(m.eval({x: v}), v.max(axis=1))
    np.testing.assert_array_equal(a.eval({x: v}), v.argmax(axis=1))


def test_reduce_infer_shape_and_props():
    x = dtensor3("x")
    out = x.sum(axis=(0, 2))
    op = out.owner.op
    assert op.infer_shape(out.owner, [(2, 3, 5)]) == [(3,)]
    assert op == R.Reduce("sum", (0, 2), "float64", "float64")
    assert "Sum" in str(op)
    with pytest.raises(AotcValueError):
        R.Reduce("mean", (0,))


def test_all_any_values():
    x = imatrix("x")
    v = np.array([[1, 0, 2], [3, 4, 5]], dtype="int32")
    np.testing.assert_array_equal(x.all(axis=1).eval({x: v}), [False, True])
    np.testing.assert_array_equal(x.any(axis=0).eval({x: v}), [True, True, True])


def test_sum_grad_broadcasts_over_reduced_axes():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    w = RNG.standard_normal(3)
    g = grad((x.sum(axis=(0, 2)) * constant(w)).sum(), x)
    np.testing.assert_allclose(g.eval({x: v}), np.broadcast_to(w[None, :, None], v.shape))


def test_max_grad_goes_to_every_tied_maximum():
    x = dvector("x")
    g = grad(x.max(), x)
    np.testing.assert_array_equal(g.eval({x: np.array([1.0, 3.0, 3.0, 2.0])}), [0, 1, 1, 0])
    m = dmatrix("m")
    v = RNG.standard_normal((3, 5))
    check_grad((m.min(axis=0) ** 2).sum(), [m], {m: v})


def test_prod_grad_is_exact_with_zeros():
    x = dmatrix("x")
    v = np.array([[2.0, 3.0, 4.0], [0.0, 3.0, 5.0], [0.0, 0.0, 7.0]])
    g = grad(x.prod(axis=1).sum(), x).eval({x: v})
    np.testing.assert_allclose(g, [[12, 8, 6], [15, 0, 0], [0, 0, 0]])
    assert np.all(np.isfinite(g))
    check_grad(x.prod(axis=0).sum(), [x], {x: v})


def test_mean_var_grads():
    x = dtensor3("x")
    v = RNG.standard_normal((2, 3, 5))
    check_grad(x.mean(axis=(0, 2)).sum(), [x], {x: v})
    check_grad(x.std(axis=1).sum(), [x], {x: v}, rtol=1e-5)


# ---------------------------------------------------------------------------
# dot
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb", [((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 4)),
                                   ((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 3, 5), (5,)),
                                   ((), (3, 4)), ((3, 4), ()), ((2, 3, 5), (4, 5, 6))])
def test_dot_values_and_grads_for_every_rank_combination(sa, sb):
    a = TensorType("float64", (False,) * len(sa))("a")
    b = TensorType("float64", (False,) * len(sb))("b")
    va, vb = RNG.standard_normal(sa), RNG.standard_normal(sb)
    out = blas.dot(a, b)
    want = np.dot(va, vb)
    assert out.ndim == np.ndim(want)
    np.testing.assert_allclose(out.eval({a: va, b: vb}), want)
    w = RNG.standard_normal(np.shape(want))
    cost = (out * constant(w)).sum()
    check_grad(cost, [a, b], {a: va, b: vb}, rtol=1e-6, atol=1e-6)


def test_dot_tensor3_matrix_is_one_dot_node():
    x, W = dtensor3("x"), dmatrix("W")
    y = blas.dot(x, W)
    assert isinstance(y.owner.op, blas.Dot) and y.owner.inputs == [x, W]
    assert y.owner.op.infer_shape(y.owner, [(2, 3, 5), (5, 4)]) == [(2, 3, 4)]


def test_dot_dtypes_upcast_and_int_dot():
    assert blas.dot(fmatrix(), fmatrix()).dtype == "float32"
    assert blas.dot(fmatrix(), dmatrix()).dtype == "float64"
    assert blas.dot(imatrix(), fvector()).dtype == "float64"
    a, b = imatrix("a"), ivector("b")
    va, vb = np.arange(6, dtype="int32").reshape(2, 3), np.array([1, 2, 3], dtype="int32")
    out = blas.dot(a, b)
    assert out.dtype == "int32"
    np.testing.assert_array_equal(out.eval({a: va, b: vb}), va @ vb)


def test_dot_op_rejects_unsupported_ranks_naming_both_types():
    with pytest.raises(AotcTypeError) as info:
        blas.Dot()(dtensor3("a"), dtensor3("b"))
    msg = str(info.value)
    assert "tensor3" in msg and msg.count("TensorType(float64, tensor3)") == 2
    assert "test_reduce_dot_nnet.py" in msg
    with pytest.raises(AotcTypeError):
        blas.Dot()(dscalar("s"), dmatrix("m"))


def test_dot_static_size_mismatch_raises_at_build_time():
    a = constant(np.ones((3, 4)))
    with pytest.raises(ShapeError) as info:
        blas.dot(a, constant(np.ones((5, 2))))
    msg = str(info.value)
    assert "inner dimensions" in msg and "test_reduce_dot_nnet.py" in msg
    # a broadcastable inner axis is a known length 1
    with pytest.raises(ShapeError):
        blas.dot(tensor("float64", (False, True)), constant(np.ones((5, 2))))


def test_dot_run_time_mismatch_lists_both_shapes():
    a, b = dmatrix("a"), dmatrix("b")
    out = blas.dot(a, b)
    with pytest.raises(ValueError) as info:
        out.eval({a: np.ones((3, 4)), b: np.ones((5, 2))})
    msg = str(info.value)
    assert isinstance(info.value, ShapeError)
    assert "(3, 4)" in msg and "(5, 2)" in msg
    assert "test_reduce_dot_nnet.py" in msg


def test_tensordot_outer_batched_dot():
    a, b = dtensor3("a"), dtensor3("b")
    va, vb = RNG.standard_normal((2, 3, 5)), RNG.standard_normal((5, 4, 2))
    out = blas.tensordot(a, b, [[0, 2], [2, 0]])
    np.testing.assert_allclose(out.eval({a: va, b: vb}), np.tensordot(va, vb, [[0, 2], [2, 0]]))
    check_grad(out.sum(), [a, b], {a: va, b: vb})
    x, y = dvector("x"), dvector("y")
    vx, vy = RNG.standard_normal(3), RNG.standard_normal(5)
    np.testing.assert_allclose(blas.outer(x, y).eval({x: vx, y: vy}), np.outer(vx, vy))
    p, q = dtensor3("p"), dtensor3("q")
    vp, vq = RNG.standard_normal((2, 3, 5)), RNG.standard_normal((2, 5, 4))
    np.testing.assert_allclose(blas.batched_dot(p, q).eval({p: vp, q: vq}),
                               np.einsum("bmn,bnk->bmk", vp, vq))
    with pytest.raises(ShapeError):
        blas.tensordot(constant(np.ones((2, 3))), constant(np.ones((4, 2))), 1)


# ---------------------------------------------------------------------------
# nnet
# ---------------------------------------------------------------------------

def _np_softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_is_a_softmax_node_on_x():
    x = matrix("x")
    y = nnet.softmax(x)
    assert isinstance(y.owner.op, nnet.Softmax)
    assert y.owner.inputs[0] is x
    assert y.type == x.type


def test_softmax_stays_finite_for_large_inputs():
    x = dvector("x")
    out = nnet.softmax(x).eval({x: np.array([1000.0, -1000.0])})
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [1.0, 0.0])
    m = fmatrix("m")
    v = np.array([[1000, -1000, 0], [-1000, -1000, -1000]], dtype="float32")
    out = nnet.softmax(m).eval({m: v})
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    np.testing.assert_allclose(out, _np_softmax(v.astype("float64")), atol=1e-7)
    ls = nnet.log_softmax(m).eval({m: v})
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(ls[0], [0, -2000, -1000], rtol=1e-6)


def test_softmax_vector_gives_vector():
    v = dvector("v")
    y = nnet.softmax(v)
    assert y.ndim == 1
    val = RNG.standard_normal(5)
    np.testing.assert_allclose(y.eval({v: val}), _np_softmax(val))


def test_softmax_rejects_tensor3():
    with pytest.raises(AotcTypeError) as info:
        nnet.softmax(tensor3("t"))
    assert "test_reduce_dot_nnet.py" in str(info.value)


def test_softmax_and_log_softmax_grads_and_second_order():
    x = dmatrix("x")
    v = RNG.standard_normal((3, 5))
    w = constant(RNG.standard_normal((3, 5)))
    check_grad((nnet.softmax(x) * w).sum(), [x], {x: v})
    check_grad((nnet.log_softmax(x) * w).sum(), [x], {x: v})
    g = grad((nnet.softmax(x) * w).sum(), x)
    assert isinstance(g.owner.op, nnet.SoftmaxGrad)
    # second order goes through SoftmaxGrad's own gradient
    check_grad((g * g).sum(), [x], {x: v}, rtol=1e-5, atol=1e-6)


def test_relu_elu_and_sigmoids():
    x = dvector("x")
    v = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(nnet.relu(x).eval({x: v}), np.maximum(v, 0))
    np.testing.assert_allclose(nnet.relu(x, 0.1).eval({x: v}), np.where(v > 0, v, 0.1 * v))
    np.testing.assert_allclose(nnet.elu(x).eval({x: v}), np.where(v > 0, v, np.expm1(v)))
    big = np.array([800.0, -800.0])
    assert np.all(np.isfinite(grad(nnet.elu(x).sum(), x).eval({x: big})))
    np.testing.assert_allclose(nnet.hard_sigmoid(x).eval({x: v}), np.clip(0.2 * v + 0.5, 0, 1))
    sig = 1 / (1 + np.exp(-v))
    assert np.max(np.abs(nnet.ultra_fast_sigmoid(x).eval({x: v}) - sig)) < 3e-2
    assert nnet.relu(fvector()).dtype == "float32"
    assert nnet.relu(fvector(), 0.1).dtype == "float32"
    assert nnet.ultra_fast_sigmoid(fvector()).dtype == "float32"
    assert nnet.softplus is not None and nnet.sigmoid is not None


def test_categorical_crossentropy_indices_and_one_hot_agree():
    x, y = dmatrix("x"), lvector("y")
    vx, vy = RNG.standard_normal((3, 5)), np.array([0, 4, 2])
    p = nnet.softmax(x)
    by_index = nnet.categorical_crossentropy(p, y).eval({x: vx, y: vy})
    onehot = np.eye(5)[vy]
    t = dmatrix("t")
    by_dist = nnet.categorical_crossentropy(p, t).eval({x: vx, t: onehot})
    want = -np.log(_np_softmax(vx)[np.arange(3), vy])
    np.testing.assert_allclose(by_index, want)
    np.testing.assert_allclose(by_dist, want)
    check_grad(nnet.categorical_crossentropy(p, y).mean(), [x], {x: vx, y: vy})
    nll, sm = nnet.crossentropy_softmax_1hot(x, y)
    np.testing.assert_allclose(nll.eval({x: vx, y: vy}), want)
    with pytest.raises(AotcTypeError):
        nnet.categorical_crossentropy(p, dvector("bad"))


def test_binary_crossentropies():
    o, t = dvector("o"), dvector("t")
    vo, vt = RNG.standard_normal(4), np.array([0.0, 1.0, 1.0, 0.0])
    s = 1 / (1 + np.exp(-vo))
    want = -(vt * np.log(s) + (1 - vt) * np.log(1 - s))
    np.testing.assert_allclose(nnet.binary_crossentropy(nnet.sigmoid(o), t).eval({o: vo, t: vt}),
                               want)
    np.testing.assert_allclose(nnet.sigmoid_binary_crossentropy(o, t).eval({o: vo, t: vt}), want)
    big = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    assert np.all(np.isfinite(nnet.sigmoid_binary_crossentropy(o, t).eval({o: big, t: vt})))


def test_tensor_namespace_exports():
    import aotc.tensor as T
    for name in ("sum", "mean", "max", "argmax", "argmin", "dot", "tensordot", "outer",
                 "batched_dot", "var", "std", "prod", "all", "any", "max_and_argmax"):
        assert hasattr(T, name), name
    for name in ("softmax", "Softmax", "SoftmaxGrad", "LogSoftmax", "log_softmax", "relu", "elu",
                 "softplus", "sigmoid", "categorical_crossentropy", "binary_crossentropy",
                 "hard_sigmoid", "ultra_fast_sigmoid", "crossentropy_softmax_1hot"):
        assert hasattr(T.nnet, name), name
