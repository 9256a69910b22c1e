"""``aotc.function``, ``aotc.In``, ``aotc.shared`` and modes, against Theano's behaviour.

THEANO_API.md sections 6 (function), 7 (shared).  Most graphs here are
elementwise-only so that they exercise ``function`` itself, not other ops.
"""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import aotc
from aotc import In, Mode, config, function, shared
from aotc import tensor as T
from aotc.errors import (AotcError, MissingInputError, NanInfError, ShapeError,
                         UnusedInputError)

MODES = ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"]


@pytest.fixture(autouse=True)
def _reference_mode_by_default():
    """Build by reference unless a test names its mode: these are API semantics, equal in
    every mode, and compiling each of them would be slow; the tests parametrized over
    ``MODES`` run the compiled path too."""
    with config.change_flags(mode="FAST_COMPILE"):
        yield


# ---------------------------------------------------------------------------
# inputs and outputs
# ---------------------------------------------------------------------------

def test_function_inputs_keyword():
    x = T.dvector("x")
    f = function(inputs=[x], outputs=x + x)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])


def test_function_inputs_as_tuple():
    x, y = T.dscalars("x", "y")
    f = function((x, y), x - y)
    assert f(5.0, 3.0) == 2.0


def test_function_inputs_not_a_list_is_type_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="list"):
        function(x, x + 1)


@pytest.mark.parametrize("mode", MODES)
def test_function_single_output_returns_ndarray(mode):
    x = T.dvector("x")
    out = function([x], x * x, mode=mode)([1.0, 2.0, 3.0])
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 4.0, 9.0])


@pytest.mark.parametrize("mode", MODES)
def test_function_list_outputs_return_list(mode):
    x = T.dscalar("x")
    one = function([x], [x + 1], mode=mode)(2.0)
    assert isinstance(one, list) and len(one) == 1
    assert isinstance(one[0], np.ndarray) and one[0] == 3.0
    two = function([x], [x + 1, x * 3], mode=mode)(2.0)
    assert isinstance(two, list) and [float(v) for v in two] == [3.0, 6.0]


def test_function_tuple_outputs_return_list():
    x = T.dscalar("x")
    res = function([x], (x + 1, x - 1))(2.0)
    assert isinstance(res, list) and [float(v) for v in res] == [3.0, 1.0]


def test_function_empty_or_omitted_outputs_return_empty_list():
    s = shared(0.0)
    assert function([], [])() == []
    assert function([], updates=[(s, s + 1)])() == []
    assert function([], [], updates=[(s, s + 1)])() == []
    assert s.get_value() == 2.0


@pytest.mark.parametrize("mode", MODES)
def test_function_scalar_outputs_are_0d_ndarrays(mode):
    x, y = T.dscalars("x", "y")
    i = T.lscalar("i")
    s = shared(5.0)
    f = function([x, y, i], [x * y, i + 1, s, x], mode=mode)
    outs = f(2.0, 4.0, 3)
    for o in outs:
        assert type(o) is np.ndarray and o.shape == ()
    assert outs[0] == 8.0 and outs[1] == 4 and outs[1].dtype == np.int64
    assert outs[2] == 5.0 and outs[3] == 2.0


