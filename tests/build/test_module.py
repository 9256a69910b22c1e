"""aotc/build/module.py: the built module of samples/logreg, used the way production uses it.

The sample is built once for this file (``built`` fixture) and reused.  The
tests that could crash the interpreter (the bad-call fuzz, the run without
aotc or a compiler) run the module in a child process, so a segfault fails the
test instead of killing the session; the others import it here once.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

import aotc
from aotc.build import compiler
from aotc.build.module import build_module
from aotc.cli import collect_exports, load_model
from aotc.errors import AotcTypeError

from . import check_error_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "samples", "logreg", "model.py")
N_IN, N_OUT = 20, 3


# ---------------------------------------------------------------- numpy reference

def ref_predict(x, W, b):
    z = x @ W + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_train_step(x, y, W, b, lr):
    """(loss, new W, new b) of one SGD step on the mean negative log-likelihood."""
    p = ref_predict(x, W, b)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    d = p.copy()
    d[np.arange(n), y] -= 1.0
    d /= n
    return loss, W - lr * (x[:n].T @ d), b - lr * d.sum(axis=0)


def make_batch(seed, n=7):
    rng = np.random.RandomState(seed)
    return rng.randn(n, N_IN), rng.randint(0, N_OUT, size=n).astype("int32")


def make_params(seed):
    rng = np.random.RandomState(seed)
    return rng.randn(N_IN, N_OUT) * 0.3, rng.randn(N_OUT) * 0.3


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """build_module on the sample's exports: the result dict, the rewrite trace, the out dir."""
    out = str(tmp_path_factory.mktemp("logreg_build"))
    exports = collect_exports(load_model(MODEL))
    trace = []
    result = build_module("logreg", exports, out_dir=out, trace=trace)
    return result, trace, out


