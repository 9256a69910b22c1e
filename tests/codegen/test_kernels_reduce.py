"""The reduce / argmax / dot / softmax kernels at run time, through one compiled module.

The module (built once, cached between runs) holds every function below; the
tests call them with the arguments the op table does not cover: transposed,
reversed and strided views, empty axes, NaN, huge softmax inputs, long float32
sums, products whose inner sizes disagree.  Results are compared with NumPy;
errors must be the module's ValueError subclasses naming the shapes.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aotc import tensor as T
from aotc.build import compiler
from aotc.codegen.lower import FunctionSpec, lower
from aotc.codegen.render import render
from aotc.frontend.ops import nnet
from aotc.frontend.types import TensorType

RNG = np.random.default_rng(11)
AXES3 = [ax for n in range(4) for ax in itertools.combinations(range(3), n)]


def _name(axes):
    return "".join(str(a) for a in axes) or "none"


def _functions():
    """name -> (inputs, output) of every function in the module."""
    f = {}
    t3 = T.dtensor3("t3")
    for ax in AXES3:
        f["sum3_" + _name(ax)] = ([t3], T.sum(t3, axis=ax))
        f["max3_" + _name(ax)] = ([t3], T.max(t3, axis=ax))
        if ax:
            f["argmax3_" + _name(ax)] = ([t3], T.argmax(t3, axis=ax))
    f["min3_02"] = ([t3], T.min(t3, axis=(0, 2)))
    f["argmin3_1"] = ([t3], T.argmin(t3, axis=1))
    f["prod3_1"] = ([t3], T.prod(t3, axis=1))
    i3 = T.itensor3("i3")
    f["all3_02"] = ([i3], T.all(i3, axis=(0, 2)))
    f["any3_1"] = ([i3], T.any(i3, axis=1))
    f["isum3_2"] = ([i3], T.sum(i3, axis=2))

    v, m = T.dvector("v"), T.dmatrix("m")
    for kind in ("sum", "prod", "max", "min", "all", "any"):
        f[kind + "_vec"] = ([v], getattr(T, kind)(v))
        f[kind + "_rows"] = ([m], getattr(T, kind)(m, axis=1))
    f["argmax_vec"] = ([v], T.argmax(v))
    f["argmin_vec"] = ([v], T.argmin(v))
    f["argmax_rows"] = ([m], T.argmax(m, axis=1))
    f["argmin_cols"] = ([m], T.argmin(m, axis=0))

    fv, fm = T.fvector("fv"), T.fmatrix("fm")
    f["fsum_vec"] = ([fv], T.sum(fv))
    f["fsum_cols"] = ([fm], T.sum(fm, axis=0))
    f["fsum_rows"] = ([fm], T.sum(fm, axis=1))
    b8 = TensorType("int8", (False,))("b8")
    f["sum_int8_wraps"] = ([b8], T.sum(b8, dtype="int8"))
    u8 = TensorType("uint8", (False,))("u8")
    f["sum_uint8"] = ([u8], T.sum(u8))
    lv = T.lvector("lv")
    f["lsum_vec"] = ([lv], T.sum(lv))
    f["lprod_vec"] = ([lv], T.prod(lv))

    a, b = T.dmatrix("a"), T.dmatrix("b")
    f["dot_mm"] = ([a, b], T.dot(a, b))
    fa, fb = T.fmatrix("fa"), T.fmatrix("fb")
    f["fdot_mm"] = ([fa, fb], T.dot(fa, fb))
    f["dot_mv"] = ([a, v], T.dot(a, v))
    f["dot_vm"] = ([v, b], T.dot(v, b))
    w = T.dvector("w")
    f["dot_vv"] = ([v, w], T.dot(v, w))
    f["dot_t3m"] = ([t3, b], T.dot(t3, b))
    f["dot_t3v"] = ([t3, v], T.dot(t3, v))
    f["dot_mixed"] = ([fa, b], T.dot(fa, b))
    ia, ib = T.imatrix("ia"), T.imatrix("ib")
    f["idot_mm"] = ([ia, ib], T.dot(ia, ib))
    f["idot_float"] = ([ia, fb], T.dot(ia, fb))
    ca, cb = TensorType("int8", (False, False))("ca"), TensorType("int8", (False, False))("cb")
    f["i8dot_wraps"] = ([ca, cb], T.dot(ca, cb))
    ba, bb = TensorType("bool", (False, False))("ba"), TensorType("bool", (False, False))("bb")
    f["bdot"] = ([ba, bb], T.dot(ba, bb))

    x = T.dmatrix("x")
    f["softmax"] = ([x], nnet.softmax(x))
    f["log_softmax"] = ([x], nnet.log_softmax(x))
    f["fsoftmax"] = ([fm], nnet.softmax(fm))
    f["flog_softmax"] = ([fm], nnet.log_softmax(fm))
    f["softmax_vec"] = ([v], nnet.softmax(v))
    dy, sm, row = T.dmatrix("dy"), T.dmatrix("sm"), T.row("row")
    f["softmax_grad"] = ([dy, sm], nnet.SoftmaxGrad()(dy, sm))
    f["softmax_grad_row"] = ([row, sm], nnet.SoftmaxGrad()(row, sm))
    return f


@pytest.fixture(scope="module")
def mod():
    specs = []
    for name, (ins, out) in _functions().items():
        specs.append(FunctionSpec(name, [(v.name, v, False, None) for v in ins], [out], [],
                                  single=True))
    program, _ = lower("aotc_test_kernels_reduce", specs)
    path = compiler.build(render(program), "aotc_test_kernels_reduce")
    return compiler.load(path, "aotc_test_kernels_reduce")


def _generic_functions():
    """A few functions whose hot loops cover every template's variants (see test_generic_isa)."""
    f = _functions()
    return {k: f[k] for k in ("sum3_02", "sum3_1", "max3_0", "argmax3_12", "isum3_2", "all3_02",
                              "fsum_vec", "fsum_cols", "fsum_rows", "argmax_rows", "max_rows",
                              "softmax", "fsoftmax", "log_softmax", "softmax_grad")}


