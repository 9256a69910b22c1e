"""Embedding products kept between calls (passes/memo.py, GatherDot, gather_dot.c.j2).

A small model in the LSTM sample's shape (a lookup flattened and reshaped, then
projected, plus a bias) is built once; its ``predict`` updates nothing, so the
lookup and product become one GatherDot whose kernel keeps rows between calls.
Every check compares with NumPy, after each way the shared state can change
(set_value, load_params, another function's updates) and with indices that
repeat, are negative or are out of bounds.
"""

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.build.module import build_module
from aotc.frontend.evaluator import evaluate
from aotc.frontend.ops.blas import GatherDot
from aotc.passes import optimize

from . import import_built

V, K, N = 50, 6, 5


def _model(dtype):
    rng = np.random.RandomState(0)
    E = aotc.shared(rng.randn(V, K).astype(dtype), name="E")
    W = aotc.shared(rng.randn(K, N).astype(dtype), name="W")
    b = aotc.shared(rng.randn(N).astype(dtype), name="b")
    x = T.matrix("x", dtype="int64")
    emb = E[x.flatten()].reshape([x.shape[0], x.shape[1], K])
    proj = T.dot(emb, W) + b                                  # (steps, samples, N)
    out = T.tanh(proj).sum(axis=0) * T.cast(emb.shape[0], dtype)  # reads the lookup's shape
    x2 = T.vector("ids", dtype="int32")
    flat = T.dot(E[x2], W) + b                                # the plain (unreshaped) form
    predict = aotc.function([x], out)
    rows = aotc.function([x2], flat)
    s = T.scalar("s", dtype=dtype)
    scaled = aotc.function([x, s], T.tanh(T.dot(emb, W) + b * s).sum(axis=0))  # a bias that
    # changes between calls with no shared value changing
    lr = np.asarray(0.1, dtype)
    cost = (out ** 2).mean()
    params = [E, W, b]
    train = aotc.function([x], cost, updates=[(p, p - lr * g)
                                              for p, g in zip(params, T.grad(cost, params))])
    return [("predict", predict), ("rows", rows), ("train", train), ("scaled", scaled)]


def _ref(m, x):
    E, W, b = (m.shared[n].get_value() for n in ("E", "W", "b"))
    return np.tanh(E[x] @ W + b).sum(axis=0) * x.shape[0]


@pytest.fixture(scope="module", params=["float32", "float64"])
def built(request, tmp_path_factory):
    dtype = request.param
    out = str(tmp_path_factory.mktemp("memo_" + dtype))
    trace = []
    with aotc.config.change_flags(floatX=dtype):
        result = build_module("memo_" + dtype, _model(dtype), out_dir=out, trace=trace)
    return import_built("memo_" + dtype, result["so"]), trace, dtype


def _close(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)


def test_the_rules_fire_in_the_function_without_updates_only(built):
    m, trace, _ = built
    fired = [name for name, _, _ in trace]
    assert fired.count("gather_dot_reshaped") == 2        # predict, scaled; not train (updates)
    assert fired.count("gather_dot") == 1                 # rows
    assert "shape_of_reshape" in fired                   # emb.shape no longer needs the lookup


def test_predict_matches_numpy_across_calls_and_state_changes(built, tmp_path):
    m, _, dtype = built
    rng = np.random.RandomState(1)
    for step in range(6):
        # repeated, negative and fresh indices; calls of several sizes
        x = rng.randint(-V, V, size=(1 + step, 3 + step)).astype(np.int64)
        np.testing.assert_allclose(m.predict(x), _ref(m, x), **_close(dtype))
        np.testing.assert_allclose(m.predict(x), _ref(m, x), **_close(dtype))  # from the table
        if step == 1:
            m.shared["W"].set_value(m.shared["W"].get_value() * 1.5)
        elif step == 2:
            m.shared["b"].set_value(m.shared["b"].get_value() + 0.25)
        elif step == 3:
            m.train(x)                                         # updates E, W and b
        elif step == 4:
            path = str(tmp_path / "p.npz")
            m.save_params(path)
            m.shared["E"].set_value(m.shared["E"].get_value() * 0)
            m.load_params(path)


