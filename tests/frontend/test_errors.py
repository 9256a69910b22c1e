"""Error behaviour (THEANO_API.md section 13 and STYLE.md section 7).

Every error aotc raises on purpose derives from ``aotc.AotcError`` and from the
builtin a ported program catches; build-time errors name what was expected,
what came and the user's line; run-time errors describe the failing node.
"""
import inspect

import numpy as np
import pytest

import aotc
from aotc import config, errors, function, shared
from aotc import tensor as T

MODES = ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"]


@pytest.fixture(autouse=True)
def _reference_mode_by_default():
    """Build by reference unless a test names its mode: these are API semantics, equal in
    every mode, and compiling each of them would be slow; the tests parametrized over
    ``MODES`` run the compiled path too."""
    with config.change_flags(mode="FAST_COMPILE"):
        yield

_BUILTIN = {
    "ShapeError": ValueError, "AotcTypeError": TypeError, "AotcValueError": ValueError,
    "AotcIndexError": IndexError, "MissingInputError": ValueError,
    "UnusedInputError": ValueError, "DisconnectedInputError": ValueError,
    "NotDifferentiableError": TypeError, "NanInfError": FloatingPointError,
    "DebugModeError": AssertionError, "BuildError": RuntimeError,
}


def test_errors_every_class_derives_from_aotc_error_and_a_builtin():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, Exception) and c.__module__ == errors.__name__]
    assert aotc.AotcError is errors.AotcError
    for cls in classes:
        if cls is errors.AotcError:
            continue
        assert issubclass(cls, errors.AotcError), cls
        assert cls.__name__ in _BUILTIN, "add %s to the table of this test" % cls.__name__
        assert issubclass(cls, _BUILTIN[cls.__name__]), cls


