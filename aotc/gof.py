"""``aotc.gof`` — Theano's graph-object names (``from theano.gof import Variable``)."""
from .frontend.graph import Apply, Constant, Op, Variable  # noqa: F401
from .compile import FunctionGraph  # noqa: F401
from .frontend.evaluator import toposort  # noqa: F401
