"""Each rewrite rule: the graph it produces (both graphs printed on failure) and equal values."""
import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.frontend.evaluator import evaluate
from aotc.frontend.graph import Constant
from aotc.frontend.printing import debugprint
from aotc.passes import optimize, canonicalize, stabilize
from aotc.passes.merge import fold_constants, merge_nodes
from aotc.passes.rewrite import rewrite


def same_graph(a, b):
    """Structural equality: equal ops over equal inputs; roots identical or equal constants."""
    if a is b:
        return True
    if isinstance(a, Constant) and isinstance(b, Constant):
        return a.dtype == b.dtype and np.array_equal(a.data, b.data)
    if a.owner is None or b.owner is None:
        return False
    if a.owner.op != b.owner.op or a.index != b.index or len(a.owner.inputs) != len(b.owner.inputs):
        return False
    return all(same_graph(x, y) for x, y in zip(a.owner.inputs, b.owner.inputs))


def assert_rewrites_to(before, expected, rules=None, passes=None):
    trace = []
    if rules is not None:
        got = rewrite([before], rules, trace)[0]
    else:
        got = passes([before], trace)[0]
    if not same_graph(got, expected):
        pytest.fail("rewrite result differs\n--- before\n%s--- got\n%s--- expected\n%s--- trace\n%s"
                    % (debugprint(before, file="str"), debugprint(got, file="str"),
                       debugprint(expected, file="str"), trace))
    return got, trace


def values_agree(before, after, inputs, values, rtol=1e-12):
    given = {id(v): val for v, val in zip(inputs, values)}
    a = evaluate([before], given)[0]
    b = evaluate([after], given)[0]
    np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-300)


x = T.dvector("x")
y = T.dvector("y")
m = T.dmatrix("m")
RNG = np.random.default_rng(0)
XV = RNG.uniform(0.1, 2.0, size=5)
YV = RNG.uniform(0.1, 2.0, size=5)
MV = RNG.standard_normal((3, 4))


# ---- canonicalize -----------------------------------------------------------

@pytest.mark.parametrize("before,expected", [
    (lambda: x * 1, lambda: x),
    (lambda: 1 * x, lambda: x),
    (lambda: x + 0, lambda: x),
    (lambda: x - 0, lambda: x),
    (lambda: x / 1, lambda: x),
    (lambda: -(-x), lambda: x),
    (lambda: x ** 1, lambda: x),
    (lambda: x ** 2, lambda: T.sqr(x)),
    (lambda: -x - y, lambda: -(x + y)),
    (lambda: m.dimshuffle(1, 0).dimshuffle(1, 0), lambda: m),
    (lambda: m.dimshuffle(0, "x", 1).dimshuffle(2, 0), lambda: m.dimshuffle(1, 0)),
    (lambda: T.switch(np.float64(1.0), x * 2, y), lambda: x * 2),
    (lambda: T.switch(np.int8(0), x * 2, T.exp(y)), lambda: T.exp(y)),
    (lambda: m[:, None], lambda: m.dimshuffle(0, "x", 1)),
    (lambda: m[:, :] * 2, lambda: m * 2),
], ids=["mul_one", "one_mul", "add_zero", "sub_zero", "div_one", "double_neg", "pow_one",
        "pow_two", "sub_of_neg", "ds_ds_identity", "ds_ds_compose", "switch_true",
        "switch_false", "full_subtensor_newaxis", "full_subtensor"])
def test_canonicalize_rule(before, expected):
    b, e = before(), expected()
    got, trace = assert_rewrites_to(b, e, rules=canonicalize.rules())
    assert trace, "no rule fired"
    ins = [m] if b.ndim >= 2 else [x, y]
    vals = [MV] if b.ndim >= 2 else [XV, YV]
    values_agree(b, got, ins, vals)


def test_canonicalize_keeps_subtensors_that_select():
    for out in (m[1:], m[:, ::-1], m[::1, 0], m[0:], m[:-1, None]):
        got = rewrite([out], canonicalize.rules())[0]
        assert got.owner is not None and type(got.owner.op).__name__ in ("Subtensor",
                                                                           "DimShuffle")
        assert "Subtensor" in debugprint(got, file="str")
        values_agree(out, got, [m], [MV])


def test_canonicalize_keeps_switch_on_a_mixed_or_symbolic_condition():
    for cond in (T.constant(np.array([1.0, 0.0, 1.0, 1.0, 0.0])), x > y):
        out = T.switch(cond, x, y)
        got = rewrite([out], canonicalize.rules())[0]
        assert got.owner is not None and got.owner.op.scalar_op.name == "switch"
        values_agree(out, got, [x, y], [XV, YV])


def test_canonicalize_keeps_broadcasting_shape():
    # x_row * ones(3) stretches x: dropping the multiplication would change the shape
    row = T.TensorType("float64", (True,))("row")
    ones3 = T.constant(np.ones(3))
    out = row * ones3
    got = rewrite([out], canonicalize.rules())[0]
    val = evaluate([got], {id(row): np.array([2.0])})[0]
    assert val.shape == (3,)


