"""The shape kernels (dimshuffle, rebroadcast, shape, make_vector, reshape, alloc, arange,
join) and the Print op at run time, through one compiled module.

The module holds every function below (built once, cached between runs); it
uses only elementwise and shape-family kernels, so it does not depend on the
other kernel families.  Each test calls its functions with edge-case arguments:
negative and non-unit strides, non-contiguous inputs, empty arrays, run-time
sizes (symbolic shapes, -1 inference, arange bounds).  Results must equal the reference evaluator's
exactly, and errors must be the module's ValueError subclasses with the
reference's text.
"""
import numpy as np
import pytest

from aotc import tensor as T
from aotc.build import compiler
from aotc.codegen.lower import FunctionSpec, lower
from aotc.codegen.render import render
from aotc.frontend.evaluator import evaluate
from aotc.frontend.ops import shape as S
from aotc.frontend.printing import Print
from aotc.frontend.types import TensorType

RNG = np.random.default_rng(11)
FUNCS = {}


def _functions():
    """name -> (inputs, output) of every function in the module."""
    f = {}
    x3, m = T.dtensor3("x3"), T.fmatrix("m")
    f["permute"] = ([x3], S.dimshuffle(x3, (2, "x", 0, 1)))
    f["transpose_f32"] = ([m], m.T)
    row = TensorType("float64", (False, True, False))("row")
    f["drop_axis"] = ([row], S.dimshuffle(row, (2, 0)))
    f["addbroadcast_drop"] = ([x3], S.dimshuffle(S.addbroadcast(x3, 1), (0, 2)))
    f["unbroadcast"] = ([row], S.unbroadcast(row, 1) * 2.0)

    f["shape"] = ([x3], x3.shape)
    a, b = T.iscalar("a"), T.lscalar("b")
    f["make_vector"] = ([a, b], S.make_vector([a, b, 3]))
    fa, fb = T.fscalar("fa"), T.fscalar("fb")
    f["stack_scalars"] = ([fa, fb], S.stack([fa, fb, fa]))

    n, k = T.lscalar("n"), T.iscalar("k")
    f["reshape_sym"] = ([x3, n, k], S.reshape(x3, (n, k)))
    f["reshape_sym_minus1"] = ([x3, n], S.reshape(x3, (n, -1, 1)))
    f["reshape_const"] = ([x3], S.reshape(x3, (5, 6)))
    f["flatten"] = ([x3], S.reshape(x3, (-1,)))
    iv = T.ivector("iv")
    f["reshape_vector"] = ([x3, iv], S.reshape(x3, iv, ndim=2))
    u8 = TensorType("uint8", ())("u8")
    f["reshape_u8"] = ([m, u8], S.reshape(m, (u8, -1)))
    f["reshape_then_add"] = ([x3, n], S.reshape(x3, (n, -1)) + 1.0)

    v = T.dvector("v")
    f["alloc_sym"] = ([v, n, k], S.alloc(v, n, k, 5))
    f["alloc_scalar"] = ([fa, n], S.alloc(fa, n, 3))
    r = TensorType("float64", (True, False))("r")
    f["alloc_row"] = ([r, n], S.alloc(r, 4, n, 3))
    f["zeros_sym"] = ([n, k], S.zeros((n, k), dtype="int32"))
    f["ones_sym"] = ([n, k], S.ones((k, 1, n), dtype="float32"))

    s0, s1, s2 = T.lscalar("s0"), T.lscalar("s1"), T.lscalar("s2")
    f["arange_int"] = ([s0, s1, s2], S.arange(s0, s1, s2))
    d0, d1, d2 = T.dscalar("d0"), T.dscalar("d1"), T.dscalar("d2")
    f["arange_float"] = ([d0, d1, d2], S.arange(d0, d1, d2))
    f["arange_f32"] = ([fa, fb], S.arange(fa, fb, np.float32(0.1)))
    f["arange_mixed_i32"] = ([d0, s1], S.arange(d0, s1, 2, dtype="int32"))
    f["arange_i8"] = ([s0, s1, s2], S.arange(s0, s1, s2, dtype="int8"))

    j1, j2 = T.dtensor3("j1"), T.dtensor3("j2")
    f["join1"] = ([j1, j2], S.concatenate([j1, j2], axis=1))
    f["join_neg"] = ([j1, j2], S.concatenate([j1, j2], axis=-1))
    im = T.imatrix("im")
    dm, dm2 = T.dmatrix("dm"), T.dmatrix("dm2")
    f["join_upcast"] = ([dm, im, dm2], S.join(0, dm, im, dm2))
    f["stack_mats"] = ([dm], S.stack([dm, dm * 2.0], axis=2))

    f["print_str"] = ([v], Print("v is")(v) * 2.0)
    f["print_attrs"] = ([m], Print('odd "msg" 100% ??= \\ é', attrs=("shape", "__str__"))(m))
    return f


