"""The C runtime (runtime_core, _pool, _vmath, _gemm) through its ctypes test surface.

runtime_lib.build_runtime_shared_library compiles the runtime plus its aotc_t_*
wrappers once for the module; every ISA level the CPU has is exercised through
aotc_t_force_isa (levels it lacks are skipped).

Vector math: sweeps over each function's whole finite domain (log-uniform
magnitudes of both signs, subnormals, the non-trivial range, thresholds and
their neighbours) against a wider reference (float64 for float32 results; 80-bit
long double, or mpmath where long double is not wider, for float64).  The
largest error in ulp must stay within runtime_lib.ACCURACY on every path, and the
SIMD maxima must come within half an ulp of it (the bounds are measured, not
guessed).  Then the IEEE special values, masked tails, in-place calls and
tails that end at an unmapped page.

GEMM: against a float64 NumPy product, for edge tiles, K blocking, the thread
pool, transposes, alpha/beta, the BLAS no-read rules (beta == 0 never reads C,
alpha == 0 or K == 0 never reads A or B), the GEMV paths and strided views
(negative strides, column-major and non-unit-stride C).
"""
import ctypes
import functools
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

try:
    import mpmath
except ImportError:                 # only needed where long double is not wider than double
    mpmath = None

from aotc.build import runtime_lib as RL

ISA_NAMES = ("generic", "avx2", "avx512")
ISAS = [pytest.param(i, id=name) for i, name in enumerate(ISA_NAMES)]
FUNCTIONS = RL.VMATH_FUNCTIONS
DTYPES = RL.VMATH_DTYPES

#: long double is wider than double here (x87 80-bit, or IEEE quad)
EXTENDED = np.finfo(np.longdouble).nmant >= 63


def _declare(lib):
    c_long, c_int, vp = ctypes.c_long, ctypes.c_int, ctypes.c_void_p
    for name, real in (("aotc_t_sgemm", ctypes.c_float), ("aotc_t_dgemm", ctypes.c_double)):
        f = getattr(lib, name)
        f.restype = c_int
        f.argtypes = [c_int, c_int, c_long, c_long, c_long, real, vp, c_long, vp, c_long,
                      real, vp, c_long]
    for name, real in (("aotc_t_sgemm_strided", ctypes.c_float),
                       ("aotc_t_dgemm_strided", ctypes.c_double)):
        f = getattr(lib, name)
        f.restype = c_int
        f.argtypes = [c_long, c_long, c_long, real, vp, c_long, c_long, vp, c_long, c_long,
                      real, vp, c_long, c_long]
    for name, real in (("aotc_t_sgemm_strided_ci", ctypes.c_float),
                       ("aotc_t_dgemm_strided_ci", ctypes.c_double)):
        f = getattr(lib, name)
        f.restype = c_int
        f.argtypes = [c_long, c_long, c_long, real, vp, c_long, c_long, vp, c_long, c_long,
                      real, vp, c_long, c_long, vp, c_long, c_long]
    for name, real in (("aotc_t_sgemm_strided_pk", ctypes.c_float),
                       ("aotc_t_dgemm_strided_pk", ctypes.c_double)):
        f = getattr(lib, name)
        f.restype = c_int
        f.argtypes = [c_long, c_long, c_long, real, vp, c_long, c_long, vp, c_long, c_long,
                      real, vp, c_long, c_long, vp, c_long, c_long, c_int, vp, vp]
    lib.aotc_t_vmath.restype = c_int
    lib.aotc_t_vmath.argtypes = [c_int, c_int, vp, vp, c_long]
    lib.aotc_t_force_isa.argtypes = [c_int]
    lib.aotc_t_set_num_threads.argtypes = [c_int]
    lib.aotc_t_set_num_threads.restype = None
    lib.aotc_t_parallel_count.argtypes = [c_long, c_long, c_long, vp, vp]
    lib.aotc_t_parallel_count.restype = None
    lib.aotc_t_pool_handoff_ns.restype = c_long
    lib.aotc_t_pool_stats.argtypes = [vp]
    lib.aotc_t_pool_stats.restype = None
    lib.aotc_t_set_gemm_far_handoff.argtypes = [c_long]
    lib.aotc_t_set_gemm_far_handoff.restype = c_long


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aotc_runtime")
    path = RL.build_runtime_shared_library(str(folder))
    lib = ctypes.CDLL(path)
    _declare(lib)
    lib.aotc_t_init()
    lib.path = path
    yield lib
    lib.aotc_t_set_num_threads(0)
    lib.aotc_t_force_isa(lib.aotc_t_cpu_isa())


def _use_isa(lib, isa):
    if lib.aotc_t_cpu_isa() < isa:
        pytest.skip("this CPU lacks %s" % ISA_NAMES[isa])
    assert lib.aotc_t_force_isa(isa) == isa


# ---------------------------------------------------------------------------
# vector math
# ---------------------------------------------------------------------------

def _vmath(lib, fn, x, out=None):
    out = np.empty_like(x) if out is None else out
    rc = lib.aotc_t_vmath(FUNCTIONS.index(fn), DTYPES.index(x.dtype.name), x.ctypes.data,
                          out.ctypes.data, x.size)
    assert rc == 0
    return out


#: where each function is not trivially 0, 1, inf or x: (float32, float64)
_BUSY = {
    "exp": ((-104.0, 89.0), (-746.0, 710.0)),
    "log": ((0.0, 4.0), (0.0, 4.0)),
    "log1p": ((-1.0, 4.0), (-1.0, 4.0)),
    "tanh": ((-10.0, 10.0), (-20.0, 20.0)),
    "sigmoid": ((-105.0, 20.0), (-746.0, 40.0)),
    "softplus": ((-105.0, 20.0), (-746.0, 40.0)),
}


