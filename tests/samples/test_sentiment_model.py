"""The LSTM of samples/sentiment/model.py on generated data: compiled training, and the
compiled and reference paths agreeing step by step (dropout included)."""
import importlib.util
import os

import numpy as np
import pytest

import aotc
from aotc.frontend.evaluator import toposort
from aotc.frontend.scan import Scan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = dict(n_words=40, dim_proj=8, seed=3, optimizer="adadelta")
T_MAX, BATCH = 9, 6


def _model():
    spec = importlib.util.spec_from_file_location(
        "sentiment_model_under_test", os.path.join(ROOT, "samples", "sentiment", "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _batches(n, seed=0):
    """Reviews of random length whose label says whether 'positive' words (ids < 20)
    outnumber the others among the valid steps: learnable, through the mask."""
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n):
        x = rng.randint(0, TINY["n_words"], size=(T_MAX, BATCH)).astype("int64")
        lens = rng.randint(2, T_MAX + 1, size=BATCH)
        mask = (np.arange(T_MAX)[:, None] < lens[None, :]).astype("float32")
        pos = ((x < 20) * mask).sum(0)
        y = (2 * pos > lens).astype("int64")
        out.append((x, mask, y))
    return out


@pytest.fixture(scope="module")
def pair():
    with aotc.config.change_flags(floatX="float32"):
        model = _model()
        compiled = model.make_functions(TINY)
        reference = model.make_functions(TINY, mode="FAST_COMPILE")
    return model, compiled, reference


def test_lstm_compiles_scan_to_c(pair):
    _, (predict, train_step, _), _ = pair
    assert predict.backend == "c" and train_step.backend == "c"
    # the training graph holds the forward loop and its backward (BPTT) loop
    scans = [n for n in toposort(train_step.fgraph.outputs) if isinstance(n.op, Scan)]
    assert len(scans) >= 2


def test_lstm_compiled_and_reference_agree_step_by_step_and_loss_falls(pair):
    model, (pc, tc, tpc), (pr, tr, tpr) = pair
    data = _batches(8)
    losses = []
    for epoch in range(5):
        for k, (x, mask, y) in enumerate(data):
            a, b = tc(x, mask, y), tr(x, mask, y)
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6,
                                       err_msg="epoch %d batch %d" % (epoch, k))
            losses.append(float(a))
    for name in tpc:
        np.testing.assert_allclose(tpc[name].get_value(), tpr[name].get_value(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)
    x, mask, _ = data[0]
    np.testing.assert_allclose(pc(x, mask), pr(x, mask), rtol=1e-5, atol=1e-6)
    # the same 8 batches each epoch: the epoch's mean loss falls every time
    epochs = np.mean(np.reshape(losses, (5, len(data))), axis=1)
    assert np.all(np.diff(epochs) < 0), epochs
    assert epochs[-1] < epochs[0] - 0.01, epochs


def test_lstm_with_adam_agrees_with_the_reference_and_learns():
    with aotc.config.change_flags(floatX="float32"):
        model = _model()
        opts = dict(TINY, optimizer="adam", lr=0.01)
        (_, tc, _), (_, tr, _) = model.make_functions(opts), model.make_functions(opts, "FAST_COMPILE")
    data = _batches(8, seed=1)
    losses = []
    for epoch in range(3):
        for x, mask, y in data:
            a, b = tc(x, mask, y), tr(x, mask, y)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
            losses.append(float(a))
    epochs = np.mean(np.reshape(losses, (3, len(data))), axis=1)
    assert epochs[-1] < epochs[0] - 0.02, epochs


def test_lstm_predict_ignores_steps_past_the_mask(pair):
    _, (pc, _, _), _ = pair
    x, mask, _ = _batches(1, seed=5)[0]
    x2 = x.copy()
    x2[mask == 0] = (x2[mask == 0] + 7) % TINY["n_words"]     # change only masked-out words
    np.testing.assert_allclose(pc(x, mask), pc(x2, mask), rtol=1e-6, atol=1e-7)
    p = pc(x, mask)
    assert p.shape == (BATCH, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
