"""aotc — an ahead-of-time compiler for numerical models with a Theano-mirroring DSL.

Port a Theano program by changing ``import theano`` to ``import aotc as theano``.
"""
__version__ = "0.1.0"

from .config import config
from .errors import AotcError
from .frontend.graph import shared, Variable, Constant, SharedVariable, Apply, Op
from .frontend.grad import grad, Lop
from .compile import function, In, Out
from .modes import Mode
from . import tensor
from . import printing
from . import gof
from .printing import pp
from .scan_funcs import scan, map, reduce, foldl, foldr  # noqa: A004 - Theano's names

__all__ = ["__version__", "config", "AotcError", "shared", "grad", "Lop", "function", "In",
           "Out", "Mode", "tensor", "printing", "gof", "pp", "Variable", "Constant",
           "SharedVariable", "Apply", "Op", "scan", "map", "reduce", "foldl", "foldr"]
