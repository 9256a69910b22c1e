"""Behaviour of indexing and the shape ops: values against NumPy, types, errors, gradients."""
import numpy as np
import pytest

from aotc import config
from aotc import tensor as T
from aotc.errors import AotcIndexError, AotcTypeError, AotcValueError, ShapeError
from aotc.frontend.grad import grad
from aotc.frontend.ops import shape as S
from aotc.frontend.ops import subtensor as ST

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((2, 3, 5))
X2 = RNG.standard_normal((4, 6))


def numeric_grad(f, x, eps=1e-6):
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


# ---------------------------------------------------------------------------
# basic indexing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("i,j", [(0, 3), (1, -1), (-4, 5), (2, 2), (-10, 10), (3, 1)])
def test_subtensor_symbolic_slice_bounds(i, j):
    x, a, b = T.dtensor3("x"), T.lscalar("a"), T.lscalar("b")
    got = x[:, :, a:b].eval({x: X3, a: i, b: j})
    np.testing.assert_array_equal(got, X3[:, :, i:j])
    got = x[a:b].eval({x: X3, a: i, b: j})
    np.testing.assert_array_equal(got, X3[i:j])


@pytest.mark.parametrize("step", [-1, -2, 2, 3])
def test_subtensor_negative_and_symbolic_steps(step):
    v = T.dvector("v")
    s = T.iscalar("s")
    data = np.arange(7.0)
    np.testing.assert_array_equal(v[::-1].eval({v: data}), data[::-1])
    np.testing.assert_array_equal(v[::s].eval({v: data, s: step}), data[::step])
    np.testing.assert_array_equal(v[5:1:s].eval({v: data, s: step}), data[5:1:step])


def test_subtensor_ints_and_symbolic_scalars():
    m = T.dmatrix("m")
    i, j = T.lscalar("i"), T.iscalar("j")
    assert m[-1].ndim == 1
    np.testing.assert_array_equal(m[-1].eval({m: X2}), X2[-1])
    out = m[i, j]
    assert out.ndim == 0 and out.dtype == "float64"
    assert float(out.eval({m: X2, i: 2, j: -3})) == X2[2, -3]
    np.testing.assert_array_equal(m[..., 1].eval({m: X2}), X2[..., 1])
    np.testing.assert_array_equal(m[...].eval({m: X2}), X2)


def test_shape_index_is_int64_scalar():
    x = T.dtensor3("x")
    s = x.shape[1]
    assert s.dtype == "int64" and s.ndim == 0
    assert int(s.eval({x: X3})) == 3
    assert x.shape.dtype == "int64" and x.shape.ndim == 1
    with pytest.raises(IndexError) as e:
        x.shape[3]
    assert "index 3" in str(e.value) and "test_indexing.py" in str(e.value)


def test_none_indexing_adds_broadcastable_axes():
    m = T.dmatrix("m")
    assert m[:, None].broadcastable == (False, True, False)
    assert m[:, :, None].broadcastable == (False, False, True)
    assert m[None].broadcastable == (True, False, False)
    assert m[None, 1, None].broadcastable == (True, True, False)
    np.testing.assert_array_equal(m[:, None].eval({m: X2}), X2[:, None])
    np.testing.assert_array_equal(m[None, 1, None].eval({m: X2}), X2[None, 1, None])
    np.testing.assert_array_equal(m[..., None].eval({m: X2}), X2[..., None])
    # a new axis broadcasts in arithmetic without an explicit dimshuffle
    v = T.dvector("v")
    got = (m[:, :, None] * v[None, None, :]).eval({m: X2, v: np.arange(3.0)})
    np.testing.assert_allclose(got, X2[:, :, None] * np.arange(3.0))


def test_slices_of_broadcastable_axes_keep_flags_when_safe():
    r = T.drow("r")
    assert r[:, 1:].broadcastable == (True, False)
    assert r[0:1].broadcastable == (True, False)
    assert r[::-1].broadcastable == (True, False)
    assert r[1:].broadcastable == (False, False)
    assert r[:-1].broadcastable == (False, False)
    with pytest.raises(IndexError):
        r[2]


