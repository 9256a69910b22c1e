"""The test records of the op table.

Each :class:`OpCase` names an op, builds its graph from symbolic inputs, gives
the NumPy reference the result must match, the input shapes and dtypes, the
sampler the inputs are drawn from, and whether to check the gradient by
central differences (float64).  Tolerances come from the op record where the
op has them (elementwise), else from the case.

The case lists live one per op family (``cases_elemwise.py``, ``cases_shape.py``,
``cases_reduce.py``, ...); ``ALL_CASES`` gathers them.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class Input:
    shape: Tuple[int, ...]
    dtype: str = "float"        # 'float' -> each of the case's float dtypes; or a fixed dtype
    sampler: str = "real"        # real | positive | nonzero | unit | int:<lo>:<hi> | bool | distinct
    broadcastable: Optional[Tuple[bool, ...]] = None


@dataclass(frozen=True)
class OpCase:
    """One op over one set of input shapes.

    ``build(*vars)`` returns the output variable; ``ref(*arrays)`` the NumPy result.
    ``op`` names the op class or scalar op under test (the op-table walk checks
    that every op has at least one case).
    """
    name: str
    op: str
    build: Callable
    ref: Callable
    inputs: Sequence[Input]
    dtypes: Tuple[str, ...] = ("float32", "float64")
    grad: bool = True
    rtol: float = 1e-6
    atol: float = 1e-6
    # float32 tolerances; float64 uses rtol/atol scaled down by 1e-4 unless given
    rtol64: Optional[float] = None
    atol64: Optional[float] = None
    # gradient only w.r.t. these input positions (float inputs); None: all float inputs
    wrt: Optional[Tuple[int, ...]] = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def tol(self, dtype):
        if dtype == "float64":
            return (self.rtol64 if self.rtol64 is not None else self.rtol * 1e-4,
                    self.atol64 if self.atol64 is not None else self.atol * 1e-4)
        if dtype in ("int32", "int64", "int8", "int16", "bool", "uint8"):
            return (0.0, 0.0)
        return (self.rtol, self.atol)


def sample(inp, dtype, rng):
    """Draw one input array for ``inp`` in ``dtype``."""
    shape, s = inp.shape, inp.sampler
    if s.startswith("int:"):
        _, lo, hi = s.split(":")
        return rng.integers(int(lo), int(hi), size=shape).astype(dtype)
    if s == "bool":
        return rng.random(shape) < 0.5
    if s.startswith("value:"):
        return np.full(shape, float(s.split(":")[1]), dtype=dtype)
    if dtype.startswith("int") or dtype.startswith("uint"):
        if s == "positive":
            return rng.integers(1, 6, size=shape).astype(dtype)
        if s == "nonzero":
            v = rng.integers(1, 6, size=shape) * rng.choice([-1, 1], size=shape)
            return v.astype(dtype)
        return rng.integers(-5, 6, size=shape).astype(dtype)
    if s == "positive":
        x = rng.uniform(0.5, 2.0, size=shape)
    elif s == "nonzero":
        x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    elif s == "unit":
        x = rng.uniform(-0.9, 0.9, size=shape)
    elif s == "distinct":
        # values well apart so that max/min/sort-like ops have a unique answer
        n = int(np.prod(shape)) if shape else 1
        x = (rng.permutation(n).reshape(shape) * 0.37 + rng.uniform(-0.05, 0.05, size=shape))
    else:
        x = rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)
