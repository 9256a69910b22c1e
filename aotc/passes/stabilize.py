"""Stabilize: replace numerically fragile forms by stable ones of equal value.

Canonical form after this phase: no ``log(1 + x)`` (log1p), no
``1 / (1 + exp(-x))`` (sigmoid), no ``1 - sigmoid(x)`` (sigmoid(-x)), no
``log(sigmoid(x))`` (-softplus(-x)), no ``log1p(exp(x))`` (softplus), no
``exp(x) / sum(exp(x))`` along the last axis (softmax), no ``log(softmax(x))``
(log_softmax), also when a row/element of the softmax is picked before the log
(the cross-entropy of a softmax), and the gradient of ``log(softmax(x))``
taken through SoftmaxGrad uses the log-softmax form.
"""
from ..frontend.ops import elemwise as E
from .rewrite import const, elem, op, rule, var

x, y, g = var("x"), var("y"), var("g")


def _classes():
    from ..frontend.ops.nnet import Softmax, SoftmaxGrad, LogSoftmax
    from ..frontend.ops.reduce import Reduce
    from ..frontend.ops.shape import DimShuffle
    from ..frontend.ops.subtensor import AdvancedSubtensor, AdvancedSubtensor1, Subtensor
    return Softmax, SoftmaxGrad, LogSoftmax, Reduce, DimShuffle, \
        (AdvancedSubtensor, AdvancedSubtensor1, Subtensor)


def _softmax_guard(x, s, ds):
    last = x.ndim - 1
    if x.ndim not in (1, 2) or s.op.axis != (last,):
        return False
    want = (0, "x") if x.ndim == 2 else ("x",)
    return tuple(ds.op.new_order) == want


def _log_of_picked(p, picker, x):
    """log(softmax(x)[idx]) -> log_softmax(x)[idx] (same indexing op, same index inputs)."""
    from ..frontend.ops.nnet import log_softmax
    return picker.op(log_softmax(x), *picker.inputs[1:])


def _log_softmax_grad(g, sm, x):
    # d/dx of sum(g * log_softmax(x)) = g - sum(g, last axis) * softmax(x)
    from ..frontend.ops.reduce import sum as _sum
    return E.sub(g, E.mul(_sum(g, axis=-1, keepdims=True), sm))


def rules():
    Softmax, SoftmaxGrad, LogSoftmax, Reduce, DimShuffle, pickers = _classes()
    from ..frontend.ops.nnet import softmax, log_softmax
    sm = op(Softmax, x, bind="smnode")
    picked = [op(cls, sm, bind="picker") for cls in pickers]
    out = [
        rule("log1p", elem("log", elem("add", const(1), x)), lambda x: E.log1p(x)),
        rule("sigmoid_of_exp_neg", elem("true_div", const(1), elem("add", const(1), elem("exp", elem("neg", x)))),
             lambda x: E.sigmoid(x)),
        rule("sigmoid_of_exp", elem("true_div", const(1), elem("add", const(1), elem("exp", x))),
             lambda x: E.sigmoid(E.neg(x))),
        rule("sigmoid_of_ratio", elem("true_div", elem("exp", x), elem("add", const(1), elem("exp", x))),
             lambda x: E.sigmoid(x)),
        rule("one_minus_sigmoid", elem("sub", const(1), elem("sigmoid", x)),
             lambda x: E.sigmoid(E.neg(x))),
        rule("log_sigmoid", elem("log", elem("sigmoid", x)),
             lambda x: E.neg(E.softplus(E.neg(x)))),
        rule("softplus", elem("log1p", elem("exp", x)), lambda x: E.softplus(x)),
        rule("softmax", elem("true_div", elem("exp", x),
                             op(DimShuffle, op(Reduce, elem("exp", x), bind="s", scalar="sum"),
                                bind="ds")),
             lambda x, s, ds: softmax(x), guard=_softmax_guard),
        rule("softmax_vector", elem("true_div", elem("exp", x),
                                    op(Reduce, elem("exp", x), bind="s", scalar="sum")),
             lambda x, s: softmax(x), guard=lambda x, s: x.ndim == 1 and s.op.axis == (0,)),
        rule("log_softmax", elem("log", sm), lambda x, smnode: log_softmax(x)),
    ]
    for pat in picked:
        out.append(rule("crossentropy_softmax", elem("log", pat),
                        lambda x, smnode, picker: _log_of_picked(smnode.outputs[0], picker, x)))
    out.append(rule("log_softmax_grad",
                    op(SoftmaxGrad, elem("true_div", g, var("sm")), var("sm")),
                    lambda g, sm: _log_softmax_grad(g, sm, sm.owner.inputs[0]),
                    guard=lambda g, sm: sm.owner is not None and isinstance(sm.owner.op, Softmax)))
    return out
