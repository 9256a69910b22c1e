"""``aotc.ifelse`` — Theano's ``theano.ifelse``: a lazy branch on a scalar condition.

>>> from aotc.ifelse import ifelse
>>> z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))

Only the branch the condition selects is computed (``T.switch`` computes both,
elementwise).  See :mod:`aotc.frontend.ops.ifelse` for the op.
"""
import numpy as np

from .errors import AotcTypeError
from .frontend.graph import Variable, as_tensor_variable, constant
from .frontend.ops.ifelse import IfElse, branch_type, check_condition

__all__ = ["ifelse", "IfElse"]


def _at_user():
    from .frontend.graph import user_src_loc
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def _pair(then_v, else_v, k):
    """Both sides as variables; a plain number on one side takes the other side's dtype."""
    if isinstance(then_v, Variable) and not isinstance(else_v, Variable):
        return then_v, _like(else_v, then_v, k, "else")
    if isinstance(else_v, Variable) and not isinstance(then_v, Variable):
        return _like(then_v, else_v, k, "then"), else_v
    return as_tensor_variable(then_v), as_tensor_variable(else_v)


def _like(value, var, k, side):
    """A constant for ``value`` of ``var``'s dtype, when the conversion loses nothing."""
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - reported below
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise AotcTypeError("ifelse: the %s-branch value %d must be a variable or a number, "
                            "got %r%s" % (side, k, value, _at_user()))
    with np.errstate(all="ignore"):
        conv = arr.astype(var.dtype)
    if not np.array_equal(conv, arr):
        raise AotcTypeError("ifelse: the %s-branch value %d (%r) does not fit the other "
                            "branch's dtype %s without loss%s"
                            % (side, k, value, var.dtype, _at_user()))
    return constant(conv, dtype=var.dtype)


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if ``condition`` is nonzero, else ``else_branch``; lazily.

    ``condition`` is a scalar of any bool, integer or float dtype.  The branches
    are each a variable or a list of variables (of one length); paired values
    must have the same dtype and number of dimensions (an axis is broadcastable
    in the result only where both are).  Returns one variable, or a list when
    the branches are lists.  Only the selected branch is computed when the
    function runs, so an untaken branch may hold a computation that would fail.
    """
    as_list = isinstance(then_branch, (list, tuple))
    if as_list != isinstance(else_branch, (list, tuple)):
        raise AotcTypeError("ifelse: the then-branch is %s but the else-branch is %s; give "
                            "both as lists of the same length, or both as single variables%s"
                            % ("a list" if as_list else "a single value",
                               "a list" if not as_list else "a single value", _at_user()))
    thens = list(then_branch) if as_list else [then_branch]
    elses = list(else_branch) if as_list else [else_branch]
    if len(thens) != len(elses):
        raise AotcTypeError("ifelse: the then-branch has %d values but the else-branch has %d; "
                            "they must pair up%s" % (len(thens), len(elses), _at_user()))
    if not thens:
        raise AotcTypeError("ifelse: the branches are empty%s" % _at_user())
    cond = check_condition(condition)
    pairs = [_pair(t, e, k) for k, (t, e) in enumerate(zip(thens, elses))]
    for k, (t, e) in enumerate(pairs):
        branch_type(t, e, k)        # the types must agree: say so with the user's line
    outs = IfElse(len(pairs), name=name)(cond, *([t for t, _ in pairs] + [e for _, e in pairs]))
    if not isinstance(outs, list):
        outs = [outs]
    return outs if as_list else outs[0]
