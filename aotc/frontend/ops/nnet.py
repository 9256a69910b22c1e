"""Neural-net ops and functions (``T.nnet``).

Three ops: :class:`Softmax`, :class:`SoftmaxGrad` and :class:`LogSoftmax`.
They work along the last axis of a vector or a matrix (Theano's row-wise
softmax) and are overflow-safe: the row maximum is subtracted before ``exp``,
so inputs like 1000 and -1000 give finite results.

Everything else here (relu, elu, the cross-entropies, the sigmoid
approximations) is built from elementwise, reduction and indexing primitives,
so it gets its gradient and its code generation for free.
"""
import numpy as np

from ...errors import AotcTypeError
from ..graph import Apply, Op, TensorVariable, Variable, as_tensor_variable, user_src_loc
from ..types import COMPLEX_DTYPES, TensorType, broadcast_pattern, is_float, upcast
from .elemwise import sigmoid, softplus, upgrade_to_float

__all__ = ["Softmax", "SoftmaxGrad", "LogSoftmax", "softmax", "log_softmax", "relu", "elu",
           "softsign", "sigmoid", "softplus", "categorical_crossentropy",
           "crossentropy_categorical_1hot", "binary_crossentropy",
           "sigmoid_binary_crossentropy", "ultra_fast_sigmoid", "hard_sigmoid",
           "crossentropy_softmax_1hot"]


def _at():
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def _check_rows(opname, x):
    if x.ndim not in (1, 2):
        raise AotcTypeError(
            "%s: expected a vector or a matrix (it works along the last axis, row by row), "
            "got %s of type %s (ndim %d)%s\n  hint: reshape to a matrix first, e.g. "
            "x.reshape((-1, x.shape[-1]))" % (opname, x, x.type, x.ndim, _at()))
    if x.dtype in COMPLEX_DTYPES:
        raise AotcTypeError("%s: expected a real input, got %s of type %s%s"
                            % (opname, x, x.type, _at()))


def _np_softmax(x):
    if x.size == 0:
        return x.copy()
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _np_log_softmax(x):
    if x.size == 0:
        return x.copy()
    xm = x - np.max(x, axis=-1, keepdims=True)
    return xm - np.log(np.sum(np.exp(xm), axis=-1, keepdims=True))


