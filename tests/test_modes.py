"""The three modes: FAST_RUN compiles to C, FAST_COMPILE evaluates by reference,
DEBUG_MODE runs both and raises on a difference, a NaN or an Inf."""
import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.errors import DebugModeError, NanInfError


def test_fast_run_uses_the_c_backend_and_fast_compile_the_reference():
    x = T.dmatrix("x")
    w = aotc.shared(np.ones((3, 2)), name="w")
    y = T.nnet.softmax(T.dot(x, w))
    fast = aotc.function([x], y)
    ref = aotc.function([x], y, mode="FAST_COMPILE")
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(fast(v), ref(v), rtol=1e-12)
    assert fast.backend == "c"
    assert ref.backend == "reference"


def test_functions_compile_on_first_call():
    x = T.dvector("x")
    f = aotc.function([x], T.exp(x))
    assert f._impl_cache is None
    f([1.0])
    assert f._impl_cache is not None


def test_debug_mode_agrees_and_returns_compiled_values():
    x = T.fmatrix("x")
    f = aotc.function([x], [T.tanh(x).sum(axis=1), T.nnet.sigmoid(x) * 2], mode="DEBUG_MODE")
    v = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    s, g = f(v)
    np.testing.assert_allclose(s, np.tanh(v).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(g, 2 / (1 + np.exp(-v)), rtol=1e-5)


def test_debug_mode_raises_on_a_difference(monkeypatch):
    x = T.dvector("x")
    y = T.exp(x) + 1   # the line named in the error
    f = aotc.function([x], y, mode="DEBUG_MODE")
    impl = f._impl
    real = impl.compiled.run
    monkeypatch.setattr(impl.compiled, "run", lambda vals: [v + 1e-3 for v in real(vals)])
    with pytest.raises(DebugModeError) as info:
        f(np.array([0.0, 1.0]))
    msg = str(info.value)
    assert "output 0" in msg and "test_modes.py" in msg and "y = T.exp(x) + 1" in msg


def test_debug_mode_raises_on_nan_naming_the_node():
    x = T.dvector("x")
    y = T.log(x)
    f = aotc.function([x], y * 2, mode="DEBUG_MODE")
    with pytest.raises(NanInfError) as info:
        f(np.array([-1.0, 1.0]))
    assert "log" in str(info.value) and "test_modes.py" in str(info.value)
