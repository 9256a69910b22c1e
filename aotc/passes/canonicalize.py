"""Canonicalize: simplify the graph without changing any value.

Canonical form after this phase: no cast to the same dtype, no multiplication
by one or addition of zero that leaves the type unchanged, no double negation,
no DimShuffle that is the identity, no Subtensor of full slices only, no
DimShuffle of a DimShuffle, no switch on a constant condition, no sum of
increments of one zero matrix.
"""
import numpy as np

from ..frontend.graph import Constant
from ..frontend.ops import elemwise as E
from .rewrite import const, elem, op, rule, var

x, y = var("x"), var("y")


def _dimshuffle_cls():
    from ..frontend.ops.shape import DimShuffle
    return DimShuffle


def _compose_dimshuffles(x, inner, outer):
    from ..frontend.ops.shape import dimshuffle
    inner_pattern = inner.op.new_order
    outer_pattern = outer.op.new_order
    pattern = tuple("x" if p == "x" else inner_pattern[p] for p in outer_pattern)
    return dimshuffle(x, pattern)


def _is_identity_pattern(node):
    return tuple(node.op.new_order) == tuple(range(node.inputs[0].ndim))


def _const_data(v):
    """The value of a constant seen through broadcasting DimShuffles, or None."""
    from ..frontend.graph import Constant
    while v.owner is not None and type(v.owner.op).__name__ == "DimShuffle":
        v = v.owner.inputs[0]
    return v.data if isinstance(v, Constant) else None


def _all_true(v):
    d = _const_data(v)
    return d is not None and d.size > 0 and bool(np.all(d != 0))


def _all_false(v):
    d = _const_data(v)
    return d is not None and d.size > 0 and not bool(np.any(d != 0))


def _inc(v):
    """The IncSubtensor node (an increment, not a set) that makes ``v``, or None."""
    from ..frontend.ops.subtensor import IncSubtensor
    node = v.owner
    if node is None or not isinstance(node.op, IncSubtensor) or node.op.set_instead_of_inc:
        return None
    return node


def _zero_root(v):
    """The Alloc of zeros under a chain of increments ``inc(inc(zeros, a, i), b, j)``."""
    from ..frontend.ops.shape import Alloc
    node = _inc(v)
    while node is not None:
        v = node.inputs[0]
        node = _inc(v)
    z = v.owner
    if z is None or not isinstance(z.op, Alloc):
        return None
    value = z.inputs[0]
    if not isinstance(value, Constant) or value.data.size == 0 or np.any(value.data != 0):
        return None
    return v


def _incs_of_zeros(p, q):
    """``q`` is one increment of the zeros that ``p``'s chain of increments starts from
    (types equal): then ``p + q`` is ``p`` with ``q``'s increment."""
    node = _inc(q)
    return (node is not None and p.type == q.type and _inc(p) is not None
            and _zero_root(q) is node.inputs[0] and _zero_root(p) is node.inputs[0])


def _add_inc(p, q):
    node = _inc(q)
    return node.op.make_node(p, *node.inputs[1:]).outputs[0]


def _is_full_view(node):
    """A Subtensor of constant full slices ``x[:, :]`` (or none: ``x[:, None]`` leaves
    ``Subtensor{}`` before its DimShuffle): every element, in order."""
    return len(node.inputs) == 1 and all(e == (None, None, None) for e in node.op.idx_list)


def rules():
    from ..frontend.ops.subtensor import Subtensor
    DimShuffle = _dimshuffle_cls()
    return [
        rule("mul_by_one", elem("mul", x, const(1)), lambda x: x),
        rule("add_zero", elem("add", x, const(0)), lambda x: x),
        rule("sub_zero", elem("sub", x, const(0)), lambda x: x),
        rule("div_by_one", elem("true_div", x, const(1)), lambda x: x),
        # second(a, b) is b stretched to a's shape: just b when nothing stretches it
        rule("second_to_value", elem("second", var("a"), x), lambda a, x: x),
        rule("double_neg", elem("neg", elem("neg", x)), lambda x: x),
        # -a - b -> -(a + b): one negation, so stabilize sees exp(-(a + b))
        rule("sub_of_neg", elem("sub", elem("neg", x), y), lambda x, y: E.neg(E.add(x, y))),
        # a switch on a constant condition is the branch it picks (the other is dead code,
        # e.g. the dropout mask of an evaluation graph)
        rule("switch_const_true", elem("switch", var("c", _all_true), x, y), lambda c, x, y: x),
        rule("switch_const_false", elem("switch", var("c", _all_false), x, y), lambda c, x, y: y),
        # the gradient of a matrix read in slices (an LSTM's four gates) is a sum of
        # zero matrices, each incremented in one slice: one chain of increments of one
        # zero matrix instead (in place once lowered; no sum)
        rule("add_of_incs_of_zeros", elem("add", var("p"), var("q")), _add_inc,
             guard=_incs_of_zeros),
        rule("pow_one", elem("pow", x, const(1)), lambda x: x),
        rule("pow_two_to_sqr", elem("pow", x, const(2)), lambda x: E.sqr(x)),
        rule("identity_dimshuffle", op(DimShuffle, x, bind="ds"), lambda x, ds: x,
             guard=lambda x, ds: _is_identity_pattern(ds)),
        rule("full_subtensor", op(Subtensor, x, bind="st"), lambda x, st: x,
             guard=lambda x, st: _is_full_view(st)),
        rule("dimshuffle_of_dimshuffle", op(DimShuffle, op(DimShuffle, x, bind="inner"),
                                            bind="outer"),
             lambda x, inner, outer: _compose_dimshuffles(x, inner, outer)),
    ]
