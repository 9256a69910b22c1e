"""The C runtime compiled alone, with a small exported test surface (aotc_t_*), as
``libaotc_runtime_test.so``: how tests and benchmarks reach the static runtime
(rendered by ``aotc.codegen.runtime``) through ctypes.  Never part of a module.
"""
import os

from .. import __version__
from ..codegen.runtime import (ACCURACY, VMATH_DTYPES, VMATH_FUNCTIONS,  # noqa: F401
                               render_runtime_source)
from . import compiler

__all__ = ["ACCURACY", "VMATH_DTYPES", "VMATH_FUNCTIONS", "TEST_LIBRARY",
           "test_surface_source", "build_runtime_shared_library"]

# The C test surface: thin exported wrappers around the static runtime, plus C
# timing loops so that benchmarks measure no Python.
_TEST_SURFACE = r"""
/* ---- test surface (libaotc_runtime_test only; never in a module) ---- */
#define AOTC_T_API __attribute__((visibility("default")))

AOTC_T_API int aotc_t_init(void) { aotc_runtime_init(); return aotc_isa_active; }
AOTC_T_API int aotc_t_cpu_isa(void) { return aotc_cpu_isa(); }
AOTC_T_API int aotc_t_force_isa(int isa) { return aotc_force_isa(isa); }
AOTC_T_API void aotc_t_set_num_threads(int n) { aotc_set_num_threads(n); }
AOTC_T_API int aotc_t_get_num_threads(void) { return aotc_get_num_threads(); }
AOTC_T_API void aotc_t_pool_stats(long *out) { memcpy(out, aotc_pool_stats, sizeof aotc_pool_stats); }
AOTC_T_API long aotc_t_pool_handoff_ns(void) { return aotc_pool_handoff_ns(); }
AOTC_T_API long aotc_t_set_gemm_far_handoff(long ns)
{ long old = aotc_gemm_far_handoff_ns; aotc_gemm_far_handoff_ns = ns; return old; }

AOTC_T_API int aotc_t_sgemm(int ta, int tb, long M, long N, long K, float alpha, const float *A,
                            long lda, const float *B, long ldb, float beta, float *C, long ldc)
{ return aotc_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); }
AOTC_T_API int aotc_t_dgemm(int ta, int tb, long M, long N, long K, double alpha, const double *A,
                            long lda, const double *B, long ldb, double beta, double *C, long ldc)
{ return aotc_dgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); }
AOTC_T_API int aotc_t_sgemm_strided(long M, long N, long K, float alpha, const float *A, long rsa,
                                    long csa, const float *B, long rsb, long csb, float beta,
                                    float *C, long rsc, long csc)
{ return aotc_sgemm_strided(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc); }
AOTC_T_API int aotc_t_dgemm_strided(long M, long N, long K, double alpha, const double *A, long rsa,
                                    long csa, const double *B, long rsb, long csb, double beta,
                                    double *C, long rsc, long csc)
{ return aotc_dgemm_strided(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc); }
AOTC_T_API int aotc_t_sgemm_strided_ci(long M, long N, long K, float alpha, const float *A,
                                       long rsa, long csa, const float *B, long rsb, long csb,
                                       float beta, const float *Ci, long rsci, long csci,
                                       float *C, long rsc, long csc)
{ return aotc_sgemm_strided_ci(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, Ci, rsci, csci, C, rsc, csc); }
AOTC_T_API int aotc_t_dgemm_strided_ci(long M, long N, long K, double alpha, const double *A,
                                       long rsa, long csa, const double *B, long rsb, long csb,
                                       double beta, const double *Ci, long rsci, long csci,
                                       double *C, long rsc, long csc)
{ return aotc_dgemm_strided_ci(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, Ci, rsci, csci, C, rsc, csc); }
/* the _pk entry with a B packed beforehand (aotc_bpack: a loop's invariant operand):
 * pack = 0 passes no pack, 1 packs B, 2 packs Bp (another array) instead */
#define AOTC_T_GEMM_PK(ch, T)                                                               \
AOTC_T_API int aotc_t_##ch##gemm_strided_pk(long M, long N, long K, T alpha, const T *A,      \
                                           long rsa, long csa, const T *B, long rsb,        \
                                           long csb, T beta, const T *Ci, long rsci,        \
                                           long csci, T *C, long rsc, long csc, int pack,   \
                                           const T *Bp, T *after)                            \
{                                                                                           \
    aotc_bpack pk;                                                                          \
    memset(&pk, 0, sizeof pk);                                                              \
    void *buf = NULL;                                                                       \
    if (pack) {                                                                             \
        buf = malloc(aotc_##ch##gemm_bpack_bytes(K, N) + 64);                               \
        if (buf == NULL)                                                                    \
            return -2;                                                                      \
        aotc_##ch##gemm_bpack_fill(&pk, buf, pack == 2 ? Bp : B, rsb, csb, K, N);           \
    }                                                                                       \
    /* what B holds from now on: only the packed panels may be read */                     \
    if (after != NULL)                                                                      \
        for (long p = 0; p < K; p++)                                                        \
            for (long j = 0; j < N; j++)                                                    \
                ((T *)B)[p * rsb + j * csb] = *after;                                       \
    int rc = aotc_##ch##gemm_strided_pk(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta,     \
                                        Ci, rsci, csci, C, rsc, csc, pack ? &pk : NULL);    \
    free(buf);                                                                              \
    return rc;                                                                              \
}
AOTC_T_GEMM_PK(s, float)
AOTC_T_GEMM_PK(d, double)

static double aotc_t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* seconds for `reps` products C = A.B (row-major, contiguous) */
AOTC_T_API double aotc_t_sgemm_time(long M, long N, long K, const float *A, const float *B,
                                    float *C, long reps)
{
    double t0 = aotc_t_now();
    for (long r = 0; r < reps; r++)
        aotc_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    return aotc_t_now() - t0;
}

/* aotc_t_parallel_count: `regions` parallel regions of `tasks` tasks; each task spins
 * for about `spin` pause instructions, then adds 1 to counts[task]; a thread id out of
 * range or two tasks of one region on one thread id at once count in bad[0]. */
typedef struct { long *counts; long spin; long *bad; int busy[AOTC_POOL_MAX_THREADS]; } aotc_t_pc;
static void aotc_t_pc_task(void *ctx, long task, int tid)
{
    aotc_t_pc *c = (aotc_t_pc *)ctx;
    if (tid < 0 || tid >= aotc_get_num_threads()
        || __atomic_exchange_n(&c->busy[tid], 1, __ATOMIC_SEQ_CST)) {
        __atomic_add_fetch(c->bad, 1, __ATOMIC_SEQ_CST);
        return;
    }
    for (long i = 0; i < c->spin; i++)
        AOTC_PAUSE();
    __atomic_add_fetch(&c->counts[task], 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&c->busy[tid], 0, __ATOMIC_SEQ_CST);
}
AOTC_T_API void aotc_t_parallel_count(long regions, long tasks, long spin, long *counts, long *bad)
{
    aotc_t_pc c;
    memset(&c, 0, sizeof c);
    c.counts = counts;
    c.spin = spin;
    c.bad = bad;
    for (long r = 0; r < regions; r++)
        aotc_parallel_for(tasks, aotc_t_pc_task, &c);
}

typedef void (*aotc_t_vf32)(const float *, float *, long);
typedef void (*aotc_t_vf64)(const double *, double *, long);
static const aotc_t_vf32 aotc_t_f32[] = { %(f32)s };
static const aotc_t_vf64 aotc_t_f64[] = { %(f64)s };

/* out = fn(in) over n elements; fn indexes VMATH_FUNCTIONS, dt VMATH_DTYPES */
AOTC_T_API int aotc_t_vmath(int fn, int dt, const void *in, void *out, long n)
{
    if (fn < 0 || fn >= %(nfn)d || dt < 0 || dt > 1)
        return -1;
    if (dt == 0)
        aotc_t_f32[fn]((const float *)in, (float *)out, n);
    else
        aotc_t_f64[fn]((const double *)in, (double *)out, n);
    return 0;
}

AOTC_T_API double aotc_t_vmath_time(int fn, int dt, const void *in, void *out, long n, long reps)
{
    double t0 = aotc_t_now();
    for (long r = 0; r < reps; r++)
        if (aotc_t_vmath(fn, dt, in, out, n))
            return -1;
    return aotc_t_now() - t0;
}
"""

TEST_LIBRARY = "libaotc_runtime_test.so"


def test_surface_source():
    """The runtime plus its exported test surface, as one C file (no Python needed)."""
    table = {tag: ", ".join("aotc_v%s_%s" % (f, tag) for f in VMATH_FUNCTIONS)
             for tag in ("f32", "f64")}
    header = "/* aotc %s runtime test library: generated, do not edit. */\n" % __version__
    return header + render_runtime_source() + _TEST_SURFACE % dict(
        f32=table["f32"], f64=table["f64"], nfn=len(VMATH_FUNCTIONS))


def build_runtime_shared_library(folder, extra_flags=()):
    """Compile the runtime and its test surface into ``folder``/libaotc_runtime_test.so."""
    os.makedirs(folder, exist_ok=True)
    return compiler.compile_shared_library(test_surface_source(),
                                           os.path.join(folder, TEST_LIBRARY), extra_flags)
