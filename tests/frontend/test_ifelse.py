"""``aotc.ifelse.ifelse`` (lazy) against ``T.switch`` (elementwise), THEANO_API.md section 10.

Laziness is the contract: the untaken branch is never computed, so a branch
that would fail does not raise, and a Print in it prints nothing.  FAST_RUN
must give the same values (it evaluates IfElse by reference until the code
generator lowers it).
"""
import numpy as np
import pytest

import aotc
from aotc import config, function, shared
from aotc import tensor as T
from aotc.errors import AotcTypeError
from aotc.frontend.evaluator import evaluate
from aotc.frontend.grad import grad
from aotc.frontend.ops.ifelse import IfElse
from aotc.frontend.printing import Print
from aotc.ifelse import ifelse
from aotc.passes import optimize

MODES = ["FAST_COMPILE", "FAST_RUN"]


# ---------------------------------------------------------------------------
# values and laziness
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_tutorial_example_values(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f = function([a, b, x, y], z_lazy, mode=mode)
    xv, yv = np.ones((3, 2)), np.full((2, 2), 5.0)
    assert f(1.0, 2.0, xv, yv) == 1.0
    assert f(2.0, 1.0, xv, yv) == 5.0


@pytest.mark.parametrize("mode", MODES)
def test_untaken_branch_out_of_range_index_does_not_raise(mode):
    c = T.lscalar("c")
    x, i = T.dvector("x"), T.lscalar("i")
    f = function([c, x, i], ifelse(c, x[i], x.sum()), mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    assert f(0, xv, 10) == 6.0          # x[10] is never computed
    assert f(1, xv, 1) == 2.0
    with pytest.raises(IndexError, match="out of bounds"):
        f(1, xv, 10)                     # taken: the error names the indexing


@pytest.mark.parametrize("mode", MODES)
def test_untaken_branch_shape_mismatch_does_not_raise(mode):
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    f = function([c, x, y], ifelse(c, (x + y) * 2.0, x), mode=mode)
    xv, yv = np.arange(3.0), np.arange(4.0)
    np.testing.assert_array_equal(f(0, xv, yv), xv)
    with pytest.raises(ValueError):
        f(1, xv, yv)


@pytest.mark.parametrize("mode", MODES)
def test_only_one_branch_prints(mode, capsys):
    c = T.dscalar("c")
    x = T.dvector("x")
    out = ifelse(c, Print("THEN")(x) * 2.0, Print("ELSE")(x) + 1.0)
    f = function([c, x], out, mode=mode)
    capsys.readouterr()
    np.testing.assert_array_equal(f(1.0, [1.0, 2.0]), [2.0, 4.0])
    text = capsys.readouterr().out
    assert "THEN" in text and "ELSE" not in text
    np.testing.assert_array_equal(f(0.0, [1.0, 2.0]), [2.0, 3.0])
    text = capsys.readouterr().out
    assert "ELSE" in text and "THEN" not in text


@pytest.mark.parametrize("mode", MODES)
def test_switch_is_elementwise_and_computes_both_sides(mode, capsys):
    c = T.bvector("c")
    x = T.dvector("x")
    out = T.switch(c, Print("LEFT")(x) * 2.0, Print("RIGHT")(x) + 1.0)
    f = function([c, x], out, mode=mode)
    capsys.readouterr()
    np.testing.assert_array_equal(f([1, 0, 1], [1.0, 2.0, 3.0]), [2.0, 3.0, 6.0])
    text = capsys.readouterr().out
    assert "LEFT" in text and "RIGHT" in text


@pytest.mark.parametrize("mode", MODES)
def test_condition_dtypes_nonzero_is_true(mode):
    x, y = T.dscalars("x", "y")
    for cond_var, true_val, false_val in [(T.dscalar("c"), 0.5, 0.0), (T.iscalar("c"), -3, 0),
                                          (T.fscalar("c"), -0.25, 0.0)]:
        f = function([cond_var, x, y], ifelse(cond_var, x, y), mode=mode)
        assert f(true_val, 1.0, 2.0) == 1.0
        assert f(false_val, 1.0, 2.0) == 2.0
    f = function([x, y], ifelse(T.gt(x, y), x - y, y - x), mode=mode)     # a bool condition
    assert f(5.0, 2.0) == 3.0 and f(2.0, 5.0) == 3.0


@pytest.mark.parametrize("mode", MODES)
def test_list_branches_give_a_list(mode):
    c = T.iscalar("c")
    x, y = T.dvector("x"), T.dmatrix("y")
    outs = ifelse(c, [x, y], [x * 2.0, y * 3.0])
    assert isinstance(outs, list) and len(outs) == 2
    assert outs[0].owner is outs[1].owner and isinstance(outs[0].owner.op, IfElse)
    f = function([c, x, y], outs, mode=mode)
    xv, yv = np.arange(3.0), np.ones((2, 2))
    a, b = f(1, xv, yv)
    np.testing.assert_array_equal(a, xv)
    np.testing.assert_array_equal(b, yv)
    a, b = f(0, xv, yv)
    np.testing.assert_array_equal(a, 2 * xv)
    np.testing.assert_array_equal(b, 3 * yv)
    one = ifelse(c, [x], [x + 1.0])
    assert isinstance(one, list) and len(one) == 1


@pytest.mark.parametrize("mode", MODES)
def test_nested_ifelse_and_shared_updates(mode):
    c1, c2 = T.iscalars("c1", "c2")
    x = T.dvector("x")
    acc = shared(0.0, name="acc")
    inner = ifelse(c2, x[5], x.sum())                      # x[5] is out of range for len 3
    out = ifelse(c1, inner, x.max())
    f = function([c1, c2, x], out, updates=[(acc, acc + out)], mode=mode)
    xv = np.array([1.0, 4.0, 2.0])
    assert f(0, 1, xv) == 4.0          # inner never runs, so x[5] neither
    assert f(1, 0, xv) == 7.0
    assert acc.get_value() == 11.0


@pytest.mark.parametrize("mode", MODES)
def test_branch_shapes_may_differ(mode):
    c = T.iscalar("c")
    x = T.dmatrix("x")
    f = function([c, x], ifelse(c, x, x[:1, :2]), mode=mode)
    xv = np.arange(6.0).reshape(2, 3)
    assert f(1, xv).shape == (2, 3)
    assert f(0, xv).shape == (1, 2)


def test_broadcastable_flags_are_the_less_broadcastable():
    c = T.iscalar("c")
    r, m = T.row("r"), T.matrix("m")
    out = ifelse(c, r, m)
    assert out.broadcastable == (False, False)
    out = ifelse(c, r, T.row("r2"))
    assert out.broadcastable == (True, False)
    f = function([c, r, m], ifelse(c, r, m), mode="FAST_COMPILE")
    rv = np.ones((1, 3), dtype=config.floatX)
    mv = np.zeros((2, 3), dtype=config.floatX)
    assert f(1, rv, mv).shape == (1, 3) and f(0, rv, mv).shape == (2, 3)


def test_python_number_branch_takes_the_other_dtype():
    c = T.iscalar("c")
    x = T.fscalar("x")
    out = ifelse(c, x, 0)
    assert out.dtype == "float32"
    f = function([c, x], out, mode="FAST_COMPILE")
    assert f(0, 2.5) == 0.0 and f(1, 2.5) == 2.5


@pytest.mark.parametrize("mode", MODES)
def test_constant_condition_and_constant_branches(mode):
    """The constant folder skips IfElse, and an untaken constant branch that would fail
    is left alone (folding it raises, the folder keeps the node)."""
    data = T.constant(np.array([1.0, 2.0, 3.0]))
    seven = T.constant(3) + T.constant(4)     # folds to 7 only when the passes run
    c = T.iscalar("c")
    f = function([c], ifelse(c, data[seven], data.sum()), mode=mode)
    assert f(0) == 6.0
    g = function([], ifelse(T.constant(1), T.constant(2.0), T.constant(3.0)), mode=mode)
    assert g() == 2.0
    h = function([], ifelse(T.constant(0), data[seven + 2], data[1]), mode=mode)
    assert h() == 2.0


def test_optimizer_keeps_the_branch_lazy():
    """After the FAST_RUN passes the graph still has its IfElse and still evaluates lazily."""
    c = T.iscalar("c")
    x, i = T.dvector("x"), T.lscalar("i")
    out = optimize([ifelse(c, T.exp(x[i]) + 1.0, x.sum() * 2.0)])[0]
    assert isinstance(out.owner.op, IfElse)
    got = evaluate([out], {id(c): np.array(0, dtype="int32"), id(x): np.arange(3.0),
                           id(i): np.array(99)})[0]
    assert got == 6.0


def test_fusion_keeps_an_eager_producer_out_of_a_lazy_branch():
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    a = x - 1.0
    f = function([c, x, y], [ifelse(c, (a + y) * 2.0, a), a], mode="FAST_RUN")
    out, av = f(0, np.arange(3.0), np.arange(4.0))      # y does not fit x: branch untaken
    np.testing.assert_array_equal(out, av)


def test_fusion_keeps_the_two_branches_apart():
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    a = x - 1.0
    f = function([c, x, y], ifelse(c, (a + y) * 2.0, a * 3.0 + 1.0), mode="FAST_RUN")
    np.testing.assert_array_equal(f(0, np.arange(3.0), np.arange(4.0)), np.arange(3.0) * 3 - 2)
    np.testing.assert_array_equal(f(1, np.arange(3.0), np.ones(3)), np.arange(3.0) * 2)


def test_ifelse_runs_compiled_and_lazy_in_c():
    c, i = T.iscalar("c"), T.lscalar("i")
    x = T.dvector("x")
    out = ifelse(c, T.exp(x[i]) + x.sum(), -x.sum())
    f = function([c, i, x], [out, x * 2.0], mode="FAST_RUN")
    assert f.backend == "c", getattr(f._impl, "reason", "")
    got, twice = f(0, 99, np.arange(3.0))          # x[99] is out of range: untaken, no error
    assert got == -3.0
    np.testing.assert_array_equal(twice, np.arange(3.0) * 2)
    assert f(1, 2, np.arange(3.0))[0] == np.exp(2.0) + 3.0
    with pytest.raises(IndexError, match="99"):
        f(1, 99, np.arange(3.0))
    # inside a loop body: each step takes one side
    xs = T.dvector("xs")
    ys, _ = aotc.scan(lambda v: ifelse(T.gt(v, 0), T.log(v), v * 0.0), sequences=xs)
    g = function([xs], ys, mode="FAST_RUN")
    assert g.backend == "c"
    np.testing.assert_allclose(g(np.array([1.0, -2.0, np.e])), [0.0, 0.0, 1.0])


# ---------------------------------------------------------------------------
# shapes, printing, eager perform
# ---------------------------------------------------------------------------

def test_infer_shape_knows_the_sizes_both_branches_agree_on():
    c = T.iscalar("c")
    a, b = T.dmatrix("a"), T.dmatrix("b")
    node = ifelse(c, a, b).owner
    assert node.op.infer_shape(node, [(), (2, 3), (2, 4)]) == [(2, None)]
    assert node.op.infer_shape(node, [(), (2, 3), (2, 3)]) == [(2, 3)]


def test_eager_perform_and_test_values():
    c = T.iscalar("c")
    x = T.dvector("x")
    node = ifelse(c, x, x * 2.0).owner
    xv = np.array([1.0, 2.0])
    out = node.op.perform(node, [np.array(0, "int32"), xv, 2 * xv])
    np.testing.assert_array_equal(out[0], 2 * xv)
    with config.change_flags(compute_test_value="raise"):
        c.tag.test_value = np.array(1, dtype="int32")
        x.tag.test_value = xv
        z = ifelse(c, x + 1.0, x)
        np.testing.assert_array_equal(z.tag.test_value, xv + 1.0)


def test_ifelse_prints_and_names():
    c = T.iscalar("c")
    x = T.dvector("x")
    out = ifelse(c, x, x, name="pick")
    assert "pick" in str(out.owner.op)
    assert "IfElse" in aotc.printing.debugprint(out, file="str")


# ---------------------------------------------------------------------------
# build-time errors name the user's line
# ---------------------------------------------------------------------------

def test_type_mismatch_is_a_type_error_at_build():
    c = T.iscalar("c")
    with pytest.raises(AotcTypeError, match=r"(?s)then-branch.*else-branch.*at:.*test_ifelse"):
        ifelse(c, T.dvector("x"), T.lvector("y"))
    with pytest.raises(TypeError, match="same dtype and number of dimensions"):
        ifelse(c, T.dvector("x"), T.dmatrix("y"))


def test_condition_must_be_a_scalar():
    with pytest.raises(AotcTypeError, match=r"(?s)scalar.*T.switch.*at:"):
        ifelse(T.dvector("c"), T.dscalar("x"), T.dscalar("y"))


def test_branch_lists_must_pair_up():
    c = T.iscalar("c")
    x = T.dvector("x")
    with pytest.raises(AotcTypeError, match="pair up"):
        ifelse(c, [x, x], [x])
    with pytest.raises(AotcTypeError, match="list"):
        ifelse(c, [x], x)
    with pytest.raises(AotcTypeError, match="without loss"):
        ifelse(c, T.iscalar("i"), 0.5)


# ---------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------

def _fd_check(cost, wrt, given, eps=1e-6):
    grads = grad(cost, wrt)
    base = dict(given)
    got = evaluate(grads, base)
    for w, g in zip(wrt, got):
        val = base[id(w)]
        num = np.zeros_like(val)
        for idx in np.ndindex(val.shape):
            plus, minus = val.copy(), val.copy()
            plus[idx] += eps
            minus[idx] -= eps
            fp = evaluate([cost], {**base, id(w): plus})[0]
            fm = evaluate([cost], {**base, id(w): minus})[0]
            num[idx] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    return got


@pytest.mark.parametrize("cond", [0, 1])
def test_gradient_matches_finite_differences(cond):
    c = T.iscalar("c")
    x, y = T.dvector("x"), T.dvector("y")
    out = ifelse(c, T.tanh(x) * y, x * x - y)
    cost = (out * T.constant(np.array([0.5, -1.0, 2.0]))).sum()
    rng = np.random.default_rng(0)
    given = {id(c): np.array(cond, dtype="int32"), id(x): rng.standard_normal(3),
             id(y): rng.standard_normal(3)}
    gx, gy = _fd_check(cost, [x, y], given)
    if cond:
        assert np.any(gy != 0)
    else:
        np.testing.assert_array_equal(gy, [-0.5, 1.0, -2.0])


@pytest.mark.parametrize("cond", [0, 1])
def test_gradient_of_branch_only_input_is_zero_when_untaken(cond):
    c = T.iscalar("c")
    x, y = T.dvector("x"), T.dvector("y")
    cost = ifelse(c, (x ** 2).sum(), (y ** 3).sum())
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    given = {id(c): np.array(cond, dtype="int32"), id(x): xv, id(y): yv}
    gx, gy = evaluate(grad(cost, [x, y]), given)
    np.testing.assert_allclose(gx, 2 * xv if cond else 0 * xv)
    np.testing.assert_allclose(gy, 0 * yv if cond else 3 * yv ** 2)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_compiles_and_runs(mode):
    c = T.dscalar("c")
    w = shared(np.array([1.0, -2.0]), name="w")
    x = T.dvector("x")
    cost = ifelse(c, T.dot(x, w) ** 2, T.sum(w) * 3.0)
    gw = T.grad(cost, w)
    f = function([c, x], gw, mode=mode)
    xv = np.array([0.5, 1.5])
    np.testing.assert_allclose(f(1.0, xv), 2 * np.dot(xv, [1.0, -2.0]) * xv)
    np.testing.assert_allclose(f(0.0, xv), [3.0, 3.0])


def test_second_order_gradient_through_ifelse():
    c = T.iscalar("c")
    x = T.dscalar("x")
    y = ifelse(c, x ** 3, T.sin(x))
    g2 = grad(grad(y, x), x)
    for cond, want in [(1, 6 * 1.5), (0, -np.sin(1.5))]:
        got = evaluate([g2], {id(c): np.array(cond, "int32"), id(x): np.array(1.5)})[0]
        np.testing.assert_allclose(got, want)
