"""``aotc.tensor.shared_randomstreams`` — Theano's ``RandomStreams``.

>>> srng = RandomStreams(seed=234)
>>> rv_u = srng.uniform((2, 2))
>>> f = aotc.function([], rv_u)        # new numbers on every call
>>> g = aotc.function([], rv_u, no_default_updates=True)   # the same numbers

Theano backs these streams with NumPy RandomState objects; aotc uses its
counter-based generator (see :mod:`aotc.frontend.ops.random`) so that the
compiled module draws exactly what the reference evaluator draws.  Exact
values are implementation-defined; the state semantics are Theano's: each
random variable has a state (``rv.rng``) with a default update, is drawn once
per call however often the graph uses it, and ``seed(n)`` re-seeds them all.
"""
from ..frontend.ops.random import RandomStreamsBase

__all__ = ["RandomStreams"]


class RandomStreams(RandomStreamsBase):
    """A stream of random variables.  ``seed=None`` draws a seed from the OS (as Theano)."""

    def __init__(self, seed=None):
        if seed is None:
            import numpy as np
            seed = int(np.random.SeedSequence().entropy) & ((1 << 64) - 1)
        super().__init__(seed)

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform draws in ``[low, high)``; dtype: floatX upcast with low's and high's.

        ``size`` is a tuple of ints and int scalars or an int vector (``x.shape``);
        ``()`` with tensor ``low``/``high`` draws one value per parameter element.
        """
        return self._uniform(size, low, high, ndim, dtype, "RandomStreams.uniform")

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal draws with mean ``avg`` and standard deviation ``std``."""
        return self._normal(size, avg, std, ndim, dtype, "RandomStreams.normal")

    def binomial(self, size=(), n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Binomial draws: successes in ``n`` trials of probability ``p`` (int64 by default)."""
        if prob is not None:
            p = prob
        return self._binomial(size, n, p, ndim, dtype, "RandomStreams.binomial")
