"""``T.grad`` / ``aotc.grad``: the API of THEANO_API.md section 8 and numeric checks.

Gradients are compared with central finite differences in float64.
"""
import warnings

import numpy as np
import pytest

import aotc
from aotc import config, function
from aotc import tensor as T
from aotc.errors import AotcError, DisconnectedInputError

@pytest.fixture(autouse=True)
def _reference_mode_by_default():
    """Build by reference unless a test names its mode: these are API semantics, equal in
    every mode, and compiling each of them would be slow; the tests parametrized over
    ``MODES`` run the compiled path too."""
    with config.change_flags(mode="FAST_COMPILE"):
        yield



def _central_diff(fn, args, k, eps=1e-6):
    """d fn / d args[k] by central differences (args are float arrays)."""
    args = [np.array(a, dtype="float64") for a in args]
    base = args[k]
    out = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        plus = [a.copy() for a in args]
        minus = [a.copy() for a in args]
        plus[k][idx] += eps
        minus[k][idx] -= eps
        out[idx] = (float(fn(*plus)) - float(fn(*minus))) / (2 * eps)
    return out


def test_grad_entry_points_are_one_function():
    assert T.grad is aotc.grad


def test_grad_of_2x_is_2():
    x = T.dscalar("x")
    g = T.grad(2 * x, x)
    assert float(g.eval({x: 7.0})) == 2.0
    assert float(function([x], g, on_unused_input="ignore")(3.0)) == 2.0


def test_grad_of_square():
    x = T.dscalar("x")
    g = aotc.grad(x ** 2, x)
    f = function([x], g)
    assert f(4.0) == 8.0 and f(94.2) == pytest.approx(188.4)


def test_grad_list_wrt_returns_list():
    x, y = T.dscalars("x", "y")
    c = x * y + x
    gs = T.grad(c, [x, y])
    assert isinstance(gs, list) and len(gs) == 2
    gx, gy = function([x, y], gs)(2.0, 5.0)
    assert gx == 6.0 and gy == 2.0
    gt = T.grad(c, (x, y))
    assert isinstance(gt, list) and len(gt) == 2
    one = T.grad(c, [x])
    assert isinstance(one, list) and len(one) == 1


def test_grad_single_wrt_returns_variable():
    x = T.dscalar("x")
    g = T.grad(x * x, x)
    assert isinstance(g, aotc.gof.Variable)
    assert g.dtype == "float64" and g.ndim == 0


def test_grad_keywords_cost_and_wrt():
    x = T.dscalar("x")
    g = T.grad(cost=x * x * x, wrt=x)
    assert float(g.eval({x: 2.0})) == 12.0
    g2 = aotc.grad(wrt=[x], cost=x * 3)
    assert float(g2[0].eval({x: 2.0})) == 3.0


def test_grad_accumulates_over_uses():
    x = T.dscalar("x")
    c = x * x + x + x * 3
    assert float(T.grad(c, x).eval({x: 2.0})) == 2 * 2.0 + 1 + 3


def test_grad_second_order_of_cube():
    x = T.dscalar("x")
    c = x ** 3
    g = T.grad(c, x)
    h = T.grad(g, x)
    f = function([x], [g, h])
    gv, hv = f(2.0)
    assert gv == pytest.approx(12.0) and hv == pytest.approx(12.0)   # 3x^2, 6x
    gv, hv = f(-1.5)
    assert gv == pytest.approx(6.75) and hv == pytest.approx(-9.0)
    third = T.grad(h, x)
    assert float(third.eval({x: 5.0})) == pytest.approx(6.0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_grad_hessian_vector_product(mode):
    x = T.dvector("x")
    v = T.dvector("v")
    c = (x ** 3).sum() + (x[0] * x[1])
    gx = T.grad(c, x)
    hv = T.grad(T.sum(gx * v), x)
    f = function([x, v], hv, mode=mode)
    xv = np.array([1.0, -2.0, 0.5])
    vv = np.array([0.3, 0.7, -1.1])
    H = np.diag(6 * xv)
    H[0, 1] = H[1, 0] = 1.0
    np.testing.assert_allclose(f(xv, vv), H @ vv, rtol=1e-12)


def test_grad_non_scalar_cost_is_type_error_with_hint():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        T.grad(x * x, x)
    msg = str(info.value)
    assert isinstance(info.value, AotcError)
    assert "scalar" in msg and "sum" in msg


def test_grad_wrt_not_a_variable_is_type_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError):
        T.grad(x * x, 3.0)