@pytest.fixture(scope="module")
def generic_mod():
    """The same kernels with the runtime forced to the baseline ISA (no AVX2 paths).

    A test-only build: the module's init is edited to force the generic level, which
    the runtime's dispatch (aotc_force_isa) then uses for every kernel.
    """
    specs = []
    for name, (ins, out) in _generic_functions().items():
        specs.append(FunctionSpec(name, [(v.name, v, False, None) for v in ins], [out], [],
                                  single=True))
    name = "aotc_test_kernels_reduce_generic"
    program, _ = lower(name, specs)
    sources = render(program)
    text = sources[name + ".c"]
    assert text.count("    aotc_runtime_init();\n") == 1
    sources[name + ".c"] = text.replace("    aotc_runtime_init();\n",
                                        "    aotc_force_isa(AOTC_ISA_GENERIC);\n")
    return compiler.load(compiler.build(sources, name), name)


def _views3():
    """A (2, 3, 5)-shaped family: contiguous, reversed, transposed, strided, zero-stride."""
    base = RNG.standard_normal((4, 6, 10))
    c = base[:2, :3, :5].copy()
    return {
        "contiguous": c,
        "reversed": base[::-2, ::-2, ::-2],
        "transposed": np.ascontiguousarray(base[:5, :3, :2]).transpose(2, 1, 0),
        "strided": base[1::2, ::2, 1::2],
        "mixed": np.ascontiguousarray(base[:3, :5, :2]).transpose(2, 0, 1)[:, ::-1, :],
        "broadcast": np.broadcast_to(base[0, 0, :5], (2, 3, 5)),
    }


