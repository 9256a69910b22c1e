"""Merge (common-subexpression elimination) and constant folding.

After ``merge_nodes``: no two nodes apply equal ops to the same inputs, and no
two constants have equal type and value.  After ``fold_constants``: no pure
node has only constant inputs (unless its result would be large).
"""
from ..config import config
from ..errors import AotcError
from ..frontend.evaluator import run_node, toposort
from ..frontend.graph import Constant, TensorConstant

FOLD_MAX_ELEMENTS = 1 << 16


def merge_nodes(outputs, trace=None):
    """One node per (op, inputs); one constant per (type, value)."""
    memo, seen, consts = {}, {}, {}

    def canon(v):
        v = memo.get(id(v), v)
        if isinstance(v, Constant):
            key = v.signature()
            if key not in consts:
                consts[key] = v
            return consts[key]
        return v

    for node in toposort(outputs):
        ins = [canon(i) for i in node.inputs]
        cur = node
        if any(a is not b for a, b in zip(ins, node.inputs)):
            cur = node.clone_with_new_inputs(ins)
        key = (cur.op, tuple(id(i) for i in ins)) if cur.op.pure else None
        if key is not None and key in seen:
            for old, kept in zip(node.outputs, seen[key]):
                memo[id(old)] = kept
            if trace is not None:
                trace.append(("merge", str(node.op), "shared with an equal node"))
            continue
        if key is not None:
            seen[key] = cur.outputs
        for old, new in zip(node.outputs, cur.outputs):
            if old is not new:
                memo[id(old)] = new
    return [canon(o) for o in outputs]


def fold_constants(outputs, trace=None):
    """Evaluate pure nodes whose inputs are all constants."""
    memo = {}
    with config.change_flags(compute_test_value="off"):
        for node in toposort(outputs):
            ins = [memo.get(id(i), i) for i in node.inputs]
            cur = node
            if any(a is not b for a, b in zip(ins, node.inputs)):
                cur = node.clone_with_new_inputs(ins)
                for old, new in zip(node.outputs, cur.outputs):
                    memo[id(old)] = new
            if not cur.op.pure or not all(isinstance(i, Constant) for i in ins):
                continue
            if getattr(cur.op, "lazy", False):
                continue
            try:
                values = run_node(cur, [i.data for i in ins])
            except AotcError:
                continue  # left for run time, where the error names the call

            if any(v.size > FOLD_MAX_ELEMENTS for v in values):
                continue
            for old, new_var, val in zip(node.outputs, cur.outputs, values):
                c = TensorConstant(new_var.type, val)
                memo[id(old)] = c
            if trace is not None:
                trace.append(("fold_constants", str(cur.op), "constant"))
    return [memo.get(id(o), o) for o in outputs]