def test_out_of_range_index_raises_index_error_naming_the_index():
    m = T.dmatrix("m")
    i = T.lscalar("i")
    with pytest.raises(IndexError) as e:
        m[i].eval({m: X2, i: 4})
    msg = str(e.value)
    assert isinstance(e.value, AotcIndexError)
    assert "index 4" in msg and "size 4" in msg and "test_indexing.py" in msg
    assert m[i].eval({m: X2, i: -4}).shape == (6,)
    with pytest.raises(IndexError, match="index -5"):
        m[i].eval({m: X2, i: -5})
    with pytest.raises(IndexError, match="index 6 is out of bounds for axis 1"):
        m[:, i].eval({m: X2, i: 6})


def test_bad_indices_rejected_when_built():
    m = T.dmatrix("m")
    with pytest.raises(AotcTypeError, match="integer"):
        m[T.dscalar("f")]
    with pytest.raises(AotcTypeError, match="integer"):
        m[T.dvector("fv")]
    with pytest.raises(TypeError):
        m[1.5]
    with pytest.raises(AotcTypeError, match="mask"):
        m[m > 0]
    with pytest.raises(AotcTypeError):
        m[True]
    with pytest.raises(IndexError, match="too many indices"):
        m[0, 0, 0]
    with pytest.raises(AotcValueError, match="step cannot be zero"):
        m[::0]
    with pytest.raises(AotcTypeError):
        m[:, T.dscalar("f"):]


def test_subtensor_gradient_with_symbolic_bounds():
    v = T.dvector("v")
    a, b = T.lscalar("a"), T.lscalar("b")
    cost = (v[a:b] ** 2).sum()
    g = grad(cost, v)
    data = np.arange(1.0, 8.0)
    want = np.zeros(7)
    want[2:5] = 2 * data[2:5]
    np.testing.assert_allclose(g.eval({v: data, a: 2, b: 5}), want)
    # second order: the Hessian-vector product through the slice
    hv = grad((g * T.ones_like(v)).sum(), v)
    want_h = np.zeros(7)
    want_h[2:5] = 2.0
    np.testing.assert_allclose(hv.eval({v: data, a: 2, b: 5}), want_h)


# ---------------------------------------------------------------------------
# gathers and paired indexing
# ---------------------------------------------------------------------------

def test_gather_matches_numpy_and_wraps_negative_indices():
    w = T.dmatrix("w")
    idx = T.lvector("idx")
    ids = np.array([3, 0, -1, 3, -4])
    np.testing.assert_array_equal(w[idx].eval({w: X2, idx: ids}), X2[ids])
    out = w[idx]
    assert isinstance(out.owner.op, ST.AdvancedSubtensor1)
    # embedding lookup over a matrix of word ids (time x batch) gives a tensor3
    ids2 = T.lmatrix("ids2")
    emb = w[ids2.flatten()].reshape([ids2.shape[0], ids2.shape[1], w.shape[1]])
    got = emb.eval({w: X2, ids2: np.array([[0, 1, 2], [3, 3, 0]])})
    np.testing.assert_array_equal(got, X2[np.array([[0, 1, 2], [3, 3, 0]])])


def test_gather_gradient_accumulates_repeated_indices():
    w = T.dmatrix("w")
    idx = T.lvector("idx")
    ids = np.array([1, 3, 1, 1, 0])
    g = grad(w[idx].sum(), w).eval({w: X2, idx: ids})
    want = np.zeros_like(X2)
    np.add.at(want, ids, 1.0)
    np.testing.assert_array_equal(g, want)
    assert want[1, 0] == 3.0


def test_gather_out_of_range_names_value_and_length():
    w = T.dmatrix("w")
    idx = T.lvector("idx")
    with pytest.raises(IndexError) as e:
        w[idx].eval({w: X2, idx: np.array([0, 7, 1])})
    msg = str(e.value)
    assert "index 7" in msg and "size 4" in msg and "AdvancedSubtensor1" in msg
    assert "test_indexing.py" in msg
    with pytest.raises(IndexError, match="index -5"):
        w[idx].eval({w: X2, idx: np.array([-5])})