@pytest.fixture(scope="module")
def logreg(built):
    """The built module, imported into this process (once: it has single-phase init)."""
    path = built[0]["so"]
    spec = importlib.util.spec_from_file_location("logreg", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def set_params(m, seed):
    W, b = make_params(seed)
    m.shared["W"].set_value(W)
    m.shared["b"].set_value(b)
    return W, b


def run_child(args, **kw):
    """Run a Python child; a crash (negative return code) or a failure shows its output."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    assert proc.returncode == 0, "child exited with %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, proc.stdout[-4000:], proc.stderr[-6000:])
    return proc


# ---------------------------------------------------------------- build_module itself

def test_build_module_writes_so_stub_and_manifest(built, logreg):
    result, trace, out = built
    assert result["name"] == "logreg"
    assert sorted(os.listdir(out)) == sorted(
        os.path.basename(result[k]) for k in ("so", "pyi", "manifest"))
    assert result["so"].endswith("logreg" + compiler.ext_suffix())
    with open(result["manifest"]) as f:
        manifest = json.load(f)
    # the manifest embedded in the module is the one written beside it
    assert logreg.__aotc__ == manifest
    assert manifest["functions"]["train_step"]["updates"] == ["W", "b"]
    fired = {}
    for rule, _, _ in trace:
        fired[rule] = fired.get(rule, 0) + 1
    assert manifest["rewrites"] == fired and fired.get("log_softmax", 0) >= 1


def test_build_module_emit_returns_none_and_writes_nothing(tmp_path):
    exports = collect_exports(load_model(MODEL))
    printed = []
    out = tmp_path / "out"
    assert build_module("logreg", exports, out_dir=str(out), emit="c", echo=printed.append) is None
    assert not out.exists()
    text = "".join(printed)
    assert "PyInit_logreg" in text and "aotc_blob_start" in text


def test_build_module_non_function_export_raises_type_error(tmp_path):
    with pytest.raises(AotcTypeError, match="export 'predict': expected an aotc.function"):
        build_module("logreg", [("predict", lambda x: x)], out_dir=str(tmp_path))


# ---------------------------------------------------------------- the key test

_ISOLATED_CHILD = r'''
import inspect, json, shutil, sys
numpy_dir, module_dir, work = sys.argv[1:4]
sys.path[:0] = [numpy_dir, module_dir]
report = {"importable": []}
for name in ("aotc", "jinja2", "click", "setuptools", "Cython", "pytest", "hypothesis"):
    try:
        __import__(name)
        report["importable"].append(name)
    except ImportError:
        pass
report["compilers"] = [c for c in ("cc", "gcc", "clang", "c99") if shutil.which(c)]
import numpy as np
import logreg
m = logreg
report["file"] = m.__file__
inp = np.load(work + "/inputs.npz")
x, y = inp["x"], inp["y"]
out = {"W_baked": m.shared["W"].get_value(), "b_baked": m.shared["b"].get_value(),
       "p_baked": m.predict(x)}
m.load_params(work + "/params.npz")
out["p"] = m.predict(x)
out["loss"] = m.train_step(x, y)                     # lr defaults to 0.1
out["W1"], out["b1"] = m.shared["W"].get_value(), m.shared["b"].get_value()
out["loss_kw"] = m.train_step(y=y, lr=0.0, x=x)      # keywords; lr=0 leaves the weights
out["W2"] = m.shared["W"].get_value()
w = m.shared["W"].get_value()
w[...] = 99.0
report["get_value_is_copy"] = bool((m.shared["W"].get_value() == out["W1"]).all())
m.save_params(work + "/saved.npz")
m.shared["W"].set_value(np.zeros((20, 3)))
m.shared["b"].set_value([1.0, 2.0, 3.0])
out["b_set"] = m.shared["b"].get_value()
m.load_params(work + "/saved.npz")
out["W3"], out["b3"] = m.shared["W"].get_value(), m.shared["b"].get_value()
try:
    m.shared["W"].set_value(np.zeros(20))
    report["set_value_error"] = None
except TypeError as e:
    report["set_value_error"] = str(e)
report["manifest"] = m.__aotc__
report["doc"] = {"module": m.__doc__, "predict": m.predict.__doc__,
                 "train_step": m.train_step.__doc__}
report["signature"] = {"predict": str(inspect.signature(m.predict)),
                       "train_step": str(inspect.signature(m.train_step))}
report["modules"] = sorted(k for k in sys.modules
                           if k.split(".")[0] in ("aotc", "jinja2", "click", "setuptools"))
np.savez(work + "/outputs.npz", **out)
print(json.dumps(report))
'''


def test_built_module_runs_without_compiler_or_aotc(built, tmp_path):
    """Production: only Python and NumPy; no compiler on PATH, no aotc/jinja2/setuptools."""
    result, _, _ = built
    # the module alone, in a fresh folder (nothing beside it: no blob, no cache)
    module_dir = tmp_path / "site"
    module_dir.mkdir()
    shutil.copy2(result["so"], module_dir)
    # numpy alone: -S drops site-packages, where aotc's dependencies live beside numpy
    numpy_dir = tmp_path / "numpy_only"
    numpy_dir.mkdir()
    site = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    for name in ("numpy", "numpy.libs"):
        if os.path.exists(os.path.join(site, name)):
            os.symlink(os.path.join(site, name), numpy_dir / name)
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    x, y = make_batch(3)
    W, b = make_params(4)
    np.savez(work / "inputs.npz", x=x, y=y)
    np.savez(work / "params.npz", W=W, b=b)

    env = {"PATH": str(empty), "HOME": str(work)}
    proc = run_child([sys.executable, "-I", "-S", "-c", _ISOLATED_CHILD, str(numpy_dir),
                      str(module_dir), str(work)], env=env, cwd=str(work))
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    out = dict(np.load(work / "outputs.npz"))

    assert report["importable"] == []
    assert report["compilers"] == []
    assert report["modules"] == []
    assert os.path.dirname(report["file"]) == str(module_dir)
    # the baked values are the model's initial zeros
    np.testing.assert_array_equal(out["W_baked"], np.zeros((N_IN, N_OUT)))
    np.testing.assert_array_equal(out["b_baked"], np.zeros(N_OUT))
    np.testing.assert_allclose(out["p_baked"], np.full((len(x), N_OUT), 1.0 / 3), rtol=1e-14)
    # predict and train_step against NumPy
    np.testing.assert_allclose(out["p"], ref_predict(x, W, b), rtol=1e-12, atol=1e-15)
    loss, W1, b1 = ref_train_step(x, y, W, b, 0.1)
    assert out["loss"].shape == () and out["loss"].dtype == np.float64
    np.testing.assert_allclose(out["loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(out["W1"], W1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["b1"], b1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["loss_kw"], ref_train_step(x, y, W1, b1, 0.0)[0], rtol=1e-12)
    np.testing.assert_array_equal(out["W2"], out["W1"])
    # get_value / set_value / save_params / load_params
    assert report["get_value_is_copy"] is True
    np.testing.assert_array_equal(out["b_set"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out["W3"], out["W1"])
    np.testing.assert_array_equal(out["b3"], out["b1"])
    assert "set_value of W" in report["set_value_error"]
    assert "expected 2, got 1" in report["set_value_error"]
    # manifest and docstrings
    with open(result["manifest"]) as f:
        assert report["manifest"] == json.load(f)
    assert report["manifest"]["aotc_version"] == aotc.__version__
    assert report["doc"]["predict"] == "predict(x: float64[:, :]) -> array"
    assert report["doc"]["train_step"] == ("train_step(x: float64[:, :], y: int32[:], "
                                           "lr: float64[]) -> array")
    assert "predict(x: float64[:, :])" in report["doc"]["module"]
    assert report["signature"] == {"predict": "(x)", "train_step": "(x, y, lr=0.1)"}


# ---------------------------------------------------------------- bad calls (fuzz)

def _fuzz_main(module_dir, max_examples):
    """Run in a child process: random bad calls must raise named errors, never crash."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    sys.path.insert(0, module_dir)
    import logreg as m

    W, b = make_params(11)
    m.shared["W"].set_value(W)
    m.shared["b"].set_value(b)
    seen = {}

    finite = st.floats(-10, 10, allow_nan=False, width=64)

    def x_of(n):
        return hnp.arrays(np.float64, (n, N_IN), elements=finite)

    def labels(n):
        return hnp.arrays(np.int32, (n,), elements=st.integers(0, N_OUT - 1))

    # each case: (kind, function, args, expected builtin, texts the message must contain)
    not_numeric = st.sampled_from([
        None, "abc", ["a", "b"], [["a"] * N_IN], [[1.0, 2.0], [3.0]], {"x": 1}, b"bytes",
        np.array([[object()] * N_IN]), np.ones((2, N_IN), complex), np.array([["s"] * N_IN]),
        [[1.0] * N_IN, [2.0] * (N_IN - 1)]])

    @st.composite
    def bad_x(draw):
        fname = draw(st.sampled_from(["predict", "train_step"]))
        value = draw(st.one_of(
            not_numeric,
            hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, max_side=4)
                       .filter(lambda s: len(s) != 2))))
        args = (value,) if fname == "predict" else (value, np.zeros(1, "int32"))
        return "x_type", fname, args, TypeError, ["%s: argument 0 (x)" % fname]

    @st.composite
    def wrong_columns(draw):
        n = draw(st.integers(1, 6))
        k = draw(st.integers(0, 40).filter(lambda k: k != N_IN))
        x = draw(hnp.arrays(np.float64, (n, k), elements=finite))
        if draw(st.booleans()):
            return "x_columns", "predict", (x,), ValueError, ["(x, W)", "inner dimensions", "model.py:24"]
        y = draw(labels(n))
        return "x_columns", "train_step", (x, y), ValueError, ["(x, W)", "inner dimensions", "model.py:24"]

    @st.composite
    def bad_y(draw):
        n = draw(st.integers(1, 6))
        x = draw(x_of(n))
        fractional = st.floats(0.01, 2.99).filter(lambda v: v != int(v))
        y = draw(st.one_of(
            hnp.arrays(np.float64, (n,), elements=fractional),
            st.lists(fractional, min_size=n, max_size=n),
            hnp.arrays(np.int64, (n,), elements=st.integers(0, 2)),
            hnp.arrays(np.int32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)
                       .filter(lambda s: len(s) != 1), elements=st.integers(0, 2)),
            not_numeric))
        return "y_type", "train_step", (x, y), TypeError, ["train_step: argument 1 (y)"]

    @st.composite
    def out_of_range_y(draw):
        n = draw(st.integers(1, 6))
        x = draw(x_of(n))
        y = draw(labels(n))
        bad = draw(st.one_of(st.integers(N_OUT, 2 ** 31 - 1), st.integers(-2 ** 31, -N_OUT - 1)))
        y[draw(st.integers(0, n - 1))] = bad
        return ("y_range", "train_step", (x, y), IndexError,
                ["AdvancedSubtensor", "out of bounds", "model.py:25", "Inputs shapes",
                 "Inputs strides", "In function: train_step"])

    @st.composite
    def fewer_rows_than_labels(draw):
        n = draw(st.integers(1, 6))
        x = draw(x_of(draw(st.integers(0, n - 1))))
        return ("rows", "train_step", (x, draw(labels(n))), IndexError,
                ["AdvancedSubtensor", "model.py:25"])

    @st.composite
    def bad_lr(draw):
        x, y = make_batch(0, 3)
        lr = draw(st.one_of(st.sampled_from([None, "fast", 1j, [0.1, 0.2], np.ones((1, 1))]),
                            hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2))))
        return "lr_type", "train_step", (x, y, lr), TypeError, ["train_step: argument 2 (lr)"]

    cases = st.one_of(bad_x(), wrong_columns(), bad_y(), out_of_range_y(),
                      fewer_rows_than_labels(), bad_lr())

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(cases)
    def check(case):
        kind, fname, args, expected, texts = case
        before = [m.shared[k].get_value() for k in ("W", "b")]
        try:
            getattr(m, fname)(*args)
        except expected as e:
            if check_error_text(kind, str(e), texts, fname):
                seen["kernel"] = seen.get("kernel", 0) + 1
        else:
            raise AssertionError("%s: %s%r raised nothing" % (kind, fname, args))
        # a failed call leaves the shared state as it was
        for k, old in zip(("W", "b"), before):
            np.testing.assert_array_equal(m.shared[k].get_value(), old)
        seen[kind] = seen.get(kind, 0) + 1

    check()
    print(json.dumps(seen, sort_keys=True))