def test_grad_disconnected_input_raises():
    x, y = T.dscalars("x", "y_free")
    with pytest.raises(DisconnectedInputError) as info:
        T.grad(x * 2, y)
    assert isinstance(info.value, ValueError)
    assert "y_free" in str(info.value)


def test_grad_disconnected_input_ignore_gives_zeros():
    x = T.dscalar("x")
    y = T.dvector("y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = T.grad(x * 2, [x, y], disconnected_inputs="ignore")
    assert gy.dtype == "float64" and gy.ndim == 1
    f = function([x, y], [gx, gy], on_unused_input="ignore")     # gx is the constant 2
    a, b = f(1.0, np.ones(3))
    assert a == 2.0
    np.testing.assert_array_equal(b, np.zeros(3))


def test_grad_disconnected_input_warn():
    x, y = T.dscalars("x", "y")
    with pytest.warns(UserWarning, match="y"):
        g = T.grad(x * 2, y, disconnected_inputs="warn")
    assert float(g.eval({y: 4.0})) == 0.0


def test_grad_disconnected_inputs_bad_value():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(x * 2, x, disconnected_inputs="sometimes")


def test_grad_consider_constant():
    x = T.dscalar("x")
    y = x * x
    c = y * x
    assert float(T.grad(c, x).eval({x: 2.0})) == 12.0                       # 3 x^2
    assert float(T.grad(c, x, consider_constant=[y]).eval({x: 2.0})) == 4.0  # y = x^2


def test_grad_float32_graph_has_float32_gradient():
    x = T.fscalar("x")
    v = T.fvector("v")
    c = T.tanh(x) * 2 + x ** 2
    g = T.grad(c, x)
    assert g.dtype == "float32"
    out = function([x], g)(np.float32(0.5))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 2 * (1 - np.tanh(0.5) ** 2) + 1.0, rtol=1e-6)
    gv = T.grad((v * v).sum(), v)
    assert gv.dtype == "float32"


def test_grad_wrt_int_input_is_float_zeros():
    x = T.dscalar("x")
    i = T.lscalar("i")
    c = x * i
    g = T.grad(c, i)
    assert g.dtype in ("float32", "float64") and g.ndim == 0
    assert function([x, i], g, on_unused_input="ignore")(2.0, 3) == 0.0
    # the float input is unaffected
    assert float(T.grad(c, x).eval({x: 2.0, i: 3})) == 3.0


def test_grad_through_comparison_is_zero():
    x = T.dscalar("x")
    c = T.cast(x > 0, "float64") * 5 + x
    assert float(T.grad(c, x).eval({x: 1.0})) == 1.0


def test_grad_through_switch():
    x = T.dscalar("x")
    c = T.switch(x > 0, x * x, -3 * x)
    g = function([x], T.grad(c, x))
    assert g(2.0) == 4.0 and g(-1.0) == -3.0


def test_grad_of_cost_itself_is_one():
    x = T.dscalar("x")
    assert float(T.grad(x, x).eval({x: 3.0})) == 1.0


def test_grad_names_results_after_cost_and_wrt():
    x, y = T.dscalars("x", "y")
    c = x * y
    c.name = "c"
    gx, gy = T.grad(c, [x, y])
    assert gx.name == "(dc/dx)" and gy.name == "(dc/dy)"
    gs = T.grad(x + y, [x, y])              # both are the seed itself: left unnamed
    assert gs[0].name is None or gs[0].name != gs[1].name or gs[0] is not gs[1]


COMPOSITES = [
    ("tanh_exp_div", lambda x, y: T.tanh(x) * T.exp(y) + x / y,
     lambda x, y: np.tanh(x) * np.exp(y) + x / y),
    ("log1p_sigmoid", lambda x, y: T.log1p(x * x) * T.nnet.sigmoid(y - x),
     lambda x, y: np.log1p(x * x) / (1 + np.exp(x - y))),
    ("pow_sqrt", lambda x, y: T.sqrt(x * x + 1) ** y - abs(y) * x,
     lambda x, y: np.sqrt(x * x + 1) ** y - abs(y) * x),
    ("max_min_clip", lambda x, y: T.maximum(x, y) * T.minimum(x, 2 * y) + T.clip(x, -0.5, 0.5),
     lambda x, y: np.maximum(x, y) * np.minimum(x, 2 * y) + np.clip(x, -0.5, 0.5)),
]


