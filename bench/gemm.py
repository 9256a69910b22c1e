"""Benchmark: aotc's generated GEMM and vector math against NumPy (OpenBLAS).

Run:  python bench/gemm.py [--quick]

Prints, in one run, for float32 C = A.B at (64x128).(128x512) and 1024^3 on 1
and 2 threads: aotc GFLOP/s, NumPy GFLOP/s and the ratio aotc / NumPy (medians
of repeated, interleaved rounds), the time of `aotc build` for the logreg
sample (cold and warm compile cache), then float32 exp / tanh throughput
against np.exp / np.tanh.

How it measures:
- the runtime is rendered and compiled exactly as the tests do it
  (aotc.build.runtime_lib.build_runtime_shared_library) and loaded via ctypes;
- aotc is timed by a C loop around aotc_sgemm (no Python in the loop: what a
  generated module pays); "aotc/call" is also timed per ctypes call, which adds
  the ctypes overhead;
- NumPy is timed as np.dot(a, b, out=c) on C-contiguous float32 arrays in a
  Python loop (what a NumPy user pays);
- OpenBLAS gets the same thread count: through threadpoolctl when installed,
  otherwise each thread count runs in a subprocess started with
  OPENBLAS_NUM_THREADS set;
- the environment variables OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE slow
  OpenBLAS down; the script re-executes itself without them.
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time

_SLOW_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

if any(v in os.environ for v in _SLOW_VARS):
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_VARS}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402  (after the re-exec, so OpenBLAS never sees them)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import median_rounds  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from aotc.build.runtime_lib import VMATH_FUNCTIONS, build_runtime_shared_library  # noqa: E402

GEMM_CASES = [(64, 512, 128), (1024, 1024, 1024)]   # (M, N, K)
THREADS = (1, 2)


def _load(libdir):
    lib = ctypes.CDLL(os.path.join(libdir, "libaotc_runtime_test.so"))
    cl, vp = ctypes.c_long, ctypes.c_void_p
    lib.aotc_t_sgemm_time.argtypes = [cl, cl, cl, vp, vp, vp, cl]
    lib.aotc_t_sgemm_time.restype = ctypes.c_double
    lib.aotc_t_sgemm.argtypes = [ctypes.c_int, ctypes.c_int, cl, cl, cl, ctypes.c_float, vp, cl,
                                 vp, cl, ctypes.c_float, vp, cl]
    lib.aotc_t_vmath_time.argtypes = [ctypes.c_int, ctypes.c_int, vp, vp, cl, cl]
    lib.aotc_t_vmath_time.restype = ctypes.c_double
    lib.aotc_t_set_num_threads.argtypes = [ctypes.c_int]
    lib.aotc_t_init()
    return lib


def bench_gemm(lib, nthreads, quick):
    """{case: {aotc, aotc_call, numpy} seconds per product} at nthreads."""
    lib.aotc_t_set_num_threads(nthreads)
    rng = np.random.default_rng(0)
    out = {}
    for (M, N, K) in GEMM_CASES:
        a = rng.standard_normal((M, K)).astype(np.float32)
        b = rng.standard_normal((K, N)).astype(np.float32)
        c = np.empty((M, N), np.float32)
        flops = 2.0 * M * N * K
        reps = max(3, int(0.05 / (flops / 150e9)))   # ~50 ms per round
        if quick:
            reps = max(2, reps // 5)
        ad, bd, cd = a.ctypes.data, b.ctypes.data, c.ctypes.data

        def t_aotc():
            return lib.aotc_t_sgemm_time(M, N, K, ad, bd, cd, reps) / reps

        def t_call():
            f = lib.aotc_t_sgemm
            t0 = time.perf_counter()
            for _ in range(reps):
                f(0, 0, M, N, K, 1.0, ad, K, bd, N, 0.0, cd, N)
            return (time.perf_counter() - t0) / reps

        def t_numpy():
            t0 = time.perf_counter()
            for _ in range(reps):
                np.dot(a, b, out=c)
            return (time.perf_counter() - t0) / reps

        np.dot(a, b, out=c)
        ref = c.copy()
        lib.aotc_t_sgemm(0, 0, M, N, K, 1.0, ad, K, bd, N, 0.0, cd, N)
        assert np.allclose(c, ref, rtol=1e-3, atol=1e-3 * np.sqrt(K)), "wrong result"
        for fn in (t_aotc, t_call, t_numpy):   # warm up: threads, caches, clocks
            fn()
        ta, tc, tn = median_rounds([t_aotc, t_call, t_numpy], 5 if quick else 15,
                                    settle=0.2 if nthreads > 1 else 0.0)
        out["%dx%dx%d" % (M, N, K)] = {"aotc": ta, "aotc_call": tc, "numpy": tn,
                                       "flops": flops}
    return out


def bench_vmath(lib, quick):
    """float32 exp and tanh: ns per element, aotc vs numpy (single thread)."""
    res = {}
    for n in (1 << 12, 1 << 16, 1 << 20):
        x = np.random.default_rng(1).uniform(-5, 5, n).astype(np.float32)
        y = np.empty_like(x)
        reps = max(3, (1 << 24) // n // (8 if quick else 1))
        for name, npf in (("exp", np.exp), ("tanh", np.tanh)):
            fi = VMATH_FUNCTIONS.index(name)

            def t_aotc():
                return lib.aotc_t_vmath_time(fi, 0, x.ctypes.data, y.ctypes.data, n, reps) / reps

            def t_numpy():
                t0 = time.perf_counter()
                for _ in range(reps):
                    npf(x, out=y)
                return (time.perf_counter() - t0) / reps

            t_aotc(), t_numpy()
            ta, tn = median_rounds([t_aotc, t_numpy], 5 if quick else 11)
            res["%s n=%d" % (name, n)] = {"aotc": ta / n * 1e9, "numpy": tn / n * 1e9}
    return res


def _worker(args):
    """Measure one thread count (OpenBLAS threads fixed by the environment)."""
    lib = _load(args.libdir)
    print(json.dumps(bench_gemm(lib, args.worker, args.quick)))


def _controlled_gemm(lib, args):
    """{nthreads: results}, OpenBLAS held at the same thread count."""
    results = {}
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    for nt in THREADS:
        if threadpool_limits is not None:
            with threadpool_limits(limits=nt, user_api="blas"):
                results[nt] = bench_gemm(lib, nt, args.quick)
            continue
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(nt))
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(nt),
               "--libdir", args.libdir] + (["--quick"] if args.quick else [])
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        results[nt] = json.loads(res.stdout.strip().splitlines()[-1])
    return results


def bench_build():
    """Seconds for `aotc build samples/logreg/model.py`, with an empty compile cache
    (cold: the C compiler runs) and then with the cache filled (warm)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    model = os.path.join(root, "samples", "logreg", "model.py")
    out = {}
    with tempfile.TemporaryDirectory(prefix="aotc-bench-build-") as d:
        env = dict(os.environ, AOTC_FLAGS="compiledir=%s" % os.path.join(d, "cache"))
        for kind in ("cold", "warm"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "aotc.cli", "build", model, "-o",
                            os.path.join(d, "out"), "--name", "logreg", "-q"], env=env,
                           check=True)
            out[kind] = time.perf_counter() - t0
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--libdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return _worker(args)
    with tempfile.TemporaryDirectory(prefix="aotc-bench-") as d:
        build_runtime_shared_library(d)
        args.libdir = d
        lib = _load(d)
        gemm = _controlled_gemm(lib, args)
        vm = bench_vmath(lib, args.quick)

    print("float32 GEMM, C = A.B (median of interleaved rounds; GFLOP/s)")
    print("%-16s %3s %9s %11s %9s %7s %12s" % ("M x N x K", "thr", "aotc", "aotc/call",
                                               "numpy", "ratio", "ratio/call"))
    for nt, cases in gemm.items():
        for name, r in cases.items():
            g = lambda t: r["flops"] / t / 1e9
            print("%-16s %3d %9.1f %11.1f %9.1f %7.2f %12.2f" % (
                name, nt, g(r["aotc"]), g(r["aotc_call"]), g(r["numpy"]),
                r["numpy"] / r["aotc"], r["numpy"] / r["aotc_call"]))
    print()
    build = bench_build()
    print("aotc build samples/logreg/model.py (whole command, interpreter start included): "
          "%.1f s with an empty compile cache, %.1f s with it filled"
          % (build["cold"], build["warm"]))
    print()
    print("float32 vector math, 1 thread (ns per element; ratio = numpy / aotc time)")
    print("%-16s %9s %9s %7s" % ("function", "aotc", "numpy", "ratio"))
    for name, r in vm.items():
        print("%-16s %9.3f %9.3f %7.2f" % (name, r["aotc"], r["numpy"], r["numpy"] / r["aotc"]))


if __name__ == "__main__":
    main()
