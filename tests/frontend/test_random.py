"""Random streams (THEANO_API.md section 12): MRG_RandomStreams and RandomStreams.

State semantics are Theano's: a new draw per call, reproducible per seed, the
same numbers with ``no_default_updates=True``, one draw per call however often
a graph uses a random variable, ``seed(n)`` re-seeds.  The generator is
counter-based, so the compiled module (FAST_RUN) draws exactly the reference's
numbers (normal: to the documented ulp tolerance).
"""
import numpy as np
import pytest

from aotc import config, function, shared
from aotc import tensor as T
from aotc.errors import AotcTypeError, AotcValueError, ShapeError
from aotc.frontend.evaluator import toposort
from aotc.frontend.ops import random as R
from aotc.passes import optimize
from aotc.passes.merge import fold_constants, merge_nodes
from aotc.sandbox.rng_mrg import MRG_RandomStreams
from aotc.tensor.shared_randomstreams import RandomStreams

MODES = ["FAST_COMPILE", "FAST_RUN"]
NORMAL_TOL = {"float64": dict(rtol=1e-12, atol=1e-12), "float32": dict(rtol=1e-6, atol=1e-6)}


def _random_nodes(outputs):
    return [n for n in toposort(outputs) if isinstance(n.op, R.RandomOp)]


# ---------------------------------------------------------------------------
# state semantics
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_new_draws_per_call_and_reproducible_per_seed(mode):
    def make(seed):
        srng = RandomStreams(seed=seed)
        return function([], [srng.uniform((2, 3)), srng.normal((4,))], mode=mode)
    f, g, h = make(234), make(234), make(235)
    first, second = f(), f()
    assert not np.array_equal(first[0], second[0])
    assert not np.array_equal(first[1], second[1])
    for a, b in zip(first, g()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(second, g()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], h()[0])


@pytest.mark.parametrize("mode", MODES)
def test_no_default_updates_repeats(mode):
    srng = MRG_RandomStreams(seed=7)
    rv = srng.uniform((3,))
    f = function([], rv, no_default_updates=True, mode=mode)
    a, b = f(), f()
    np.testing.assert_array_equal(a, b)
    g = function([], rv, mode=mode)
    np.testing.assert_array_equal(g(), a)     # the state was never advanced
    assert not np.array_equal(g(), a)


@pytest.mark.parametrize("mode", MODES)
def test_drawn_once_per_call_when_used_twice(mode):
    srng = RandomStreams(seed=3)
    r = srng.uniform((5,))
    f = function([], [r, r * 1.0, r - r, r + r], mode=mode)
    a, b, diff, twice = f()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(diff, np.zeros(5))
    np.testing.assert_array_equal(twice, 2 * a)


def test_optimizer_keeps_one_random_node_and_never_merges_two():
    srng = RandomStreams(seed=3)
    r = srng.normal((4,))
    outs = optimize([r * 2.0, r + 1.0, r.rng.default_update])
    assert len(_random_nodes(outs)) == 1
    # two draws from the same state and size are still two nodes (pure=False)
    state = shared(R.initial_state(5, 0))
    size = T.constant(np.array([3], dtype="int64"))
    lo, hi = T.constant(0.0), T.constant(1.0)
    op = R.RandomUniform("float64", (False,))
    a, _ = op(state, size, lo, hi)
    b, _ = op(state, size, lo, hi)
    merged = merge_nodes([a, b])
    assert merged[0] is not merged[1] and len(_random_nodes(merged)) == 2
    const_state = T.constant(R.initial_state(5, 0))
    c, _ = op(const_state, size, lo, hi)
    assert fold_constants([c])[0] is c       # never folded, though every input is constant


def test_variables_of_one_stream_differ_and_carry_their_state():
    srng = RandomStreams(seed=11)
    r1, r2 = srng.uniform((4,)), srng.uniform((4,))
    assert r1.rng is not r2.rng and r1.rng.dtype == "uint64"
    assert r1.rng.default_update is r1.owner.outputs[1]
    assert r1.update == (r1.rng, r1.owner.outputs[1])
    assert [s for s, _ in srng.state_updates] == [r1.rng, r2.rng]
    a, b = function([], [r1, r2], mode="FAST_COMPILE")()
    assert not np.array_equal(a, b)