def test_paired_indexing_p_arange_y():
    p = T.dmatrix("p")
    y = T.lvector("y")
    picked = p[T.arange(y.shape[0]), y]
    assert isinstance(picked.owner.op, ST.AdvancedSubtensor)
    pv = RNG.uniform(0.1, 1.0, size=(5, 3))
    yv = np.array([0, 2, 1, 1, 0])
    np.testing.assert_array_equal(picked.eval({p: pv, y: yv}), pv[np.arange(5), yv])
    # the classic negative log likelihood and its gradient
    nll = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    g = grad(nll, p).eval({p: pv, y: yv})
    want = np.zeros_like(pv)
    want[np.arange(5), yv] = -1.0 / (5 * pv[np.arange(5), yv])
    np.testing.assert_allclose(g, want)
    with pytest.raises(IndexError, match="index 3"):
        picked.eval({p: pv, y: np.array([0, 3, 1, 1, 0])})


def test_paired_index_arrays_must_agree():
    p = T.dmatrix("p")
    a, b = T.lvector("a"), T.lvector("b")
    with pytest.raises(ShapeError, match="broadcast"):
        p[a, b].eval({p: X2, a: np.array([0, 1, 2]), b: np.array([0, 1])})


def test_mixed_advanced_indexing_orders_axes_like_numpy():
    x = T.dtensor3("x")
    i = T.lvector("i")
    for build, ref in [
        (lambda x, i: x[:, i], lambda x, i: x[:, i]),
        (lambda x, i: x[i, :], lambda x, i: x[i, :]),
        (lambda x, i: x[1, :, i], lambda x, i: x[1, :, i]),
        (lambda x, i: x[:, 1:, i], lambda x, i: x[:, 1:, i]),
        (lambda x, i: x[i, 1, 2:], lambda x, i: x[i, 1, 2:]),
    ]:
        iv = np.array([1, 0, -1, 1])
        out = build(x, i)
        got = out.eval({x: X3, i: iv})
        np.testing.assert_array_equal(got, ref(X3, iv))
        assert got.ndim == out.ndim


def test_none_with_array_index_is_rejected():
    m = T.dmatrix("m")
    with pytest.raises(AotcTypeError, match="not supported"):
        m[T.lvector("i"), None]


# ---------------------------------------------------------------------------
# set / increment
# ---------------------------------------------------------------------------

def test_inc_and_set_subtensor_values():
    m = T.dmatrix("m")
    y = T.dvector("y")
    i = T.lscalar("i")
    yv = np.arange(6.0)
    want = X2.copy()
    want[2] += yv
    np.testing.assert_allclose(T.inc_subtensor(m[i], y).eval({m: X2, y: yv, i: 2}), want)
    want = X2.copy()
    want[1:3, ::2] = 7.0
    np.testing.assert_allclose(T.set_subtensor(m[1:3, ::2], 7.0).eval({m: X2}), want)
    # the input is not modified
    np.testing.assert_array_equal(T.set_subtensor(m[0], 0.0).eval({m: X2})[1:], X2[1:])


def test_inc_subtensor_through_none_indexing():
    v = T.dvector("v")
    out = T.inc_subtensor(v[:, None], np.ones((5, 1)))
    np.testing.assert_allclose(out.eval({v: np.arange(5.0)}), np.arange(5.0) + 1)


def test_advanced_inc_accumulates_and_set_keeps_last():
    m = T.dmatrix("m")
    idx = T.lvector("idx")
    ids = np.array([1, 1, 3])
    y = np.array([[1.0] * 6, [2.0] * 6, [5.0] * 6])
    got = T.inc_subtensor(m[idx], y).eval({m: X2, idx: ids})
    want = X2.copy()
    np.add.at(want, ids, y)
    np.testing.assert_allclose(got, want)
    got = T.set_subtensor(m[idx], y).eval({m: X2, idx: ids})
    assert np.all(got[1] == 2.0) and np.all(got[3] == 5.0)
    a, b = T.lvector("a"), T.lvector("b")
    got = T.inc_subtensor(m[a, b], 1.0).eval({m: np.zeros((4, 6)), a: np.array([0, 0, 2]),
                                             b: np.array([1, 1, 5])})
    assert got[0, 1] == 2.0 and got[2, 5] == 1.0 and got.sum() == 3.0


