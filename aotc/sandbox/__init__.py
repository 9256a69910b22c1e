"""``aotc.sandbox`` — Theano's ``theano.sandbox`` names that ported programs use.

``from aotc.sandbox.rng_mrg import MRG_RandomStreams`` (the LSTM tutorial's dropout).
"""
from . import rng_mrg  # noqa: F401

__all__ = ["rng_mrg"]
