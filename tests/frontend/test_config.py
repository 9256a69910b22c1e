"""``aotc.config``: floatX, AOTC_FLAGS, compute_test_value (THEANO_API.md section 2).

Every test restores the flags it changes (``config.change_flags`` or try/finally).
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import aotc
from aotc import config, function, shared
from aotc import tensor as T
from aotc.errors import AotcError


def _run_python(code, flags=None):
    """Run ``code`` in a fresh interpreter with AOTC_FLAGS set (or unset)."""
    env = dict(os.environ)
    env.pop("AOTC_FLAGS", None)
    if flags is not None:
        env["AOTC_FLAGS"] = flags
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)


def test_config_is_one_object():
    from aotc import config as c2
    assert c2 is aotc.config


def test_config_floatx_default_is_float64_and_flags_are_read_at_import():
    code = ("import aotc; from aotc import tensor as T; "
            "print(aotc.config.floatX, T.scalar().dtype, T.matrix().dtype, "
            "aotc.config.compute_test_value)")
    res = _run_python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["float64", "float64", "float64", "off"]
    res = _run_python(code, flags="floatX=float32,compute_test_value=warn")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["float32", "float32", "float32", "warn"]


def test_config_bad_aotc_flags_fail_at_import_naming_the_flag():
    res = _run_python("import aotc", flags="floatX=float33")
    assert res.returncode != 0
    assert "floatX" in res.stderr and "float33" in res.stderr
    res = _run_python("import aotc", flags="floatX")
    assert res.returncode != 0 and "AOTC_FLAGS" in res.stderr


def test_config_legacy_flags_are_accepted():
    res = _run_python("import aotc; c = aotc.config; "
                      "print(c.floatX, c.warn.subtensor_merge_bug, c.exception_verbosity)",
                      flags="floatX=float32, warn.subtensor_merge_bug=False,device=cpu,"
                            "optimizer=fast_compile,exception_verbosity=high")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["float32", "False", "high"]


def test_config_floatx_assignable():
    old = config.floatX
    try:
        config.floatX = "float32"
        assert T.scalar().dtype == "float32"
        assert T.matrix("m").dtype == "float32"
        assert T.vector(dtype="int64").dtype == "int64"
        assert T.dvector().dtype == "float64"            # fixed-dtype constructors ignore it
        x = T.vector("x")
        f = function([x], x + x)
        assert f([1.0, 2.0]).dtype == np.float32
    finally:
        config.floatX = old
    assert T.scalar().dtype == old


def test_config_change_flags_restores_even_on_error():
    with pytest.raises(RuntimeError):
        with config.change_flags(floatX="float32"):
            assert T.scalar().dtype == "float32"
            raise RuntimeError("boom")
    assert config.floatX == "float64"


def test_config_floatx_invalid_value_is_clear_error():
    with pytest.raises(ValueError) as info:
        config.floatX = "float33"
    msg = str(info.value)
    assert isinstance(info.value, AotcError)
    assert "floatX" in msg and "float33" in msg and "float32" in msg
    assert config.floatX == "float64"


def test_config_invalid_compute_test_value_and_mode():
    with pytest.raises(ValueError, match="compute_test_value"):
        config.compute_test_value = "sometimes"
    with pytest.raises(ValueError, match="mode"):
        config.mode = "SUPER_FAST"
    assert config.compute_test_value == "off" and config.mode == "FAST_RUN"


def test_config_mode_accepts_every_function_mode_name():
    for name in ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "DebugMode", "NanGuardMode"):
        with config.change_flags(mode=name):
            x = T.dscalar("x")
            assert function([x], x + 1)(1.0) == 2.0


def test_config_legacy_sections_accepted():
    try:
        config.warn.subtensor_merge_bug = False
        assert config.warn.subtensor_merge_bug is False
        config.nvcc.fastmath = True
        assert config.nvcc.fastmath is True
    finally:
        del config.warn.subtensor_merge_bug
        del config.nvcc.fastmath


def test_config_unknown_attribute_reads_do_not_crash():
    assert hasattr(config, "floatX")
    assert config.print_test_value is False


# ---------------------------------------------------------------------------
# compute_test_value
# ---------------------------------------------------------------------------

def test_compute_test_value_raise_errors_on_the_building_line():
    with config.change_flags(compute_test_value="raise"):
        x = T.dvector("x")
        y = T.dvector("y")
        x.tag.test_value = np.ones(3)
        y.tag.test_value = np.ones(2)
        z = x * 2.0
        assert z.tag.test_value.shape == (3,)
        with pytest.raises(ValueError) as info:
            bad = z + y   # the line the error must name
    msg = str(info.value)
    assert isinstance(info.value, AotcError)
    assert "test_config.py" in msg and "bad = z + y" in msg
    assert "(3,)" in msg and "(2,)" in msg


def test_compute_test_value_propagates_values():
    with config.change_flags(compute_test_value="raise"):
        x = T.dmatrix("x")
        x.tag.test_value = np.arange(6.0).reshape(2, 3)
        w = shared(np.ones(3), name="w")
        y = T.tanh(x * w + 1)
        np.testing.assert_allclose(y.tag.test_value, np.tanh(np.arange(6.0).reshape(2, 3) + 1))
        s = (x * x).sum()
        assert s.tag.test_value == pytest.approx(55.0)


def test_compute_test_value_off_builds_lazily():
    with config.change_flags(compute_test_value="off"):
        x = T.dvector("x")
        y = T.dvector("y")
        x.tag.test_value = np.ones(3)
        y.tag.test_value = np.ones(2)
        z = x + y                       # no error while building
        assert not hasattr(z.tag, "test_value")
    f = function([x, y], z)
    with pytest.raises(ValueError):
        f(np.ones(3), np.ones(2))


def test_compute_test_value_raise_missing_value_is_clear_error():
    with config.change_flags(compute_test_value="raise"):
        x = T.dvector("x_no_value")
        y = T.dvector("y")
        y.tag.test_value = np.ones(2)
        with pytest.raises(ValueError) as info:
            x + y
    msg = str(info.value)
    assert "x_no_value" in msg and "test_value" in msg and "test_config.py" in msg


def test_compute_test_value_warn_missing_value_warns():
    with config.change_flags(compute_test_value="warn"):
        x = T.dvector("x_no_value")
        with pytest.warns(UserWarning, match="x_no_value"):
            z = x + x
        assert not hasattr(z.tag, "test_value")


def test_compute_test_value_ignore_missing_value_is_silent():
    with config.change_flags(compute_test_value="ignore"):
        x = T.dvector("x")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            z = x + x
        assert not hasattr(z.tag, "test_value")


def test_compute_test_value_constants_and_shared_need_no_tag():
    with config.change_flags(compute_test_value="raise"):
        s = shared(np.arange(3.0), name="s")
        z = s * 2.0 + T.as_tensor_variable(np.ones(3))
        np.testing.assert_array_equal(z.tag.test_value, [1.0, 3.0, 5.0])
