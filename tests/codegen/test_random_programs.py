"""Random programs through the whole compiler: loops, branches, products on inputs,
transposes and constants, elementwise chains, reductions, slices and gradients,
mixed at random, at batch 1 (the GEMV paths) and more, float32 and float64.  Each
compiled function must build and agree with the reference evaluator on every branch.

A fixed list of seeds runs in the suite (each program costs one module build);
``python tests/codegen/test_random_programs.py A B`` runs seeds A..B-1.  The generator found an
ifelse branch with a product on a constant that did not compile (a loop-only
packed-operand slot in a branch)."""
import random

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.frontend.evaluator import evaluate
from aotc.ifelse import ifelse


def _expr(rng, depth, env):
    """A random (R, C) expression over env's variables."""
    x, W, c, R, C, dt = (env[k] for k in ("x", "W", "c", "R", "C", "dt"))
    leaves = [lambda: x, lambda: x * 0.5 + 1,
              lambda: T.constant(np.linspace(-1, 1, R * C).reshape(R, C).astype(dt)),
              lambda: T.dot(x, W), lambda: T.dot(x, W.T)]
    if "h" in env:
        leaves += [lambda: env["h"], lambda: env["h"], lambda: env["xt"]]
    if depth <= 0:
        return rng.choice(leaves)()
    k = rng.randrange(14)

    def sub():
        return _expr(rng, depth - 1, env)
    if k == 0:
        return sub() + sub()
    if k == 1:
        return sub() * sub()
    if k == 2:
        return T.tanh(sub())
    if k == 3:
        return T.nnet.sigmoid(sub())
    if k == 4:
        return T.dot(sub(), rng.choice([W, W.T, T.constant((np.eye(C) * 0.3).astype(dt))]))
    if k == 5:
        return ifelse(T.gt(c, rng.choice([-0.5, 0.5])), sub(), sub())
    if k == 6:
        return T.switch(T.gt(sub(), 0), sub(), sub())
    if k == 7:
        return T.maximum(sub(), sub())
    if k == 8:
        return sub() - sub().mean(axis=0)
    if k == 9:
        return sub() + sub().sum(axis=1)[:, None]
    if k == 10 and "h" not in env:
        def step(xt, h, W):
            return T.tanh(_expr(rng, depth - 1, dict(env, h=h, xt=xt, W=W))) * 0.9
        X = T.stack([sub() * (i + 1) * 0.2 for i in range(2)])
        hs, _ = aotc.scan(step, sequences=[X], outputs_info=sub(), non_sequences=[W])
        return hs[-1] + hs.sum(axis=0)
    if k == 11:
        return sub()[:, ::-1]
    if k == 12:
        return T.concatenate([sub()[:, :2], sub()[:, 2:]], axis=1)
    return T.exp(T.clip(sub(), -3, 3))


def _check(seed):
    rng = random.Random(seed)
    R, C = rng.choice([1, 3, 13]), rng.choice([4, 20, 40])
    dt = rng.choice(["float64", "float32"])
    x, W, c = T.matrix("x", dtype=dt), T.matrix("W", dtype=dt), T.scalar("c", dtype=dt)
    y = _expr(rng, rng.randrange(1, 5), dict(x=x, W=W, c=c, R=R, C=C, dt=dt))
    outs = [y]
    if rng.random() < 0.6:
        outs += T.grad((y ** 2).sum(), [W, x], disconnected_inputs="ignore")
    f = aotc.function([x, W, c], outs, on_unused_input="ignore")
    assert f._impl.backend == "c", "seed %d: not compiled" % seed
    r = np.random.RandomState(seed)
    xv = (r.randn(R, C) * 0.5).astype(dt)
    Wv = (r.randn(C, C) * (0.5 / np.sqrt(C))).astype(dt)
    tol = 1e-9 if dt == "float64" else 2e-4
    for cv in (1.0, -1.0, 0.0):
        cv = np.asarray(cv, dt)
        got = f(xv, Wv, cv)
        want = evaluate(outs, {id(x): xv, id(W): Wv, id(c): cv})
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol * max(1.0, float(np.abs(w).max())),
                                       err_msg="seed %d, c=%s, output %d" % (seed, cv, k))


#: seeds whose programs hold a loop (1), a branch (27), both (10, 20), at batch 1 (1), with
#: gradients (1, 10, 27), in float32 (10, 27)
SEEDS = [1, 10, 20, 27]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_program_matches_the_reference(seed):
    _check(seed)


if __name__ == "__main__":
    import sys
    for seed in range(int(sys.argv[1]), int(sys.argv[2])):
        _check(seed)
        print("seed", seed, "ok", flush=True)