def test_set_subtensor_gradient_zeroes_the_overwritten_part():
    v = T.dvector("v")
    s = T.dscalar("s")
    out = T.set_subtensor(v[1:3], s)
    gv, gs = grad((out * np.arange(1.0, 6.0)).sum(), [v, s])
    np.testing.assert_allclose(gv.eval({v: np.zeros(5), s: 1.0}), [1.0, 0, 0, 4.0, 5.0])
    assert float(gs.eval({v: np.zeros(5), s: 1.0})) == 2.0 + 3.0


def test_inc_subtensor_errors():
    m = T.dmatrix("m")
    with pytest.raises(AotcTypeError, match="result of indexing"):
        T.inc_subtensor(m, 1.0)
    with pytest.raises(AotcValueError, match="2-dimensional value"):
        T.set_subtensor(m[0], T.dmatrix())
    with pytest.raises(AotcTypeError, match="cast"):
        T.set_subtensor(T.fmatrix()[0], T.dvector())
    with pytest.raises(AotcTypeError):
        T.set_subtensor(T.lvector()[0], 0.5)
    with pytest.raises(ShapeError, match="does not fit"):
        T.set_subtensor(m[0], np.zeros(5)).eval({m: X2})


# ---------------------------------------------------------------------------
# dimshuffle and broadcast flags
# ---------------------------------------------------------------------------

def test_dimshuffle_values_and_flags():
    x = T.dtensor3("x")
    y = x.dimshuffle(2, "x", 0, 1)
    assert y.broadcastable == (False, True, False, False)
    np.testing.assert_array_equal(y.eval({x: X3}), np.transpose(X3, (2, 0, 1))[:, None])
    c = T.dcol("c")
    assert c.dimshuffle(0).broadcastable == (False,)
    np.testing.assert_array_equal(c.dimshuffle(0).eval({c: np.ones((3, 1))}), np.ones(3))
    assert x.dimshuffle(-1, 0, 1).broadcastable == (False,) * 3


@pytest.mark.parametrize("pattern,why", [
    ((0, 0), "appears twice"),
    ((0, 2), "out of range"),
    ((1,), "not broadcastable"),
    (("y", 0, 1), "'x'"),
    ((0.0, 1), "'x'"),
])
def test_bad_dimshuffle_raises_when_built_naming_the_line(pattern, why):
    m = T.dmatrix("m")
    with pytest.raises(AotcValueError) as e:
        m.dimshuffle(pattern)  # the line the error must name
    msg = str(e.value)
    assert why in msg
    assert "test_indexing.py" in msg and "m.dimshuffle(pattern)" in msg
    assert "TensorType(float64, matrix)" in msg and str(tuple(pattern)) in msg


def test_rebroadcast_checks_lengths_when_run():
    m = T.dmatrix("m")
    r = T.addbroadcast(m, 0)
    assert r.broadcastable == (True, False)
    np.testing.assert_array_equal(r.eval({m: np.ones((1, 3))}), np.ones((1, 3)))
    with pytest.raises(ShapeError, match="length 1"):
        r.eval({m: np.ones((2, 3))})
    assert T.unbroadcast(r, 0).broadcastable == (False, False)
    assert T.patternbroadcast(m, (False, False)) is m


# ---------------------------------------------------------------------------
# reshape, flatten
# ---------------------------------------------------------------------------

def test_reshape_with_symbolic_sizes_and_minus_one():
    x = T.dtensor3("x")
    n = T.lscalar("n")
    y = x.reshape([x.shape[0], n, -1])
    assert y.ndim == 3
    np.testing.assert_array_equal(y.eval({x: X3, n: 5}), X3.reshape(2, 5, 3))
    z = x.reshape((x.shape[0] * x.shape[1], x.shape[2]))
    np.testing.assert_array_equal(z.eval({x: X3}), X3.reshape(6, 5))
    # a size that is a constant 1 gives a broadcastable axis
    assert x.reshape((n, 1, -1)).broadcastable == (False, True, False)
    # a shape vector of known length: x.shape; of unknown length: ndim needed
    v = T.dvector("v")
    np.testing.assert_array_equal(v.reshape(x.shape).eval({v: X3.ravel(), x: X3}), X3)
    s = T.lvector("s")
    with pytest.raises(AotcValueError, match="ndim"):
        v.reshape(s)
    got = v.reshape(s, ndim=2).eval({v: np.arange(6.0), s: np.array([3, 2])})
    np.testing.assert_array_equal(got, np.arange(6.0).reshape(3, 2))