# ---- constant folding and merge ---------------------------------------------

def test_fold_constants_evaluates_constant_subgraphs():
    c = T.constant(np.arange(3.0))
    before = x + T.exp(c) * 2
    got = fold_constants([before])[0]
    assert isinstance(got.owner.inputs[1], Constant)
    np.testing.assert_allclose(got.owner.inputs[1].data, np.exp(np.arange(3.0)) * 2)
    values_agree(before, got, [x], [XV[:3]])


def test_merge_shares_equal_nodes():
    a = T.exp(x) + y
    b = T.exp(x) + y
    out = a * b
    got = merge_nodes([out])[0]
    l, r = got.owner.inputs
    assert l is r, debugprint(got, file="str")
    values_agree(out, got, [x, y], [XV, YV])


def test_merge_keeps_impure_nodes_apart():
    p1 = aotc.printing.Print("a")(x)
    p2 = aotc.printing.Print("a")(x)
    got = merge_nodes([p1 + p2])[0]
    assert got.owner.inputs[0] is not got.owner.inputs[1]


# ---- stabilize ---------------------------------------------------------------

def _stab(before):
    return rewrite([before], stabilize.rules())[0]


def test_log1p_rule():
    b = T.log(1 + x)
    assert_rewrites_to(b, T.log1p(x), rules=stabilize.rules())
    f = aotc.function([x], b)
    assert f(np.array([1e-20]))[0] == 1e-20
    assert aotc.function([x], b, mode="FAST_COMPILE")(np.array([1e-20]))[0] == 0.0


def test_sigmoid_rules():
    assert_rewrites_to(1 / (1 + T.exp(-x)), T.nnet.sigmoid(x), rules=stabilize.rules())
    assert_rewrites_to(1 / (1 + T.exp(x)), T.nnet.sigmoid(-x), rules=stabilize.rules())
    assert_rewrites_to(1 - T.nnet.sigmoid(x), T.nnet.sigmoid(-x), rules=stabilize.rules())
    assert_rewrites_to(T.log(T.nnet.sigmoid(x)), -T.nnet.softplus(-x), rules=stabilize.rules())
    assert_rewrites_to(T.log1p(T.exp(x)), T.nnet.softplus(x), rules=stabilize.rules())


def test_log_one_minus_sigmoid_is_finite():
    b = T.log(1 - T.nnet.sigmoid(x))
    got = optimize([b])[0]
    v = evaluate([got], {id(x): np.array([-3.0, 0.0, 40.0, 800.0])})[0]
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(v, -np.logaddexp(0, [-3.0, 0.0, 40.0, 800.0]), rtol=1e-12)


def test_softmax_rules():
    e = T.exp(m)
    b = e / e.sum(axis=1, keepdims=True)
    got, _ = assert_rewrites_to(b, T.nnet.softmax(m), passes=optimize)
    values_agree(b, got, [m], [MV])
    assert_rewrites_to(T.log(T.nnet.softmax(m)), T.nnet.log_softmax(m), rules=stabilize.rules())
    big = np.array([[1000.0, -1000.0, 0.0]])
    v = evaluate([optimize([T.log(T.nnet.softmax(m))])[0]], {id(m): big})[0]
    assert np.all(np.isfinite(v))


