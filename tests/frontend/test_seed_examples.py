"""The seed talk's examples, run as tests (reference evaluator and default mode)."""
import numpy as np
import pytest

import aotc
from aotc import function, shared
from aotc import tensor as T

MODES = ["FAST_COMPILE", "FAST_RUN"]


@pytest.mark.parametrize("mode", MODES)
def test_scalar_arithmetic_chain(mode):
    x, y = T.dscalars("x", "y")
    z = x + y
    w = z * x
    a = T.sqrt(w)
    b = T.exp(a)
    c = a ** b
    d = T.log(c)
    f = function([x, y], [z, w, a, b, c, d], mode=mode)
    xv, yv = 1.5, 0.5
    zv = xv + yv
    wv = zv * xv
    av = np.sqrt(wv)
    bv = np.exp(av)
    cv = av ** bv
    dv = np.log(cv)
    got = f(xv, yv)
    assert isinstance(got, list) and len(got) == 6
    for g, want in zip(got, [zv, wv, av, bv, cv, dv]):
        assert isinstance(g, np.ndarray) and g.shape == ()
        np.testing.assert_allclose(g, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_vector_dot_and_broadcasting(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    f = function([x, y], [T.dot(x, y), x * 2.0 + y, x + 1], mode=mode)
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    d, lin, inc = f(xv, yv)
    assert d.shape == () and d == 32.0
    np.testing.assert_array_equal(lin, [6.0, 9.0, 12.0])
    np.testing.assert_array_equal(inc, [2.0, 3.0, 4.0])


@pytest.mark.parametrize("mode", MODES)
def test_matrix_products(mode):
    A = T.dmatrix("A")
    B = T.dmatrix("B")
    v = T.dvector("v")
    f = function([A, B, v], [T.dot(A, B), T.dot(A, v), A.dot(B).T], mode=mode)
    rng = np.random.default_rng(0)
    a, b, vv = rng.standard_normal((2, 3)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    ab, av, abt = f(a, b, vv)
    np.testing.assert_allclose(ab, a @ b, rtol=1e-12)
    np.testing.assert_allclose(av, a @ vv, rtol=1e-12)
    np.testing.assert_allclose(abt, (a @ b).T, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_tensor3_reductions(mode):
    x = T.dtensor3("x")
    f = function([x], [x.sum(axis=(0, 2)), x.max(axis=1), T.sum(x), x.mean(axis=-1)], mode=mode)
    v = np.random.default_rng(1).standard_normal((2, 3, 5))
    s02, m1, s, mean = f(v)
    np.testing.assert_allclose(s02, v.sum(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_array_equal(m1, v.max(axis=1))
    np.testing.assert_allclose(s, v.sum(), rtol=1e-12)
    np.testing.assert_allclose(mean, v.mean(axis=-1), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_dimshuffle_added_to_matrix(mode):
    m = T.dmatrix("m")
    v = T.dtensor3("v")
    col = m.dimshuffle((0, 1, "x"))
    assert col.broadcastable == (False, False, True)
    f = function([m, v], col + v, mode=mode)
    mv = np.arange(6.0).reshape(2, 3)
    vv = np.ones((2, 3, 5))
    np.testing.assert_array_equal(f(mv, vv), mv[:, :, None] + vv)


@pytest.mark.parametrize("mode", MODES)
def test_a_plus_a_pow_10(mode):
    a = T.vector("a")
    f = function([a], a + a ** 10, mode=mode)
    out = f([0, 1, 2])
    np.testing.assert_array_equal(out, [0, 2, 1026])


@pytest.mark.parametrize("mode", MODES)
def test_shared_counter(mode):
    state = shared(0.0, name="state")
    inc = T.dscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)], mode=mode)
    assert acc(1.0) == 0.0          # outputs use the value before the update
    assert state.get_value() == 1.0
    state.set_value(100.0)
    acc(1.0)
    assert state.get_value() == 101.0


@pytest.mark.parametrize("mode", MODES)
def test_grad_of_2x_is_2(mode):
    x = T.dscalar("x")
    g = T.grad(2 * x, x)
    assert float(function([x], g, mode=mode)(7.0)) == 2.0
    assert float(g.eval({x: 3.0})) == 2.0


@pytest.mark.parametrize("mode", MODES)
def test_shape_mismatch_error_names_node_shapes_and_line(mode):
    x = T.vector("x")
    y = T.vector("y")
    z = x + x
    z = z + y  # the line the error must show
    f = function([x, y], z, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    msg = str(info.value)
    assert isinstance(info.value, aotc.AotcError)
    assert "Apply node that caused the error" in msg
    assert "(2,)" in msg and "(3,)" in msg
    assert "strides" in msg.lower()
    assert "test_seed_examples.py" in msg and "z = z + y" in msg
