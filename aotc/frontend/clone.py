"""Graph substitution: rebuild a graph with some variables replaced (``givens``)."""
from ..errors import AotcTypeError
from .evaluator import toposort
from .graph import as_tensor_variable


def check_replacement(old, new, what="givens"):
    """``new`` must be usable where ``old`` was: same dtype and rank.

    A broadcastable flag may be gained or lost; the rebuilt nodes re-check their inputs.
    """
    new = as_tensor_variable(new)
    if new.dtype != old.dtype or new.ndim != old.ndim:
        raise AotcTypeError(
            "%s: %s has type %s but its replacement %s has type %s; they must have the "
            "same dtype and number of dimensions (use T.cast)" % (what, old, old.type, new, new.type))
    return new


def clone_replace(outputs, replace):
    """``outputs`` with the variables in ``replace`` ({old: new}) substituted.

    Nodes that depend on no replaced variable are shared, not copied.
    """
    if not replace:
        return list(outputs)
    memo = {id(k): v for k, v in replace.items()}
    for node in toposort(outputs):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            if id(old) not in memo:
                memo[id(old)] = new
    return [memo.get(id(o), o) for o in outputs]