# ---------------------------------------------------------------------------
# reductions over every axis subset, on every kind of view
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("view", list(_views3()))
def test_reduce_every_axis_subset_on_views(mod, view):
    x = _views3()[view]
    for ax in AXES3:
        np.testing.assert_allclose(getattr(mod, "sum3_" + _name(ax))(x), np.sum(x, axis=ax),
                                   rtol=1e-13, atol=1e-13, err_msg=str(ax))
        np.testing.assert_array_equal(getattr(mod, "max3_" + _name(ax))(x), np.max(x, axis=ax))
        if ax:
            # several axes: the index into those axes flattened in C order
            keep = [d for d in range(3) if d not in ax]
            moved = np.transpose(x, keep + list(ax))
            want = np.argmax(moved.reshape(moved.shape[:len(keep)] + (-1,)), axis=-1)
            np.testing.assert_array_equal(getattr(mod, "argmax3_" + _name(ax))(x), want)
    np.testing.assert_array_equal(mod.min3_02(x), np.min(x, axis=(0, 2)))
    np.testing.assert_array_equal(mod.argmin3_1(x), np.argmin(x, axis=1))
    np.testing.assert_allclose(mod.prod3_1(x), np.prod(x, axis=1), rtol=1e-14)


def test_reduce_int_and_bool_kinds_on_views(mod):
    base = RNG.integers(-2, 3, size=(4, 6, 10)).astype("int32")
    for x in (base[:2, :3, :5], base[::-2, ::-2, ::-2], base[:5, :3, :2].T):
        np.testing.assert_array_equal(mod.all3_02(x), np.all(x, axis=(0, 2)))
        np.testing.assert_array_equal(mod.any3_1(x), np.any(x, axis=1))
        got = mod.isum3_2(x)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.sum(x, axis=2, dtype="int64"))


def test_reduce_rows_of_transposed_and_reversed_matrices(mod):
    m = RNG.standard_normal((7, 9))
    for x in (m.T, m[::-1], m[:, ::-3], m.T[::-2]):
        np.testing.assert_allclose(mod.sum_rows(x), x.sum(axis=1), rtol=1e-13)
        np.testing.assert_array_equal(mod.max_rows(x), x.max(axis=1))
        np.testing.assert_array_equal(mod.argmax_rows(x), x.argmax(axis=1))
        np.testing.assert_array_equal(mod.argmin_cols(x), x.argmin(axis=0))
    v = RNG.standard_normal(20)[::-1]
    np.testing.assert_array_equal(mod.argmax_vec(v), np.argmax(v))
    np.testing.assert_allclose(mod.sum_vec(v[::3]), v[::3].sum(), rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(shape=st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 9)),
       perm=st.permutations([0, 1, 2]), flips=st.tuples(st.booleans(), st.booleans(),
                                                        st.booleans()),
       axes=st.sampled_from(AXES3))
def test_reduce_fuzz(mod, shape, perm, flips, axes):
    x = np.transpose(RNG.standard_normal(shape), perm)
    x = x[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]
    np.testing.assert_allclose(getattr(mod, "sum3_" + _name(axes))(x), np.sum(x, axis=axes),
                               rtol=1e-12, atol=1e-12)
    empty = any(x.shape[a] == 0 for a in axes)
    if empty:
        with pytest.raises(ValueError, match="zero-size array"):
            getattr(mod, "max3_" + _name(axes))(x)
    else:
        np.testing.assert_array_equal(getattr(mod, "max3_" + _name(axes))(x),
                                      np.max(x, axis=axes))


# ---------------------------------------------------------------------------
# empty reductions, NaN, integer wrap-around
# ---------------------------------------------------------------------------

def test_empty_reductions_give_the_identity(mod):
    e = np.zeros(0)
    assert mod.sum_vec(e) == 0 and mod.sum_vec(e).shape == ()
    assert mod.prod_vec(e) == 1
    assert mod.all_vec(e).dtype == np.bool_ and bool(mod.all_vec(e)) is True
    assert bool(mod.any_vec(e)) is False
    z = np.zeros((3, 0))
    np.testing.assert_array_equal(mod.sum_rows(z), np.zeros(3))
    np.testing.assert_array_equal(mod.prod_rows(z), np.ones(3))
    np.testing.assert_array_equal(mod.all_rows(z), np.ones(3, bool))
    # no rows: an empty result, not an error, even for max (NumPy agrees)
    assert mod.max_rows(np.zeros((0, 4))).shape == (0,)
    assert mod.argmax_rows(np.zeros((0, 4))).shape == (0,)


