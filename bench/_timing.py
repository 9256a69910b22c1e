"""What the benchmarks share: interleaved rounds and their medians."""
import time

import numpy as np


def median_rounds(fns, rounds, settle=0.0):
    """Run each fn (returning seconds per call) `rounds` times, interleaved so
    that drift hits every contender alike; medians per fn.  `settle` seconds
    of sleep before each fn let the previous contender's worker threads stop
    spinning (OpenBLAS, OpenMP and ONNX Runtime busy-wait for a while after a
    call), so they do not steal the cores from the next one."""
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            if settle:
                time.sleep(settle)
            samples[i].append(fn())
    return [float(np.median(s)) for s in samples]


# A cache line bounced between two CPUs: how far apart the process's CPUs are now.  On a
# virtual machine the answer changes from minute to minute (about 100 ns when two
# vCPUs share a cache, several hundred when they do not), and every hand-off between a
# parallel region's threads pays it a few times: it is what the 2-thread rows move with.
_ROUND_TRIP_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static _Atomic long flag __attribute__((aligned(64)));
static long rounds;

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *echo(void *cpu)
{
    pin((int)(long)cpu);
    for (long i = 0; i < rounds; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
    }
    return 0;
}

/* nanoseconds per round trip of a cache line between CPUs a and b (the calling thread
 * is pinned to a meanwhile and restored after), or -1 */
__attribute__((visibility("default"))) double bench_round_trip_ns(int a, int b, long n)
{
    cpu_set_t old;
    pthread_t t;
    struct timespec t0, t1;
    if (pthread_getaffinity_np(pthread_self(), sizeof old, &old) != 0)
        return -1;
    rounds = n;
    atomic_store(&flag, 0);
    if (pthread_create(&t, 0, echo, (void *)(long)b) != 0)
        return -1;
    pin(a);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, 0);
    pthread_setaffinity_np(pthread_self(), sizeof old, &old);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
}
"""


def round_trip_probe(folder):
    """A function () -> nanoseconds per cache-line round trip between the process's first
    two CPUs (median of 5 runs of 20000), or None with fewer than two CPUs or no compiler."""
    import ctypes
    import os
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    try:
        from aotc.build.compiler import compile_shared_library
        lib = ctypes.CDLL(compile_shared_library(
            _ROUND_TRIP_C, os.path.join(folder, "libround_trip.so"), ("-lpthread",)))
    except Exception:  # noqa: BLE001 - a diagnostic: without it the report says so
        return None
    fn = lib.bench_round_trip_ns
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long]

    def probe():
        return float(np.median([fn(cpus[0], cpus[1], 20000) for _ in range(5)]))
    return probe