def test_state_get_and_set_value_replays():
    srng = RandomStreams(seed=5)
    rv = srng.normal((3,))
    f = function([], rv, mode="FAST_COMPILE")
    saved = rv.rng.get_value()
    a = f()
    assert rv.rng.get_value()[1] == saved[1] + 4     # 3 normals use 2 pairs of words
    f()
    rv.rng.set_value(saved)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_array_equal(srng[rv], rv.rng.get_value())


def test_theano_tutorial_state_handling():
    """T-ex 'Using Random Numbers': seeding one state in place, saving and restoring it."""
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = function([], rv_u, mode="FAST_COMPILE")
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u, mode="FAST_COMPILE")
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    srng.seed(902340)
    state_after_v0 = rv_u.rng.get_value().get_state()
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()
    v3 = f()
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, v3)


def test_seed_reseeds_every_variable():
    srng = RandomStreams(seed=1)
    r1, r2 = srng.uniform((3,)), srng.binomial((3,), p=0.5)
    f = function([], [r1, r2], mode="FAST_COMPILE")
    f()
    srng.seed(99)
    after_seed = f()
    fresh = RandomStreams(seed=99)
    g = function([], [fresh.uniform((3,)), fresh.binomial((3,), p=0.5)], mode="FAST_COMPILE")
    for a, b in zip(after_seed, g()):
        np.testing.assert_array_equal(a, b)
    srng.seed(99)
    for a, b in zip(after_seed, f()):
        np.testing.assert_array_equal(a, b)


def test_mrg_seed_and_default_seed():
    a = MRG_RandomStreams().uniform((4,))
    b = MRG_RandomStreams(12345).uniform((4,))
    np.testing.assert_array_equal(a.eval(), b.eval())
    m = MRG_RandomStreams(seed=[1, 2, 3, 4, 5, 6])     # Theano's MRG also takes six ints
    assert m.uniform((2,)).eval().shape == (2,)


# ---------------------------------------------------------------------------
# distributions and dtypes
# ---------------------------------------------------------------------------

def test_distributions_first_and_second_moments():
    srng = RandomStreams(seed=2024)
    n = 100000
    u = srng.uniform((n,), dtype="float64")
    u2 = srng.uniform((n,), low=-2.0, high=6.0, dtype="float32")
    z = srng.normal((n,), dtype="float64")
    z2 = srng.normal((n + 1,), avg=3.0, std=0.5, dtype="float32")
    b = srng.binomial((n,), p=0.3)
    b5 = srng.binomial((n,), n=5, p=0.4, dtype="int32")
    vals = function([], [u, u2, z, z2, b, b5], mode="FAST_COMPILE")()
    uv, u2v, zv, z2v, bv, b5v = vals
    assert uv.min() >= 0.0 and uv.max() < 1.0
    assert abs(uv.mean() - 0.5) < 0.005 and abs(uv.var() - 1 / 12) < 0.002
    assert u2v.dtype == np.float32 and u2v.min() >= -2.0 and u2v.max() <= 6.0
    assert abs(u2v.mean() - 2.0) < 0.04 and abs(u2v.var() - 64 / 12) < 0.1
    assert abs(zv.mean()) < 0.01 and abs(zv.var() - 1.0) < 0.015
    assert abs(z2v.mean() - 3.0) < 0.005 and abs(z2v.std() - 0.5) < 0.005
    assert z2v.shape == (n + 1,) and z2v.dtype == np.float32
    assert bv.dtype == np.int64 and set(np.unique(bv)) <= {0, 1}
    assert abs(bv.mean() - 0.3) < 0.005
    assert b5v.dtype == np.int32 and b5v.min() >= 0 and b5v.max() <= 5
    assert abs(b5v.mean() - 2.0) < 0.02 and abs(b5v.var() - 1.2) < 0.03


def test_default_dtypes_follow_theano():
    with config.change_flags(floatX="float32"):
        m = MRG_RandomStreams(1)
        assert m.uniform((2,)).dtype == "float32"
        assert m.normal((2,)).dtype == "float32"
        assert m.binomial((2,)).dtype == "int64"
        s = RandomStreams(1)
        assert s.uniform((2,)).dtype == "float32"
        assert s.uniform((2,), low=T.dscalar()).dtype == "float64"   # upcast with the params
        assert s.binomial((2,)).dtype == "int64"
    with config.change_flags(floatX="float64"):
        assert MRG_RandomStreams(1).normal((2,)).dtype == "float64"
        assert RandomStreams(1).uniform().ndim == 0


