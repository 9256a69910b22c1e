"""The C runtime every generated module embeds: rendered from templates/c/runtime_*.c.j2.

    render_runtime_sources()   {"runtime_core.c": ..., "runtime_pool.c": ...,
                                "runtime_vmath.c": ..., "runtime_gemm.c": ...}
    render_runtime_source()    the four, concatenated in include order
    needs(kernel_text)         which optional parts a module's kernels call

(``aotc.build.runtime_lib`` compiles the runtime alone, with a C test surface,
for tests and benchmarks.)

Every number the templates print is decided here: SIMD register layouts,
GEMM register tiles and cache blocks, and the vector math's constants.

Vector math coefficients.  exp uses e^r = 1 + r + r^2 Q(r) on |r| <= ln2/2
and log uses log(1+f) = 2s + s R(s^2), s = f/(2+f), |s| <= 0.1716; Q and R
are the Taylor series of those functions, truncated where the first dropped
term is below 1/20 ulp on the whole reduced interval (float32: Q of degree 5,
R of 4 terms; float64: Q of degree 11, R of 10 terms).  A minimax fit would
save a term or two; the truncated series is exact to derive and needs no
fitting tool.  Each coefficient is the correctly rounded value of the exact
rational (computed with Fractions), printed as a C99 hex literal.  The error
bounds quoted in runtime_vmath (ACCURACY) were measured by
tests/build/test_runtime_c.py, which also enforces them.
"""
import math
import re
from fractions import Fraction

import numpy as np

#: the array entry points' function order (aotc_t_vmath's ``fn`` argument)
VMATH_FUNCTIONS = ("exp", "log", "log1p", "tanh", "sigmoid", "softplus")
#: dtype order of aotc_t_vmath's ``dt`` argument
VMATH_DTYPES = ("float32", "float64")

#: Error bound in ulp per dtype and function, enforced on every path (generic,
#: AVX2, AVX-512) by tests/build/test_runtime_c.py: the largest error measured,
#: rounded up to the next 0.5 ulp.  float32: all 2^32 inputs; float64: about 5e8
#: points, random over the domain and then concentrated where errors peak.
#: Measured maxima, AVX2 / generic (glibc):
#:   float32  exp 1.06/0.50  log 0.86/0.82  log1p 1.44/1.29  tanh 2.42/2.19
#:            sigmoid 2.40/2.40  softplus 1.99/1.54
#:   float64  exp 1.01/0.51  log 0.84/0.52  log1p 1.44/0.82  tanh 2.59/2.19
#:            sigmoid 2.50/2.50  softplus 2.02/1.53
ACCURACY = {
    "float32": {"exp": 1.5, "log": 1.0, "log1p": 1.5, "tanh": 2.5, "sigmoid": 2.5,
                "softplus": 2.0},
    "float64": {"exp": 1.5, "log": 1.0, "log1p": 1.5, "tanh": 3.0, "sigmoid": 2.5,
                "softplus": 2.5},
}


class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)


# ---------------------------------------------------------------------------
# SIMD register layouts (runtime_core's helpers, vmath and GEMM kernels)
# ---------------------------------------------------------------------------

def _simd(isa, dtype):
    f32 = dtype == "float32"
    vlen = (16 if f32 else 8) if isa == "avx512" else (8 if f32 else 4)
    ns = _NS(isa=isa, dtype=dtype, ch="s" if f32 else "d", ctype="float" if f32 else "double",
             vlen=vlen, vs="ps" if f32 else "pd",
             isa_macro="AOTC_ISA_AVX512" if isa == "avx512" else "AOTC_ISA_AVX2",
             target="AOTC_TARGET_AVX512" if isa == "avx512" else "AOTC_TARGET_AVX2")
    if isa == "avx512":
        ns.vt, ns.vp = ("__m512" if f32 else "__m512d"), "_mm512_"
        ns.mask_t = "__mmask16" if f32 else "__mmask8"
        ns.mask_cmpgt = ns.mask_set1 = ns.mask_setr = ns.lane_ids = ""
    else:
        ns.vt, ns.vp = ("__m256" if f32 else "__m256d"), "_mm256_"
        ns.mask_t = "__m256i"
        ns.mask_cmpgt = "_mm256_cmpgt_epi32" if f32 else "_mm256_cmpgt_epi64"
        ns.mask_set1 = "_mm256_set1_epi32" if f32 else "_mm256_set1_epi64x"
        ns.mask_setr = "_mm256_setr_epi32" if f32 else "_mm256_setr_epi64x"
        ns.lane_ids = ", ".join(str(i) for i in range(vlen))
    return ns


