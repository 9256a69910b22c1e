"""``aotc.tensor`` — Theano's ``theano.tensor`` (``from aotc import tensor as T``).

Each op family module exports its public names through ``__all__``; this
namespace gathers them with the typed constructors.
"""
from ..frontend.constructors import *  # noqa: F401,F403
from ..frontend.ops.elemwise import (  # noqa: F401
    add, sub, mul, true_div, int_div, mod, pow, neg, abs_, sgn, exp, expm1, log, log1p, log2,
    log10, sqrt, sqr, tanh, sin, cos, reciprocal, inv, floor, ceil, round, maximum, minimum,
    lt, gt, le, ge, eq, neq, and_, or_, xor, invert, switch, clip, identity, cast, divide,
    true_divide, floor_div, power, Elemwise)
from ..frontend.ops.shape import *  # noqa: F401,F403
from ..frontend.ops.subtensor import *  # noqa: F401,F403
from ..frontend.ops.reduce import *  # noqa: F401,F403
from ..frontend.ops.blas import *  # noqa: F401,F403
from ..frontend.graph import (as_tensor_variable, constant, TensorVariable,  # noqa: F401
                              TensorConstant, TensorSharedVariable, Variable, Constant)
from ..frontend.types import TensorType  # noqa: F401
from ..frontend.grad import grad  # noqa: F401
from . import nnet  # noqa: F401
from . import shared_randomstreams  # noqa: F401

_as_tensor_variable = as_tensor_variable
