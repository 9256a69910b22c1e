"""``aotc.tensor.nnet`` — Theano's ``T.nnet`` (sigmoid, softmax, ...)."""
from ..frontend.ops.elemwise import sigmoid, softplus  # noqa: F401
from ..frontend.ops.nnet import *  # noqa: F401,F403
