"""``aotc.scan`` and its shorthands: THEANO_API.md section 9, and gradients through loops.

Every behaviour runs in FAST_COMPILE and FAST_RUN (the loop compiled to C:
codegen/kernels_scan.py).  Gradients are checked against central
finite differences in float64.
"""
from collections import OrderedDict

import numpy as np
import pytest

from aotc import function, shared
from aotc import tensor as T
from aotc.errors import AotcError, AotcTypeError, AotcValueError, ShapeError
from aotc.frontend.evaluator import evaluate
from aotc.frontend.scan import OPS, Scan
from aotc.scan_funcs import foldl, foldr, map as scan_map, reduce as scan_reduce, scan

MODES = ["FAST_COMPILE", "FAST_RUN"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def _central_diff(f, x, eps=1e-6):
    """d f / d x by central differences (f returns a float, x a float64 array)."""
    x = np.array(x, dtype="float64")
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        out[idx] = (f(xp) - f(xm)) / (2 * eps)
    return out


def _scan_nodes(var):
    from aotc.frontend.evaluator import toposort
    return [n for n in toposort([var]) if isinstance(n.op, Scan)]


# ---------------------------------------------------------------------------
# forward behaviour
# ---------------------------------------------------------------------------

def test_powers_by_repeated_multiply(mode):
    k = T.iscalar("k")
    A = T.dvector("A")
    result, updates = scan(fn=lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                           non_sequences=A, n_steps=k)
    assert isinstance(updates, OrderedDict) and not updates
    f = function([A, k], result[-1], updates=updates, mode=mode)
    np.testing.assert_allclose(f(np.arange(10.0), 2), np.arange(10.0) ** 2)
    np.testing.assert_allclose(f(np.arange(10.0), 5), np.arange(10.0) ** 5)
    all_steps = function([A, k], result, mode=mode)(np.array([2.0, 3.0]), 3)
    np.testing.assert_allclose(all_steps, [[2, 3], [4, 9], [8, 27]])


def test_polynomial_shortest_sequence_decides(mode):
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    components, _ = scan(fn=lambda c, power, x: c * (x ** power),
                         sequences=[coefficients, T.arange(10000)], non_sequences=x)
    polynomial = components.sum()
    f = function([coefficients, x], polynomial, mode=mode)
    assert float(f(np.array([1.0, 0.0, 2.0]), 3.0)) == pytest.approx(19.0)
    comps = function([coefficients, x], components, mode=mode)(np.array([1.0, 0.0, 2.0]), 3.0)
    assert comps.shape == (3,)


def test_taps_minus_two_minus_one_fibonacci(mode):
    n = T.iscalar("n")
    init = np.array([0, 1], dtype="int64")
    fib, _ = scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]),
                  n_steps=n)
    out = function([n], fib, mode=mode)(8)
    np.testing.assert_array_equal(out, [1, 2, 3, 5, 8, 13, 21, 34])
    assert out.dtype == np.int64
    # the initial rows are excluded; taps follow the order given
    x0 = T.dvector("x0")
    seq, _ = scan(lambda prev, prev2: prev - prev2, outputs_info=dict(initial=x0, taps=[-1, -2]),
                  n_steps=3)
    np.testing.assert_allclose(function([x0], seq, mode=mode)([1.0, 5.0]), [4.0, -1.0, -5.0])


def test_shared_counter_updated_by_fn(mode):
    counter = shared(np.int64(0), name="counter")
    x = T.dvector("x")

    def step(v, acc):
        return acc + v, {counter: counter + 1}

    total, updates = scan(step, sequences=x, outputs_info=np.float64(0.0))
    assert list(updates) == [counter]
    f = function([x], total[-1], updates=updates, mode=mode)
    assert float(f(np.arange(4.0))) == 6.0
    assert int(counter.get_value()) == 4
    f(np.arange(3.0))
    assert int(counter.get_value()) == 7