@pytest.mark.parametrize("fn,arg", [("max_vec", (0,)), ("min_vec", (0,)), ("max_rows", (3, 0)),
                                    ("min_rows", (0, 0)), ("max3_02", (2, 3, 0))])
def test_max_of_empty_raises_value_error(mod, fn, arg):
    with pytest.raises(ValueError, match="zero-size array to reduction operation") as e:
        getattr(mod, fn)(np.zeros(arg))
    assert "Inputs shapes" in str(e.value)


@pytest.mark.parametrize("fn,arg", [("argmax_vec", (0,)), ("argmin_vec", (0,)),
                                    ("argmax_rows", (2, 0)), ("argmin_cols", (0, 3))])
def test_argmax_of_empty_raises_value_error(mod, fn, arg):
    with pytest.raises(ValueError, match="empty sequence"):
        getattr(mod, fn)(np.zeros(arg))


def test_nan_propagates_like_numpy(mod):
    v = np.array([1.0, np.nan, 3.0, np.nan, -2.0])
    assert np.isnan(mod.max_vec(v)) and np.isnan(mod.min_vec(v))
    assert mod.argmax_vec(v) == np.argmax(v) == 1
    assert mod.argmin_vec(v) == np.argmin(v) == 1
    assert mod.argmax_vec(v[::-1]) == np.argmax(v[::-1])
    m = RNG.standard_normal((4, 40))
    m[1, 33] = np.nan
    m[3, 0] = np.nan
    for x in (m, m[:, ::-1]):
        np.testing.assert_array_equal(mod.max_rows(x), x.max(axis=1))
        np.testing.assert_array_equal(mod.min_rows(x), x.min(axis=1))
        np.testing.assert_array_equal(mod.argmax_rows(x), x.argmax(axis=1))
    t = RNG.standard_normal((2, 3, 5))
    t[1, 2, 0] = np.nan
    np.testing.assert_array_equal(mod.max3_0(t), t.max(axis=0))
    np.testing.assert_array_equal(mod.argmax3_12(t), np.argmax(t.reshape(2, 15), axis=1))
    # all/any treat NaN as non-zero
    assert bool(mod.all_vec(np.array([np.nan, 1.0]))) is True


def test_argmax_ties_give_the_first_index(mod):
    v = np.array([3.0, 7.0, 1.0, 7.0, 7.0])
    assert mod.argmax_vec(v) == 1 and mod.argmax_vec(v[::-1]) == 0
    m = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]])
    np.testing.assert_array_equal(mod.argmax_rows(m), [0, 1])
    np.testing.assert_array_equal(mod.argmin_cols(np.ones((3, 2))), [0, 0])


def test_integer_sums_wrap_and_widen_like_numpy(mod):
    b = np.full(40, 100, dtype="int8")
    got = mod.sum_int8_wraps(b)
    assert got.dtype == np.int8 and got == np.sum(b, dtype="int8")
    u = np.full(1000, 255, dtype="uint8")
    got = mod.sum_uint8(u)
    assert got.dtype == np.uint64 and got == 255000
    # int64 overflow wraps (two's complement), in both the 8-lane and the strided loops
    big = RNG.integers(-2 ** 62, 2 ** 62, size=41)
    for v in (big, big[::-2]):
        assert mod.lsum_vec(v) == np.sum(v) and mod.lprod_vec(v) == np.prod(v)


# ---------------------------------------------------------------------------
# float32 accuracy
# ---------------------------------------------------------------------------