def test_function_constant_output_is_fresh_array():
    f = function([], T.as_tensor_variable(np.arange(3.0)))
    a = f()
    a[0] = 42.0                      # the constant's data is read-only; a copy is not
    np.testing.assert_array_equal(f(), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_function_output_of_input_is_a_copy(mode):
    x = T.dvector("x")
    f = function([x], x, mode=mode)
    a = np.array([1.0, 2.0, 3.0])
    r = f(a)
    assert r is not a and not np.shares_memory(r, a)
    r[0] = -1.0
    assert a[0] == 1.0


@pytest.mark.parametrize("mode", MODES)
def test_function_output_of_shared_is_owned_by_caller(mode):
    s = shared(np.arange(3.0), name="s")
    f = function([], s, mode=mode)
    r = f()
    r[0] = 99.0
    assert s.get_value()[0] == 0.0
    assert f()[0] == 0.0


def test_function_repeated_output_gives_distinct_arrays():
    x = T.dvector("x")
    y = x + x
    a, b = function([x], [y, y])([1.0, 2.0])
    assert a is not b
    a[0] = 7.0
    assert b[0] == 2.0


def test_function_output_and_update_do_not_alias():
    s = shared(np.zeros(2))
    y = s + s
    f = function([], y, updates=[(s, y)])
    s.set_value(np.ones(2))
    r = f()
    r[0] = 50.0
    np.testing.assert_array_equal(s.get_value(), [2.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_function_update_to_other_shared_does_not_alias_it(mode):
    a = shared(np.zeros(3), name="a")
    b = shared(np.ones(3), name="b")
    function([], [], updates=[(a, b)], mode=mode)()
    np.testing.assert_array_equal(a.get_value(), [1.0, 1.0, 1.0])
    a.get_value(borrow=True)[0] = 5.0   # writing into a's storage must not reach b
    np.testing.assert_array_equal(b.get_value(), [1.0, 1.0, 1.0])


def test_function_non_variable_input_is_type_error():
    with pytest.raises(TypeError, match="input 0"):
        function([3.0], T.dscalar() + 1)


def test_function_computed_input_is_type_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="free variables"):
        function([x + 1], x)


def test_function_input_given_twice_is_error():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="twice"):
        function([x, x], x)


# ---------------------------------------------------------------------------
# updates
# ---------------------------------------------------------------------------

def _counter_updates(form, a, b):
    pairs = [(a, a + 1), (b, b * 2)]
    if form == "list_of_pairs":
        return pairs
    if form == "tuple_of_pairs":
        return tuple(pairs)
    if form == "list_of_lists":
        return [list(p) for p in pairs]
    if form == "dict":
        return dict(pairs)
    return OrderedDict(pairs)


@pytest.mark.parametrize("form", ["list_of_pairs", "tuple_of_pairs", "list_of_lists", "dict",
                                  "ordered_dict"])
def test_function_updates_accepts_every_form(form):
    a = shared(1.0, name="a")
    b = shared(3.0, name="b")
    f = function([], [a, b], updates=_counter_updates(form, a, b))
    assert [float(v) for v in f()] == [1.0, 3.0]     # outputs see the values before
    assert a.get_value() == 2.0 and b.get_value() == 6.0
    f()
    assert a.get_value() == 3.0 and b.get_value() == 12.0


@pytest.mark.parametrize("mode", MODES)
def test_function_updates_swap_two_shared(mode):
    a = shared(np.array([1.0, 2.0]), name="a")
    b = shared(np.array([3.0, 4.0]), name="b")
    f = function([], [], updates=[(a, b), (b, a)], mode=mode)
    f()
    np.testing.assert_array_equal(a.get_value(), [3.0, 4.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])
    f()
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(b.get_value(), [3.0, 4.0])


@pytest.mark.parametrize("mode", MODES)
def test_function_updates_read_pre_call_values(mode):
    a = shared(1.0, name="a")
    b = shared(0.0, name="b")
    f = function([], a, updates=[(a, a + 1), (b, a * 10)], mode=mode)
    assert f() == 1.0
    assert a.get_value() == 2.0
    assert b.get_value() == 10.0       # computed from a before the call, not after


def test_function_update_depends_on_input():
    w = shared(np.array([1.0, 2.0]), name="w")
    g = T.dvector("g")
    step = function([g], [], updates=[(w, w - g)])
    step(np.array([0.5, 0.25]))
    np.testing.assert_array_equal(w.get_value(), [0.5, 1.75])


def test_function_update_with_wrong_dtype_names_both_types():
    s = shared(np.zeros(3), name="s")          # float64
    x = T.fvector("x")
    with pytest.raises(TypeError) as info:
        function([x], [], updates=[(s, x)])
    msg = str(info.value)
    assert isinstance(info.value, AotcError)
    assert "s" in msg and "float64" in msg and "float32" in msg


def test_function_update_with_wrong_ndim_is_type_error():
    s = shared(np.zeros(3), name="s")
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="matrix"):
        function([m], [], updates=[(s, m)])