def test_updates_only_and_shared_read_by_outputs(mode):
    s = shared(np.float64(1.0), name="s")
    x = T.dvector("x")
    # an output that reads the shared state sees its value at each step
    ys, updates = scan(lambda v: (v * s, {s: s + 1.0}), sequences=x)
    f = function([x], ys, updates=updates, mode=mode)
    np.testing.assert_allclose(f(np.array([1.0, 1.0, 2.0])), [1.0, 2.0, 6.0])
    assert float(s.get_value()) == 4.0
    # fn returning only updates
    c = shared(np.float64(0.0), name="c")
    nothing, upd = scan(lambda v: {c: c + v}, sequences=x)
    assert nothing is None
    function([x], [], updates=upd, mode=mode)(np.array([1.0, 2.0]))
    assert float(c.get_value()) == 3.0


def test_default_update_inside_fn_advances_each_step(mode):
    """The hook random streams use: a shared state with a default update read inside fn
    advances at every step, and its update is one of scan's updates."""
    state = shared(np.float64(10.0), name="rng_state")
    state.default_update = state + 1.0
    x = T.dvector("x")
    ys, updates = scan(lambda v: v + state, sequences=x, name="draws")
    assert list(updates) == [state]
    g = function([x], ys, updates=updates, mode=mode)
    np.testing.assert_allclose(g(np.zeros(3)), [10.0, 11.0, 12.0])
    assert float(state.get_value()) == 13.0


def test_map_reduce_foldl_foldr_against_numpy(mode):
    x = T.dvector("x")
    v = np.array([1.0, 2.0, 4.0, 8.0])
    sq, _ = scan_map(lambda e: e ** 2, sequences=x)
    np.testing.assert_allclose(function([x], sq, mode=mode)(v), v ** 2)
    total, _ = scan_reduce(lambda e, acc: acc + e, sequences=x, outputs_info=np.float64(0.0))
    assert float(function([x], total, mode=mode)(v)) == 15.0
    # foldl / foldr differ for a non-commutative step: acc * 2 + e
    left, _ = foldl(lambda e, acc: acc * 2 + e, sequences=x, outputs_info=np.float64(0.0))
    right, _ = foldr(lambda e, acc: acc * 2 + e, sequences=x, outputs_info=np.float64(0.0))
    want_l = want_r = 0.0
    for e in v:
        want_l = want_l * 2 + e
    for e in v[::-1]:
        want_r = want_r * 2 + e
    f = function([x], [left, right], mode=mode)
    got_l, got_r = f(v)
    assert float(got_l) == want_l and float(got_r) == want_r
    # reduce over zero steps gives the initial value
    assert float(function([x], total, mode=mode)(np.zeros(0))) == 0.0


def test_n_steps_symbolic_and_zero(mode):
    n = T.lscalar("n")
    x0 = T.dscalar("x0")
    seq, _ = scan(lambda p: p * 2.0, outputs_info=x0, n_steps=n)
    f = function([x0, n], seq, mode=mode)
    np.testing.assert_allclose(f(1.0, 4), [2.0, 4.0, 8.0, 16.0])
    assert f(1.0, 0).shape == (0,)
    ys, _ = scan(lambda: T.ones((2, 3)), n_steps=n)
    assert function([n], ys, mode=mode)(0).shape == (0, 2, 3)
    with pytest.raises(AotcValueError, match="n_steps must be >= 0"):
        f(1.0, -1)
    with pytest.raises(AotcValueError, match="n_steps must be >= 0"):
        scan(lambda p: p * 2.0, outputs_info=x0, n_steps=-2)