class Softmax(Op):
    """Row-wise softmax of a matrix (or of a vector): ``exp(x - max) / sum(exp(x - max))``.

    Integer inputs give floats (small ints float32, wide ints float64, as ``exp``).
    """

    __props__ = ()
    c = "c/softmax"
    cuda = "cuda/softmax"

    def make_node(self, x):
        x = as_tensor_variable(x)
        _check_rows("softmax", x)
        out = TensorVariable(TensorType(upgrade_to_float(x.dtype), x.broadcastable))
        return Apply(self, [x], [out])

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def perform(self, node, inputs):
        x = inputs[0].astype(node.outputs[0].dtype, copy=False)
        with np.errstate(all="ignore"):
            return [np.asarray(_np_softmax(x), dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        (x,) = node.inputs
        if not is_float(x.dtype):
            return [None]
        return [SoftmaxGrad()(output_grads[0], node.outputs[0])]


class SoftmaxGrad(Op):
    """Gradient of softmax: ``(dy - sum(dy * sm, axis=-1, keepdims=True)) * sm``.

    Inputs are ``dy`` (the gradient of the softmax output) and ``sm`` (the
    softmax output); both of one rank, broadcasting only on broadcastable axes.
    """

    __props__ = ()
    c = "c/softmax_grad"
    cuda = "cuda/softmax_grad"

    def make_node(self, dy, sm):
        dy, sm = as_tensor_variable(dy), as_tensor_variable(sm)
        _check_rows("softmax_grad", sm)
        if dy.ndim != sm.ndim:
            raise AotcTypeError("softmax_grad: dy and sm must have one rank, got dy %s and sm %s%s"
                                % (dy.type, sm.type, _at()))
        out = TensorVariable(TensorType(upcast(dy.dtype, sm.dtype),
                                        broadcast_pattern(dy.broadcastable, sm.broadcastable)))
        return Apply(self, [dy, sm], [out])

    def infer_shape(self, node, input_shapes):
        dy, sm = node.inputs
        sd, ss = input_shapes
        return [tuple(d if sm.broadcastable[i] else s for i, (d, s) in enumerate(zip(sd, ss)))]

    def perform(self, node, inputs):
        dy, sm = inputs
        a, b = node.inputs
        for i, (d, s) in enumerate(zip(dy.shape, sm.shape)):
            if d != s and not (a.broadcastable[i] or b.broadcastable[i]):
                raise ValueError("dy and sm shapes do not agree on axis %d: %s vs %s"
                                 % (i, dy.shape, sm.shape))
        dtype = node.outputs[0].dtype
        with np.errstate(all="ignore"):
            res = (dy - np.sum(dy * sm, axis=-1, keepdims=True)) * sm
        return [np.asarray(res, dtype=dtype)]

    def grad(self, node, output_grads):
        from .elemwise import mul, reduce_to_input, sub
        from .reduce import sum as _sum
        dy, sm = node.inputs
        (g,) = output_grads
        # out_i = sm_i (dy_i - s), s = sum_j dy_j sm_j.  The dy part is SoftmaxGrad again.
        g_dy = SoftmaxGrad()(g, sm)
        s = _sum(mul(dy, sm), axis=-1, keepdims=True)
        gs = _sum(mul(g, sm), axis=-1, keepdims=True)
        g_sm = sub(mul(g, sub(dy, s)), mul(dy, gs))
        return [reduce_to_input(g_dy, dy) if is_float(dy.dtype) else None,
                reduce_to_input(g_sm, sm) if is_float(sm.dtype) else None]


class LogSoftmax(Op):
    """Row-wise log-softmax, stable: ``x - max - log(sum(exp(x - max)))``.

    Finite wherever the input is, including for rows like [1000, -1000]
    (where ``log(softmax(x))`` would give -inf).
    """

    __props__ = ()
    c = "c/log_softmax"
    cuda = "cuda/log_softmax"

    def make_node(self, x):
        x = as_tensor_variable(x)
        _check_rows("log_softmax", x)
        out = TensorVariable(TensorType(upgrade_to_float(x.dtype), x.broadcastable))
        return Apply(self, [x], [out])

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def perform(self, node, inputs):
        x = inputs[0].astype(node.outputs[0].dtype, copy=False)
        with np.errstate(all="ignore"):
            return [np.asarray(_np_log_softmax(x), dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        from .elemwise import exp, mul, sub
        from .reduce import sum as _sum
        (x,) = node.inputs
        if not is_float(x.dtype):
            return [None]
        (gz,) = output_grads
        # d out_i / d x_k = delta_ik - softmax_k
        return [sub(gz, mul(exp(node.outputs[0]), _sum(gz, axis=-1, keepdims=True)))]


def softmax(x):
    """Row-wise softmax of a matrix (a vector gives a vector), overflow-safe.

    Builds one :class:`Softmax` node directly on ``x``.

    >>> x = T.dmatrix('x'); y = softmax(x)
    >>> isinstance(y.owner.op, Softmax) and y.owner.inputs[0] is x
    True
    """
    return Softmax()(x)


def log_softmax(x):
    """Row-wise ``log(softmax(x))``, computed stably by one :class:`LogSoftmax` node."""
    return LogSoftmax()(x)


def _float(x):
    """``x`` as a tensor, cast to float the way ``exp`` would (ints -> float)."""
    from .elemwise import cast
    x = as_tensor_variable(x)
    return x if is_float(x.dtype) else cast(x, upgrade_to_float(x.dtype))


def _c(value, like):
    """A constant of ``like``'s dtype, so Python numbers never upcast float32 graphs."""
    if isinstance(value, Variable):
        return value
    return as_tensor_variable(np.asarray(value, dtype=like.dtype))


def relu(x, alpha=0):
    """Rectified linear unit: ``max(x, 0)``; with ``alpha``, ``x`` where x > 0 else ``alpha * x``.

    ``alpha`` may be a number or a symbolic scalar (leaky ReLU).

    >>> v = T.dvector('v'); relu(v).eval({v: [-1., 2.]})
    array([0., 2.])
    """
    from .elemwise import gt, maximum, mul, switch
    x = as_tensor_variable(x)
    if not isinstance(alpha, Variable) and alpha == 0:
        # keeps the input dtype (ints stay ints); the gradient at 0 is 1
        return maximum(x, _c(0, x))
    x = _float(x)
    return switch(gt(x, _c(0, x)), x, mul(_c(alpha, x), x))


def elu(x, alpha=1):
    """Exponential linear unit: ``x`` where x > 0 else ``alpha * (exp(x) - 1)``.

    The negative branch is ``expm1(minimum(x, 0))`` so that large positive
    inputs never produce inf (and no NaN reaches the gradient).
    """
    from .elemwise import expm1, gt, minimum, mul, switch
    x = _float(x)
    neg = mul(_c(alpha, x), expm1(minimum(x, _c(0, x))))
    return switch(gt(x, _c(0, x)), x, neg)


def softsign(x):
    """``x / (1 + |x|)``."""
    from .elemwise import abs_, add, true_div
    x = _float(x)
    return true_div(x, add(_c(1, x), abs_(x)))


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)`` (Theano's constants)."""
    from .elemwise import add, clip, mul
    x = _float(x)
    return clip(add(mul(x, _c(0.2, x)), _c(0.5, x)), _c(0, x), _c(1, x))


def ultra_fast_sigmoid(x):
    """Theano's piecewise approximation of the sigmoid (max error about 0.03).

    With ``h = |x| / 2``: ``z = 1.5 h / (1 + h)`` for h < 1.7, a line up to 3,
    then a constant; the result is ``(1 + sign(x) z) / 2``.
    """
    from .elemwise import abs_, add, ge, lt, mul, neg, sub, switch, true_div
    x = _float(x)
    h = mul(abs_(x), _c(0.5, x))
    rational = true_div(mul(h, _c(1.5, x)), add(h, _c(1, x)))
    line = add(_c(0.935409070603099, x), mul(_c(0.0458812946797165, x), sub(h, _c(1.7, x))))
    z = switch(lt(h, _c(1.7, x)), rational,
               switch(lt(h, _c(3, x)), line, _c(0.99505475368673, x)))
    z = switch(ge(x, _c(0, x)), z, neg(z))
    return mul(_c(0.5, x), add(z, _c(1, x)))


def _arange(n):
    from .shape import arange
    return arange(n)


def crossentropy_categorical_1hot(coding_dist, true_idx):
    """``-log(coding_dist[arange(n), true_idx])`` for a matrix of probabilities.

    ``true_idx`` is an integer vector of class indices (a vector ``coding_dist``
    takes an integer scalar index).
    """
    from .elemwise import log, neg
    from .shape import shape
    from .subtensor import getitem
    p = as_tensor_variable(coding_dist)
    y = as_tensor_variable(true_idx)
    if y.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        raise AotcTypeError("categorical_crossentropy: class indices must have an integer dtype, "
                            "got %s of type %s%s" % (y, y.type, _at()))
    if p.ndim == 2 and y.ndim == 1:
        picked = getitem(p, (_arange(shape(p)[0]), y))
    elif p.ndim == 1 and y.ndim == 0:
        picked = getitem(p, y)
    else:
        raise AotcTypeError("categorical_crossentropy: with class indices, expected a matrix of "
                            "probabilities and an int vector, got %s and %s%s"
                            % (p.type, y.type, _at()))
    return neg(log(picked))


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy between predicted probabilities and the true classes, per row.

    - ``true_dist`` an integer vector of class indices: ``-log(p[arange(n), y])``;
    - ``true_dist`` a distribution (one-hot or soft) of ``coding_dist``'s shape:
      ``-sum(true_dist * log(coding_dist), axis=-1)``.

    >>> p = T.dmatrix('p'); y = T.lvector('y')
    >>> categorical_crossentropy(p, y).ndim
    1
    """
    from .elemwise import log, mul, neg
    from .reduce import sum as _sum
    p = as_tensor_variable(coding_dist)
    t = as_tensor_variable(true_dist)
    if t.ndim == p.ndim:
        return neg(_sum(mul(t, log(p)), axis=p.ndim - 1))
    if t.ndim == p.ndim - 1:
        return crossentropy_categorical_1hot(p, t)
    raise AotcTypeError("categorical_crossentropy: true_dist must have the rank of coding_dist "
                        "(a distribution) or one less (class indices), got coding_dist %s and "
                        "true_dist %s%s" % (p.type, t.type, _at()))


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise.

    For logits prefer :func:`sigmoid_binary_crossentropy`, which never takes ``log(0)``.
    """
    from .elemwise import add, log, mul, neg, sub
    o, t = as_tensor_variable(output), as_tensor_variable(target)
    return neg(add(mul(t, log(o)), mul(sub(1, t), log(sub(1, o)))))


def sigmoid_binary_crossentropy(output, target):
    """``binary_crossentropy(sigmoid(output), target)`` computed from the logits ``output``:

    ``target * softplus(-output) + (1 - target) * softplus(output)``, finite for any logit.
    """
    from .elemwise import add, mul, neg, sub
    o, t = _float(output), as_tensor_variable(target)
    return add(mul(t, softplus(neg(o))), mul(sub(1, t), softplus(o)))


def crossentropy_softmax_1hot(x, y_idx):
    """``(nll, sm)``: the per-row negative log-likelihood of ``y_idx`` under ``softmax(x)``,
    and ``softmax(x)`` itself.  The nll comes from :func:`log_softmax` (stable).
    """
    from .elemwise import neg
    from .shape import shape
    from .subtensor import getitem
    x = as_tensor_variable(x)
    y = as_tensor_variable(y_idx)
    if x.ndim != 2 or y.ndim != 1:
        raise AotcTypeError("crossentropy_softmax_1hot: expected a matrix and an int vector, got "
                            "%s and %s%s" % (x.type, y.type, _at()))
    nll = neg(getitem(log_softmax(x), (_arange(shape(x)[0]), y)))
    return nll, softmax(x)


OPS = (Softmax, SoftmaxGrad, LogSoftmax)