SIMD_LAYERS = tuple(_simd(isa, dt) for isa in ("avx2", "avx512") for dt in ("float32", "float64"))


# ---------------------------------------------------------------------------
# vector math constants
# ---------------------------------------------------------------------------

def _ln2_fraction():
    """ln 2 to about 120 bits, as a Fraction (atanh series: ln2 = 2 atanh(1/3))."""
    total, k = Fraction(0), 0
    third = Fraction(1, 3)
    while True:
        term = 2 * third ** (2 * k + 1) / (2 * k + 1)
        total += term
        if term < Fraction(1, 2 ** 130):
            return total
        k += 1


def _round_to(frac, dtype):
    """The float of ``dtype`` nearest to the rational ``frac`` (as a Python float)."""
    x = float(frac)                       # correctly rounded to double
    if dtype == "float32":
        # double rounding double->float32 can only be off on exact ties, which a
        # transcendental constant never hits at these precisions
        x = float(np.float32(x))
    return x


def _lit(x):
    """A C99 hex literal for a double value (exact)."""
    if x == 0:
        return "0.0"
    return float(x).hex()


def _vmath_dtype(dtype):
    f32 = dtype == "float32"
    mant, bias, bits = (23, 127, 32) if f32 else (52, 1023, 64)
    ln2 = _ln2_fraction()
    ln2_hi = _round_to(ln2, dtype)
    ln2_lo = _round_to(ln2 - Fraction(ln2_hi), dtype)
    log2e = _round_to(1 / ln2, dtype)
    q_deg = 5 if f32 else 11
    exp_q = [_round_to(Fraction(1, math.factorial(k + 2)), dtype) for k in range(q_deg, -1, -1)]
    r_terms = 4 if f32 else 10
    log_p = [_round_to(Fraction(2, 2 * k + 1), dtype) for k in range(r_terms, 0, -1)]
    sqrt_half_bits = int(np.array(np.sqrt(0.5), dtype=dtype).view("u%d" % (bits // 8)))
    frexp_offset = (bias << mant) - sqrt_half_bits
    tanh_max = 9.125 if f32 else 19.125          # tanh rounds to +-1 beyond these
    return _NS(
        tag="f32" if f32 else "f64", ctype="float" if f32 else "double", dtype=dtype,
        bits=bits, set1_sfx="" if f32 else "x", mant=mant, bias=bias,
        magic=_lit(1.5 * 2.0 ** mant), two_mant=_lit(2.0 ** mant),
        pow2_min=1 - bias, pow2_max=bias, ldexp_max=2 * (bias - 1),
        min_normal=_lit(2.0 ** (1 - bias)),
        frexp_offset="0x%xLL" % frexp_offset if not f32 else "0x%x" % frexp_offset,
        log2e=_lit(log2e), ln2_hi=_lit(ln2_hi), ln2_lo=_lit(ln2_lo),
        exp_q=[_lit(c) for c in exp_q], log_p=[_lit(c) for c in log_p],
        # exp saturates: above exp_hi to inf, below exp_lo to 0 (through subnormals)
        exp_hi=_lit(89.0 if f32 else 710.0), exp_lo=_lit(-104.0 if f32 else -746.0),
        tanh_max=_lit(tanh_max), expm1_max=_lit(2 * tanh_max),
        ulp=lambda fn, _d=dtype: "%g ulp" % ACCURACY[_d][fn])


VMATH_DTYPE_RECS = tuple(_vmath_dtype(d) for d in VMATH_DTYPES)

_SCALAR = {
    "exp": ("expf", "exp"), "log": ("logf", "log"), "log1p": ("log1pf", "log1p"),
    "tanh": ("tanhf", "tanh"), "sigmoid": ("aotc_sigmoidf", "aotc_sigmoid"),
    "softplus": ("aotc_softplusf", "aotc_softplus"),
}


def _vmath_funcs():
    return [_NS(name=f, scalar=lambda tag, _f=f: _SCALAR[_f][0 if tag == "f32" else 1])
            for f in VMATH_FUNCTIONS]


def _accuracy_rows():
    rows = {}
    for tag, dt in (("f32", "float32"), ("f64", "float64")):
        rows[tag] = "".join("%-11s" % ("%g" % ACCURACY[dt][f]) for f in VMATH_FUNCTIONS).rstrip()
    return _NS(**rows)


def _vmath_layers():
    layers = []
    for s in SIMD_LAYERS:
        d = VMATH_DTYPE_RECS[VMATH_DTYPES.index(s.dtype)]
        vname = "%d%s" % (s.vlen, "" if s.dtype == "float32" else "d")
        layers.append(_NS(dt=d, simd=s, sfx="%s%s_%s" % (s.ch, s.vlen, s.isa), vname=vname,
                          isa_macro=s.isa_macro))
    return layers


# ---------------------------------------------------------------------------
# GEMM kernels: register tiles and cache blocks per (ISA, dtype)
# ---------------------------------------------------------------------------

#: (isa, dtype) -> (MR, NR, KC, MB, NB).  The SIMD tiles keep MR x NR/vlen
#: accumulators plus NR/vlen loads of B and one broadcast of A in registers
#: (AVX2: 12 + 2 + 1 of 16; AVX-512: 24 + 2 + 1 of 32).  KC x NR of packed B
#: (a panel) and KC x MR of A (a sliver) sit in L1 during the micro-kernel;
#: the KC x NB block of B fits a 512 KiB L2.
GEMM_SHAPES = {
    ("generic", "float32"): (4, 8, 256, 128, 256),
    ("generic", "float64"): (4, 8, 256, 128, 256),
    ("avx2", "float32"): (6, 16, 256, 144, 384),
    ("avx2", "float64"): (6, 8, 256, 144, 192),
    ("avx512", "float32"): (12, 32, 256, 144, 384),
    ("avx512", "float64"): (12, 16, 256, 144, 192),
}


def _gemm_kernels():
    out = []
    for isa in ("generic", "avx2", "avx512"):
        for dt in ("float32", "float64"):
            mr, nr, kc, mb, nb = GEMM_SHAPES[(isa, dt)]
            if isa == "generic":
                k = _NS(isa="generic", ch="s" if dt == "float32" else "d",
                        ctype="float" if dt == "float32" else "double", target="",
                        isa_macro="AOTC_ISA_GENERIC")
            else:
                k = _simd(isa, dt)
                k.nvec = nr // k.vlen
            k.mr, k.nr, k.kc, k.mb, k.nb = mr, nr, kc, mb, nb
            k.rows = list(range(1, mr + 1))
            out.append(k)
    return out


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

_CACHE = {}

#: what in a module's kernels calls into the vector math or into GEMM
_VMATH_USE = re.compile(r"\baotc_(v(%s)_f(32|64)|rexp_f(32|64)|(%s)\d+d?_avx(2|512))\("
                        % ("|".join(VMATH_FUNCTIONS), "|".join(VMATH_FUNCTIONS)))
_GEMM_USE = re.compile(r"\baotc_([sd])gemm")


def needs(kernel_text):
    """(vmath SIMD layers needed, GEMM dtype letters needed) for kernels ``kernel_text``."""
    return (_VMATH_USE.search(kernel_text) is not None,
            tuple(sorted(set(_GEMM_USE.findall(kernel_text)))))


def render_runtime_sources(vmath=True, gemm=("d", "s")):
    """{file name: C text} of the four runtime pieces (deterministic; memoized).

    ``vmath=False`` keeps only the vector math's portable entry points (libm
    loops), ``gemm`` lists the GEMM dtypes to include ('s', 'd'): a module
    whose kernels use neither compiles several times faster.  Default: all.
    """
    from .render import render_template
    key = (bool(vmath), tuple(sorted(gemm)))
    if key not in _CACHE:
        kernels = [k for k in _gemm_kernels() if k.ch in key[1]]
        _CACHE[key] = {
            "runtime_core.c": render_template("c/runtime_core.c.j2", simd_layers=SIMD_LAYERS),
            "runtime_pool.c": render_template("c/runtime_pool.c.j2"),
            "runtime_vmath.c": render_template(
                "c/runtime_vmath.c.j2", acc=_accuracy_rows(), vmath_dtypes=VMATH_DTYPE_RECS,
                vmath_funcs=_vmath_funcs(), vmath_layers=_vmath_layers() if vmath else []),
            "runtime_gemm.c": render_template(
                "c/runtime_gemm.c.j2",
                gemm_dtypes=[d for d in (_NS(ch="s", ctype="float"), _NS(ch="d", ctype="double"))
                             if d.ch in key[1]],
                gemm_kernels=kernels, max_mr=max([k.mr for k in kernels] or [1]),
                max_tile=max([k.mr * k.nr for k in kernels] or [1])),
        }
    return dict(_CACHE[key])


RUNTIME_ORDER = ("runtime_core.c", "runtime_pool.c", "runtime_vmath.c", "runtime_gemm.c")


def render_runtime_source(vmath=True, gemm=("d", "s")):
    """The runtime as one text, in include order (see render_runtime_sources)."""
    src = render_runtime_sources(vmath, gemm)
    return "\n".join(src[name] for name in RUNTIME_ORDER)