def test_function_update_target_must_be_shared():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="shared"):
        function([x], [], updates=[(x, x + 1)])


def test_function_update_not_a_pair_is_type_error():
    s = shared(0.0)
    with pytest.raises(TypeError, match="pair"):
        function([], [], updates=[(s, s + 1, s)])
    with pytest.raises(TypeError, match="updates"):
        function([], [], updates=s)


def test_function_update_twice_is_error():
    s = shared(0.0, name="s")
    with pytest.raises(ValueError, match="twice"):
        function([], [], updates=[(s, s + 1), (s, s + 2)])


def test_function_update_with_python_number():
    s = shared(5.0, name="s")
    i = shared(7, name="i")
    function([], [], updates=[(s, 0.0), (i, 0)])()
    assert s.get_value() == 0.0 and s.get_value().dtype == np.float64
    assert i.get_value() == 0 and i.get_value().dtype == np.int64


def test_function_update_with_lossy_python_number_is_type_error():
    i = shared(7, name="i")
    with pytest.raises(TypeError):
        function([], [], updates=[(i, 0.5)])


def test_function_update_keeps_int_dtype():
    n = shared(0, name="n")
    f = function([], n, updates=[(n, n + 1)])
    f()
    f()
    assert n.get_value() == 2 and n.get_value().dtype == np.int64


# ---------------------------------------------------------------------------
# givens
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("as_dict", [True, False])
def test_function_givens_replace_shared(as_dict):
    s = shared(1.0, name="s")
    x = T.dscalar("x")
    givens = {s: x} if as_dict else [(s, x)]
    f = function([x], s * 2, givens=givens)
    assert f(3.0) == 6.0
    assert s.get_value() == 1.0
    assert function([], s * 2)() == 2.0          # the original graph is untouched


@pytest.mark.parametrize("as_dict", [True, False])
def test_function_givens_replace_input_with_expression(as_dict):
    x, y = T.dscalars("x", "y")
    z = x * 3
    givens = {x: y + 1} if as_dict else [(x, y + 1)]
    f = function([y], z, givens=givens)
    assert f(1.0) == 6.0


def test_function_givens_replace_with_shared():
    x = T.dvector("x")
    data = shared(np.array([1.0, 2.0, 3.0]), name="data")
    f = function([], x * x, givens={x: data})
    np.testing.assert_array_equal(f(), [1.0, 4.0, 9.0])
    data.set_value(np.array([2.0]))
    np.testing.assert_array_equal(f(), [4.0])


def test_function_givens_apply_to_updates():
    s = shared(0.0, name="s")
    x = T.dscalar("x")
    k = T.dscalar("k")
    f = function([k], [], updates=[(s, s + x)], givens={x: k * 2})
    f(1.5)
    assert s.get_value() == 3.0


def test_function_givens_minibatch_slice_of_shared_data():
    data = shared(np.arange(10.0).reshape(5, 2), name="data")
    index = T.lscalar("index")
    x = T.dmatrix("x")
    bs = 2
    f = function([index], x + x, givens={x: data[index * bs:(index + 1) * bs]})
    np.testing.assert_array_equal(f(0), 2 * np.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(f(1), 2 * np.arange(4.0, 8.0).reshape(2, 2))
    np.testing.assert_array_equal(f(2), [[16.0, 18.0]])      # the short last batch


def test_function_givens_wrong_type_is_type_error():
    x = T.dvector("x")
    y = T.fvector("y")
    with pytest.raises(TypeError) as info:
        function([y], x + x, givens={x: y})
    assert "float32" in str(info.value) and "float64" in str(info.value)


def test_function_givens_bad_form_is_type_error():
    x, y = T.dscalars("x", "y")
    with pytest.raises(TypeError):
        function([y], x, givens=[(x,)])
    with pytest.raises(TypeError):
        function([y], x, givens=x)


# ---------------------------------------------------------------------------
# modes and names
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "DebugMode",
                                  Mode(linker="vm"), Mode(optimizer=None), Mode(linker="py"),
                                  Mode(linker="cvm", optimizer="fast_compile"), None],
                         ids=["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "DebugMode", "vm",
                              "optimizer_None", "py", "cvm_fast_compile", "default"])