def test_reshape_errors():
    x = T.dtensor3("x")
    n = T.lscalar("n")
    with pytest.raises(ShapeError) as e:
        x.reshape([n, -1]).eval({x: X3, n: 7})
    assert "(2, 3, 5)" in str(e.value) and "30 elements" in str(e.value)
    with pytest.raises(ShapeError, match="30 elements"):
        x.reshape((4, 5)).eval({x: X3})
    with pytest.raises(AotcValueError, match="-1"):
        x.reshape((-1, -1))
    with pytest.raises(AotcTypeError):
        x.reshape((2.5, 3))


def test_flatten_keeps_leading_axes():
    x = T.dtensor3("x")
    np.testing.assert_array_equal(x.flatten().eval({x: X3}), X3.ravel())
    np.testing.assert_array_equal(x.flatten(2).eval({x: X3}), X3.reshape(2, 15))
    np.testing.assert_array_equal(T.flatten(x, 3).eval({x: X3}), X3)
    b = T.TensorType("float64", (True, False, True))("b")
    assert b.flatten(2).broadcastable == (True, False)
    with pytest.raises(AotcValueError):
        x.flatten(4)
    g = grad((x.flatten(2) ** 2).sum(), x)
    np.testing.assert_allclose(g.eval({x: X3}), 2 * X3)


# ---------------------------------------------------------------------------
# alloc and fills, arange
# ---------------------------------------------------------------------------

def test_alloc_symbolic_shape_and_gradient():
    v = T.dvector("v")
    n = T.lscalar("n")
    a = T.alloc(v, n, 3)
    assert a.broadcastable == (False, False)
    np.testing.assert_array_equal(a.eval({v: np.arange(3.0), n: 4}), np.tile(np.arange(3.0), (4, 1)))
    assert T.alloc(0.0, n, 1).broadcastable == (False, True)
    g = grad((T.alloc(v, n, 3) * 2.0).sum(), v)
    np.testing.assert_allclose(g.eval({v: np.arange(3.0), n: 4}), [8.0, 8.0, 8.0])
    with pytest.raises(ShapeError, match="does not fit"):
        a.eval({v: np.arange(2.0), n: 4})


def test_zeros_ones_like_and_fill():
    m = T.dmatrix("m")
    r = T.drow("r")
    assert T.zeros_like(r).broadcastable == (True, False)
    np.testing.assert_array_equal(T.zeros_like(m).eval({m: X2}), np.zeros((4, 6)))
    o = T.ones_like(m, dtype="int32")
    assert o.dtype == "int32"
    np.testing.assert_array_equal(o.eval({m: X2}), np.ones((4, 6)))
    np.testing.assert_array_equal(T.zeros((2, 3)).eval(), np.zeros((2, 3)))
    assert T.zeros((2, 3)).dtype == config.floatX
    n = T.lscalar("n")
    np.testing.assert_array_equal(T.ones((n, 2), dtype="int64").eval({n: 3}), np.ones((3, 2)))
    np.testing.assert_array_equal(T.zeros(m.shape).eval({m: X2}), np.zeros((4, 6)))
    np.testing.assert_array_equal(T.fill(m, 3.0).eval({m: X2}), np.full((4, 6), 3.0))


def test_arange_dtypes_and_values():
    assert T.arange(T.lscalar()).dtype == "int64"
    assert T.arange(T.iscalar()).dtype == "int32"
    assert T.arange(5).dtype == "int64"
    assert T.arange(T.iscalar(), 10**10).dtype == "int64"
    assert T.arange(0.5, 3.0).dtype == config.floatX
    assert T.arange(T.dscalar()).dtype == "float64"
    n, s = T.lscalar("n"), T.lscalar("s")
    np.testing.assert_array_equal(T.arange(n).eval({n: 4}), np.arange(4))
    np.testing.assert_array_equal(T.arange(n, 0, s).eval({n: 9, s: -2}), np.arange(9, 0, -2))
    with pytest.raises(AotcValueError, match="zero"):
        T.arange(0, 5, 0)
    with pytest.raises(ShapeError, match="zero"):
        T.arange(0, 5, s).eval({s: 0})