def test_parameters_broadcast_and_size_from_parameters():
    srng = RandomStreams(seed=8)
    lo = T.dvector("lo")
    u = srng.uniform(low=lo, high=lo + 1.0)            # size from the parameters
    m = T.dmatrix("m")
    z = srng.normal(size=m.shape, avg=lo, std=0.0)     # std 0: exactly the means
    p = T.TensorType("float64", (True, False))("p")
    b = srng.binomial(size=(3, 4), p=p, dtype="bool")
    f = function([lo, m, p], [u, z, b], mode="FAST_COMPILE")
    lov = np.array([0.0, 10.0, 20.0, 30.0])
    uv, zv, bv = f(lov, np.zeros((2, 4)), np.array([[0.0, 1.0, 0.0, 1.0]]))
    assert uv.shape == (4,) and np.all((uv >= lov) & (uv < lov + 1))
    np.testing.assert_array_equal(zv, np.broadcast_to(lov, (2, 4)))
    assert bv.dtype == np.bool_
    np.testing.assert_array_equal(bv, np.broadcast_to([False, True, False, True], (3, 4)))
    with pytest.raises(ShapeError, match="does not fit the draws' shape"):
        f(lov, np.zeros((2, 3)), np.ones((1, 4)))


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------

def test_symbolic_sizes():
    srng = MRG_RandomStreams(seed=4)
    n, k = T.lscalar("n"), T.iscalar("k")
    x = T.dmatrix("x")
    v = T.lvector("v")
    outs = [srng.uniform((n, 3)), srng.uniform(size=(k, n)), srng.normal(size=x.shape),
            srng.binomial(size=v, ndim=3, p=0.5), srng.uniform(size=n), srng.uniform(size=[])]
    f = function([n, k, x, v], outs, mode="FAST_COMPILE")
    got = f(2, 5, np.zeros((4, 1)), np.array([1, 2, 3]))
    assert [g.shape for g in got] == [(2, 3), (5, 2), (4, 1), (1, 2, 3), (2,), ()]
    assert outs[0].broadcastable == (False, False)
    assert srng.uniform((1, n)).broadcastable == (True, False)


def test_size_errors_at_build_and_run_time():
    srng = RandomStreams(seed=4)
    v = T.lvector("v")
    with pytest.raises(AotcValueError, match=r"(?s)unknown length.*ndim.*at:.*test_random"):
        srng.uniform(size=v)
    with pytest.raises(AotcValueError, match="ndim=3"):
        srng.uniform(size=(2, 2), ndim=3)
    with pytest.raises(AotcTypeError, match="integer"):
        srng.uniform(size=T.dvector())
    with pytest.raises(AotcValueError, match="negative size"):
        srng.uniform(size=(2, -1))
    with pytest.raises(AotcTypeError, match="float dtype"):
        srng.normal((2,), dtype="int32")
    with pytest.raises(AotcTypeError, match="Python int"):
        srng.binomial((2,), n=T.lscalar())
    f = function([v], srng.uniform(size=v, ndim=2), mode="FAST_COMPILE")
    with pytest.raises(ShapeError, match="negative size"):
        f(np.array([2, -3]))
    with pytest.raises(ShapeError, match="3 entries, expected 2"):
        f(np.array([2, 3, 4]))


# ---------------------------------------------------------------------------
# the LSTM dropout pattern, gradients
# ---------------------------------------------------------------------------

def _dropout(proj, use_noise, trng):
    """lstm.py's dropout_layer, verbatim but for the names."""
    return T.switch(use_noise,
                    proj * trng.binomial(proj.shape, p=0.5, n=1, dtype=proj.dtype),
                    proj * 0.5)


@pytest.mark.parametrize("mode", MODES)
def test_lstm_dropout_pattern(mode):
    trng = MRG_RandomStreams(123)
    use_noise = shared(np.asarray(1.0, dtype=config.floatX), name="use_noise")
    proj = T.matrix("proj")
    out = _dropout(proj, use_noise, trng)
    f = function([proj], out, mode=mode)
    if mode == "FAST_RUN":
        assert f.backend == "c"
    pv = np.ones((50, 40), dtype=config.floatX)
    a, b = f(pv), f(pv)
    assert set(np.unique(a)) <= {0.0, 1.0} and 0.4 < a.mean() < 0.6
    assert not np.array_equal(a, b)
    use_noise.set_value(0.0)
    np.testing.assert_array_equal(f(pv), pv * 0.5)