def test_function_mode_is_accepted(mode):
    x, y = T.dvectors("x", "y")
    f = function([x, y], x * y + x, mode=mode)
    np.testing.assert_array_equal(f([1.0, 2.0], [3.0, 4.0]), [4.0, 10.0])


def test_mode_optimizer_none_selects_reference_evaluator():
    assert Mode(optimizer=None).kind == "FAST_COMPILE"
    assert Mode(linker="vm").kind == "FAST_RUN"
    assert Mode(linker="py").kind == "FAST_COMPILE"


@pytest.mark.parametrize("bad", ["FAST", "fast_run", "whatever"])
def test_function_bad_mode_string_is_clear_error(bad):
    x = T.dscalar("x")
    with pytest.raises(ValueError) as info:
        function([x], x, mode=bad)
    msg = str(info.value)
    assert repr(bad) in msg and "FAST_RUN" in msg and "FAST_COMPILE" in msg
    assert isinstance(info.value, AotcError)


def test_function_bad_mode_object_is_clear_error():
    x = T.dscalar("x")
    with pytest.raises(AotcError, match="Mode"):
        function([x], x, mode=42)


def test_mode_bad_linker_or_optimizer_is_error():
    with pytest.raises(ValueError, match="linker"):
        Mode(linker="turbo")
    with pytest.raises(ValueError, match="optimizer"):
        Mode(optimizer="everything")


def test_mode_excluding_including_are_accepted():
    x = T.dscalar("x")
    m = Mode(linker="vm").excluding("fusion", "inplace").including("alloc_empty_to_zeros")
    assert function([x], x + 1, mode=m)(1.0) == 2.0


def test_function_default_mode_follows_config_mode():
    x = T.dscalar("x")
    with config.change_flags(mode="FAST_COMPILE"):
        f = function([x], x + 1)
    assert f.maker.mode.kind == "FAST_COMPILE"
    with config.change_flags(mode="FAST_RUN"):
        assert function([x], x + 1).maker.mode.kind == "FAST_RUN"
    with config.change_flags(mode="DebugMode"):
        assert function([x], x + 1).maker.mode.kind == "DEBUG_MODE"


def test_function_debug_mode_raises_on_nan():
    x = T.dscalar("x")
    f = function([x], T.log(x), mode="DEBUG_MODE")
    assert f(1.0) == 0.0
    with pytest.raises(FloatingPointError) as info:
        f(-1.0)
    assert isinstance(info.value, (NanInfError, AotcError))
    assert "log" in str(info.value)


def test_function_name_is_kept_and_shown():
    x = T.dscalar("x")
    f = function([x], x + 1, name="my_fn")
    assert f.name == "my_fn"
    assert "my_fn" in repr(f)
    with pytest.raises(TypeError, match="my_fn"):
        f(1.0, 2.0)


# ---------------------------------------------------------------------------
# input conversion (allow_input_downcast)
# ---------------------------------------------------------------------------

def test_function_float64_array_into_fvector_is_type_error_naming_argument():
    x = T.fvector("xin")
    f = function([x], x + x)
    with pytest.raises(TypeError) as info:
        f(np.ones(3, dtype="float64"))
    msg = str(info.value)
    assert "xin" in msg and "float32" in msg and "float64" in msg
    assert "allow_input_downcast" in msg