def test_a_new_bias_value_rebuilds_the_table(built):
    """The table holds rows of E.W + c for the c it was made with: a call with another c
    (computed from an input, no shared value changed) computes every row again."""
    m, _, dtype = built
    E, W, b = (m.shared[n].get_value() for n in ("E", "W", "b"))
    x = np.random.RandomState(3).randint(0, V, size=(4, 3)).astype(np.int64)
    for s in (1.0, 1.0, -2.0, 1.0, 0.0):
        want = np.tanh(E[x] @ W + b * s).sum(axis=0)
        np.testing.assert_allclose(m.scaled(x, np.asarray(s, dtype)), want, **_close(dtype),
                                   err_msg="bias scaled by %g" % s)


def test_a_new_shape_of_the_embedding_rebuilds_the_table(built):
    m, _, dtype = built
    saved = m.shared["E"].get_value()
    try:
        rng = np.random.RandomState(2)
        m.shared["E"].set_value(rng.randn(2 * V, K).astype(dtype))
        x = rng.randint(0, 2 * V, size=(4, 3)).astype(np.int64)
        np.testing.assert_allclose(m.predict(x), _ref(m, x), **_close(dtype))
        m.shared["E"].set_value(rng.randn(V, K + 1).astype(dtype))
        m.shared["W"].set_value(rng.randn(K + 1, N).astype(dtype))
        with pytest.raises(ValueError, match="reshape"):
            m.predict(x % V)
    finally:
        m.shared["E"].set_value(saved)
        m.shared["W"].set_value(m.shared["W"].get_value()[:K])


def test_the_plain_lookup_form_and_its_errors(built):
    m, _, dtype = built
    ids = np.array([3, -1, 3, 0, V - 1, -V], dtype=np.int32)
    E, W, b = (m.shared[n].get_value() for n in ("E", "W", "b"))
    np.testing.assert_allclose(m.rows(ids), E[ids] @ W + b, **_close(dtype))
    assert m.rows(np.zeros(0, np.int32)).shape == (0, N)
    for bad in (V, -V - 1):
        with pytest.raises(IndexError, match="index %d is out of bounds for axis 0 with size %d"
                           % (bad, V)):
            m.rows(np.array([1, bad], dtype=np.int32))
    # a failed call leaves no half-made row behind
    np.testing.assert_allclose(m.rows(ids), E[ids] @ W + b, **_close(dtype))


def test_many_rows_come_out_of_the_table_through_the_pool(built):
    """40000 rows of the table: the copy out runs in chunks over 2 pool threads."""
    m, _, dtype = built
    ids = np.random.RandomState(4).randint(-V, V, size=40000).astype(np.int32)
    E, W, b = (m.shared[n].get_value() for n in ("E", "W", "b"))
    try:
        for threads in (2, 1):
            m.set_num_threads(threads)
            np.testing.assert_allclose(m.rows(ids), E[ids] @ W + b, **_close(dtype))
    finally:
        m.set_num_threads(0)


def test_calls_from_several_threads_agree(built):
    import threading
    m, _, dtype = built
    rng = np.random.RandomState(3)
    xs = [rng.randint(0, V, size=(5, 4)).astype(np.int64) for _ in range(8)]
    want = [_ref(m, x) for x in xs]
    m.shared["b"].set_value(m.shared["b"].get_value())        # start from an empty table
    errors = []

    def work(k):
        try:
            for _ in range(20):
                np.testing.assert_allclose(m.predict(xs[k]), want[k], **_close(dtype))
        except Exception as e:                                # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_gather_dot_reference_matches_numpy():
    rng = np.random.RandomState(4)
    E, W, c = rng.randn(7, 3), rng.randn(3, 4), rng.randn(4)
    idx = np.array([[1, -2], [6, 0]])
    ce, ee, ie, we = T.vector("c"), T.matrix("E"), T.matrix("i", dtype="int64"), T.matrix("W")
    out = GatherDot(2.0)(ce, ee, ie, we)
    got = evaluate([out], {id(ce): c, id(ee): E, id(ie): idx, id(we): W})[0]
    np.testing.assert_allclose(got, c + 2.0 * (E[idx] @ W))
    with pytest.raises(IndexError):
        evaluate([out], {id(ce): c, id(ee): E, id(ie): idx + 7, id(we): W})


def test_stateless_flag_gates_the_pass():
    E = aotc.shared(np.ones((4, 2)), name="E")
    W = aotc.shared(np.ones((2, 3)), name="W")
    b = aotc.shared(np.zeros(3), name="b")
    i = T.vector("i", dtype="int64")
    y = T.dot(E[i], W) + b
    assert "GatherDot" not in str(optimize([y]))
    assert "GatherDot" in aotc.printing.debugprint(optimize([y], stateless=True), file="str")