@pytest.fixture(scope="module")
def mod():
    specs = []
    FUNCS.update(_functions())
    for name, (ins, out) in FUNCS.items():
        specs.append(FunctionSpec(name, [(v.name, v, False, None) for v in ins], [out], [],
                                  single=True))
    program, _ = lower("aotc_test_kernels_shape", specs)
    path = compiler.build(render(program), "aotc_test_kernels_shape")
    return compiler.load(path, "aotc_test_kernels_shape")


def _ref(name, *args):
    ins, out = FUNCS[name]
    return evaluate([out], {id(s): s.type.filter(a, allow_downcast=None, what=s.name)
                            for s, a in zip(ins, args)})[0]


def check(mod, name, *args):
    """The compiled result equals the reference evaluator's, bit for bit."""
    got = getattr(mod, name)(*args)
    want = _ref(name, *args)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape,
                                                                 want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    return got


def _x3(shape=(2, 3, 5)):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------
# views: dimshuffle, rebroadcast
# ---------------------------------------------------------------------------

def test_dimshuffle_negative_and_odd_strides(mod):
    x = _x3((4, 3, 10))
    for arg in (x, x[::-1], x[::2, ::-1, 1::3], np.asfortranarray(x), x[:, :0]):
        got = check(mod, "permute", arg)
        np.testing.assert_array_equal(got, np.transpose(arg, (2, 0, 1))[:, None])


def test_dimshuffle_transpose_f32(mod):
    m = RNG.standard_normal((3, 7)).astype("float32")
    np.testing.assert_array_equal(check(mod, "transpose_f32", m[:, ::-2]), m[:, ::-2].T)


def test_dimshuffle_drops_length_one_axis(mod):
    r = RNG.standard_normal((2, 1, 5))
    np.testing.assert_array_equal(check(mod, "drop_axis", r[::-1]), r[::-1, 0].T)


def test_rebroadcast_checks_length_one(mod):
    x = _x3((2, 1, 5))
    check(mod, "addbroadcast_drop", x)
    with pytest.raises(ValueError, match=r"axis 1 is marked broadcastable and must have "
                                         r"length 1, got shape \(2, 3, 5\)"):
        mod.addbroadcast_drop(_x3())
    with pytest.raises(ValueError):
        _ref("addbroadcast_drop", _x3())


def test_unbroadcast(mod):
    check(mod, "unbroadcast", RNG.standard_normal((3, 1, 2))[:, :, ::-1])


# ---------------------------------------------------------------------------
# shape, make_vector
# ---------------------------------------------------------------------------

def test_shape_of_strided_and_empty(mod):
    x = _x3((4, 6, 2))
    assert check(mod, "shape", x[::-2, 1:]).tolist() == [2, 5, 2]
    assert check(mod, "shape", np.zeros((0, 3, 0))).tolist() == [0, 3, 0]


def test_make_vector_mixed_dtypes(mod):
    got = check(mod, "make_vector", np.int32(-7), np.int64(2 ** 40))
    assert got.dtype == np.int64 and got.tolist() == [-7, 2 ** 40, 3]
    got = check(mod, "stack_scalars", np.float32(1.5), np.float32(-2.25))
    assert got.dtype == np.float32 and got.tolist() == [1.5, -2.25, 1.5]


# ---------------------------------------------------------------------------
# reshape
# ---------------------------------------------------------------------------