@pytest.mark.parametrize("mode", MODES)
def test_runtime_shape_error_describes_node_shapes_strides_and_line(mode):
    x, y = T.dvectors("x", "y")
    z = x + x
    z = z + y
    f = function([x, y], z, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    err = info.value
    msg = str(err)
    assert isinstance(err, aotc.AotcError) and isinstance(err, errors.ShapeError)
    assert "Apply node that caused the error" in msg
    assert "add" in msg and ", y)" in msg                 # the op and its inputs
    assert "Inputs types: [TensorType(float64, vector), TensorType(float64, vector)]" in msg
    assert "Inputs shapes: [(2,), (3,)]" in msg
    assert "Inputs strides: [(8,), (8,)]" in msg
    assert "test_errors.py" in msg and "z = z + y" in msg


def test_runtime_shape_error_through_method_call_and_matrix():
    a = T.dmatrix("a")
    b = T.dmatrix("b")
    c = T.dot(a, b)
    f = function([a, b], c)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "(2, 3)" in msg and "(4, 5)" in msg
    assert "c = T.dot(a, b)" in msg
    assert isinstance(info.value, aotc.AotcError)


def test_runtime_index_error_is_index_error_with_line():
    x = T.dvector("x")
    i = T.lscalar("i")
    y = x[i]
    f = function([x, i], y)
    assert f(np.arange(3.0), 2) == 2.0
    with pytest.raises(IndexError) as info:
        f(np.arange(3.0), 5)
    assert isinstance(info.value, aotc.AotcError)
    assert "y = x[i]" in str(info.value) and "(3,)" in str(info.value)


def test_debug_mode_nan_error_names_op_and_line():
    x = T.dvector("x")
    y = T.sqrt(x)
    f = function([x], y, mode="DEBUG_MODE")
    with pytest.raises(FloatingPointError) as info:
        f(np.array([1.0, -1.0]))
    msg = str(info.value)
    assert "sqrt" in msg and "NaN" in msg and "y = T.sqrt(x)" in msg
    # other modes return the NaN as NumPy would
    out = function([x], y, mode="FAST_COMPILE")(np.array([1.0, -1.0]))
    assert np.isnan(out[1])


# ---------------------------------------------------------------------------
# build-time errors
# ---------------------------------------------------------------------------

def test_bad_dimshuffle_pattern_names_pattern_type_and_line():
    m = T.dmatrix("m")
    with pytest.raises(ValueError) as info:
        m.dimshuffle(0, 2)
    msg = str(info.value)
    assert isinstance(info.value, aotc.AotcError)
    assert "(0, 2)" in msg and "matrix" in msg and "out of range" in msg
    assert "test_errors.py" in msg and "m.dimshuffle(0, 2)" in msg


def test_dimshuffle_dropping_non_broadcastable_axis_is_error():
    m = T.dmatrix("m")
    with pytest.raises(ValueError) as info:
        m.dimshuffle(0)
    assert "broadcastable" in str(info.value) and "m.dimshuffle(0)" in str(info.value)


def test_dot_of_incompatible_static_shapes_names_types_and_line():
    c = T.col("c")                                   # its last axis has length 1
    with pytest.raises(ValueError) as info:
        T.dot(c, np.ones((3, 2)))
    msg = str(info.value)
    assert isinstance(info.value, aotc.AotcError)
    assert "inner dimensions" in msg and "col" in msg
    assert "T.dot(c, np.ones((3, 2)))" in msg


def test_dot_op_of_unsupported_ranks_names_ranks_and_line():
    a = T.dmatrix("a")
    b = T.dtensor3("b")
    with pytest.raises(TypeError) as info:
        T.Dot()(a, b)
    msg = str(info.value)
    assert "ndim 2" in msg and "ndim 3" in msg and "T.Dot()(a, b)" in msg


def test_unknown_dtype_names_expected_and_got():
    with pytest.raises(TypeError) as info:
        T.matrix(dtype="float33")
    msg = str(info.value)
    assert isinstance(info.value, aotc.AotcError)
    assert "float33" in msg and "float32" in msg and "int64" in msg


def test_fixed_dtype_constructor_conflict_is_error():
    with pytest.raises(TypeError, match="float32"):
        T.fmatrix(dtype="float64")


def test_tensor_type_bad_broadcastable_is_error():
    with pytest.raises(TypeError, match="broadcastable"):
        T.TensorType("float64", "ab")


def test_elemwise_bad_dtype_names_op_and_dtype():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        x & x
    msg = str(info.value)
    assert "and" in msg and "float64" in msg


def test_symbolic_truth_value_is_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="switch"):
        if x > 0:
            pass


def test_wrong_number_of_arguments_is_type_error():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x * y)
    with pytest.raises(TypeError) as info:
        f(1.0)
    assert isinstance(info.value, aotc.AotcError)
    assert "2 arguments" in str(info.value) and "got 1" in str(info.value)
    assert "y" in str(info.value)


def test_eval_missing_input_is_missing_input_error():
    x, y = T.dscalars("x", "y_missing")
    with pytest.raises(errors.MissingInputError, match="y_missing"):
        (x + y).eval({x: 1.0})


def test_float64_array_into_float32_input_is_type_error():
    x = T.fmatrix("x")
    f = function([x], x * x)
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 2)))
    assert isinstance(info.value, aotc.AotcError)


def test_shared_value_shape_change_error_points_at_line():
    s = shared(np.ones(3), name="s")
    v = T.dvector("v")
    out = s * v
    f = function([v], out)
    s.set_value(np.ones(4))
    with pytest.raises(ValueError) as info:
        f(np.ones(3))
    assert "(4,)" in str(info.value) and "out = s * v" in str(info.value)


def test_unknown_dtype_error_names_user_line():
    with pytest.raises(TypeError) as info:
        T.matrix(dtype="float33")
    assert "test_errors.py" in str(info.value)


def test_elemwise_bad_dtype_error_names_user_line():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        x & x
    assert "x & x" in str(info.value)