def _thresholds(fn, dtype):
    """Points where a function changes regime (overflow, underflow, saturation)."""
    fi = np.finfo(dtype)
    ln_max = math.log(float(fi.max))
    ln_norm = math.log(float(fi.smallest_normal))
    ln_sub = math.log(float(fi.smallest_subnormal)) - math.log(2.0)
    tanh_max = 9.125 if dtype == "float32" else 19.125
    return {
        "exp": [ln_max, ln_norm, ln_sub, 0.5 * math.log(2.0)],
        "log": [1.0, 2.0 ** 0.5, 0.5 ** 0.5],
        "log1p": [-1.0, 2.0 ** 0.5 - 1.0, 0.5 ** 0.5 - 1.0],
        "tanh": [tanh_max, -tanh_max, 0.5 * math.log(2.0)],
        "sigmoid": [-ln_max, -ln_norm, -ln_sub, ln_sub],
        "softplus": [-ln_max, -ln_norm, -ln_sub, ln_sub],
    }[fn]


def _neighbours(values, dtype, k=8):
    """Each value rounded to ``dtype`` and its k nearest representable neighbours each side."""
    v = np.asarray(values, dtype=dtype)
    out = [v]
    up, down = v.copy(), v.copy()
    with np.errstate(over="ignore"):                 # max's neighbour is inf: fine
        for _ in range(k):
            up = np.nextafter(up, np.array(np.inf, dtype))
            down = np.nextafter(down, np.array(-np.inf, dtype))
            out += [up, down]
    return np.concatenate(out)


def _edges(fn, dtype):
    fi = np.finfo(dtype)
    tiny, norm, big = float(fi.smallest_subnormal), float(fi.smallest_normal), float(fi.max)
    pts = [0.0, tiny, 2 * tiny, 3 * tiny, 1000 * tiny, norm / 2, norm, big, 1.0, float(fi.eps)]
    pts = pts + [-p for p in pts]
    return np.concatenate([_neighbours(pts, dtype, 3), _neighbours(_thresholds(fn, dtype), dtype)])


#: Inputs with the largest errors found on either path (generic, AVX2) by exhaustive
#: float32 sweeps (all 2^32 inputs) and float64 sweeps of about 5e8 points (random over
#: the domain, then concentrated where the errors peaked): they make the sweep's maxima
#: those of the long runs, which runtime_lib.ACCURACY records.
HARD_INPUTS = {
    "float32": {
        "exp": ["-5.888854", "-0.0070555876"],
        "log": ["0.70385236", "1.0234531"],
        "log1p": ["-8.940697e-08", "0.41421396"],
        "tanh": ["0.0077671753", "0.23329562"],
        "sigmoid": ["-4.157294"],
        "softplus": ["-5.889944", "-1.2656116"],
    },
    "float64": {
        "exp": ["269.2881498744485", "-705.0201584574982"],
        "log": ["0.7001587694716175", "1.0940002530924684"],
        "log1p": ["-1.6653494848454349e-16", "-0.2972911876385149"],
        "tanh": ["0.20381837416103704", "-0.23464371744071216"],
        "sigmoid": ["-9.704014741786388", "-4.845470333780767"],
        "softplus": ["-2.0178466859305493", "-1.2937463661280706"],
    },
}


def _log_uniform(rng, lo, hi, n):
    return np.exp2(rng.uniform(math.log2(lo), math.log2(hi), n))


def _sweep(fn, dtype, n=240000):
    """Deterministic inputs covering the whole finite domain of ``fn`` (see the module doc)."""
    rng = np.random.default_rng([2024, FUNCTIONS.index(fn), DTYPES.index(dtype)])
    fi = np.finfo(dtype)
    q = n // 4
    sign = rng.choice([-1.0, 1.0], q)
    lo, hi = _BUSY[fn][DTYPES.index(dtype)]
    parts = [
        # every binade, both signs, subnormals included
        sign * _log_uniform(rng, float(fi.smallest_subnormal), float(fi.max), q),
        rng.uniform(lo, hi, q),
        # small arguments, where cancellation shows
        sign * _log_uniform(rng, float(fi.eps) ** 2, 4.0, q),
    ]
    if fn == "exp":
        extra = rng.uniform(lo, lo + 30.0, q)                 # gradual underflow
    elif fn == "log":
        extra = 1.0 + sign * _log_uniform(rng, float(fi.eps) / 4, 0.5, q)
    elif fn == "log1p":
        extra = -1.0 + _log_uniform(rng, float(fi.eps) / 4, 1.0, q)
    elif fn == "tanh":
        extra = rng.uniform(-1.0, 1.0, q)
    else:
        extra = rng.uniform(-30.0, 30.0, q)
    parts.append(extra)
    hard = np.array(HARD_INPUTS[dtype][fn], dtype=dtype)    # parsed in dtype: exact
    return np.concatenate([np.concatenate(parts).astype(dtype), _edges(fn, dtype), hard])


def _reference(fn, x):
    """fn(x) in a wider type: float64 for float32 x, long double for float64 x."""
    w = np.float64 if x.dtype == np.float32 else np.longdouble
    y = x.astype(w)
    zero, one = w(0), w(1)
    with np.errstate(all="ignore"):
        if fn == "sigmoid":
            e = np.exp(-np.abs(y))
            return np.where(y < 0, e, one) / (one + e)
        if fn == "softplus":
            return np.maximum(y, zero) + np.log1p(np.exp(-np.abs(y)))
        return getattr(np, fn)(y)


def _ulp_errors(got, ref, dtype):
    """|got - ref| in ulp of ``dtype`` at ref (the subnormal spacing below the normal range)."""
    fi = np.finfo(dtype)
    _, e = np.frexp(ref)
    e = np.maximum(e, fi.minexp + 1)
    one = ref.dtype.type(1)
    err = np.abs(got.astype(ref.dtype) - ref) * np.ldexp(one, (fi.nmant + 1 - e).astype(np.int32))
    err = err.astype(np.float64)
    return np.where(np.isnan(err), np.inf, err)