def test_reshape_views_and_copies(mod):
    x = _x3((4, 3, 10))
    args = [x[::-1], x[:, :, ::-1], x[1:3], x[::2, ::-1, 1::3], x.transpose(2, 0, 1).copy().T,
            np.asfortranarray(x)]
    for arg in args:
        n = arg.shape[0]
        check(mod, "reshape_sym", arg, n, arg.size // n)
        check(mod, "reshape_sym_minus1", arg, arg.shape[2])
        check(mod, "reshape_then_add", arg, arg.shape[1])
        check(mod, "flatten", arg)


def test_reshape_constant_target(mod):
    check(mod, "reshape_const", _x3()[:, ::-1])
    with pytest.raises(ValueError, match=r"cannot reshape an input of shape \(2, 3, 4\) "
                                         r"\(24 elements\) into shape \(5, 6\): the element "
                                         r"counts differ"):
        mod.reshape_const(_x3((2, 3, 4)))


def test_reshape_size_errors_name_the_sizes(mod):
    x = _x3()
    with pytest.raises(ValueError, match=r"shape \(2, 3, 5\) \(30 elements\) into shape "
                                         r"\(7, 4\): the element counts differ"):
        mod.reshape_sym(x, 7, 4)
    with pytest.raises(ValueError, match=r"into shape \(7, -1, 1\): the sizes do not divide"):
        mod.reshape_sym_minus1(x, 7)
    with pytest.raises(ValueError, match=r"into shape \(-1, -1\): at most one -1"):
        mod.reshape_sym(x, -1, -1)
    with pytest.raises(ValueError, match=r"into shape \(-3, -10\): at most one -1"):
        mod.reshape_sym(x, -3, -10)
    # products beyond int64 are a size mismatch, not a wrap-around
    with pytest.raises(ValueError, match="element counts differ"):
        mod.reshape_sym(x, 2 ** 62, 2 ** 30)
    # the reference says the same things
    for args in [(7, 4), (-1, -1)]:
        with pytest.raises(ValueError, match="cannot reshape"):
            _ref("reshape_sym", x, *args)


def test_reshape_empty(mod):
    e = np.zeros((0, 3, 5))
    assert check(mod, "flatten", e).shape == (0,)
    assert check(mod, "reshape_sym", e, 0, 7).shape == (0, 7)
    assert check(mod, "reshape_sym_minus1", e, 4).shape == (4, 0, 1)
    with pytest.raises(ValueError, match="the sizes do not divide"):
        mod.reshape_sym_minus1(e, 0)


def test_reshape_from_vector_argument(mod):
    x = _x3()
    check(mod, "reshape_vector", x[::-1], np.array([-1, 10], dtype="int32"))
    with pytest.raises(ValueError, match="the shape vector has 3 entries, expected 2"):
        mod.reshape_vector(x, np.array([2, 3, 5], dtype="int32"))
    # a strided shape vector is read through its stride
    check(mod, "reshape_vector", x, np.array([6, 0, 5, 0], dtype="int32")[::2])


def test_reshape_uint8_size(mod):
    m = RNG.standard_normal((4, 6)).astype("float32")
    check(mod, "reshape_u8", m.T, np.uint8(3))


# ---------------------------------------------------------------------------
# alloc
# ---------------------------------------------------------------------------

def test_alloc_symbolic_shape(mod):
    v = RNG.standard_normal(10)
    for n, k in [(2, 3), (1, 1), (0, 3), (3, 0)]:
        got = check(mod, "alloc_sym", v[::-2], n, k)
        np.testing.assert_array_equal(got, np.broadcast_to(v[::-2], (n, k, 5)))
    got = check(mod, "alloc_scalar", np.float32(2.5), 1000)
    assert got.shape == (1000, 3) and (got == 2.5).all()
    assert check(mod, "alloc_scalar", np.float32(1), 0).shape == (0, 3)


def test_alloc_broadcast_row(mod):
    r = RNG.standard_normal((1, 6))[:, ::-2]
    got = check(mod, "alloc_row", r, 2)
    np.testing.assert_array_equal(got, np.broadcast_to(r, (4, 2, 3)))


def test_alloc_errors(mod):
    v = RNG.standard_normal(5)
    with pytest.raises(ValueError, match=r"Alloc: negative size in \(2, -1, 5\)"):
        mod.alloc_sym(v, 2, -1)
    with pytest.raises(ValueError, match=r"Alloc: a value of shape \(4,\) does not fit the "
                                         r"shape \(2, 3, 5\) \(axis 0 is not broadcastable\)"):
        mod.alloc_sym(v[:4], 2, 3)
    with pytest.raises(ValueError, match="does not fit"):
        _ref("alloc_sym", v[:4], 2, 3)
    with pytest.raises(ValueError, match="negative size"):
        mod.zeros_sym(-3, 2)


def test_zeros_and_ones(mod):
    assert check(mod, "zeros_sym", 3, 4).dtype == np.int32
    assert check(mod, "ones_sym", 4, 3).shape == (3, 1, 4)
    assert check(mod, "ones_sym", 0, 3).shape == (3, 1, 0)


# ---------------------------------------------------------------------------
# arange
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(0, 10, 1), (2, 9, 3), (9, 2, -3), (5, 5, 1), (5, 0, 1),
                                  (-4, 7, 5), (0, 1, 2 ** 62), (-(2 ** 62), 2 ** 62, 2 ** 61)])