def test_crossentropy_of_softmax_is_stable():
    yi = T.lvector("yi")
    p = T.nnet.softmax(m)
    nll = -T.mean(T.log(p)[T.arange(yi.shape[0]), yi])
    g = T.grad(nll, m)
    f = aotc.function([m, yi], [nll, g])
    big = np.array([[800.0, -800.0, 0.0], [0.0, 900.0, -5.0]])
    loss, grad = f(big, np.array([1, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, (1600.0 + 900.0) / 2, rtol=1e-12)
    loss_ref, _ = aotc.function([m, yi], [nll, g], mode="FAST_COMPILE")(big, np.array([1, 0]))
    assert not np.isfinite(loss_ref)


def test_classic_logistic_regression_keeps_finite_gradients():
    """The tutorial's 400x784 logistic regression with randn data and weights."""
    rng = np.random.RandomState(23455)
    N, feats = 400, 784
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2).astype("float64"))
    xx = T.dmatrix("x")
    yy = T.dvector("y")
    w = aotc.shared(rng.randn(feats), name="w")
    b = aotc.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(xx, w) - b))
    xent = -yy * T.log(p_1) - (1 - yy) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    naive = aotc.function([xx, yy], [xent, gw, gb], mode="FAST_COMPILE")
    n_xent, n_gw, n_gb = naive(*D)
    assert not np.all(np.isfinite(n_xent)), "the naive cross-entropy should saturate"
    assert not (np.all(np.isfinite(n_gw)) and np.isfinite(n_gb))
    stable = aotc.function([xx, yy], [xent, gw, gb])
    s_xent, s_gw, s_gb = stable(*D)
    assert np.all(np.isfinite(s_xent)) and np.all(np.isfinite(s_gw)) and np.isfinite(s_gb)
    # and it trains: a few steps lower the stabilized cost
    train = aotc.function([xx, yy], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    costs = [float(train(*D)) for _ in range(10)]
    assert all(np.isfinite(costs)) and costs[-1] < costs[0]


def test_trace_records_rules():
    trace = []
    optimize([T.log(1 + x) * 1], trace)
    names = [t[0] for t in trace]
    assert "log1p" in names and "mul_by_one" in names


def test_rewritten_nodes_keep_user_line():
    b = T.log(1 + x)   # the line new nodes must point at
    got = optimize([b])[0]
    assert got.owner.src_loc is not None
    assert "test_rewrites.py" in got.owner.src_loc.short
    assert "T.log(1 + x)" in got.owner.src_loc.line


# ---- GEMM recognition -----------------------------------------------------------

from aotc.frontend.ops.blas import gemm as _gemm  # noqa: E402
from aotc.passes.blas import recognize_gemm  # noqa: E402

A = T.dmatrix("A")
B = T.dmatrix("B")
AV = RNG.standard_normal((3, 5))
BV = RNG.standard_normal((5, 4))
CV = RNG.standard_normal(4)


@pytest.mark.parametrize("before,expected", [
    (lambda: T.dot(A, B) + y, lambda: _gemm(y.dimshuffle("x", 0), A, B)),
    (lambda: y + T.dot(A, B) * 3.0, lambda: _gemm(y.dimshuffle("x", 0), A, B, alpha=3.0)),
    (lambda: T.dot(A, B) + T.exp(m), lambda: _gemm(T.exp(m), A, B)),
], ids=["bias_row", "scaled", "full_c"])
def test_gemm_rule(before, expected):
    b, e = before(), expected()
    got, trace = assert_rewrites_to(b, e, passes=recognize_gemm)
    assert [t[0] for t in trace] == ["gemm"]
    values_agree(b, got, [A, B, y, m], [AV, BV, CV, RNG.standard_normal((3, 4))])


def test_gemm_rule_keeps_a_product_used_twice_and_a_stretching_bias():
    d = T.dot(A, B)
    bcol = T.TensorType("float64", (False, True))("bcol")
    for out in (d + y + d.sum(), T.dot(A, bcol) + y):
        got = recognize_gemm([out])[0]
        assert "Gemm" not in debugprint(got, file="str"), debugprint(got, file="str")


def test_gemm_in_the_pipeline_runs_compiled():
    out = T.dot(A, B) * 2.0 + y
    f = aotc.function([A, B, y], out)
    assert "Gemm" in debugprint(f._impl.optimized_outputs, file="str")
    np.testing.assert_allclose(f(AV, BV, CV), 2.0 * AV.dot(BV) + CV, rtol=1e-12)
    with pytest.raises(ValueError, match="Elemwise{add}"):
        f(AV, BV, np.ones(3))


def _incs_of_zeros(z, pieces):
    return [T.inc_subtensor(z[:, a:b], p) for (a, b), p in pieces]


def test_sum_of_increments_of_one_zero_matrix_becomes_one_chain():
    """The gradient of a matrix read in four column slices (an LSTM's gates)."""
    from aotc.frontend.ops.subtensor import IncSubtensor
    rng = np.random.RandomState(5)
    g = [T.dmatrix("g%d" % k) for k in range(4)]
    vals = [rng.randn(3, 2) for _ in range(4)]
    z = T.zeros((3, 8))
    incs = _incs_of_zeros(z, [((2 * k, 2 * k + 2), g[k]) for k in range(4)])
    out = ((incs[0] + incs[1]) + incs[2]) + incs[3]
    trace = []
    got = rewrite([out], canonicalize.rules(), trace)[0]
    assert [t[0] for t in trace].count("add_of_incs_of_zeros") == 3
    node, depth = got.owner, 0
    while node is not None and isinstance(node.op, IncSubtensor):
        node, depth = node.inputs[0].owner, depth + 1
    assert depth == 4                                  # one chain over one zero matrix
    values_agree(out, got, g, vals)


def test_sum_of_increments_keeps_other_sums():
    rng = np.random.RandomState(6)
    a, c = T.dmatrix("a"), T.dmatrix("c")
    av, cv = rng.randn(3, 2), rng.randn(3, 8)
    ones = T.ones((3, 8))
    z = T.zeros((3, 8))
    cases = [
        T.inc_subtensor(ones[:, :2], a) + T.inc_subtensor(ones[:, 2:4], a),   # not zeros
        T.set_subtensor(z[:, :2], a) + T.set_subtensor(z[:, 2:4], a),          # sets
        T.inc_subtensor(z[:, :2], a) + T.inc_subtensor(T.zeros((3, 8))[:, 2:4], a) + c * 0
        + T.inc_subtensor(c[:, :2], a),                                          # other x
    ]
    for out in cases:
        trace = []
        got = rewrite([out], canonicalize.rules(), trace)[0]
        assert "add_of_incs_of_zeros" not in [t[0] for t in trace]
        values_agree(out, got, [a, c], [av, cv])