@pytest.mark.parametrize("name,build,ref", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_grad_matches_finite_differences_scalars(name, build, ref):
    x, y = T.dscalars("x", "y")
    c = build(x, y)
    f = function([x, y], T.grad(c, [x, y]))
    for xv, yv in [(0.3, 1.7), (-0.8, 0.6), (1.2, -0.45)]:
        if name == "pow_sqrt" and yv < 0:
            yv = -yv
        got = f(xv, yv)
        for k in range(2):
            want = _central_diff(ref, [xv, yv], k)
            np.testing.assert_allclose(got[k], want, rtol=1e-6, atol=1e-8)


def test_grad_matches_finite_differences_logistic_regression():
    rng = np.random.default_rng(0)
    X = T.dmatrix("X")
    y = T.dvector("y")
    w = T.dvector("w")
    b = T.dscalar("b")
    p = T.nnet.sigmoid(T.dot(X, w) + b)
    cost = -(y * T.log(p) + (1 - y) * T.log(1 - p)).mean() + 0.01 * (w ** 2).sum()
    f = function([X, y, w, b], T.grad(cost, [w, b]))
    Xv = rng.standard_normal((7, 3))
    yv = (rng.random(7) > 0.5).astype("float64")
    wv = rng.standard_normal(3)
    bv = 0.2

    def ref(wv_, bv_):
        pv = 1 / (1 + np.exp(-(Xv @ wv_ + bv_)))
        return -(yv * np.log(pv) + (1 - yv) * np.log(1 - pv)).mean() + 0.01 * (wv_ ** 2).sum()

    gw, gb = f(Xv, yv, wv, bv)
    np.testing.assert_allclose(gw, _central_diff(ref, [wv, bv], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gb, _central_diff(ref, [wv, bv], 1), rtol=1e-6, atol=1e-9)


def test_grad_matches_finite_differences_softmax_matrix():
    rng = np.random.default_rng(1)
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    sm = T.nnet.softmax(T.dot(x, W))
    cost = -T.log(sm[:, 0]).sum() + T.tanh(W).sum()
    f = function([x, W], T.grad(cost, W))
    xv = rng.standard_normal((4, 3))
    Wv = rng.standard_normal((3, 5))

    def ref(Wv_):
        z = xv @ Wv_
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.log(p[:, 0]).sum() + np.tanh(Wv_).sum()

    np.testing.assert_allclose(f(xv, Wv), _central_diff(ref, [Wv], 0), rtol=1e-6, atol=1e-9)


def test_grad_broadcast_row_is_reduced():
    x = T.dmatrix("x")
    r = T.row("r")
    c = (x * r).sum()
    g = T.grad(c, r)
    assert g.broadcastable == (True, False)
    xv = np.arange(6.0).reshape(2, 3)
    out = function([x, r], g)(xv, np.ones((1, 3)))
    np.testing.assert_array_equal(out, xv.sum(0, keepdims=True))


def test_grad_float32_floatx_constants_stay_float32():
    with config.change_flags(floatX="float32"):
        x = T.vector("x")
        c = ((x * 0.5 - 1.0) ** 2).sum()
        g = T.grad(c, x)
    assert g.dtype == "float32"
    out = function([x], g)(np.array([1.0, 2.0], dtype="float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (np.array([1.0, 2.0]) * 0.5 - 1.0) * 2 * 0.5, rtol=1e-6)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_grad_wrt_shared_variable_drives_sgd(mode):
    rng = np.random.default_rng(2)
    Xv = rng.standard_normal((20, 3))
    yv = Xv @ np.array([1.0, -2.0, 0.5])
    X = T.dmatrix("X")
    y = T.dvector("y")
    w = aotc.shared(np.zeros(3), name="w")
    cost = ((T.dot(X, w) - y) ** 2).mean()
    gw = T.grad(cost, w)
    assert gw.type == w.type
    train = function([X, y], cost, updates=[(w, w - 0.1 * gw)], mode=mode)
    first = train(Xv, yv)
    for _ in range(200):
        last = train(Xv, yv)
    assert last < 1e-6 * first
    np.testing.assert_allclose(w.get_value(), [1.0, -2.0, 0.5], atol=1e-3)


def test_grad_wrt_intermediate_variable():
    x = T.dscalar("x")
    h = T.tanh(x)
    c = h * h * 3
    gh, gx = T.grad(c, [h, x])
    f = function([x], [gh, gx])
    a, b = f(0.4)
    assert a == pytest.approx(6 * np.tanh(0.4))
    assert b == pytest.approx(6 * np.tanh(0.4) * (1 - np.tanh(0.4) ** 2))


def test_lop_is_vector_jacobian_product():
    x = T.dvector("x")
    v = T.dvector("v")
    y = x * x * 3
    g = aotc.Lop(y, x, v)
    out = function([x, v], g)(np.array([1.0, 2.0]), np.array([0.5, -1.0]))
    np.testing.assert_allclose(out, [3.0, -12.0])
