"""The logistic-regression samples: the tutorial (givens over shared data) and the built model."""
import importlib.util
import os

import numpy as np
import pytest

import aotc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(rel, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_tutorial_sgd_with_givens_lowers_the_loss(mode):
    tut = _load("samples/logreg/tutorial.py", "logreg_tutorial")
    train_model, evaluate, n_batches, clf = tut.build(mode=mode)
    loss0, err0 = evaluate()
    for _ in range(3):
        for i in range(n_batches):
            train_model(i)
    loss1, err1 = evaluate()
    assert loss1 < 0.5 * loss0, (loss0, loss1)
    assert err1 < err0
    text = aotc.printing.debugprint(train_model, file="str", print_type=True)
    for name in ("W", "b", "index", "Softmax", "TensorType(float64"):
        assert name in text, name


def test_sample_model_trains_in_process():
    model = _load("samples/logreg/model.py", "logreg_model")
    run = _load("samples/logreg/run.py", "logreg_run")
    x, y = run.make_data(300)
    losses = [float(model.train_step(x[i:i + 50], y[i:i + 50], 0.1)) for i in range(0, 300, 50)]
    assert losses[-1] < losses[0]
    p = model.predict(x[:5])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