def test_arange_float_gradient():
    a, st = T.dscalar("a"), T.dscalar("st")
    w = np.array([1.0, 2.0, 3.0, 4.0])
    cost = (T.arange(a, 3.9, st) * w).sum()
    ga, gst = grad(cost, [a, st])
    vals = {a: 0.1, st: 1.0}
    assert float(ga.eval(vals)) == pytest.approx(w.sum())
    assert float(gst.eval(vals)) == pytest.approx((w * np.arange(4)).sum())


# ---------------------------------------------------------------------------
# join, stack
# ---------------------------------------------------------------------------

def test_concatenate_values_dtype_and_gradient():
    a, b = T.dmatrix("a"), T.fmatrix("b")
    c = T.concatenate([a, b], axis=-1)
    assert c.dtype == "float64"
    av, bv = X2[:, :2], np.ones((4, 3), dtype="float32")
    np.testing.assert_array_equal(c.eval({a: av, b: bv}), np.concatenate([av, bv], axis=1))
    w = RNG.standard_normal((4, 5))
    ga, gb = grad((c * w).sum(), [a, b])
    np.testing.assert_allclose(ga.eval({a: av, b: bv}), w[:, :2])
    assert gb.dtype == "float32"
    np.testing.assert_allclose(gb.eval({a: av, b: bv}), w[:, 2:].astype("float32"))
    assert T.concatenate([a]) is a


def test_concatenate_errors():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    with pytest.raises(AotcTypeError, match="same ndim"):
        T.concatenate([a, T.dvector()])
    with pytest.raises(AotcValueError, match="out of range"):
        T.concatenate([a, b], axis=2)
    with pytest.raises(TypeError, match="list"):
        T.concatenate(a, b)
    with pytest.raises(ShapeError) as e:
        T.concatenate([a, b], axis=0).eval({a: np.ones((2, 3)), b: np.ones((2, 4))})
    assert "(2, 3)" in str(e.value) and "(2, 4)" in str(e.value)
    with pytest.raises(AotcTypeError, match="Python int"):
        T.concatenate([a, b], axis=T.lscalar())


def test_stack():
    s1, s2 = T.lscalar("s1"), T.lscalar("s2")
    v = T.stack([s1, 3, s2])
    assert isinstance(v.owner.op, S.MakeVector) and v.dtype == "int64"
    np.testing.assert_array_equal(v.eval({s1: 1, s2: 2}), [1, 3, 2])
    a, b = T.dmatrix("a"), T.dmatrix("b")
    vals = {a: X2, b: X2 + 1}
    for axis in (0, 1, 2, -1):
        np.testing.assert_array_equal(T.stack([a, b], axis=axis).eval(vals),
                                      np.stack([X2, X2 + 1], axis=axis))
    np.testing.assert_array_equal(T.stack(a, b).eval(vals), np.stack([X2, X2 + 1]))
    # lists of symbolic sizes become vectors (used by reshape / alloc)
    assert T.as_tensor_variable([s1, 2]).ndim == 1


def test_take_and_ops_print():
    m = T.dmatrix("m")
    i = T.lvector("i")
    np.testing.assert_array_equal(T.take(m, i, axis=1).eval({m: X2, i: np.array([5, 0])}),
                                  np.take(X2, [5, 0], axis=1))
    np.testing.assert_array_equal(T.take(m, i).eval({m: X2, i: np.array([5, 0])}),
                                  np.take(X2, [5, 0]))
    assert str(m[1:, ::-1].owner.op) == "Subtensor{1:, ::-1}"
    assert str(m[i].owner.op) == "AdvancedSubtensor1"


def test_index_error_at_build_with_test_values():
    m = T.dmatrix("m")
    m.tag.test_value = X2
    i = T.lscalar("i")
    i.tag.test_value = 9
    with config.change_flags(compute_test_value="raise"):
        with pytest.raises(IndexError, match="index 9"):
            m[i]