def test_gradient_flows_through_dropout_mask():
    trng = MRG_RandomStreams(9)
    use_noise = shared(1.0, name="use_noise")
    w = shared(np.arange(6.0).reshape(2, 3), name="w")
    x = T.dmatrix("x")
    out = _dropout(T.dot(x, w), use_noise, trng)
    mask = [n for n in toposort([out]) if isinstance(n.op, R.RandomBinomial)][0].outputs[0]
    gw = T.grad(out.sum(), w)
    f = function([x], [mask, gw], mode="FAST_COMPILE")
    xv = np.arange(8.0).reshape(4, 2)
    for _ in range(2):
        m, g = f(xv)
        np.testing.assert_allclose(g, xv.T @ m)


def test_random_op_gradient_is_none_for_every_input():
    srng = RandomStreams(seed=1)
    avg = T.dscalar("avg")
    z = srng.normal((3,), avg=avg)
    node = z.owner
    assert node.op.grad(node, [T.dvector(), None]) == [None] * len(node.inputs)


# ---------------------------------------------------------------------------
# compiled module vs reference
# ---------------------------------------------------------------------------

NORMAL_OUTPUTS = (2, 3)


def _all_draws(srng, x, p):
    return [srng.uniform((7, 5), dtype="float64"),
            srng.uniform(size=x.shape, low=-1.0, high=x, dtype="float32"),
            srng.normal((9,), avg=1.0, std=2.0, dtype="float64"),
            srng.normal(size=x.shape, std=x, dtype="float32"),
            srng.binomial(size=x.shape, p=0.5, dtype="float32"),
            srng.binomial((3, 4), n=4, p=p, dtype="int8"),
            srng.binomial((0, 3), p=0.5),
            srng.uniform(())]


@pytest.fixture(scope="module")
def compiled_and_reference():
    pairs = []
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        srng = RandomStreams(seed=77)
        x = T.fmatrix("x")
        p = T.dvector("p")
        outs = _all_draws(srng, x, p)
        pairs.append((function([x, p], outs, mode=mode), srng))
    return pairs


def test_compiled_draws_equal_the_reference(compiled_and_reference):
    (fc, sc), (fr, sr) = compiled_and_reference
    assert fc.backend == "c", "the random draws should compile to C"
    xv = np.arange(1, 13, dtype="float32").reshape(3, 4)
    pv = np.array([0.1, 0.5, 0.9, 1.0])
    for _ in range(3):
        got, want = fc(xv, pv), fr(xv, pv)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype and g.shape == w.shape
            if k in NORMAL_OUTPUTS:
                np.testing.assert_allclose(g, w, **NORMAL_TOL[g.dtype.name])
            else:
                np.testing.assert_array_equal(g, w)
        for (s1, _), (s2, _) in zip(sc.state_updates, sr.state_updates):
            np.testing.assert_array_equal(s1.get_value(), s2.get_value())


def test_compiled_checks_the_state_and_parameters(compiled_and_reference):
    (fc, sc), _ = compiled_and_reference
    xv = np.ones((3, 4), dtype="float32")
    pv = np.full(4, 0.5)
    with pytest.raises(ValueError, match="does not fit the draws' shape"):
        fc(xv, np.full(3, 0.5))
    state = sc.state_updates[0][0]
    saved = state.get_value()
    state.set_value(np.zeros(3, dtype="uint64"))
    try:
        with pytest.raises(ValueError, match=r"random state must be a uint64 vector"):
            fc(xv, pv)
    finally:
        state.set_value(saved)
    fc(xv, pv)


def test_algorithm_is_documented_splitmix_words():
    """The reference words are SplitMix64 outputs (independent scalar re-computation)."""
    key, ctr = R.derive_key(42, 0), 10
    w = R.words(key, ctr, 3)
    for i in range(3):
        assert int(w[i]) == R.mix64(key + (ctr + i) * R.GAMMA)
    assert R.unit_float64(np.array([2 ** 64 - 1], dtype=np.uint64))[0] < 1.0
    assert R.unit_float32(np.array([2 ** 64 - 1], dtype=np.uint64))[0] < np.float32(1.0)
