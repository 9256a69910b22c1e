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