def test_arange_int(mod, args):
    np.testing.assert_array_equal(check(mod, "arange_int", *args), np.arange(*args))


@pytest.mark.parametrize("args", [(0.0, 1.0, 0.1), (0.3, 7.9, 0.7), (-2.5, 3.0, 0.3),
                                  (1.0, -1.0, -0.25), (0.0, 1.0, np.inf), (0.0, -1.0, np.inf),
                                  (1.0, 1.0, 0.5), (0.0, 1e-300, 1e300), (0.0, -1e-300, 1e300)])
def test_arange_float(mod, args):
    np.testing.assert_array_equal(check(mod, "arange_float", *args), np.arange(*args))


def test_arange_float32_and_mixed(mod):
    check(mod, "arange_f32", np.float32(0.1), np.float32(1.3))
    check(mod, "arange_f32", np.float32(2.0), np.float32(-1.0))
    got = check(mod, "arange_mixed_i32", 0.5, 9)
    np.testing.assert_array_equal(got, np.arange(0.5, 9, 2, dtype="int32"))
    # start + step beyond int8 wraps in the fill, exactly as NumPy's
    got = check(mod, "arange_i8", 0, 250, 100)
    np.testing.assert_array_equal(got, np.arange(0, 250, 100, dtype="int8"))


def test_arange_errors(mod):
    with pytest.raises(ValueError, match="step must not be zero"):
        mod.arange_int(0, 5, 0)
    with pytest.raises(ValueError, match="cannot compute length"):
        mod.arange_float(0.0, np.nan, 1.0)
    with pytest.raises(ValueError, match="overflow while computing length"):
        mod.arange_float(0.0, np.inf, 1.0)
    with pytest.raises(ValueError, match="does not fit dtype int8"):
        mod.arange_i8(300, 0, -1)


# ---------------------------------------------------------------------------
# join
# ---------------------------------------------------------------------------

def test_join_strided_inputs(mod):
    a = RNG.standard_normal((2, 3, 5))
    b = RNG.standard_normal((4, 8, 10))[::-2, ::2, ::2]
    got = check(mod, "join1", a, b)
    np.testing.assert_array_equal(got, np.concatenate([a, b], axis=1))
    c = RNG.standard_normal((2, 3, 4))[:, ::-1, ::-1]
    np.testing.assert_array_equal(check(mod, "join_neg", a, c), np.concatenate([a, c], -1))


def test_join_empty_inputs(mod):
    a = RNG.standard_normal((2, 3, 5))
    check(mod, "join1", a, np.zeros((2, 0, 5)))
    check(mod, "join1", np.zeros((2, 0, 5)), np.zeros((2, 0, 5)))
    check(mod, "join_neg", np.zeros((0, 3, 2)), np.zeros((0, 3, 1)))


def test_join_mismatch_raises(mod):
    a, b = RNG.standard_normal((2, 3, 5)), RNG.standard_normal((2, 4, 6))
    with pytest.raises(ValueError, match=r"Join: all axes except axis 1 must agree; input 0 "
                                         r"has shape \(2, 3, 5\) and input 1 has shape "
                                         r"\(2, 4, 6\)"):
        mod.join1(a, b)
    with pytest.raises(ValueError, match="must agree"):
        _ref("join1", a, b)


def test_join_upcast_and_stack(mod):
    d = RNG.standard_normal((2, 3))
    i = RNG.integers(-9, 9, size=(6, 3)).astype("int32")
    got = check(mod, "join_upcast", d[::-1], i[::2], d)
    assert got.dtype == np.float64 and got.shape == (7, 3)
    check(mod, "stack_mats", d.T.copy().T)


# ---------------------------------------------------------------------------
# Print
# ---------------------------------------------------------------------------

def test_print_output_matches_reference(mod, capsys):
    v = np.array([1.0, 2.5, -3.0])
    got = mod.print_str(v[::-1])
    compiled = capsys.readouterr().out
    want = _ref("print_str", v[::-1])
    reference = capsys.readouterr().out
    np.testing.assert_array_equal(got, want)
    assert compiled == reference == "v is __str__ = [-3.   2.5  1. ]\n"


def test_print_attrs_and_odd_message(mod, capsys):
    m = np.arange(6, dtype="float32").reshape(2, 3)
    got = mod.print_attrs(m.T)
    compiled = capsys.readouterr().out
    _ref("print_attrs", m.T)
    assert compiled == capsys.readouterr().out
    assert compiled.startswith('odd "msg" 100% ??= \\ é shape = (3, 2)\n')
    np.testing.assert_array_equal(got, m.T)