def test_float32_sum_of_a_million_is_accurate(mod):
    x = RNG.uniform(0.0, 1.0, 1_000_000).astype("float32")
    want = np.sum(x, dtype="float64")
    for view in (x, x[::-1]):
        assert abs(float(mod.fsum_vec(view)) - want) <= 1e-5 * want
    h = x[::2]
    assert abs(float(mod.fsum_vec(h)) - np.sum(h, dtype="float64")) <= 1e-5 * want
    # the long axis outermost (accumulated per column) and innermost (per row)
    m = x.reshape(250_000, 4)
    np.testing.assert_allclose(mod.fsum_cols(m), np.sum(m, axis=0, dtype="float64"), rtol=1e-5)
    np.testing.assert_allclose(mod.fsum_rows(m.T), np.sum(m.T, axis=1, dtype="float64"),
                               rtol=1e-5)
    c = np.full(1_000_000, 0.1, dtype="float32")
    assert abs(float(mod.fsum_vec(c)) - 1e6 * float(np.float32(0.1))) <= 1e-5 * 1e5


# ---------------------------------------------------------------------------
# dot
# ---------------------------------------------------------------------------

def test_dot_transposed_and_reversed_operands(mod):
    a = RNG.standard_normal((7, 5))
    b = RNG.standard_normal((5, 6))
    for x in (a, a[::-1], np.asfortranarray(a), RNG.standard_normal((5, 7)).T, a[:, ::-1]):
        for y in (b, b.T.copy().T, b[::-1], b[:, ::-2], np.broadcast_to(b[:1], (5, 6))):
            np.testing.assert_allclose(mod.dot_mm(x, y), x @ y, rtol=1e-12, atol=1e-12)
    fa, fb = a.astype("float32"), b.astype("float32")
    np.testing.assert_allclose(mod.fdot_mm(fa.T.copy().T, fb[::-1]), fa @ fb[::-1], rtol=1e-5)
    np.testing.assert_allclose(mod.fdot_mm(np.asfortranarray(fa), np.asfortranarray(fb)),
                               fa @ fb, rtol=1e-5)
    v = RNG.standard_normal(5)
    np.testing.assert_allclose(mod.dot_mv(a.T.copy().T, v[::-1]), a @ v[::-1], rtol=1e-12)
    mt = RNG.standard_normal((5, 7)).T
    np.testing.assert_allclose(mod.dot_mv(mt, v), mt @ v, rtol=1e-12)
    w = RNG.standard_normal(7)
    np.testing.assert_allclose(mod.dot_vm(w[::-1], a[::-1]), w[::-1] @ a[::-1], rtol=1e-12)
    np.testing.assert_allclose(mod.dot_vv(v, v[::-1]), v @ v[::-1], rtol=1e-12)


def test_dot_nd_operands_whose_rows_do_not_merge(mod):
    t = RNG.standard_normal((3, 4, 5))
    b = RNG.standard_normal((5, 2))
    v = RNG.standard_normal(5)
    for x in (t, t.transpose(1, 0, 2), t[:, ::-1], t[::2, :, ::-1], t.transpose(2, 1, 0)[:, :, ::-1].T):
        np.testing.assert_allclose(mod.dot_t3m(x, b), np.dot(x, b), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mod.dot_t3v(x, v), np.dot(x, v), rtol=1e-12, atol=1e-12)