def _mp_function(fn):
    return {
        "exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh,
        "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)),
        "softplus": lambda t: mpmath.log1p(mpmath.exp(t)),
    }[fn]


def _ulp_errors_mpmath(fn, x, got, dtype):
    """As _ulp_errors, with the reference from mpmath (x finite and in fn's domain)."""
    fi = np.finfo(dtype)
    f = _mp_function(fn)
    out = np.empty(x.size)
    with mpmath.workprec(160):
        for i, (xi, gi) in enumerate(zip(x.tolist(), got.tolist())):
            ref = f(mpmath.mpf(xi))
            e = mpmath.frexp(ref)[1] if ref != 0 else fi.minexp
            e = max(int(e), fi.minexp + 1)
            err = abs(mpmath.mpf(gi) - ref) * mpmath.ldexp(1, fi.nmant + 1 - e) \
                if math.isfinite(gi) else mpmath.inf
            out[i] = float(err)
    return out


def _measure(fn, x, got):
    """(errors in ulp over the finite results, x, got and reference where the reference
    rounds to inf or NaN but the result differs)."""
    dtype = x.dtype.name
    ref = _reference(fn, x)
    with np.errstate(all="ignore"):
        rounded = ref.astype(dtype)
    finite = np.isfinite(rounded)
    nf = ~finite
    same = (np.isnan(rounded[nf]) & np.isnan(got[nf])) | (rounded[nf] == got[nf])
    bad = (x[nf][~same], got[nf][~same], rounded[nf][~same])
    if dtype == "float32" or EXTENDED:
        return _ulp_errors(got[finite], ref[finite], dtype), x[finite], got[finite], bad
    # no wider long double: mpmath on a sample of the finite results
    if mpmath is None:
        pytest.skip("a float64 reference needs mpmath or a long double wider than double")
    idx = np.flatnonzero(finite)
    idx = idx[:: max(1, idx.size // 4000)]
    return _ulp_errors_mpmath(fn, x[idx], got[idx], dtype), x[idx], got[idx], bad


@pytest.fixture(scope="module")
def measured(rt):
    """(isa, dtype, fn) -> (max ulp, x, got there, non-finite mismatches); computed once."""
    @functools.lru_cache(maxsize=None)
    def measure(isa, dtype, fn):
        assert rt.aotc_t_force_isa(isa) == isa
        x = _sweep(fn, dtype)
        err, xs, gs, bad = _measure(fn, x, _vmath(rt, fn, x))
        i = int(np.argmax(err))
        return float(err[i]), xs[i], gs[i], bad
    return measure


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_vmath_error_within_accuracy_bound(rt, measured, isa, dtype, fn):
    _use_isa(rt, isa)
    worst, x, got, bad = measured(isa, dtype, fn)
    assert bad[0].size == 0, "%s %s %s: wrong inf/NaN/overflow results at x=%r: got %r, want %r" % (
        ISA_NAMES[isa], dtype, fn, bad[0][:5], bad[1][:5], bad[2][:5])
    bound = RL.ACCURACY[dtype][fn]
    assert worst <= bound, "%s %s %s: %.3f ulp at x=%r (got %r, reference %r), bound %g" % (
        ISA_NAMES[isa], dtype, fn, worst, x, got, _reference(fn, np.array([x]))[0], bound)


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_vmath_accuracy_bound_is_measured(rt, measured, dtype, fn):
    """ACCURACY holds the SIMD maxima rounded up to half an ulp, not a loose guess."""
    simd = [isa for isa in (1, 2) if rt.aotc_t_cpu_isa() >= isa]
    if not simd:
        pytest.skip("no SIMD vector math on this CPU")
    worst = max(measured(isa, dtype, fn)[0] for isa in simd)
    bound = RL.ACCURACY[dtype][fn]
    assert worst > bound - 0.5, "ACCURACY[%r][%r] = %g but the SIMD paths reach only %.3f ulp" % (
        dtype, fn, bound, worst)


@pytest.mark.skipif(not EXTENDED or mpmath is None,
                    reason="needs mpmath and a long double wider than double")
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_vmath_reference_agrees_with_mpmath(rt, fn):
    """The long double reference used for float64 is itself within 1/64 ulp."""
    _use_isa(rt, rt.aotc_t_cpu_isa())
    x = _sweep(fn, "float64")
    got = _vmath(rt, fn, x)
    ref = _reference(fn, x)
    with np.errstate(over="ignore"):
        keep = np.flatnonzero(np.isfinite(ref.astype(np.float64)))[::500]
    ours = _ulp_errors(got[keep], ref[keep], "float64")
    theirs = _ulp_errors_mpmath(fn, x[keep], got[keep], "float64")
    assert keep.size > 200
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1.0 / 64)


def _special_cases(fn, dtype):
    """(x, exact expected value) pairs; signs of zero count."""
    fi = np.finfo(dtype)
    tiny, norm, big = float(fi.smallest_subnormal), float(fi.smallest_normal), float(fi.max)
    nan, inf = math.nan, math.inf
    f32 = dtype == "float32"
    below_m1 = float(np.nextafter(np.array(-1.0, dtype), np.array(-2.0, dtype)))
    cases = {
        "exp": [(inf, inf), (-inf, 0.0), (0.0, 1.0), (-0.0, 1.0), (big, inf), (-big, 0.0),
                (89.0 if f32 else 710.0, inf), (-104.0 if f32 else -745.2, 0.0),
                (tiny, 1.0), (-tiny, 1.0), (1e4, inf), (-1e4, 0.0)],
        "log": [(inf, inf), (-inf, nan), (0.0, -inf), (-0.0, -inf), (1.0, 0.0), (-1.0, nan),
                (-tiny, nan), (-norm, nan), (-big, nan)],
        "log1p": [(inf, inf), (-inf, nan), (0.0, 0.0), (-0.0, -0.0), (-1.0, -inf),
                  (below_m1, nan), (-2.0, nan), (-big, nan), (tiny, tiny), (-tiny, -tiny),
                  (norm, norm), (-norm, -norm)],
        "tanh": [(inf, 1.0), (-inf, -1.0), (0.0, 0.0), (-0.0, -0.0), (big, 1.0), (-big, -1.0),
                 (tiny, tiny), (-tiny, -tiny), (40.0, 1.0), (-40.0, -1.0), (1e30, 1.0),
                 (-1e30, -1.0)],
        "sigmoid": [(inf, 1.0), (-inf, 0.0), (0.0, 0.5), (-0.0, 0.5), (big, 1.0), (-big, 0.0),
                    (1e30, 1.0), (-1e30, 0.0), (800.0, 1.0), (-800.0, 0.0)],
        "softplus": [(inf, inf), (-inf, 0.0), (big, big), (-big, 0.0), (1e30, 1e30),
                     (-1e30, 0.0), (800.0, 800.0), (-800.0, 0.0),
                     (40.0 if f32 else 60.0, 40.0 if f32 else 60.0)],
    }[fn]
    return [(nan, nan)] + cases


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_vmath_special_values_follow_ieee(rt, isa, dtype, fn):
    _use_isa(rt, isa)
    cases = _special_cases(fn, dtype)
    # 3 copies at different lane positions: full vectors and a masked tail
    x = np.array([c[0] for c in cases] * 3, dtype=dtype)
    want = np.array([c[1] for c in cases] * 3, dtype=dtype)
    got = _vmath(rt, fn, x)
    same = (got == want) & (np.signbit(got) == np.signbit(want))
    ok = np.where(np.isnan(want), np.isnan(got), same)
    assert ok.all(), "%s %s %s: x=%r got %r, want %r" % (
        ISA_NAMES[isa], dtype, fn, x[~ok][:8], got[~ok][:8], want[~ok][:8])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_vmath_large_arguments_saturate_without_nan(rt, isa, dtype):
    _use_isa(rt, isa)
    fi = np.finfo(dtype)
    top = math.log2(float(fi.max)) - 1e-3                  # below log2(max): no overflow
    mag = np.append(np.exp2(np.linspace(0.0, top, 4000)), float(fi.max)).astype(dtype)
    x = np.concatenate([mag, -mag])
    t, s, sp = (_vmath(rt, fn, x) for fn in ("tanh", "sigmoid", "softplus"))
    assert not np.isnan(t).any() and not np.isnan(s).any() and not np.isnan(sp).any()
    assert (np.abs(t) <= 1).all() and ((s >= 0) & (s <= 1)).all() and (sp >= 0).all()
    assert (t[np.abs(x) >= 20] == np.sign(x[np.abs(x) >= 20])).all()
    big = x >= (40 if dtype == "float32" else 60)
    assert (sp[big] == x[big]).all() and (s[big] == 1).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_vmath_exp_underflows_through_subnormals(rt, isa, dtype):
    _use_isa(rt, isa)
    fi = np.finfo(dtype)
    lo = math.log(float(fi.smallest_subnormal)) - 1.0
    hi = math.log(float(fi.smallest_normal)) - 1e-4
    x = np.linspace(hi, lo, 5001).astype(dtype)
    y = _vmath(rt, "exp", x)
    assert (y < fi.smallest_normal).all() and (np.diff(y) <= 0).all()
    sub = x > math.log(float(fi.smallest_subnormal))
    assert (y[sub] > 0).all() and (y[x < lo + 0.3] == 0).all() and not np.signbit(y).any()
    err = _ulp_errors(y, _reference("exp", x), dtype)
    assert err.max() <= RL.ACCURACY[dtype]["exp"]


def _tail_inputs(dtype):
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-30, 30, 40), _log_uniform(rng, 1e-6, 2.0, 12),
                        [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 1.0, -2.0,
                         1e30, -1e30, 0.5, -0.5]])
    return rng.permutation(x).astype(dtype)          # 64: whole vectors at every width


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_vmath_tails_and_in_place_match_whole_vectors(rt, isa, dtype):
    """Any n (masked tails), any offset and in == out give the bits of the whole-vector run,
    and nothing outside [0, n) is written."""
    _use_isa(rt, isa)
    x = _tail_inputs(dtype)
    guard = 16
    sentinel = np.array(12345.0, dtype)
    for fn in FUNCTIONS:
        whole = _vmath(rt, fn, x)
        for n in (0, 1, 7, 8, 9, 17, 33):
            for off in (0, 5, 64 - n):
                src = np.full(n + 2 * guard, sentinel)
                src[guard:guard + n] = x[off:off + n]
                dst = np.full_like(src, sentinel)
                _vmath(rt, fn, src[guard:guard + n], dst[guard:guard + n])
                inplace = src.copy()
                view = inplace[guard:guard + n]
                _vmath(rt, fn, view, view)
                want = whole[off:off + n]
                uint = "u%d" % x.itemsize
                for out, what in ((dst, "out of place"), (inplace, "in place")):
                    assert np.array_equal(out[guard:guard + n].view(uint), want.view(uint)), (
                        "%s %s %s n=%d off=%d %s: %r != %r" % (
                            ISA_NAMES[isa], dtype, fn, n, off, what, out[guard:guard + n], want))
                    untouched = ((out[:guard] == sentinel).all()
                                 and (out[guard + n:] == sentinel).all())
                    assert untouched, (
                        "%s %s %s n=%d: wrote outside [0, n) (%s)" % (
                            ISA_NAMES[isa], dtype, fn, n, what))


