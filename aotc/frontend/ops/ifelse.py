"""IfElse: a lazy two-way branch on a scalar condition (``aotc.ifelse.ifelse``).

``IfElse(n_outs)`` takes ``(cond, then_1..then_n, else_1..else_n)`` and returns
``n`` outputs: the then-values when ``cond`` is nonzero, else the else-values.
Unlike ``T.switch`` (elementwise, both sides computed), only the branch taken
is evaluated: the op is ``lazy``, its only eager input is ``cond``, and
``perform_lazy`` asks the evaluator for the values of one branch.  An untaken
branch that would fail (an index out of range, shapes that do not agree) is
never run, so it never raises.

The output types are the branch types, with an axis broadcastable only where
both branches have it broadcastable (the value may come from either side).
"""
import numpy as np

from ...errors import AotcTypeError
from ..graph import Apply, Op, as_tensor_variable
from ..types import TensorType

__all__ = []


def _at_user():
    from ..graph import user_src_loc
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def check_condition(cond, who="ifelse"):
    """``cond`` as a 0-d variable of a bool, integer or float dtype (nonzero means true)."""
    cond = as_tensor_variable(cond)
    if cond.ndim != 0:
        raise AotcTypeError("%s: the condition must be a scalar (ndim 0), got %s of type %s; "
                            "for an elementwise choice use T.switch%s"
                            % (who, cond, cond.type, _at_user()))
    if cond.dtype.startswith("complex"):
        raise AotcTypeError("%s: the condition must be a bool, integer or float scalar, got "
                            "dtype %s%s" % (who, cond.dtype, _at_user()))
    return cond


def branch_type(then_v, else_v, k, who="ifelse"):
    """The output type for one pair of branch values (a clear error when they differ)."""
    if then_v.dtype != else_v.dtype or then_v.ndim != else_v.ndim:
        raise AotcTypeError(
            "%s: output %d has type %s in the then-branch but %s in the else-branch; both "
            "branches must have the same dtype and number of dimensions (cast one side "
            "with T.cast)%s" % (who, k, then_v.type, else_v.type, _at_user()))
    bcast = tuple(a and b for a, b in zip(then_v.broadcastable, else_v.broadcastable))
    return TensorType(then_v.dtype, bcast)


class IfElse(Op):
    """``ifelse(cond, then, else)`` for ``n_outs`` values: lazy, only the chosen branch runs.

    Inputs are ``(cond, then_1..then_n, else_1..else_n)``; ``cond`` is a scalar
    (nonzero: the then-branch).  ``name`` labels the op when printing.
    """

    __props__ = ("n_outs",)
    lazy = True
    c = "c/ifelse"          # lowered by the code generator as real branching
    cuda = "cuda/ifelse"

    def __init__(self, n_outs, name=None):
        self.n_outs = int(n_outs)
        self.name = name

    def __str__(self):
        return "IfElse{%s}" % self.name if self.name else "IfElse"

    __repr__ = __str__

    def make_node(self, cond, *branches):
        n = self.n_outs
        if len(branches) != 2 * n:
            raise AotcTypeError("IfElse: expected a condition and %d then- plus %d else-values "
                                "(%d inputs), got %d inputs%s"
                                % (n, n, 2 * n + 1, len(branches) + 1, _at_user()))
        cond = check_condition(cond, "IfElse")
        branches = [as_tensor_variable(b) for b in branches]
        outs = [branch_type(branches[k], branches[n + k], k, "IfElse")()
                for k in range(n)]
        return Apply(self, [cond] + branches, outs)

    # -- evaluation -------------------------------------------------------------
    def eager_inputs(self, node):
        """Only the condition is needed before the op decides which branch to run."""
        return [node.inputs[0]]

    def taken(self, node, cond_value):
        """The input variables of the branch ``cond_value`` selects."""
        n = self.n_outs
        start = 1 if bool(np.asarray(cond_value).item() != 0) else 1 + n
        return node.inputs[start:start + n]

    def perform_lazy(self, node, value):
        """Ask ``value(var)`` for the condition, then for the taken branch only."""
        return [_as_output(value(v), out)
                for v, out in zip(self.taken(node, value(node.inputs[0])), node.outputs)]

    def perform(self, node, inputs):
        # eager form (all values given, e.g. test values): pick one side
        n = self.n_outs
        cond = inputs[0]
        side = inputs[1:1 + n] if bool(np.asarray(cond).item() != 0) else inputs[1 + n:]
        return [_as_output(v, out) for v, out in zip(side, node.outputs)]

    def infer_shape(self, node, input_shapes):
        # the shape depends on the condition's value: sizes both branches agree on are known
        n = self.n_outs
        out = []
        for k in range(n):
            t, e = input_shapes[1 + k], input_shapes[1 + n + k]
            out.append(tuple(a if _same(a, b) else None for a, b in zip(t, e)))
        return out

    def grad(self, node, output_grads):
        """The output gradient flows to the taken side; the other side gets zeros."""
        from .shape import zeros_like
        n = self.n_outs
        cond = node.inputs[0]
        then_vals, else_vals = node.inputs[1:1 + n], node.inputs[1 + n:]
        then_g, else_g = [], []
        for k in range(n):
            g = output_grads[k]
            tv, ev = then_vals[k], else_vals[k]
            then_g.append(_grad_branch(cond, g, zeros_like(tv), tv, True))
            else_g.append(_grad_branch(cond, zeros_like(ev), g, ev, False))
        return [None] + then_g + else_g


def _same(a, b):
    return a is not None and b is not None and int(a) == int(b)


def _as_output(val, out):
    """The branch value as the output's dtype (types are equal: no conversion in practice)."""
    val = np.asarray(val)
    if val.dtype.name != out.dtype:
        val = val.astype(out.dtype)
    return val


def _grad_branch(cond, g_then, g_else, like, is_then):
    """ifelse(cond, g_then, g_else) given ``like``'s exact type (None for non-float inputs)."""
    from ..types import is_float
    from .shape import fit_grad
    if not is_float(like.dtype):
        return None
    g_then = fit_grad(as_tensor_variable(g_then), like)
    g_else = fit_grad(as_tensor_variable(g_else), like)
    out = IfElse(1)(cond, g_then, g_else)
    return fit_grad(out, like)


OPS = (IfElse,)
