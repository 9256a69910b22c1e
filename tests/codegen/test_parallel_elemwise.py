"""Elementwise kernels split their rows over the pool when the work is large enough
(fused_elemwise.c.j2: elements weighted by transcendentals, AOTC_ELEMWISE_PAR_WORK).

Each case runs the same compiled function on 1 and on 2 threads: the results must
be the same bits (each element is computed by the same code whichever thread runs
it) and match NumPy.  The shapes put the split at every kind of row boundary:
broadcast operands, a leading axis of 1, strided views, rows fewer than threads and
one contiguous run cut into rows.
"""
import numpy as np
import pytest

import aotc
from aotc import tensor as T


def _lstm_like(a, b, m, c):
    return (m * (T.nnet.sigmoid(a) * c + T.nnet.sigmoid(b) * T.tanh(a + b))
            + (1 - m) * c)


def _ref(a, b, m, c):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return m * (sig(a) * c + sig(b) * np.tanh(a + b)) + (1 - m) * c


CASES = {
    # name: (shape of a, b, c; shape of m (broadcast); slicing applied to a)
    "rows_with_column_mask": ((64, 512), (64, 1), np.s_[:, :]),
    "three_axes": ((5, 37, 300), (5, 37, 1), np.s_[:, :, :]),
    "strided_view": ((70, 2048), (70, 1), np.s_[:, ::2]),
    "one_row": ((1, 100000), (1, 1), np.s_[:, :]),
    "leading_one": ((1, 3, 40000), (1, 3, 1), np.s_[:, :, :]),
    # one contiguous run (the scalar mask broadcast): cut into rows of
    # AOTC_ELEMWISE_CHUNK (8192) elements plus a last piece of 5
    "one_run_with_tail": ((3 * 8192 + 5,), (1,), np.s_[:]),
    "one_run_exact": ((4 * 8192,), (1,), np.s_[:]),
    "one_run_strided": ((2 * (3 * 8192 + 7),), (1,), np.s_[::2]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_split_rows_match_one_thread_and_numpy(case, dtype):
    shape, mshape, sl = CASES[case]
    rng = np.random.RandomState(0)
    a = (rng.randn(*shape) * 3).astype(dtype)[sl]        # a view where sl steps
    b = (rng.randn(*a.shape) * 3).astype(dtype)
    c = rng.randn(*a.shape).astype(dtype)
    m = (rng.rand(*mshape) > 0.3).astype(dtype)
    nd = a.ndim
    bc = tuple(s == 1 for s in mshape)
    va, vb, vc = (T.TensorType(dtype, (False,) * nd)(n) for n in "abc")
    vm = T.TensorType(dtype, bc)("m")
    f = aotc.function([va, vb, vm, vc], _lstm_like(va, vb, vm, vc))
    assert f._impl.backend == "c"
    mod = f._impl.module
    try:
        # 2 threads first: an output block reused from an earlier call would hold that
        # call's values, and hide an element the split never writes
        mod._set_num_threads(2)
        two = f(a, b, m, c)
        mod._set_num_threads(1)
        one = f(a, b, m, c)
    finally:
        mod._set_num_threads(0)
    np.testing.assert_array_equal(one, two)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two, _ref(a, b, m, c), **tol)


@pytest.mark.parametrize("threads", [2, 1])
def test_large_zero_fill_splits_over_the_pool_and_covers_every_byte(threads):
    """Alloc of zeros from 1 MB (support_shape's aotc_fill_zero) splits the fill over the
    pool.  The zeros are a temporary here, so the second call gets the first call's
    block back from the block cache, dirty everywhere: a chunk the split missed keeps
    the first call's rows and changes the column sums."""
    x = T.dmatrix("x")
    i = T.lvector("i")
    out = T.inc_subtensor(T.zeros((600, 700))[i], x).sum(axis=0)    # 3.4 MB of zeros
    f = aotc.function([x, i], out)
    assert f._impl.backend == "c"
    mod = f._impl.module
    rng = np.random.RandomState(1)
    mod._set_num_threads(threads)
    try:
        for rows in (np.arange(600), np.array([3, 599, 3])):
            xv = rng.rand(len(rows), 700) + 1
            want = np.zeros((600, 700))
            np.add.at(want, rows, xv)
            np.testing.assert_allclose(f(xv, rows), want.sum(axis=0), rtol=1e-12)
    finally:
        mod._set_num_threads(0)