_GUARD_PAGE_CHILD = textwrap.dedent(r"""
    import ctypes, mmap, sys
    import numpy as np
    lib = ctypes.CDLL(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = mmap.PAGESIZE
    keep = []

    def at_page_end(nbytes):
        # nbytes of writable memory whose end touches a PROT_NONE page
        m = mmap.mmap(-1, 2 * page)
        base = ctypes.addressof(ctypes.c_char.from_buffer(m))
        assert libc.mprotect(base + page, page, 0) == 0
        keep.append(m)
        return base + page - nbytes

    def array_at(ptr, n, dtype):
        buf = (ctypes.c_char * (n * np.dtype(dtype).itemsize)).from_address(ptr)
        return np.frombuffer(buf, dtype=dtype)

    for isa in range(lib.aotc_t_cpu_isa() + 1):
        assert lib.aotc_t_force_isa(isa) == isa
        for dt, dtype in enumerate(("float32", "float64")):
            item = np.dtype(dtype).itemsize
            for fn in range(6):
                for n in (1, 3, 7, 9, 17, 33):
                    pin, pout = at_page_end(n * item), at_page_end(n * item)
                    array_at(pin, n, dtype)[:] = np.linspace(-3, 3, n)
                    assert lib.aotc_t_vmath(fn, dt, ctypes.c_void_p(pin), ctypes.c_void_p(pout),
                                            ctypes.c_long(n)) == 0
                    # in place, right at the end
                    assert lib.aotc_t_vmath(fn, dt, ctypes.c_void_p(pin), ctypes.c_void_p(pin),
                                            ctypes.c_long(n)) == 0
            gemm = lib.aotc_t_sgemm if dtype == "float32" else lib.aotc_t_dgemm
            real = ctypes.c_float if dtype == "float32" else ctypes.c_double
            rng = np.random.default_rng(3)
            for M, N, K in ((5, 7, 9), (1, 13, 9), (13, 1, 9), (7, 3, 1), (13, 29, 11)):
                for beta in (0.0, 0.5):
                    pa, pb, pc = (at_page_end(s * item) for s in (M * K, K * N, M * N))
                    A = array_at(pa, M * K, dtype)
                    B = array_at(pb, K * N, dtype)
                    C = array_at(pc, M * N, dtype)
                    A[:] = rng.standard_normal(M * K)
                    B[:] = rng.standard_normal(K * N)
                    C[:] = 1.0
                    want = A.reshape(M, K).astype(float) @ B.reshape(K, N) + beta
                    rc = gemm(0, 0, ctypes.c_long(M), ctypes.c_long(N), ctypes.c_long(K), real(1.0),
                              ctypes.c_void_p(pa), ctypes.c_long(K), ctypes.c_void_p(pb),
                              ctypes.c_long(N), real(beta), ctypes.c_void_p(pc), ctypes.c_long(N))
                    assert rc == 0
                    ok = np.allclose(C.reshape(M, N), want, rtol=1e-4, atol=1e-4)
                    assert ok, (isa, dtype, M, N, K)
    print("ok")
""")