def test_function_allow_input_downcast_accepts_float64_array():
    x = T.fvector("x")
    f = function([x], x + x, allow_input_downcast=True)
    out = f(np.array([0.1, 0.2, 0.3]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.array([0.2, 0.4, 0.6], dtype="float32"))


def test_in_allow_downcast_per_input():
    x = T.fscalar("x")
    y = T.fscalar("y")
    f = function([In(x, allow_downcast=True), y], x + y)
    assert f(np.float64(0.1), np.float32(1.0)).dtype == np.float32
    with pytest.raises(TypeError, match="y"):
        f(np.float32(0.1), np.float64(0.1))


def test_function_python_float_into_floatx_scalar_by_default():
    with config.change_flags(floatX="float32"):
        lr = T.scalar("lr")
        f = function([lr], lr * 2)
        out = f(0.0001)                      # LSTM's f_update(0.0001)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.float32(0.0002))


def test_function_lossy_python_float_into_non_floatx_scalar_is_type_error():
    # Theano: a Python float goes into a float32 input without allow_input_downcast
    # only when float32 is floatX (or the value is exact in float32).
    x = T.fscalar("x")
    f = function([x], x + 1)
    assert config.floatX == "float64"
    assert f(0.5) == 1.5                 # exact in float32: accepted
    with pytest.raises(TypeError, match="x"):
        f(0.1)


def test_function_int_lists_into_float_inputs():
    v = T.vector("v")
    m = T.matrix("m")
    fv = function([v], v + v)
    fm = function([m], m * m)
    np.testing.assert_array_equal(fv([0, 1, 2]), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(fm([[1, 2], [3, 4]]), [[1.0, 4.0], [9.0, 16.0]])
    np.testing.assert_array_equal(fv(range(3)), [0.0, 2.0, 4.0])


def test_function_int_array_into_dvector_is_lossless():
    x = T.dvector("x")
    out = function([x], x + x)(np.arange(3, dtype="int64"))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


def test_function_float_array_into_int_input_is_type_error():
    i = T.lvector("i")
    f = function([i], i + i)
    with pytest.raises(TypeError, match="int64"):
        f(np.array([1.5, 2.0]))
    np.testing.assert_array_equal(f([1, 2]), [2, 4])


def test_function_length1_array_does_not_broadcast_into_vector():
    x, y = T.dvectors("x", "y")
    f = function([x, y], x + y)
    with pytest.raises(ValueError) as info:
        f(np.ones(1), np.ones(3))
    assert isinstance(info.value, ShapeError)
    assert "(1,)" in str(info.value) and "(3,)" in str(info.value)


def test_function_wrong_ndim_is_type_error_naming_ndim():
    x = T.dvector("x")
    f = function([x], x + x)
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 3)))
    msg = str(info.value)
    assert "dimensions" in msg and "expected 1" in msg and "got 2" in msg and "x" in msg


def test_function_broadcastable_axis_must_have_length_1():
    r = T.row("r")
    f = function([r], r + r)
    np.testing.assert_array_equal(f(np.ones((1, 3))), 2 * np.ones((1, 3)))
    with pytest.raises(TypeError, match="broadcastable"):
        f(np.ones((2, 3)))


def test_function_non_numeric_argument_is_type_error():
    x = T.dvector("x")
    f = function([x], x + x)
    with pytest.raises(TypeError, match="numeric"):
        f(["a", "b"])


def test_function_accepts_non_contiguous_and_negative_strides():
    x = T.dvector("x")
    f = function([x], x * x)
    base = np.arange(10.0)
    np.testing.assert_array_equal(f(base[::2]), base[::2] ** 2)
    np.testing.assert_array_equal(f(base[::-1]), base[::-1] ** 2)


# ---------------------------------------------------------------------------
# on_unused_input
# ---------------------------------------------------------------------------

def test_function_unused_input_raises_by_default_naming_it():
    x, unused = T.dscalars("x", "unused_y")
    with pytest.raises(ValueError) as info:
        function([x, unused], x + 1)
    assert isinstance(info.value, UnusedInputError)
    assert "unused_y" in str(info.value) and "on_unused_input" in str(info.value)