def test_n_steps_given_needs_long_enough_sequences(mode):
    x = T.dvector("x")
    ys, _ = scan(lambda v: v + 1.0, sequences=x, n_steps=3)
    f = function([x], ys, mode=mode)
    np.testing.assert_allclose(f(np.arange(5.0)), [1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="fewer than the 3 steps"):
        f(np.arange(2.0))


def test_go_backwards(mode):
    x = T.dvector("x")
    ys, _ = scan_map(lambda v: v * 10.0, sequences=x, go_backwards=True)
    np.testing.assert_allclose(function([x], ys, mode=mode)([1.0, 2.0, 3.0]), [30.0, 20.0, 10.0])
    # the shortest sequence decides; reversed sequences read their last entries
    y = T.dvector("y")
    zs, _ = scan(lambda a, b: a - b, sequences=[x, y], go_backwards=True)
    got = function([x, y], zs, mode=mode)([1.0, 2.0, 3.0, 4.0], [10.0, 20.0])
    np.testing.assert_allclose(got, [4.0 - 20.0, 3.0 - 10.0])


def test_sequence_taps(mode):
    x = T.dvector("x")
    ys, _ = scan(lambda a, b, c: a + 10 * b + 100 * c,
                 sequences=dict(input=x, taps=[-1, 0, 2]))
    v = np.arange(6.0)
    want = [v[t - 1] + 10 * v[t] + 100 * v[t + 2] for t in range(1, 4)]
    np.testing.assert_allclose(function([x], ys, mode=mode)(v), want)


def test_several_outputs_return_list_and_map_outputs(mode):
    x = T.dvector("x")
    outs, _ = scan(lambda v, acc: [acc + v, v * 2.0], sequences=x,
                   outputs_info=[np.float64(0.0), None])
    assert isinstance(outs, list) and len(outs) == 2
    f = function([x], outs, mode=mode)
    cum, doubled = f(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(cum, [1.0, 3.0, 6.0])
    np.testing.assert_allclose(doubled, [2.0, 4.0, 6.0])
    one, _ = scan(lambda v: v + 1.0, sequences=x, return_list=True)
    assert isinstance(one, list) and len(one) == 1


def test_errors_name_the_problem():
    x = T.dvector("x")
    with pytest.raises(AotcValueError, match="no sequences and no n_steps"):
        scan(lambda p: p, outputs_info=x)
    with pytest.raises(AotcTypeError, match="dtype float32, but its initial value has dtype"):
        scan(lambda p: T.cast(p, "float32"), outputs_info=x, n_steps=2)
    with pytest.raises(AotcValueError, match="fn returned 2 output"):
        scan(lambda v, p: [v, v], sequences=x, outputs_info=[x[0]])
    with pytest.raises(AotcValueError, match="taps .* must be negative"):
        scan(lambda p: p, outputs_info=dict(initial=x, taps=[1]), n_steps=2)
    ys, _ = scan(lambda p: T.concatenate([p, p]), outputs_info=x, n_steps=2)
    with pytest.raises(ShapeError, match="state 0 has shape"):
        ys.eval({x: np.ones(2)})


def test_error_inside_step_names_the_step():
    x = T.dmatrix("x")
    i = T.lvector("i")
    ys, _ = scan(lambda k, m: m[k], sequences=i, non_sequences=x, name="gather")
    with pytest.raises(AotcError, match="Inside scan 'gather', at step 1 of 2"):
        evaluate([ys], {id(x): np.ones((2, 2)), id(i): np.array([0, 5])})


def test_op_layout_and_hoisting():
    """The Scan props describe the layout; loop-invariant work leaves the loop."""
    W = T.dmatrix("W")
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    hs, _ = scan(lambda xt, h, W: T.tanh(T.dot(xt, W.T.T) + h), sequences=x,
                 outputs_info=h0, non_sequences=W, name="rnn")
    node = _scan_nodes(hs)[0]
    op = node.op
    assert OPS == (Scan,) and op.c == "c/scan" and op.cuda
    assert (op.n_seqs, op.taps, op.n_nit_sot, op.n_shared_outs, op.n_non_seqs) == \
        (1, ((-1,),), 0, 0, 1)
    assert op.name == "rnn" and op.truncate_gradient == -1 and not op.go_backwards
    # W.T.T does not change from step to step: computed once, outside
    assert node.inputs[-1].owner is not None
    inner_ops = {type(n.op).__name__ for n in op.inner.nodes}
    assert "DimShuffle" not in inner_ops
    shapes = op.infer_shape(node, [(), (5, 3), (1, 3), (3, 3)])
    assert shapes == [(None, 3)]


# ---------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------

def test_jacobian_by_looping_over_rows(mode):
    x = T.dvector("x")
    y = x ** 2
    J, updates = scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                      non_sequences=[y, x])
    f = function([x], J, updates=updates, mode=mode)
    np.testing.assert_allclose(f(np.array([4.0, 4.0])), [[8.0, 0.0], [0.0, 8.0]])


def test_hessian_vector_product_through_scan(mode):
    x = T.dvector("x")
    v = T.dvector("v")
    h0 = T.dvector("h0")
    hs, _ = scan(lambda h, x: T.tanh(h * x + x ** 2), outputs_info=h0, non_sequences=x,
                 n_steps=3)
    cost = (hs ** 2).sum()
    gx = T.grad(cost, x)
    hv = T.grad((gx * v).sum(), x)
    fg = function([x, h0], gx, mode=mode)
    fhv = function([x, v, h0], hv, mode=mode)
    xv, vv, h0v = np.array([0.3, -0.2, 0.5]), np.array([1.0, 0.5, -2.0]), np.array([0.1, 0.2, 0.3])
    eps = 1e-6
    want = (fg(xv + eps * vv, h0v) - fg(xv - eps * vv, h0v)) / (2 * eps)
    np.testing.assert_allclose(fhv(xv, vv, h0v), want, rtol=1e-6, atol=1e-8)
    # the gradient itself against finite differences of the cost
    fc = function([x, h0], cost, mode=mode)
    np.testing.assert_allclose(fg(xv, h0v), _central_diff(lambda a: float(fc(a, h0v)), xv),
                               rtol=1e-6, atol=1e-8)


def test_masked_recurrence_gradients_match_finite_differences(mode):
    rng = np.random.default_rng(0)
    steps, batch, nin, nh = 4, 2, 3, 3
    W = shared(rng.standard_normal((nin, nh)) * 0.5, name="W")
    U = shared(rng.standard_normal((nh, nh)) * 0.5, name="U")
    x = T.dtensor3("x")
    m = T.dmatrix("m")
    h0 = T.dmatrix("h0")

    def step(x_t, m_t, h_prev):
        h = T.tanh(T.dot(x_t, W) + T.dot(h_prev, U))
        return m_t[:, None] * h + (1.0 - m_t)[:, None] * h_prev

    hs, _ = scan(step, sequences=[x, m], outputs_info=h0, name="masked_rnn")
    weights = rng.standard_normal((steps, batch, nh))
    cost = (hs * weights).sum()
    grads = T.grad(cost, [W, U, x, h0])
    xv = rng.standard_normal((steps, batch, nin))
    mv = np.array([[1, 1], [1, 0], [1, 1], [0, 1]], dtype="float64")
    h0v = rng.standard_normal((batch, nh))
    fg = function([x, m, h0], grads, mode=mode)
    fc = function([x, m, h0], cost, mode=mode)
    gW, gU, gx, gh0 = fg(xv, mv, h0v)

    def with_shared(var, val):
        old = var.get_value()
        var.set_value(val)
        try:
            return float(fc(xv, mv, h0v))
        finally:
            var.set_value(old)

    np.testing.assert_allclose(gW, _central_diff(lambda a: with_shared(W, a), W.get_value()),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gU, _central_diff(lambda a: with_shared(U, a), U.get_value()),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, _central_diff(lambda a: float(fc(a, mv, h0v)), xv),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gh0, _central_diff(lambda a: float(fc(xv, mv, a)), h0v),
                               rtol=1e-6, atol=1e-8)
    # the gradient is itself a scan (running backwards)
    back = [n.op for n in _scan_nodes(grads[0]) if n.op.name == "grad_of_masked_rnn"]
    assert back and back[0].go_backwards


def test_gradient_through_two_taps_and_go_backwards(mode):
    x = T.dvector("x")
    a = T.dscalar("a")
    init = T.dvector("init")
    # y_t = a * y_{t-2} + sin(y_{t-1}) * x_t, read backwards over x
    ys, _ = scan(lambda xt, y2, y1, a: a * y2 + T.sin(y1) * xt, sequences=x,
                 outputs_info=dict(initial=init, taps=[-2, -1]), non_sequences=a,
                 go_backwards=True)
    cost = (ys * np.array([1.0, -2.0, 0.5, 3.0, 1.5, -0.8])).sum()
    fg = function([x, a, init], T.grad(cost, [x, a, init]), mode=mode)
    fc = function([x, a, init], cost, mode=mode)
    xv, av, iv = np.array([0.5, -1.0, 2.0, 0.3, 0.7, 1.1]), 0.8, np.array([0.2, -0.4])
    gx, ga, gi = fg(xv, av, iv)
    np.testing.assert_allclose(gx, _central_diff(lambda v: float(fc(v, av, iv)), xv),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ga, _central_diff(lambda v: float(fc(xv, v, iv)), av),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gi, _central_diff(lambda v: float(fc(xv, av, v)), iv),
                               rtol=1e-6, atol=1e-8)


def test_truncate_gradient_zeroes_early_steps(mode):
    x = T.dvector("x")
    h0 = T.dscalar("h0")
    a = T.dscalar("a")
    hs, _ = scan(lambda xt, h, a: h * a + xt, sequences=x, outputs_info=h0, non_sequences=a,
                 truncate_gradient=2)
    gx, gh0, ga = T.grad(hs[-1], [x, h0, a])
    f = function([x, h0, a], [gx, gh0, ga], mode=mode)
    got_x, got_h0, got_a = f(np.ones(6), 1.0, 0.5)
    np.testing.assert_allclose(got_x, [0, 0, 0, 0, 0.5, 1.0])
    assert float(got_h0) == 0.0
    # only the last two steps contribute to a: h_5 = h_4 a + x_5 and h_4 = h_3 a + x_4
    h = [1.0]
    for _ in range(6):
        h.append(h[-1] * 0.5 + 1.0)
    assert float(got_a) == pytest.approx(h[5] + 0.5 * h[4])
    # k at least the number of steps: full backpropagation
    got_x, got_h0, _ = f(np.ones(2), 1.0, 0.5)
    np.testing.assert_allclose(got_x, [0.5, 1.0])
    assert float(got_h0) == 0.25


def test_gradient_of_nested_scan(mode):
    x = T.dvector("x")

    def outer_step(xt, acc):
        inner, _ = scan(lambda p: p * xt, outputs_info=acc, n_steps=2)
        return inner[-1] + 1.0

    ys, _ = scan(outer_step, sequences=x, outputs_info=np.float64(1.0))
    g = T.grad(ys[-1], x)
    fc = function([x], ys[-1], mode=mode)
    xv = np.array([0.5, 1.5, -0.7])
    np.testing.assert_allclose(function([x], g, mode=mode)(xv),
                               _central_diff(lambda v: float(fc(v)), xv), rtol=1e-6, atol=1e-8)


def test_integer_inputs_get_no_gradient():
    x = T.dvector("x")
    idx = T.lvector("idx")
    ys, _ = scan(lambda i, v: v[i] * 2.0, sequences=idx, non_sequences=x)
    g = T.grad(ys.sum(), x)
    np.testing.assert_allclose(g.eval({x: np.ones(3), idx: np.array([0, 2, 2])}), [2.0, 0.0, 4.0])


def test_random_draws_inside_fn(mode):
    from aotc.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=7)
    x = T.dmatrix("x")
    w = T.dscalar("w")

    def step(xt, h, w):
        keep = srng.binomial(size=xt.shape, p=0.5, dtype="float64")
        return T.tanh(h * w + xt * keep)

    hs, updates = scan(step, sequences=x, outputs_info=T.zeros_like(x[0]), non_sequences=w)
    (state,) = list(updates)
    f = function([x, w], hs, updates=updates, mode=mode)
    a = f(np.ones((6, 4)), 0.0)
    b = f(np.ones((6, 4)), 0.0)
    # a fresh mask at every step and on every call
    assert len({tuple(row) for row in a}) > 1 and not np.array_equal(a, b)
    # the gradient replays the masks the forward pass drew
    before = state.get_value()
    g = function([x, w], T.grad(hs.sum(), w), updates=updates, mode=mode)(np.full((6, 4), 0.5), 0.7)
    state.set_value(before)
    fc = function([x, w], hs.sum(), no_default_updates=True, mode=mode)
    num = (fc(np.full((6, 4), 0.5), 0.7 + 1e-6) - fc(np.full((6, 4), 0.5), 0.7 - 1e-6)) / 2e-6
    assert float(g) == pytest.approx(float(num), rel=1e-6)


def test_strict_wants_shared_variables_as_non_sequences():
    W = shared(np.ones(2), name="W")
    x = T.dvector("x")
    with pytest.raises(AotcValueError, match="strict=True.*W"):
        scan(lambda v: v * W, sequences=x, strict=True)
    ys, _ = scan(lambda v, W: v * W, sequences=x, non_sequences=W, strict=True)
    np.testing.assert_allclose(ys.eval({x: np.array([1.0, 2.0])}), [[1, 1], [2, 2]])
