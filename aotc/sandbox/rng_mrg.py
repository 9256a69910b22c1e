"""``aotc.sandbox.rng_mrg`` — Theano's ``MRG_RandomStreams``.

>>> trng = MRG_RandomStreams(SEED)
>>> mask = trng.binomial(proj.shape, p=0.5, n=1, dtype=proj.dtype)

Same interface as Theano's; the numbers come from aotc's counter-based
generator (see :mod:`aotc.frontend.ops.random`), not from MRG31k3p: exact
values are implementation-defined, the state semantics are Theano's.  Each
random variable has its own state (``rv.rstate``, also ``rv.rng``), advanced by
a default update on every call of a function that uses it.
"""
from ..frontend.ops.random import RandomStreamsBase

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(RandomStreamsBase):
    """A stream of random variables, reproducible per ``seed`` (Theano's default 12345).

    ``seed`` is an int (or a sequence of ints, as Theano's MRG accepts).
    """

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Uniform draws in ``[low, high)`` of shape ``size`` (dtype: floatX unless given).

        ``size`` is a tuple of ints and int scalars, or an int vector such as ``x.shape``.
        """
        from ..config import config
        return self._uniform(size, low, high, ndim, dtype or config.floatX,
                             "MRG_RandomStreams.uniform")

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Normal draws (mean ``avg``, standard deviation ``std``); dtype floatX unless given."""
        from ..config import config
        return self._normal(size, avg, std, ndim, dtype or config.floatX,
                            "MRG_RandomStreams.normal")

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None,
                 prob=None, **kwargs):
        """Binomial draws (``n`` trials of probability ``p``), int64 unless ``dtype`` is given.

        The LSTM dropout mask: ``trng.binomial(x.shape, p=0.5, n=1, dtype=x.dtype)``.
        """
        if prob is not None:
            p = prob
        return self._binomial(size, n, p, ndim, dtype, "MRG_RandomStreams.binomial")