def test_function_unused_input_warn():
    x, unused = T.dscalars("x", "unused_y")
    with pytest.warns(UserWarning, match="unused_y"):
        f = function([x, unused], x + 1, on_unused_input="warn")
    assert f(1.0, 2.0) == 2.0


def test_function_unused_input_ignore():
    x, unused = T.dscalars("x", "unused_y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = function([x, unused], x + 1, on_unused_input="ignore")
    assert f(1.0, 2.0) == 2.0
    with pytest.raises(TypeError):
        f(1.0)                            # still a declared argument


def test_function_unused_input_bad_value():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="on_unused_input"):
        function([x], x, on_unused_input="maybe")


def test_function_input_used_only_by_update_is_used():
    s = shared(0.0)
    x = T.dscalar("x")
    function([x], [], updates=[(s, s + x)])(2.0)
    assert s.get_value() == 2.0


# ---------------------------------------------------------------------------
# default updates
# ---------------------------------------------------------------------------

def _stream():
    s = shared(0.0, name="stream")
    s.default_update = s + 1
    return s


def test_function_default_update_advances_each_call():
    s = _stream()
    f = function([], s * 2)
    assert f() == 0.0 and f() == 2.0
    assert s.get_value() == 2.0


def test_function_no_default_updates_true():
    s = _stream()
    f = function([], s * 2, no_default_updates=True)
    assert f() == 0.0 and f() == 0.0
    assert s.get_value() == 0.0


def test_function_no_default_updates_list():
    s = _stream()
    t = _stream()
    f = function([], [s + 0, t + 0], no_default_updates=[s])
    f()
    f()
    assert s.get_value() == 0.0
    assert t.get_value() == 2.0


def test_function_explicit_update_overrides_default_update():
    s = _stream()
    f = function([], s + 0, updates=[(s, s + 10)])
    f()
    assert s.get_value() == 10.0


def test_function_default_update_of_unused_shared_is_not_applied():
    s = _stream()
    x = T.dscalar("x")
    function([x], x + 1)(1.0)
    assert s.get_value() == 0.0


# ---------------------------------------------------------------------------
# In(...), keywords, argument counting
# ---------------------------------------------------------------------------

def test_in_default_value():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=1.0)], x + y)
    assert f(33.0) == 34.0
    assert f(33.0, 2.0) == 35.0


def test_in_name_is_keyword():
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1.0), In(w, value=2.0, name="w_by_name")], z)
    assert f(33.0) == 68.0
    assert f(33.0, 2.0) == 70.0
    assert f(33.0, 0.0, 1.0) == 33.0
    assert f(33.0, w_by_name=1.0) == 34.0
    assert f(33.0, w_by_name=1.0, y=0.0) == 33.0


def test_function_keyword_arguments_by_variable_name():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x - y)
    assert f(y=1.0, x=5.0) == 4.0
    assert f(5.0, y=2.0) == 3.0


def test_function_unknown_keyword_is_type_error():
    x = T.dscalar("x")
    f = function([x], x + 1)
    with pytest.raises(TypeError) as info:
        f(1.0, bogus=2.0)
    assert "bogus" in str(info.value) and "x" in str(info.value)


def test_function_keyword_given_twice_is_type_error():
    x = T.dscalar("x")
    f = function([x], x + 1)
    with pytest.raises(TypeError, match="x"):
        f(1.0, x=2.0)


@pytest.mark.parametrize("args", [(), (1.0,), (1.0, 2.0, 3.0)])
def test_function_wrong_number_of_arguments_names_expected_and_got(args):
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y)
    with pytest.raises(TypeError) as info:
        f(*args)
    msg = str(info.value)
    assert isinstance(info.value, AotcError)
    assert "2 arguments" in msg and "got %d" % len(args) in msg


def test_in_rejects_non_variable():
    with pytest.raises(TypeError):
        In(3.0)