def test_vmath_and_gemm_tails_stay_inside_arrays_ending_at_a_page(rt):
    """Masked tails never touch memory past n: arrays end right before an unmapped page
    (a stray access kills the child process, not pytest)."""
    res = subprocess.run([sys.executable, "-c", _GUARD_PAGE_CHILD, rt.path],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", (
        "child exited with %d (negative: killed by that signal)\n%s" % (
            res.returncode, res.stderr[-3000:]))


# ---------------------------------------------------------------------------
# GEMM
# ---------------------------------------------------------------------------

def _gemm_fn(lib, dtype, strided=False):
    return getattr(lib, "aotc_t_%sgemm%s" % ("s" if dtype == "float32" else "d",
                                            "_strided" if strided else ""))


def _padded(rng, rows, cols, dtype, pad=3):
    """A rows x cols matrix of normals at the start of a NaN-filled buffer with row
    stride cols + pad and one extra row: returns (buffer, view, leading dimension)."""
    buf = np.full((rows + 1, cols + pad), np.nan, dtype)
    buf[:rows, :cols] = rng.standard_normal((rows, cols))
    return buf, buf[:rows, :cols], cols + pad


def _check_product(got, want_exact, bound_terms, K, dtype, what):
    """|got - want| <= 4 sqrt(K) eps (|alpha| |A| |B| + |beta| |C|) + 1 eps |want|, elementwise."""
    eps = float(np.finfo(dtype).eps)
    tol = 4.0 * math.sqrt(max(K, 1)) * eps * bound_terms + eps * np.abs(want_exact)
    err = np.abs(got.astype(np.float64) - want_exact)
    bad = ~(err <= tol)
    if bad.any():
        i = np.argwhere(bad)[0]
        pytest.fail("%s: %d wrong elements, first at %s: got %r, want %r (tolerance %.3g)" % (
            what, bad.sum(), tuple(i), got[tuple(i)], want_exact[tuple(i)], tol[tuple(i)]))


def _reference_product(alpha, a, b, beta, c0):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = alpha * (a64 @ b64)
    terms = abs(alpha) * (np.abs(a64) @ np.abs(b64))
    if beta != 0:
        want = want + beta * c0.astype(np.float64)
        terms = terms + abs(beta) * np.abs(c0.astype(np.float64))
    return want, terms


