"""``aotc.scan``, ``aotc.map``, ``aotc.reduce``, ``aotc.foldl``, ``aotc.foldr``: Theano's loops.

The implementation lives in ``aotc.frontend.scan_api`` (the user API) and
``aotc.frontend.scan`` (the Scan op, its reference loop and its gradient).
"""
from .frontend.scan_api import scan, map, reduce, foldl, foldr  # noqa: A004,F401
from .frontend.scan import Scan  # noqa: F401

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "Scan"]
