"""The index kernels (Subtensor, IncSubtensor, gathers, scatters, advanced indexing) at run time.

One module holds every function below (built once, cached between runs); each
test calls its functions with edge-case arguments: out-of-range and negative
indices, negative and non-unit strides, empty index vectors, repeated scatter
indices, symbolic slice bounds and steps.  Results are compared with NumPy, and
errors must be the module's IndexError / ValueError subclasses naming the bad
value and the axis length.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aotc import tensor as T
from aotc.build import compiler
from aotc.codegen.lower import FunctionSpec, lower
from aotc.codegen.render import render
from aotc.frontend.ops import subtensor as ST
from aotc.frontend.types import TensorType

RNG = np.random.default_rng(7)


def _functions():
    """name -> (inputs, output) of every function in the module."""
    f = {}
    w, i = T.dmatrix("w"), T.lvector("i")
    f["gather"] = ([w, i], w[i])
    v, i32 = T.fvector("v"), T.ivector("i32")
    f["gather_vec_i32"] = ([v, i32], v[i32])
    im = T.lmatrix("im")
    f["gather_mat_index"] = ([w, im], w[im])
    t3, iu8 = T.dtensor3("t3"), TensorType("uint8", (False,))("iu8")
    f["gather_t3_u8"] = ([t3, iu8], t3[iu8])
    # gather from a view with a negative stride (a Subtensor feeding the gather)
    f["gather_of_reversed"] = ([w, i], w[::-1, ::2][i])

    x, y, j = T.dmatrix("x"), T.dmatrix("y"), T.lvector("j")
    f["scatter_add"] = ([x, y, j], ST.inc_subtensor(x[j], y))
    f["scatter_set"] = ([x, y, j], ST.set_subtensor(x[j], y))
    yv = T.dvector("yv")
    f["scatter_add_row"] = ([x, yv, j], ST.inc_subtensor(x[j], yv))
    vx, vy = T.dvector("vx"), T.dvector("vy")
    f["scatter_add_vec"] = ([vx, vy, j], ST.inc_subtensor(vx[j], vy))

    a, b, s = T.lscalar("a"), T.lscalar("b"), T.iscalar("s")
    f["slice_abs"] = ([v, a, b, s], v[a:b:s])
    f["slice_ab"] = ([t3, a, b], t3[:, a:b])
    f["slice_step"] = ([w, s], w[::s, 1:])
    f["index_sym"] = ([t3, a], t3[1, a])
    ys = T.dscalar("ys")
    f["set_slice_abs"] = ([vx, ys, a, b, s], ST.set_subtensor(vx[a:b:s], ys))
    f["inc_rows_step"] = ([x, yv, s], ST.inc_subtensor(x[::s], yv))

    p, r, c = T.dmatrix("p"), T.lvector("r"), T.lvector("c")
    f["paired"] = ([p, r, c], p[r, c])
    f["paired_inc"] = ([p, vy, r, c], ST.inc_subtensor(p[r, c], vy))
    f["cols_rev"] = ([t3, c], t3[::-1, c])
    f["cols_sym_slice"] = ([t3, a, c], t3[a:, :, c])
    f["set_cols"] = ([x, y, c], ST.set_subtensor(x[:, c], y))
    return f


@pytest.fixture(scope="module")
def mod():
    specs = []
    for name, (ins, out) in _functions().items():
        specs.append(FunctionSpec(name, [(v.name, v, False, None) for v in ins], [out], [],
                                  single=True))
    program, _ = lower("aotc_test_kernels_index", specs)
    path = compiler.build(render(program), "aotc_test_kernels_index")
    return compiler.load(path, "aotc_test_kernels_index")


def _idx(*vals, dtype="int64"):
    return np.array(vals, dtype=dtype)


# ---------------------------------------------------------------------------
# gather (AdvancedSubtensor1)
# ---------------------------------------------------------------------------

def test_gather_values_negative_and_repeated(mod):
    w = RNG.standard_normal((4, 5))
    i = _idx(3, -1, 0, 0, -4, 2, 3)
    np.testing.assert_array_equal(mod.gather(w, i), w[i])


@pytest.mark.parametrize("bad", [4, 7, -5, 2 ** 40])
def test_gather_out_of_range_names_index_and_length(mod, bad):
    w = RNG.standard_normal((4, 5))
    with pytest.raises(IndexError) as e:
        mod.gather(w, _idx(0, bad, 1))
    msg = str(e.value)
    assert "index %d is out of bounds for axis 0 with size 4" % bad in msg
    assert "AdvancedSubtensor1" in msg


def test_gather_noncontiguous_and_negative_strides(mod):
    big = RNG.standard_normal((8, 10))
    w = big[::-2, ::3]                      # negative row stride, strided rows
    i = _idx(0, 3, 1, 2, 2, -1, -4)[::-2]   # negative-stride index vector
    np.testing.assert_array_equal(mod.gather(w, i), w[i])
    im = RNG.integers(-4, 4, size=(3, 4)).T  # transposed index matrix
    np.testing.assert_array_equal(mod.gather_mat_index(w, im), w[im])
    x = RNG.standard_normal((5, 6))
    np.testing.assert_array_equal(mod.gather_of_reversed(x, _idx(0, 4, -2)),
                                  x[::-1, ::2][[0, 4, -2]])


def test_gather_other_index_dtypes(mod):
    v = RNG.standard_normal(6).astype("float32")
    np.testing.assert_array_equal(mod.gather_vec_i32(v, _idx(5, -6, 0, dtype="int32")),
                                  v[[5, -6, 0]])
    with pytest.raises(IndexError, match="index -7 is out of bounds for axis 0 with size 6"):
        mod.gather_vec_i32(v, _idx(1, -7, dtype="int32"))
    t3 = RNG.standard_normal((3, 2, 4))
    np.testing.assert_array_equal(mod.gather_t3_u8(t3, _idx(2, 0, 2, dtype="uint8")),
                                  t3[[2, 0, 2]])
    with pytest.raises(IndexError, match="index 200 is out of bounds for axis 0 with size 3"):
        mod.gather_t3_u8(t3, _idx(200, dtype="uint8"))


def test_gather_empty(mod):
    w = RNG.standard_normal((4, 5))
    out = mod.gather(w, _idx())
    assert out.shape == (0, 5)
    assert mod.gather(np.zeros((0, 5)), _idx()).shape == (0, 5)
    assert mod.gather(np.zeros((3, 0)), _idx(2, -3)).shape == (2, 0)
    with pytest.raises(IndexError, match="index 0 is out of bounds for axis 0 with size 0"):
        mod.gather(np.zeros((0, 5)), _idx(0))
    assert mod.gather_mat_index(w, np.zeros((0, 3), "int64")).shape == (0, 3, 5)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 6), m=st.integers(0, 3),
       idx=st.lists(st.integers(-9, 9), max_size=8), reverse=st.booleans())
def test_gather_fuzz(mod, n, m, idx, reverse):
    w = np.arange(n * m, dtype="float64").reshape(n, m) + 0.5
    if reverse:
        w = w[::-1]
    i = np.array(idx, dtype="int64")
    bad = [k for k in idx if not -n <= k < n]
    if bad:
        with pytest.raises(IndexError) as e:
            mod.gather(w, i)
        assert "index %d is out of bounds for axis 0 with size %d" % (bad[0], n) in str(e.value)
    else:
        np.testing.assert_array_equal(mod.gather(w, i), w[i].reshape(len(idx), m))


# ---------------------------------------------------------------------------
# scatter (AdvancedIncSubtensor1)
# ---------------------------------------------------------------------------

def test_scatter_add_repeated_indices_accumulate(mod):
    x = RNG.standard_normal((4, 3))
    y = RNG.standard_normal((6, 3))
    j = _idx(1, 1, -3, 3, 1, 0)
    want = x.copy()
    np.add.at(want, j, y)
    np.testing.assert_allclose(mod.scatter_add(x, y, j), want, rtol=1e-15)
    yv = RNG.standard_normal(3)
    want = x.copy()
    np.add.at(want, j, yv)
    np.testing.assert_allclose(mod.scatter_add_row(x, yv, j), want, rtol=1e-15)
    vx, vy = RNG.standard_normal(5), RNG.standard_normal(7)
    jj = _idx(4, 4, 4, -1, 0, 2, 0)
    want = vx.copy()
    np.add.at(want, jj, vy)
    np.testing.assert_allclose(mod.scatter_add_vec(vx, vy, jj), want, rtol=1e-15)


def test_scatter_strided_inputs_and_set(mod):
    x = RNG.standard_normal((8, 6))[::-2, 1::2]
    y = RNG.standard_normal((6, 3))[::-2]
    j = _idx(0, -1, 2)
    want = x.copy()
    np.add.at(want, j, y)
    np.testing.assert_allclose(mod.scatter_add(x, y, j), want, rtol=1e-15)
    want = x.copy()
    want[j] = y
    np.testing.assert_array_equal(mod.scatter_set(x, y, j), want)
    assert x.flags.writeable and not np.shares_memory(mod.scatter_set(x, y, j), x)


def test_scatter_errors_and_empty(mod):
    x = RNG.standard_normal((4, 3))
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 0 with size 4"):
        mod.scatter_add(x, np.zeros((2, 3)), _idx(0, -5))
    with pytest.raises(ValueError, match=r"shape \(2, 2\) does not fit the indexed part of shape "
                                         r"\(2, 3\)"):
        mod.scatter_add(x, np.zeros((2, 2)), _idx(0, 1))
    np.testing.assert_array_equal(mod.scatter_add(x, np.zeros((0, 3)), _idx()), x)


# ---------------------------------------------------------------------------
# basic slicing with symbolic bounds / steps, and IncSubtensor
# ---------------------------------------------------------------------------

BOUNDS = [-12, -7, -3, -1, 0, 1, 2, 4, 6, 7, 12, 2 ** 62, -2 ** 62]
STEPS = [-9, -3, -2, -1, 1, 2, 5, 2 ** 31 - 1, -2 ** 31]


@pytest.mark.parametrize("s", STEPS)
def test_symbolic_slice_matches_python(mod, s):
    v = np.arange(7, dtype="float32")
    for a in BOUNDS:
        for b in BOUNDS:
            got = mod.slice_abs(v, a, b, s)
            np.testing.assert_array_equal(got, v[a:b:s], err_msg=str((a, b, s)))


def test_symbolic_slice_of_strided_input(mod):
    t3 = RNG.standard_normal((3, 8, 4))[:, ::-2]
    for a, b in [(0, 4), (-1, 2), (3, 1), (-10, 10)]:
        np.testing.assert_array_equal(mod.slice_ab(t3, a, b), t3[:, a:b])
    w = RNG.standard_normal((6, 5))[::-1]
    for s in (-4, -1, 1, 3, 100):
        np.testing.assert_array_equal(mod.slice_step(w, s), w[::s, 1:])


def test_zero_step_and_bad_int_index(mod):
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        mod.slice_abs(np.arange(3, dtype="float32"), 0, 2, 0)
    t3 = RNG.standard_normal((2, 3, 5))
    np.testing.assert_array_equal(mod.index_sym(t3, -3), t3[1, -3])
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        mod.index_sym(t3, 3)
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 1 with size 3"):
        mod.index_sym(t3, -4)


def test_set_and_inc_subtensor_symbolic(mod):
    vx = RNG.standard_normal(9)[::-1]
    for a, b, s in [(1, 7, 2), (7, 1, -2), (-1, -9, -3), (0, 0, 1), (-100, 100, -1)]:
        want = vx.copy()
        want[a:b:s] = 2.5
        np.testing.assert_array_equal(mod.set_slice_abs(vx, 2.5, a, b, s), want)
    x = RNG.standard_normal((5, 3))
    yv = RNG.standard_normal(3)
    for s in (-2, 1, 3):
        want = x.copy()
        want[::s] += yv
        np.testing.assert_allclose(mod.inc_rows_step(x, yv, s), want, rtol=1e-15)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        mod.inc_rows_step(x, yv, 0)


# ---------------------------------------------------------------------------
# advanced indexing
# ---------------------------------------------------------------------------

def test_paired_index_and_inc(mod):
    p = RNG.standard_normal((5, 3))
    r, c = _idx(0, 4, -1, 4, 2), _idx(2, 0, -3, 0, 1)
    np.testing.assert_array_equal(mod.paired(p, r, c), p[r, c])
    vy = RNG.standard_normal(5)
    want = p.copy()
    np.add.at(want, (r, c), vy)
    np.testing.assert_allclose(mod.paired_inc(p, vy, r, c), want, rtol=1e-15)
    assert mod.paired(p, _idx(), _idx()).shape == (0,)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        mod.paired(p, _idx(0, 1), _idx(0, 3))
    with pytest.raises(IndexError, match="index -6 is out of bounds for axis 0 with size 5"):
        mod.paired_inc(p, np.zeros(2), _idx(-6, 1), _idx(0, 1))
    with pytest.raises(ValueError, match=r"index arrays of shapes \(2,\), \(3,\) do not broadcast"):
        mod.paired(p, _idx(0, 1), _idx(0, 1, 2))


def test_advanced_with_slices_and_strides(mod):
    t3 = RNG.standard_normal((4, 6, 5))[::-1, ::2]
    c3, c5 = _idx(2, -3, 0, 0)[::-1], _idx(4, -5, 0, 0)[::-1]
    np.testing.assert_array_equal(mod.cols_rev(t3, c3), t3[::-1, c3])
    for a in (-2, 0, 3, 9):
        np.testing.assert_array_equal(mod.cols_sym_slice(t3, a, c5), t3[a:, :, c5])
    x = RNG.standard_normal((3, 4))
    y = RNG.standard_normal((3, 2))
    want = x.copy()
    want[:, [3, -4]] = y
    np.testing.assert_array_equal(mod.set_cols(x, y, _idx(3, -4)), want)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        mod.set_cols(x, y, _idx(4, 0))