# ---------------------------------------------------------------------------
# missing / misplaced inputs
# ---------------------------------------------------------------------------

def test_function_missing_input_names_variable():
    x = T.dscalar("x")
    hidden = T.dscalar("hidden_var")
    with pytest.raises(MissingInputError) as info:
        function([x], x + hidden)
    msg = str(info.value)
    assert "hidden_var" in msg
    assert "test_function.py" in msg           # where the missing variable was created
    assert isinstance(info.value, AotcError)


def test_function_missing_input_in_update_is_error():
    s = shared(0.0)
    hidden = T.dscalar("hidden_var")
    with pytest.raises(MissingInputError, match="hidden_var"):
        function([], [], updates=[(s, s + hidden)])


def test_function_shared_as_explicit_input_is_type_error():
    s = shared(1.0, name="sh")
    with pytest.raises(TypeError) as info:
        function([s], s * 2)
    assert "sh" in str(info.value) and "givens" in str(info.value)


def test_function_constant_as_input_is_type_error():
    c = T.as_tensor_variable(1.0)
    with pytest.raises(TypeError, match="constant"):
        function([c], c + 1)


# ---------------------------------------------------------------------------
# shared variables
# ---------------------------------------------------------------------------

def test_shared_python_scalars_dtypes():
    i = shared(0)
    f = shared(0.0)
    assert i.dtype == "int64" and i.ndim == 0 and i.broadcastable == ()
    assert f.dtype == "float64" and f.ndim == 0
    assert i.get_value().dtype == np.int64 and f.get_value().dtype == np.float64


def test_shared_ndarray_attributes():
    s = shared(np.zeros((2, 3), dtype="float32"), name="W")
    assert s.name == "W" and s.dtype == "float32" and s.ndim == 2
    assert s.broadcastable == (False, False)
    assert s.type == T.TensorType("float32", (False, False))
    assert isinstance(s, aotc.gof.Variable) and s.owner is None
    s.name = "W2"
    assert s.name == "W2"


def test_shared_value_is_copied_in():
    a = np.arange(3.0)
    s = shared(a)
    a[0] = 9.0
    assert s.get_value()[0] == 0.0


def test_shared_get_value_returns_copy():
    s = shared(np.arange(3.0))
    v = s.get_value()
    v[0] = 7.0
    assert s.get_value()[0] == 0.0
    np.testing.assert_array_equal(s.get_value(borrow=True), [0.0, 1.0, 2.0])


def test_shared_set_value_copies():
    s = shared(np.zeros(3))
    b = np.ones(3)
    s.set_value(b)
    b[0] = 5.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0, 1.0])


def test_shared_set_value_python_float_into_float32():
    s = shared(np.float32(0.0), name="use_noise")
    s.set_value(1.0)
    assert s.get_value().dtype == np.float32 and s.get_value() == 1.0
    with config.change_flags(floatX="float32"):
        s.set_value(0.1)            # floatX scalars take any Python float
    assert s.get_value().dtype == np.float32
    np.testing.assert_allclose(s.get_value(), np.float32(0.1))


def test_shared_set_value_new_shape_used_by_functions():
    s = shared(np.zeros(3), name="s")
    f = function([], s + s)
    assert f().shape == (3,)
    s.set_value(np.ones(5))
    np.testing.assert_array_equal(f(), 2 * np.ones(5))
    s.set_value(np.ones(5), borrow=True)


def test_shared_set_value_wrong_ndim_or_dtype_is_type_error():
    s = shared(np.zeros(3), name="s")
    with pytest.raises(TypeError):
        s.set_value(np.zeros((2, 2)))
    i = shared(np.zeros(3, dtype="int32"))
    with pytest.raises(TypeError):
        i.set_value(np.array([0.5, 1.0, 2.0]))


def test_shared_borrow_true_keywords_accepted():
    data = np.arange(6.0).reshape(2, 3)
    s = shared(value=data, name="train_x", borrow=True)
    assert s.name == "train_x"
    np.testing.assert_array_equal(s.get_value(borrow=True), data)
    np.testing.assert_array_equal(s.get_value(), data)


