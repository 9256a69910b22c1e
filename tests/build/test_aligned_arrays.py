"""Arrays the compiled code reads at every call start on a cache line (64 bytes).

NumPy's allocator gives 16 bytes, and the kernels' vector loads from such an array
straddle two lines every other load: a batch-1 LSTM step that streams its weights from
L2 took about a quarter longer.  So the module allocates its outputs from 1024
elements through an aligned NumPy memory handler (an update's new value is such an
output), and set_value, load_params and aotc.shared copy into aligned memory.  The
values must still be right and the memory still freed."""
import gc
import resource

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.build.module import build_module

from . import import_built

N = 96          # W is N x N: 9216 elements, above the module's 1024


def _address(a):
    return a.__array_interface__["data"][0]


def _model():
    W = aotc.shared(np.random.RandomState(0).randn(N, N) * 0.1, name="W")
    x = T.dmatrix("x")
    y = T.tanh(T.dot(x, W))
    step = aotc.function([x], [y, y.sum()], updates=[(W, W * np.float64(0.5) + np.float64(0.25))])
    return W, [("step", step)]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("aligned_arrays"))
    result = build_module("aligned_arrays", _model()[1], out_dir=out)
    return import_built("aligned_arrays", result["so"])


def test_a_modules_outputs_and_updated_values_start_on_a_cache_line(mod):
    W0 = mod.shared["W"].get_value()
    assert not mod.shared["W"].get_value(borrow=True).flags.writeable   # the embedded view
    rng = np.random.RandomState(1)
    W = W0
    for k in range(4):
        x = rng.randn(N, N)
        y, s = mod.step(x)
        ref = np.tanh(x @ W)
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(s, ref.sum(), rtol=1e-12)
        W = W * 0.5 + 0.25
        new = mod.shared["W"].get_value(borrow=True)
        np.testing.assert_allclose(new, W, rtol=1e-15)
        # the first update makes a new array (the embedded one is read-only), later ones
        # write over it: every one starts on a line, owns its data and is writeable
        for name, a in (("output", y), ("W after update %d" % k, new)):
            assert _address(a) % 64 == 0, name
            assert a.flags.owndata and a.flags.writeable and a.flags.c_contiguous, name
        del new


def test_the_aligned_outputs_are_freed(mod):
    """200 calls whose outputs take 8 MB: NumPy frees them through the same handler."""
    x = np.ones((1024 * 1024 // N, N))
    mod.step(x)
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(200):
        y, _s = mod.step(x)
        del y
    gc.collect()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, "resident memory grew by %.0f MB over 200 calls" % grown_mb


def test_in_process_shared_values_and_updates_start_on_a_cache_line():
    W, fns = _model()
    step = dict(fns)["step"]
    assert step._impl.backend == "c"
    assert _address(W.get_value(borrow=True)) % 64 == 0          # aotc.shared's copy
    rng = np.random.RandomState(2)
    for off in (8, 16, 48):
        buf = np.empty(N * N * 8 + 128, np.uint8)
        start = -_address(buf) % 64 + off
        v = buf[start:start + N * N * 8].view(np.float64).reshape(N, N)
        v[...] = rng.randn(N, N) * 0.1
        W.set_value(v, borrow=True)                               # copied: off a line
        got = W.get_value(borrow=True)
        assert got is not v and _address(got) % 64 == 0
        np.testing.assert_array_equal(got, v)
        x = rng.randn(5, N)
        y, _ = step(x)
        np.testing.assert_allclose(y, np.tanh(x @ v), rtol=1e-12, atol=1e-12)
        new = W.get_value(borrow=True)
        assert _address(new) % 64 == 0 and new.flags.owndata
        np.testing.assert_allclose(new, v * 0.5 + 0.25, rtol=1e-15)
    aligned = W.get_value(borrow=True)
    W.set_value(aligned, borrow=True)                             # kept: on a line
    assert W.get_value(borrow=True) is aligned
