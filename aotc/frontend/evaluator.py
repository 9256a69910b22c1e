"""The reference evaluator: runs a graph node by node with each op's NumPy reference.

This is FAST_COMPILE mode, and the oracle every compiled path is checked against.
Run-time failures are re-raised as aotc errors that name the Apply node, list
its inputs' types, shapes and strides, and show the user's line that built it.
"""
import numpy as np

from ..errors import (AotcError, AotcIndexError, AotcTypeError, MissingInputError, ShapeError)
from .graph import Constant, SharedVariable, Variable


def toposort(outputs, lazy=False, deps_of=None, stop=None):
    """Apply nodes needed for ``outputs``, inputs before users, ties by input position.

    With ``lazy=True`` a lazy op (ifelse) depends only on its ``eager_inputs``:
    its branches are left for the op to evaluate on demand.  ``deps_of(node)``,
    when given, says what a node depends on instead; ``stop(var)`` true means
    ``var`` is given (its producer is not visited).
    """
    order, seen = [], set()
    stack = []
    for out in reversed(list(outputs)):
        if out.owner is not None and not (stop is not None and stop(out)):
            stack.append((out.owner, False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
            continue
        if id(node) in seen:
            continue
        stack.append((node, True))
        deps = node.inputs
        if deps_of is not None:
            deps = deps_of(node)
        elif lazy and getattr(node.op, "lazy", False):
            deps = node.op.eager_inputs(node)
        for inp in reversed(deps):
            if inp.owner is not None and id(inp.owner) not in seen and \
                    not (stop is not None and stop(inp)):
                stack.append((inp.owner, False))
    return order


def graph_inputs(outputs):
    """Root variables (no owner) of the graph, in first-seen order."""
    roots, seen = [], set()
    for node in toposort(outputs):
        for i in node.inputs:
            if i.owner is None and id(i) not in seen:
                seen.add(id(i))
                roots.append(i)
    for o in outputs:
        if o.owner is None and id(o) not in seen:
            seen.add(id(o))
            roots.append(o)
    return roots


def _fmt_shape(v):
    return str(tuple(int(s) for s in np.shape(v)))


def describe_node(node, values=None, shapes=None):
    """The text block errors show: the node, its inputs' types, shapes, strides, the user line."""
    lines = ["Apply node that caused the error: %s" % node]
    lines.append("Inputs types: [%s]" % ", ".join(str(i.type) for i in node.inputs))
    if values is not None:
        lines.append("Inputs shapes: [%s]" % ", ".join(_fmt_shape(v) for v in values))
        lines.append("Inputs strides: [%s]" % ", ".join(
            str(tuple(v.strides)) if isinstance(v, np.ndarray) else "()" for v in values))
        small = [np.array2string(np.asarray(v), threshold=6, edgeitems=2).replace("\n", "")
                 for v in values]
        lines.append("Inputs values: [%s]" % ", ".join(small))
    elif shapes is not None:
        lines.append("Inputs shapes: [%s]" % ", ".join(
            str(tuple(int(s) if isinstance(s, (int, np.integer)) else s for s in shp))
            for shp in shapes))
    if node.src_loc is not None:
        lines.append("Created at: %s" % node.src_loc)
    else:
        lines.append("Created at: (unknown line)")
    return "\n".join(lines)


def run_node(node, values):
    """``node.op.perform`` with errors turned into aotc errors that describe the node."""
    try:
        outs = node.op.perform(node, values)
    except AotcError as e:
        if "Apply node that caused the error" in str(e):
            raise
        err = type(e)("%s\n%s" % (e, describe_node(node, values)))
        raise err from None
    except IndexError as e:
        raise AotcIndexError("%s: index out of bounds: %s\n%s"
                             % (node.op, e, describe_node(node, values))) from None
    except ValueError as e:
        raise ShapeError("%s: %s\n%s" % (node.op, e, describe_node(node, values))) from None
    except TypeError as e:
        raise AotcTypeError("%s: %s\n%s" % (node.op, e, describe_node(node, values))) from None
    for var, val in zip(node.outputs, outs):
        if not isinstance(val, np.ndarray) or val.dtype.name != var.dtype or val.ndim != var.ndim:
            raise AssertionError("internal: %s produced %s for output type %s"
                                 % (node.op, type(val).__name__ if not isinstance(val, np.ndarray)
                                    else "%s%s" % (val.dtype, val.shape), var.type))
    return outs


def value_of_root(var, given):
    if id(var) in given:
        return given[id(var)]
    if isinstance(var, Constant):
        return var.data
    if isinstance(var, SharedVariable):
        return var.container.value
    raise MissingInputError(
        "the graph needs %s (%s), which is not an input, a shared variable or a constant%s"
        % (var, var.type, ("\n  at:   %s" % var.tag.src_loc) if getattr(var.tag, "src_loc", None)
           else ""))


def evaluate(outputs, given, hook=None):
    """Values of ``outputs`` given ``{id(var): ndarray}`` for the free variables.

    ``hook(node, input_values, output_values)`` is called after each node (DEBUG_MODE).
    Lazy ops (``op.lazy``, e.g. ifelse) get ``op.perform_lazy(node, value)`` and
    ask for the values they need, so only the branch taken is computed.
    """
    memo = dict(given)

    def value(var):
        key = id(var)
        if key not in memo:
            if var.owner is None:
                memo[key] = value_of_root(var, memo)
            else:
                for node in toposort([var], lazy=True):
                    if id(node.outputs[0]) not in memo:
                        compute(node)
        return memo[key]

    def compute(node):
        if getattr(node.op, "lazy", False):
            ins = None
            outs = node.op.perform_lazy(node, value)
        else:
            ins = [value(i) for i in node.inputs]
            outs = run_node(node, ins)
        for var, val in zip(node.outputs, outs):
            memo[id(var)] = val
        if hook is not None:
            hook(node, ins, outs)

    return [value(o) for o in outputs]


def evaluate_variable(var, inputs_to_values):
    """``var.eval({x: value})``: values are converted to each variable's type."""
    given = {}
    for k, v in inputs_to_values.items():
        if not isinstance(k, Variable):
            raise AotcTypeError("eval: keys must be symbolic variables, got %r" % (k,))
        given[id(k)] = k.type.filter(v, allow_downcast=None, what="eval value for %s" % k)
    return evaluate([var], given)[0]
