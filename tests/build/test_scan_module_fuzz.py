"""Bad calls to a built module whose functions run a loop: the sentiment LSTM (tiny).

Random bad inputs (word ids out of range, masks of the wrong shape, labels out of
range or of the wrong length, wrong dtypes and ranks) must raise the named error
with the node's shapes, never crash the interpreter, and leave the weights as they
were.  The failing kernels sit inside the scan's step as well as outside it.  It runs
in a child process, like the logreg fuzz in test_module.py, so that a crash fails the
test instead of ending the run.
"""
import json
import os
import sys

import numpy as np
import pytest

import aotc
from aotc.build.module import build_module

from ..samples.test_sentiment_model import _model as sample_model
from . import check_error_text, import_built
from .test_module import run_child

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = dict(n_words=40, dim_proj=8, seed=3, optimizer="adam")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("lstm_fuzz"))
    with aotc.config.change_flags(floatX="float32"):
        predict, train_step, _ = sample_model().make_functions(TINY)
        result = build_module("lstm_fuzz", [("predict", predict), ("train_step", train_step)],
                              out_dir=out)
    return result


def _fuzz_main(so_path, max_examples):
    """Run in a child process: random bad calls must raise named errors, never crash."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    m = import_built("lstm_fuzz", so_path)
    V = TINY["n_words"]
    seen = {}

    @st.composite
    def good(draw):
        T = draw(st.integers(1, 6))
        B = draw(st.integers(1, 4))
        x = draw(hnp.arrays(np.int64, (T, B), elements=st.integers(-V, V - 1)))
        lens = draw(hnp.arrays(np.int64, (B,), elements=st.integers(1, T)))
        mask = (np.arange(T)[:, None] < lens[None, :]).astype("float32")
        y = draw(hnp.arrays(np.int64, (B,), elements=st.integers(0, 1)))
        return x, mask, y

    @st.composite
    def case(draw):
        x, mask, y = draw(good())
        T, B = x.shape
        fname = draw(st.sampled_from(["predict", "train_step"]))
        kind = draw(st.sampled_from(["word", "mask_steps", "mask_samples", "x_dtype", "x_rank",
                                     "mask_dtype", "y_range", "y_length", "valid"]))
        if kind in ("y_range", "y_length"):
            fname = "train_step"
        expected, texts = None, []
        if kind == "word":
            bad = draw(st.one_of(st.integers(V, 2 ** 40), st.integers(-2 ** 40, -V - 1)))
            x = x.copy()
            x[draw(st.integers(0, T - 1)), draw(st.integers(0, B - 1))] = bad
            expected, texts = IndexError, ["out of bounds for axis 0 with size %d" % V]
        elif kind == "mask_steps":
            t2 = draw(st.integers(0, 8).filter(lambda t: t != T))
            mask = np.ones((t2, B), "float32")
            expected = ValueError
        elif kind == "mask_samples":
            b2 = draw(st.integers(0, 6).filter(lambda b: b != B))
            mask = np.ones((T, b2), "float32")
            expected = ValueError
        elif kind == "x_dtype":
            x = x.astype(draw(st.sampled_from(["float32", "float64", "complex64", "uint64"])))
            expected, texts = TypeError, ["argument 0 (x)"]
        elif kind == "x_rank":
            x = x.reshape(draw(st.sampled_from([(T * B,), (T, B, 1), (1, T, B)])))
            expected, texts = TypeError, ["argument 0 (x)", "dimensions"]
        elif kind == "mask_dtype":
            mask = mask.astype(draw(st.sampled_from(["float64", "int64", "complex64"])))
            expected, texts = TypeError, ["argument 1 (mask)"]
        elif kind == "y_range":
            y = y.copy()
            y[draw(st.integers(0, B - 1))] = draw(st.one_of(st.integers(2, 2 ** 40),
                                                           st.integers(-2 ** 40, -3)))
            expected, texts = IndexError, ["out of bounds for axis 1 with size 2"]
        elif kind == "y_length":
            y = np.zeros(draw(st.integers(0, 6).filter(lambda n: n != B)), "int64")
            expected = (ValueError, IndexError)
        args = (x, mask) if fname == "predict" else (x, mask, y)
        return kind, fname, args, expected, texts

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case())
    def check(c):
        kind, fname, args, expected, texts = c
        before = {k: v.get_value() for k, v in m.shared.items()}
        if expected is None:
            out = getattr(m, fname)(*args)
            if fname == "predict":
                assert out.shape == (args[0].shape[1], 2) and np.all(np.isfinite(out))
                np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)
            else:
                assert np.isfinite(out)
            seen[kind] = seen.get(kind, 0) + 1
            return
        try:
            getattr(m, fname)(*args)
        except expected as e:
            if check_error_text(kind, str(e), texts, fname) and "Inside scan" in str(e):
                seen["in_step"] = seen.get("in_step", 0) + 1
        else:
            raise AssertionError("%s: %s raised nothing" % (kind, fname))
        # a failed call leaves every shared value as it was
        for k, old in before.items():
            np.testing.assert_array_equal(m.shared[k].get_value(), old, err_msg=k)
        seen[kind] = seen.get(kind, 0) + 1

    check()
    print(json.dumps(seen, sort_keys=True))


def test_bad_calls_to_a_loop_module_raise_named_errors(built):
    proc = run_child([sys.executable, "-c",
                      "import sys; from tests.build.test_scan_module_fuzz import _fuzz_main; "
                      "_fuzz_main(sys.argv[1], 250)", built["so"]], cwd=ROOT)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    kinds = {"word", "mask_steps", "mask_samples", "x_dtype", "x_rank", "mask_dtype", "y_range",
             "y_length", "valid"}
    assert kinds <= set(seen), seen
    assert seen.get("in_step", 0) >= 5, seen          # some failures came from inside the step
    assert sum(seen[k] for k in kinds) >= 200, seen