def test_dot_integer_bool_and_mixed_dtypes(mod):
    ia = RNG.integers(-50, 50, size=(4, 6)).astype("int32")
    ib = RNG.integers(-50, 50, size=(6, 3)).astype("int32")
    np.testing.assert_array_equal(mod.idot_mm(ia.T.copy().T, ib[::-1]), ia @ ib[::-1])
    np.testing.assert_array_equal(mod.idot_mm(ia[:, ::-1], np.asfortranarray(ib)),
                                  ia[:, ::-1] @ ib)
    got = mod.idot_float(ia, ib.astype("float32"))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ia @ ib.astype("float64"), rtol=1e-12)
    ca = RNG.integers(-128, 128, size=(3, 8)).astype("int8")
    cb = RNG.integers(-128, 128, size=(8, 2)).astype("int8")
    got = mod.i8dot_wraps(ca, cb)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.dot(ca, cb))
    ba, bb = RNG.random((3, 4)) < 0.3, RNG.random((4, 5)) < 0.3
    np.testing.assert_array_equal(mod.bdot(ba, bb.T.copy().T), np.dot(ba, bb))
    fa = RNG.standard_normal((3, 4)).astype("float32")
    b = RNG.standard_normal((4, 2))
    got = mod.dot_mixed(fa.T.copy().T, b[::-1])
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, fa.astype("float64") @ b[::-1], rtol=1e-12)


def test_dot_empty_and_zero_inner(mod):
    assert mod.dot_mm(np.zeros((0, 3)), np.zeros((3, 4))).shape == (0, 4)
    np.testing.assert_array_equal(mod.dot_mm(np.zeros((2, 0)), np.zeros((0, 4))), np.zeros((2, 4)))
    assert mod.dot_vv(np.zeros(0), np.zeros(0)) == 0
    np.testing.assert_array_equal(mod.idot_mm(np.zeros((2, 0), "int32"), np.zeros((0, 3), "int32")),
                                  np.zeros((2, 3), "int32"))


@pytest.mark.parametrize("fn,sa,sb", [("dot_mm", (3, 4), (5, 2)), ("dot_mv", (3, 4), (5,)),
                                      ("dot_vm", (4,), (5, 2)), ("dot_vv", (4,), (5,)),
                                      ("dot_t3m", (2, 3, 4), (5, 2)), ("idot_mm", (3, 4), (2, 2))])
def test_dot_inner_mismatch_names_both_shapes(mod, fn, sa, sb):
    dt = "int32" if fn.startswith("i") else "float64"
    with pytest.raises(ValueError) as e:
        getattr(mod, fn)(np.zeros(sa, dt), np.zeros(sb, dt))
    msg = str(e.value)
    assert "inner dimensions must match" in msg
    assert "a has shape %s" % (sa,) in msg and "b has shape %s" % (sb,) in msg


# ---------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------

def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x):
    xm = x - x.max(axis=-1, keepdims=True)
    return xm - np.log(np.exp(xm).sum(axis=-1, keepdims=True))


