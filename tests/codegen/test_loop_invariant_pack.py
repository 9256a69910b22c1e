"""A loop's GEMM whose B stays the same at every step (a non-sequence weight, a view of
one, a constant) reads B packed once, at the first step (aotc_bpack, scan.c.j2): the
generated loop hands such steps a slot, other steps none, and the compiled loop and its
gradient match the reference on one and two threads, bit for bit between the two."""
import re

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.build.module import prepare
from aotc.frontend.evaluator import evaluate


def _rnn(kind, dtype="float64"):
    X = T.TensorType(dtype, (False,) * 3)("X")
    U = T.TensorType(dtype, (False, False))("U")
    h0 = T.TensorType(dtype, (False, False))("h0")
    s = T.TensorType(dtype, (False,))("s")

    def step(x_t, s_t, h, U):
        B = {"nonseq": U, "transposed": U.T, "per_step": U * s_t,
             "constant": T.constant(np.eye(3, dtype=dtype) * 0.5)}[kind]   # h: (batch, 3)
        return T.tanh(x_t + T.dot(h, B))
    hs, _ = aotc.scan(step, sequences=[X, s], outputs_info=h0, non_sequences=[U])
    return [X, s, U, h0], hs


@pytest.mark.parametrize("kind,slots", [("nonseq", 1), ("transposed", 1), ("constant", 1),
                                        ("per_step", 0)])
def test_only_invariant_operands_get_a_packed_slot(kind, slots):
    ins, hs = _rnn(kind)
    f = aotc.function(ins, hs, on_unused_input="ignore")
    (src,) = prepare("m", [("f", f)])[0].values()
    assert len(re.findall(r"r->bpack = bpk \? &bpk\[\d+\]", src)) == slots


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["nonseq", "transposed"])
def test_packed_loop_and_gradient_match_the_reference_on_one_and_two_threads(kind, dtype):
    """H = 300: two depth blocks and a partial panel; batch 16: the step's product
    (2 x 16 x 300 x 300 flops) splits over the pool on two threads."""
    ins, hs = _rnn(kind, dtype)
    X, s, U, h0 = ins
    cost = (hs[-1] ** 2).sum()
    outs = [hs] + T.grad(cost, [U, h0])
    f = aotc.function(ins, outs)
    assert f._impl.backend == "c"
    rng = np.random.RandomState(3)
    H, Bn = 300, 16
    mod = f._impl.module
    # 4 steps pack B; 2 steps (under AOTC_BPACK_MIN_STEPS) read it in place
    for n in (4, 2):
        vals = [rng.randn(n, Bn, H).astype(dtype), rng.rand(n).astype(dtype),
                (rng.randn(H, H) * 0.05).astype(dtype), rng.randn(Bn, H).astype(dtype)]
        try:
            mod._set_num_threads(2)
            two = f(*vals)
            mod._set_num_threads(1)
            one = f(*vals)
        finally:
            mod._set_num_threads(0)
        given = {id(v): a for v, a in zip(ins, vals)}
        want = evaluate(outs, given)
        tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
        for k, (p, q, w) in enumerate(zip(one, two, want)):
            np.testing.assert_array_equal(p, q, err_msg="n=%d output %d: 1 vs 2 threads" % (n, k))
            np.testing.assert_allclose(p, w, err_msg="n=%d output %d" % (n, k), **tol)


def test_a_nested_loop_packs_each_outer_steps_weight_afresh():
    """The inner loop's weight is the outer step's temporary (the same arena block at
    every outer step, other values): each run of the inner loop packs its own."""
    S = T.dtensor3("S")
    X = T.dtensor3("X")
    h0 = T.dmatrix("h0")

    def outer(s_t, X, h0):
        w = s_t * 2.0 + 0.1

        def inner(x_t, h, w):
            return T.tanh(x_t + T.dot(h, w))
        hs, _ = aotc.scan(inner, sequences=X, outputs_info=h0, non_sequences=[w])
        return hs[-1]
    out, _ = aotc.scan(outer, sequences=S, non_sequences=[X, h0])
    f = aotc.function([S, X, h0], out)
    assert f._impl.backend == "c"
    (src,) = prepare("m", [("f", f)])[0].values()
    assert len(re.findall(r"r->bpack = bpk \? &bpk\[\d+\]", src)) == 1
    rng = np.random.RandomState(5)
    vals = [rng.randn(4, 6, 6) * 0.3, rng.randn(3, 5, 6), rng.randn(5, 6)]
    want = evaluate([out], {id(v): a for v, a in zip((S, X, h0), vals)})[0]
    np.testing.assert_allclose(f(*vals), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["constant", "input"])
def test_a_branch_of_ifelse_takes_no_packed_slot(kind):
    """A branch side runs once: its product on a constant (or an input) gets no slot,
    and the module compiles (a slot there named the scan's array of packs, which a
    branch does not declare)."""
    from aotc.ifelse import ifelse
    c = T.dscalar("c")
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    B = T.constant(np.arange(12.0).reshape(3, 4) / 7.0) if kind == "constant" else W
    y = ifelse(T.gt(c, 0), T.dot(x, B) + 1.0, T.zeros((x.shape[0], 4)) + x.sum())
    f = aotc.function([c, x, W], y, on_unused_input="ignore")
    assert f._impl.backend == "c"
    (src,) = prepare("m", [("f", f)])[0].values()
    assert "bpk" not in src
    rng = np.random.RandomState(6)
    xv, Wv = rng.randn(5, 3), rng.randn(3, 4)
    for cv in (1.0, -1.0):
        want = evaluate([y], {id(c): np.asarray(cv), id(x): xv, id(W): Wv})[0]
        np.testing.assert_allclose(f(cv, xv, Wv), want, rtol=1e-12, atol=1e-12)