def test_shared_usable_in_expressions():
    W = shared(np.array([1.0, 2.0]), name="W")
    x = T.dvector("x")
    y = W * x + W
    assert y.dtype == "float64" and y.ndim == 1
    np.testing.assert_array_equal(function([x], y)([3.0, 4.0]), [4.0, 10.0])


def test_shared_rejects_symbolic_and_non_numeric():
    with pytest.raises(TypeError):
        shared(T.dscalar())
    with pytest.raises(TypeError):
        shared("text")


@pytest.mark.parametrize("mode", MODES)
def test_shared_counter(mode):
    state = shared(0.0)
    inc = T.dscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)], mode=mode)
    assert acc(1) == 0.0
    assert state.get_value() == 1.0
    acc(300)
    assert state.get_value() == 301.0
    state.set_value(100.0)
    acc(1)
    assert state.get_value() == 101.0


def test_shared_counter_with_decrementor_and_givens():
    state = shared(0)
    inc = T.iscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)])
    dec = function([inc], state, updates=[(state, state - inc)])
    acc(1)
    dec(2)
    assert state.get_value() == -1
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip(1, 3) == 7
    assert state.get_value() == -1


def test_function_allow_input_downcast_false_rejects_lossy_python_float():
    with config.change_flags(floatX="float32"):
        x = T.scalar("x")
        f = function([x], x + 1, allow_input_downcast=False)
        assert f(0.5) == 1.5                # exact: accepted
        with pytest.raises(TypeError):
            f(0.1)


def test_function_maker_fgraph_inspection():
    x = T.dvector("x")
    s = shared(np.zeros(2), name="s")
    y = T.exp(x) + s
    f = function([x], y, updates=[(s, s + x)])
    fg = f.maker.fgraph
    assert fg.outputs[0] is y
    ops = [str(n.op) for n in fg.toposort()]
    assert any("exp" in o for o in ops) and any("add" in o for o in ops)
    assert fg.inputs == [x]


def test_out_borrow_is_accepted():
    x = T.dvector("x")
    out = function([x], aotc.Out(x + x, borrow=True))([1.0])
    np.testing.assert_array_equal(out, [2.0])


def test_function_two_updates_from_one_expression_do_not_alias():
    a = shared(np.zeros(2), name="a")
    b = shared(np.zeros(2), name="b")
    x = T.dvector("x")
    y = x + x
    function([x], [], updates=[(a, y), (b, y)])([1.0, 2.0])
    a.get_value(borrow=True)[0] = 9.0
    np.testing.assert_array_equal(b.get_value(), [2.0, 4.0])


def test_function_update_broadcast_pattern_is_fitted_to_shared():
    s = shared(np.zeros((1, 3)), name="s")
    r = T.row("r")
    function([r], [], updates=[(s, r)])(np.ones((1, 3)))
    np.testing.assert_array_equal(s.get_value(), np.ones((1, 3)))
    b = shared(np.zeros((1, 3)), name="b", broadcastable=(True, False))
    m = T.dmatrix("m")
    g = function([m], [], updates=[(b, m)])
    g(np.full((1, 3), 2.0))
    np.testing.assert_array_equal(b.get_value(), np.full((1, 3), 2.0))
    with pytest.raises(ValueError):
        g(np.ones((2, 3)))
    np.testing.assert_array_equal(b.get_value(), np.full((1, 3), 2.0))


def test_function_failed_call_updates_nothing():
    a = shared(0.0, name="a")
    v = shared(np.ones(3), name="v")
    x = T.dvector("x")
    f = function([x], [], updates=[(a, a + 1), (v, v + x)])
    with pytest.raises(ValueError):
        f(np.ones(2))
    assert a.get_value() == 0.0
    np.testing.assert_array_equal(v.get_value(), np.ones(3))