def test_softmax_of_huge_inputs_is_finite(mod):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [1e300, 1e300, -1e300]])
    for dt, sm, lsm in (("float64", mod.softmax, mod.log_softmax),
                        ("float32", mod.fsoftmax, mod.flog_softmax)):
        xx = x[:2].astype(dt) if dt == "float32" else x
        s, ls = sm(xx), lsm(xx)
        assert np.isfinite(s).all() and np.isfinite(ls).all()
        np.testing.assert_allclose(s, _softmax(xx), rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(ls, _log_softmax(xx), rtol=1e-6)
        np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(mod.softmax_vec(np.array([1000.0, 999.0, -1000.0]))).all()


def test_softmax_strided_rows_and_empty(mod):
    m = RNG.standard_normal((6, 8)) * 30
    for x in (m.T, m[::-1, ::-2], m[:, :1]):
        np.testing.assert_allclose(mod.softmax(x), _softmax(x), rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(mod.log_softmax(x), _log_softmax(x), rtol=1e-13, atol=1e-13)
    assert mod.softmax(np.zeros((0, 4))).shape == (0, 4)
    assert mod.log_softmax(np.zeros((3, 0))).shape == (3, 0)
    # a NaN spoils its own row only
    x = m[:2].copy()
    x[0, 3] = np.nan
    got = mod.softmax(x)
    assert np.isnan(got[0]).all() and np.isfinite(got[1]).all()


def test_softmax_grad_broadcast_row_and_mismatch(mod):
    sm = _softmax(RNG.standard_normal((4, 5)))
    dy = RNG.standard_normal((4, 5))
    want = (dy - (dy * sm).sum(axis=-1, keepdims=True)) * sm
    np.testing.assert_allclose(mod.softmax_grad(dy[::-1].copy()[::-1], sm.T.copy().T), want,
                               rtol=1e-13)
    row = dy[:1]
    want = (row - (row * sm).sum(axis=-1, keepdims=True)) * sm
    np.testing.assert_allclose(mod.softmax_grad_row(row, sm), want, rtol=1e-13)
    with pytest.raises(ValueError, match="do not agree on axis 1"):
        mod.softmax_grad(np.zeros((4, 3)), sm)


# ---------------------------------------------------------------------------
# the threaded paths and the baseline-ISA paths
# ---------------------------------------------------------------------------

def _big_args():
    t = RNG.standard_normal((40, 300, 30))
    return {
        "sum3_02": (t,), "sum3_1": (t.transpose(2, 1, 0),), "max3_0": (t[:, ::-1],),
        "argmax3_12": (t,), "isum3_2": (RNG.integers(-9, 9, size=(300, 20, 40)).astype("int32"),),
        "all3_02": (RNG.integers(0, 30, size=(40, 300, 30)).astype("int32"),),
        "fsum_vec": (RNG.standard_normal(300_001).astype("float32"),),
        "fsum_cols": (RNG.standard_normal((300, 1001)).astype("float32"),),
        "fsum_rows": (RNG.standard_normal((3001, 97)).astype("float32")[:, ::-1],),
        "argmax_rows": (RNG.standard_normal((3000, 77)),),
        "max_rows": (RNG.standard_normal((77, 3000)).T,),
        "softmax": (RNG.standard_normal((3000, 51)) * 20,),
        "fsoftmax": (RNG.standard_normal((3000, 51)).astype("float32") * 20,),
        "log_softmax": (RNG.standard_normal((3000, 51))[::-1] * 20,),
        "softmax_grad": (RNG.standard_normal((3000, 51)), RNG.random((3000, 51))),
    }


def _reference(name, args):
    x = args[0]
    if name == "softmax_grad":
        dy, sm = args
        return (dy - (dy * sm).sum(axis=-1, keepdims=True)) * sm
    if name in ("softmax", "fsoftmax"):
        return _softmax(x)
    if name == "log_softmax":
        return _log_softmax(x)
    if name == "argmax3_12":
        return np.argmax(x.reshape(x.shape[0], -1), axis=1)
    fn = {"sum": np.sum, "max": np.max, "all": np.all, "argmax": np.argmax}
    kind = name.split("_")[0].lstrip("fi").rstrip("3")
    axis = {"sum3_02": (0, 2), "sum3_1": 1, "max3_0": 0, "isum3_2": 2, "all3_02": (0, 2),
            "fsum_vec": None, "fsum_cols": 0, "fsum_rows": 1, "argmax_rows": 1,
            "max_rows": 1}[name]
    if kind == "sum":
        return np.sum(x, axis=axis, dtype="float64" if x.dtype.kind == "f" else "int64")
    return fn[kind](x, axis=axis)


@pytest.mark.parametrize("name", list(_generic_functions()))
def test_large_inputs_threaded_and_generic_isa(mod, generic_mod, name):
    args = _big_args()[name]
    want = _reference(name, args)
    f32 = args[0].dtype == np.float32
    for m in (mod, generic_mod):
        got = getattr(m, name)(*args)
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want)
        else:
            # float32 sums with cancellation: errors relative to the terms, not the result
            np.testing.assert_allclose(got, want, rtol=1e-5 if f32 else 1e-12,
                                       atol=1e-5 if f32 else 1e-12)
    # both ISA levels reduce in the same order: the results agree to the last bit (the
    # softmax family differs by its exp: libm on the baseline path, the runtime's SIMD exp
    # above it; softmax_grad by FMA contraction)
    if "softmax" not in name:
        np.testing.assert_array_equal(getattr(generic_mod, name)(*args), getattr(mod, name)(*args))