#: (M, N, K): edge tiles of every register tile (MR 4/6/12, NR 8/16/32), K split into
#: cache blocks (KC 256), GEMV shapes; then products big enough for the thread pool
#: (over AOTC_GEMM_PAR_FLOPS = 8e6 flops), M > MB and N > NB among them
GEMM_SHAPES = [
    (1, 1, 1), (2, 5, 7), (5, 7, 13), (7, 13, 2), (13, 33, 5), (33, 67, 130),
    (67, 130, 33), (130, 67, 7), (7, 130, 67), (5, 33, 513),
    (1, 67, 130), (130, 1, 67), (1, 1, 33), (2, 1, 5),
]
POOL_SHAPES = [(300, 260, 270), (150, 400, 100), (1, 4100, 1100), (4100, 1, 1100)]
#: (alpha, beta); beta == 0 comes with a NaN-filled C
ALPHA_BETA = [(1.0, 0.0), (-0.75, 1.0), (1.5, -0.5)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_matches_numpy(rt, isa, dtype, threads):
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(threads)
    gemm = _gemm_fn(rt, dtype)
    rng = np.random.default_rng([31, threads, DTYPES.index(dtype)])
    for M, N, K in GEMM_SHAPES + POOL_SHAPES:
        for ta in (0, 1):
            for tb in (0, 1):
                abuf, a_st, lda = _padded(rng, *((K, M) if ta else (M, K)), dtype)
                bbuf, b_st, ldb = _padded(rng, *((N, K) if tb else (K, N)), dtype)
                a, b = (a_st.T if ta else a_st), (b_st.T if tb else b_st)
                # big products: one (alpha, beta) per transpose pair, all three in turn
                combos = ALPHA_BETA if (M, N, K) in GEMM_SHAPES else [
                    ALPHA_BETA[(2 * ta + tb) % len(ALPHA_BETA)]]
                for alpha, beta in combos:
                    cbuf, c, ldc = _padded(rng, M, N, dtype)
                    if beta == 0:
                        c[...] = np.nan
                    c0 = c.copy()
                    rc = gemm(ta, tb, M, N, K, alpha, abuf.ctypes.data, lda, bbuf.ctypes.data,
                              ldb, beta, cbuf.ctypes.data, ldc)
                    what = ("%s %s %d thread(s) M=%d N=%d K=%d transA=%d transB=%d "
                            "alpha=%g beta=%g") % (
                        ISA_NAMES[isa], dtype, threads, M, N, K, ta, tb, alpha, beta)
                    assert rc == 0, what
                    want, terms = _reference_product(alpha, a, b, beta, c0)
                    _check_product(c, want, terms, K, dtype, what)
                    assert np.isnan(cbuf[:, N:]).all() and np.isnan(cbuf[M]).all(), (
                        what + ": wrote outside C")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_alpha_zero_or_k_zero_never_reads_a_or_b(rt, isa, dtype):
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(2)
    gemm, strided = _gemm_fn(rt, dtype), _gemm_fn(rt, dtype, strided=True)
    rng = np.random.default_rng(5)
    nan_ab = np.full(400 * 400, np.nan, dtype)
    mid = nan_ab[nan_ab.size // 2:].ctypes.data      # negative strides stay inside too
    for M, N, K, alpha in ((13, 29, 17, 0.0), (1, 37, 19, 0.0), (37, 1, 19, 0.0),
                           (300, 260, 270, 0.0), (13, 29, 0, 1.0), (1, 37, 0, 1.0),
                           (37, 1, 0, 1.0), (300, 260, 0, 1.0)):
        for beta in (0.0, 1.0, -2.5):
            for via_strided in (False, True):
                c = rng.standard_normal((M, N)).astype(dtype)
                if beta == 0:
                    c[...] = np.nan
                c0 = c.copy()
                if via_strided:
                    rc = strided(M, N, K, alpha, mid, -1, 2, mid, 3, -1, beta, c.ctypes.data, N, 1)
                else:
                    p = nan_ab.ctypes.data
                    rc = gemm(0, 1, M, N, K, alpha, p, max(K, 1), p, max(K, 1), beta,
                              c.ctypes.data, N)
                what = "%s %s M=%d N=%d K=%d alpha=%g beta=%g strided=%s" % (
                    ISA_NAMES[isa], dtype, M, N, K, alpha, beta, via_strided)
                assert rc == 0, what
                want = np.zeros_like(c0) if beta == 0 else (c0 * np.array(beta, dtype))
                assert np.array_equal(c, want), what + ": C must be exactly beta * C"


def _layout(rng, rows, cols, kind, dtype, fill=None):
    """A rows x cols view with the memory layout ``kind``, inside a NaN-filled base
    array: returns (base, view)."""
    if kind == "row":
        base = np.full((rows, cols + 2), np.nan, dtype)
        view = base[:, 1:cols + 1]
    elif kind == "col":                     # column-major: row stride 1
        base = np.full((cols, rows + 3), np.nan, dtype)
        view = base[:, :rows].T
    elif kind == "neg":                     # both strides negative
        base = np.full((rows + 1, cols + 1), np.nan, dtype)
        view = base[rows - 1::-1, cols - 1::-1] if rows and cols else base[:0, :0]
    elif kind == "step":                    # row step 2, column step 3
        base = np.full((2 * rows, 3 * cols), np.nan, dtype)
        view = base[::2, ::3]
    elif kind == "colneg":                  # column-major, rows reversed, column step 2
        base = np.full((2 * cols, rows + 1), np.nan, dtype)
        view = base[::2, rows - 1::-1].T
    else:
        raise ValueError(kind)
    assert view.shape == (rows, cols)
    view[...] = rng.standard_normal((rows, cols)) if fill is None else fill
    return base, view


def _elem_strides(v):
    s, item = v.strides, v.itemsize
    assert s[0] % item == 0 and s[1] % item == 0
    return s[0] // item, s[1] // item


def _view_indices(base, view):
    """Flat indices into ``base`` of the elements of ``view``."""
    item = base.itemsize
    off = (view.ctypes.data - base.ctypes.data) // item
    rs, cs = _elem_strides(view)
    i, j = np.meshgrid(np.arange(view.shape[0]), np.arange(view.shape[1]), indexing="ij")
    return (off + i * rs + j * cs).ravel()


#: (M, N, K) for the strided entry: a tile-crossing block, both GEMV directions, the pool
STRIDED_SHAPES = [(13, 33, 67), (1, 67, 33), (67, 1, 33), (5, 7, 3), (150, 260, 120)]
#: (A, B, C) layouts
STRIDED_LAYOUTS = [
    ("neg", "row", "row"), ("row", "neg", "row"), ("step", "step", "row"),
    ("col", "col", "col"), ("row", "row", "step"), ("neg", "neg", "neg"),
    ("colneg", "step", "colneg"), ("row", "col", "neg"),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_strided_views_match_numpy(rt, isa, dtype, threads):
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(threads)
    strided = _gemm_fn(rt, dtype, strided=True)
    rng = np.random.default_rng([37, threads, DTYPES.index(dtype)])
    for M, N, K in STRIDED_SHAPES:
        for la, lb, lc in STRIDED_LAYOUTS:
            for alpha, beta in ALPHA_BETA:
                _, a = _layout(rng, M, K, la, dtype)
                _, b = _layout(rng, K, N, lb, dtype)
                cbase, c = _layout(rng, M, N, lc, dtype, fill=np.nan if beta == 0 else None)
                outside = np.ones(cbase.size, bool)
                outside[_view_indices(cbase, c)] = False
                c0 = c.copy()
                rc = strided(M, N, K, alpha, a.ctypes.data, *_elem_strides(a),
                             b.ctypes.data, *_elem_strides(b), beta, c.ctypes.data,
                             *_elem_strides(c))
                what = ("%s %s %d thread(s) M=%d N=%d K=%d layouts A=%s B=%s C=%s "
                        "alpha=%g beta=%g") % (
                    ISA_NAMES[isa], dtype, threads, M, N, K, la, lb, lc, alpha, beta)
                assert rc == 0, what
                want, terms = _reference_product(alpha, a, b, beta, c0)
                _check_product(c, want, terms, K, dtype, what)
                assert np.isnan(cbase.ravel()[outside]).all(), (
                    what + ": wrote outside the view of C")



#: (Ci layout, C layout) for the separate-addend entry; "row" C with "row"/"step" Ci
#: reads Ci in the micro-kernels, the others go through a copy into C first
CI_LAYOUTS = [("row", "row"), ("step", "row"), ("neg", "row"), ("row", "col"), ("col", "step")]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_separate_addend_matches_numpy(rt, isa, dtype, threads):
    """C = alpha A.B + beta Ci with Ci its own array: Ci is never written, C gets the
    product plus Ci on every path (tiles, K blocks, GEMV both ways, the pool, K == 0,
    strided C), and beta == 0 reads neither (both NaN)."""
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(threads)
    fn = getattr(rt, "aotc_t_%sgemm_strided_ci" % ("s" if dtype == "float32" else "d"))
    rng = np.random.default_rng([43, threads, DTYPES.index(dtype)])
    # GEMV: K < 4 and K % 4 != 0 start from Ci in the kernels' last rows; (1, 512, 128)
    # and (1, 300, 200) split the output over the pool
    shapes = [(13, 33, 67), (16, 512, 128), (7, 40, 300), (1, 67, 33), (67, 1, 33),
              (1, 67, 3), (1, 45, 6), (67, 1, 2), (1, 512, 128), (1, 300, 200),
              (5, 7, 0), (150, 260, 120)]
    for M, N, K in shapes:
        for lci, lc in CI_LAYOUTS:
            for alpha, beta in ALPHA_BETA:
                a = rng.standard_normal((M, K)).astype(dtype)
                b = rng.standard_normal((K, N)).astype(dtype)
                cibase, ci = _layout(rng, M, N, lci, dtype,
                                     fill=np.nan if beta == 0 else None)
                cibase0 = cibase.copy()
                cbase, c = _layout(rng, M, N, lc, dtype, fill=np.nan)
                outside = np.ones(cbase.size, bool)
                outside[_view_indices(cbase, c)] = False
                rc = fn(M, N, K, alpha, a.ctypes.data, K, 1, b.ctypes.data, N, 1, beta,
                        ci.ctypes.data, *_elem_strides(ci), c.ctypes.data, *_elem_strides(c))
                what = "%s %s %d thread(s) M=%d N=%d K=%d Ci %s C %s alpha=%g beta=%g" % (
                    ISA_NAMES[isa], dtype, threads, M, N, K, lci, lc, alpha, beta)
                assert rc == 0, what
                want, terms = _reference_product(alpha, a, b, beta, ci)
                _check_product(c, want, terms, K, dtype, what)
                assert np.isnan(cbase.ravel()[outside]).all(), what + ": wrote outside C"
                assert np.array_equal(cibase, cibase0, equal_nan=True), what + ": wrote Ci"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_beta_zero_never_reads_c(rt, isa, dtype):
    """NaN in C is ignored with beta == 0 on every path: tiles, GEMV both ways, strided C."""
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(2)
    strided = _gemm_fn(rt, dtype, strided=True)
    rng = np.random.default_rng(41)
    for M, N, K in ((13, 29, 17), (1, 37, 19), (37, 1, 19), (1, 1, 5)) + tuple(POOL_SHAPES):
        for lc in ("row", "step", "col", "neg"):
            a = rng.standard_normal((M, K)).astype(dtype)
            b = rng.standard_normal((K, N)).astype(dtype)
            _, c = _layout(rng, M, N, lc, dtype, fill=np.nan)
            rc = strided(M, N, K, 1.0, a.ctypes.data, K, 1, b.ctypes.data, N, 1, 0.0,
                         c.ctypes.data, *_elem_strides(c))
            what = "%s %s M=%d N=%d K=%d C layout %s" % (ISA_NAMES[isa], dtype, M, N, K, lc)
            assert rc == 0, what
            want, terms = _reference_product(1.0, a, b, 0.0, None)
            _check_product(c, want, terms, K, dtype, what)


# ---------------------------------------------------------------- the thread pool

@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy_cores"])
@pytest.mark.parametrize("tasks", [1, 2, 3, 17])
def test_pool_runs_every_task_once_per_region(rt, tasks, busy):
    """Thousands of back-to-back regions (a scan's steps) on 3 threads: every task of
    every region runs exactly once, on a valid thread id not running another task.
    With the cores busy (a spinning process per core), workers come late or not at
    all: the caller closes the region and does the rest (the join protocol), and the
    late-region backoff runs regions on the caller alone; nothing is lost."""
    import subprocess
    import sys
    spinners = []
    if busy:
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(2)]
    try:
        rt.aotc_t_set_num_threads(3)
        regions = 3000
        counts = np.zeros(tasks, dtype=np.int64)
        bad = np.zeros(1, dtype=np.int64)
        rt.aotc_t_parallel_count(regions, tasks, 200, counts.ctypes.data, bad.ctypes.data)
        assert bad[0] == 0
        np.testing.assert_array_equal(counts, np.full(tasks, regions))
    finally:
        rt.aotc_t_set_num_threads(0)
        for p in spinners:
            p.kill()
            p.wait()


#: (M, N, K) for B packed beforehand: partial panels, 2 and 3 depth blocks (KC 256), an
#: LSTM step (16 x 512 x 128), the pool's column split (64 x 520 x 300), M > MB; and
#: the GEMV shapes, which read B in place and leave the pack alone
PK_SHAPES = [(2, 5, 7), (16, 512, 128), (7, 40, 300), (13, 33, 513), (64, 520, 300),
             (150, 260, 120), (1, 67, 33), (67, 1, 33)]


def test_pool_measures_its_hand_off(rt):
    """Back-to-back regions on 2 threads: the pool reads the round trip from posting a job
    to seeing a worker inside it (the least of the timed regions over a window of 128), a
    figure between 1 ns and the 2 us past which a hand-off counts as a wake-up from
    sleep.  A worker that the system seldom ran while the regions lasted gives no reading:
    retried, and skipped if the worker took under 40 % of the tasks (it takes about half
    on an idle machine; less where it shares its CPU with other work)."""
    rt.aotc_t_set_num_threads(2)
    try:
        counts = np.zeros(2, dtype=np.int64)
        bad = np.zeros(1, dtype=np.int64)
        before, after = np.zeros(6, dtype=np.int64), np.zeros(6, dtype=np.int64)
        rt.aotc_t_pool_stats(before.ctypes.data)
        for _ in range(20):
            rt.aotc_t_parallel_count(1000, 2, 200, counts.ctypes.data, bad.ctypes.data)
            if rt.aotc_t_pool_handoff_ns() > 0:
                break
        rt.aotc_t_pool_stats(after.ctypes.data)
        assert bad[0] == 0
        tasks, by_caller = after[1] - before[1], after[2] - before[2]
        if rt.aotc_t_pool_handoff_ns() == 0 and by_caller > 0.6 * tasks:
            pytest.skip("the worker took %d of %d tasks in 20000 regions: the CPUs are busy"
                        % (tasks - by_caller, tasks))
        assert 0 < rt.aotc_t_pool_handoff_ns() <= 2000, rt.aotc_t_pool_handoff_ns()
    finally:
        rt.aotc_t_set_num_threads(0)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("isa", ISAS)
def test_gemm_with_b_packed_beforehand_gives_the_same_bits(rt, isa, dtype, threads):
    """aotc_bpack (a loop's invariant B, packed at its first step): the product reads the
    panels alone -- B overwritten with NaN after packing changes nothing -- and gives
    the same bits as the call that packs per call or reads B in place, for every B
    layout, depth block, partial panel and the pool's split.  A pack of another array
    is not used."""
    _use_isa(rt, isa)
    rt.aotc_t_set_num_threads(threads)
    ch = "s" if dtype == "float32" else "d"
    plain = getattr(rt, "aotc_t_%sgemm_strided_ci" % ch)
    pk = getattr(rt, "aotc_t_%sgemm_strided_pk" % ch)
    rng = np.random.default_rng([47, threads, DTYPES.index(dtype)])
    nan = np.array([np.nan], dtype)
    for M, N, K in PK_SHAPES:
        for lb in ("row", "col", "step", "neg"):
            alpha, beta = ALPHA_BETA[(M + lb.__len__()) % len(ALPHA_BETA)]
            a = rng.standard_normal((M, K)).astype(dtype)
            _, b = _layout(rng, K, N, lb, dtype)
            b0 = b.copy()
            ci = rng.standard_normal((M, N)).astype(dtype)
            args = lambda c: (M, N, K, alpha, a.ctypes.data, K, 1,  # noqa: E731
                              b.ctypes.data, *_elem_strides(b), beta, ci.ctypes.data, N, 1,
                              c.ctypes.data, N, 1)
            what = "%s %s %d thread(s) M=%d N=%d K=%d B %s" % (
                ISA_NAMES[isa], dtype, threads, M, N, K, lb)
            want = np.full((M, N), np.nan, dtype)
            assert plain(*args(want)) == 0, what
            ref, terms = _reference_product(alpha, a, b, beta, ci)
            _check_product(want, ref, terms, K, dtype, what)
            # a pack of another array (same layout) is not this B: B is read
            _, other = _layout(rng, K, N, lb, dtype)
            got = np.full((M, N), np.nan, dtype)
            assert pk(*args(got), 2, other.ctypes.data, None) == 0, what
            assert np.array_equal(got, want), what + ": a pack of another B was used"
            # packed, then B overwritten: the panels alone (GEMV reads B in place)
            got = np.full((M, N), np.nan, dtype)
            gemv = M == 1 or N == 1
            assert pk(*args(got), 1, None, None if gemv else nan.ctypes.data) == 0, what
            assert np.array_equal(got, want), what + ": packed B gave other bits"
            if threads > 1:
                # threads far apart (any hand-off counts as slow): the row split, from a
                # fresh pack of B (the call above overwrote it)
                np.copyto(b, b0)
                old = rt.aotc_t_set_gemm_far_handoff(-1)
                try:
                    got = np.full((M, N), np.nan, dtype)
                    assert pk(*args(got), 1, None, None if gemv else nan.ctypes.data) == 0, what
                finally:
                    rt.aotc_t_set_gemm_far_handoff(old)
                assert np.array_equal(got, want), what + ": the row split gave other bits"