def test_built_module_bad_calls_raise_named_errors(built):
    so_dir = os.path.dirname(built[0]["so"])
    proc = run_child([sys.executable, "-c",
                      "import sys; from tests.build.test_module import _fuzz_main; "
                      "_fuzz_main(sys.argv[1], 300)", so_dir], cwd=ROOT)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(seen) == {"x_type", "x_columns", "y_type", "y_range", "rows", "lr_type", "kernel"}, seen
    assert sum(v for k, v in seen.items() if k != "kernel") >= 250


# ---------------------------------------------------------------- accepted inputs

def test_built_module_accepts_lossless_conversions(logreg):
    W, b = set_params(logreg, 17)
    x, y = make_batch(18, n=5)
    xi = np.round(x * 4).astype("int16")
    expected = ref_predict(xi.astype(float), W, b)
    for value in (xi, xi.tolist(), xi.astype("float32"), xi.astype(float).tolist()):
        np.testing.assert_allclose(logreg.predict(value), expected, rtol=1e-12)
    loss = ref_train_step(x, y, W, b, 0.0)[0]
    for labels in (y.tolist(), y.astype("int8"), y.astype(float).tolist()):
        np.testing.assert_allclose(logreg.train_step(x, labels, 0), loss, rtol=1e-12)


def test_built_module_rows_beyond_labels_are_ignored(logreg):
    """The model gathers rows arange(len(y)): extra rows of x take no part (as in Theano)."""
    x, y = make_batch(19, n=8)
    set_params(logreg, 20)
    loss = logreg.train_step(x, y[:5], 0.3)
    W1 = logreg.shared["W"].get_value()
    W, b = make_params(20)
    ref_loss, ref_W, _ = ref_train_step(x[:5], y[:5], W, b, 0.3)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(W1, ref_W, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- strides and byte order

@pytest.mark.parametrize("view", [
    lambda x: x[:, ::-1],
    lambda x: x.T.copy().T,
    lambda x: x[::2],
    lambda x: x[::-3, :],
    lambda x: np.concatenate([x, x], axis=1)[:, ::2],
    lambda x: np.broadcast_to(x[:1], x.shape),
], ids=["reversed_columns", "fortran", "every_other_row", "negative_row_step",
        "column_step_2", "zero_row_stride"])
def test_built_module_strided_inputs_match_contiguous(logreg, view):
    W, b = set_params(logreg, 5)
    x = view(make_batch(6, n=9)[0])
    assert not x.flags.c_contiguous
    got = logreg.predict(x)
    np.testing.assert_array_equal(got, logreg.predict(np.ascontiguousarray(x)))
    np.testing.assert_allclose(got, ref_predict(np.ascontiguousarray(x), W, b), rtol=1e-12)


def test_built_module_train_step_strided_labels_match_contiguous(logreg):
    x, y = make_batch(7, n=10)
    xs, ys = x[::-2], np.concatenate([y, y])[::-4]
    results = []
    for xa, ya in ((xs, ys), (np.ascontiguousarray(xs), np.ascontiguousarray(ys))):
        set_params(logreg, 8)
        loss = logreg.train_step(xa, ya, 0.5)
        results.append((loss, logreg.shared["W"].get_value(), logreg.shared["b"].get_value()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    W, b = make_params(8)
    np.testing.assert_allclose(results[0][1], ref_train_step(
        np.ascontiguousarray(xs), np.ascontiguousarray(ys), W, b, 0.5)[1], rtol=1e-12)


def test_built_module_big_endian_inputs_match_native(logreg):
    W, b = set_params(logreg, 9)
    x, y = make_batch(10)
    np.testing.assert_array_equal(logreg.predict(x.astype(">f8")), logreg.predict(x))
    logreg.shared["b"].set_value(b.astype(">f8"))
    np.testing.assert_allclose(logreg.predict(x), ref_predict(x, W, b), rtol=1e-12)
    loss = logreg.train_step(x, y.astype(">i4"), 0.0)
    np.testing.assert_allclose(loss, ref_train_step(x, y, W, b, 0.0)[0], rtol=1e-12)


# ---------------------------------------------------------------- parameters

def test_load_params_bad_file_leaves_values_unchanged(logreg, tmp_path):
    W, b = set_params(logreg, 12)
    cases = {"wrong_ndim": dict(W=np.ones((N_IN, N_OUT)), b=np.ones((1, N_OUT))),
             "unknown": dict(W=W, b=b, V=b),
             "missing": dict(W=np.ones((N_IN, N_OUT)))}
    for name, arrays in cases.items():
        path = str(tmp_path / (name + ".npz"))
        np.savez(path, **arrays)
        with pytest.raises((TypeError, ValueError), match="load_params"):
            logreg.load_params(path)
        np.testing.assert_array_equal(logreg.shared["W"].get_value(), W, err_msg=name)
        np.testing.assert_array_equal(logreg.shared["b"].get_value(), b, err_msg=name)


def test_save_params_writes_plain_npz(logreg, tmp_path):
    W, b = set_params(logreg, 13)
    path = str(tmp_path / "p.npz")
    logreg.save_params(path)
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["W", "b"]
        np.testing.assert_array_equal(data["W"], W)
        np.testing.assert_array_equal(data["b"], b)


def _misaligned(a, by=16):
    """A C-contiguous copy of a whose data starts `by` bytes past a 64-byte boundary."""
    buf = np.empty(a.nbytes + 128, np.uint8)
    off = (-buf.ctypes.data % 64) + by
    out = buf[off:off + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def test_shared_values_start_on_a_cache_line(logreg, tmp_path):
    """set_value and load_params give a value an array of its own that starts on a 64-byte
    boundary whatever the given array's address (NumPy's allocator gives 16); borrow=True
    keeps the caller's array only where it already does."""
    W, b = make_params(14)
    x = np.random.RandomState(14).randn(7, N_IN)
    for by in (0, 8, 16, 48):
        Wm = _misaligned(W, by)
        assert Wm.ctypes.data % 64 == by
        for borrow in (False, True):
            logreg.shared["W"].set_value(Wm, borrow=borrow)
            logreg.shared["b"].set_value(b)
            got = logreg.shared["W"].get_value(borrow=True)
            assert got.ctypes.data % 64 == 0, (by, borrow)
            assert got.flags.c_contiguous and got.flags.writeable
            assert (got is Wm) == (borrow and by == 0), (by, borrow)
            np.testing.assert_array_equal(got, W)
            np.testing.assert_allclose(logreg.predict(x), ref_predict(x, W, b), rtol=1e-12)
    path = str(tmp_path / "p.npz")
    np.savez(path, W=W, b=b)
    logreg.load_params(path)
    for name, ref in (("W", W), ("b", b)):
        got = logreg.shared[name].get_value(borrow=True)
        assert got.ctypes.data % 64 == 0, name
        np.testing.assert_array_equal(got, ref)
    # a strided array given with borrow=True is copied too
    logreg.shared["W"].set_value(np.asfortranarray(W), borrow=True)
    got = logreg.shared["W"].get_value(borrow=True)
    assert got.flags.c_contiguous and got.ctypes.data % 64 == 0
    np.testing.assert_array_equal(got, W)


# ---------------------------------------------------------------- threads

def _in_threads(n, target):
    errors = []
    barrier = threading.Barrier(n)

    def run(k):
        try:
            barrier.wait()
            target(k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)


def test_built_module_concurrent_predict_correct(logreg):
    W, b = set_params(logreg, 14)
    inputs = [make_batch(100 + k, n=2000)[0] for k in range(6)]
    expected = [ref_predict(x, W, b) for x in inputs]
    got = {}

    def work(k):
        got[k] = [logreg.predict(inputs[k]) for _ in range(25)]

    _in_threads(len(inputs), work)
    for k, results in got.items():
        for r in results:
            np.testing.assert_allclose(r, expected[k], rtol=1e-12, atol=1e-15)


def test_built_module_concurrent_train_steps_serialized(logreg):
    """Steps on one batch give the same states in any order: a lost update would show."""
    x, y = make_batch(15, n=4000)
    n_threads, steps = 4, 10
    set_params(logreg, 16)
    sequential = [float(logreg.train_step(x, y, 0.2)) for _ in range(n_threads * steps)]
    W_seq = logreg.shared["W"].get_value()
    set_params(logreg, 16)
    losses = []

    def work(k):
        for _ in range(steps):
            losses.append(float(logreg.train_step(x, y, 0.2)))

    _in_threads(n_threads, work)
    np.testing.assert_allclose(sorted(losses), sorted(sequential), rtol=1e-12)
    np.testing.assert_allclose(logreg.shared["W"].get_value(), W_seq, rtol=1e-12, atol=1e-15)


def test_build_module_keeps_scalar_shared_values_zero_dimensional(tmp_path):
    from aotc import tensor as T
    step = aotc.shared(np.float64(3.0), name="step")
    scale = aotc.shared(np.array([[2.0]]), name="scale", broadcastable=(True, True))
    x = T.dvector("x")
    f = aotc.function([x], x * step * scale[0, 0], updates=[(step, step + 1.0)], name="f")
    res = build_module("aotc_scalar_shared", [("f", f)], out_dir=str(tmp_path))
    m = compiler.load(res["so"], "aotc_scalar_shared")
    assert m.shared["step"].get_value().shape == ()
    assert m.shared["scale"].get_value().shape == (1, 1)
    np.testing.assert_allclose(m.f(np.array([1.0, 2.0])), [6.0, 12.0])
    np.testing.assert_allclose(m.f(np.array([1.0])), [8.0])
    assert m.shared["step"].get_value() == 5.0
