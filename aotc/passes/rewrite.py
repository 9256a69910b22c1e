"""The rewrite engine: rules are data (a name, a pattern, a builder).

A pattern describes a subgraph rooted at one variable:

    elem("log", elem("add", const(1), x))     # log(1 + x), either operand order
    op(Softmax, x)                            # an op class applied to x

``x``, ``y``, ``z``, ``w`` bind variables; a name bound twice must be the same
variable.  A builder takes the bindings as keywords and returns the
replacement.  The engine checks the replacement's type, copies the matched
node's creation line onto every node the builder made, and records what fired.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..config import config
from ..frontend.evaluator import toposort
from ..frontend.graph import Constant, src_loc_override
from ..frontend.printing import pp

COMMUTATIVE = ("add", "mul", "maximum", "minimum", "eq", "neq", "and_", "or_", "xor")


class Pattern:
    def match(self, var, env):
        raise NotImplementedError


class Var(Pattern):
    """Binds any variable (optionally only if ``guard(var)`` holds)."""

    def __init__(self, name, guard=None):
        self.name, self.guard = name, guard

    def match(self, var, env):
        if self.guard is not None and not self.guard(var):
            return None
        bound = env.get(self.name)
        if bound is not None:
            return env if bound is var else None
        env = dict(env)
        env[self.name] = var
        return env


class Const(Pattern):
    """A constant whose every element equals ``value`` (any shape), also seen through the
    DimShuffles that broadcasting puts around constants."""

    def __init__(self, value):
        self.value = value

    def match(self, var, env):
        while var.owner is not None and type(var.owner.op).__name__ == "DimShuffle":
            var = var.owner.inputs[0]
        if isinstance(var, Constant) and var.data.size > 0 and np.all(var.data == self.value):
            return env
        return None


class Elem(Pattern):
    """An Elemwise node of the named scalar op; commutative ops match either order."""

    def __init__(self, name, *args, dtype=None):
        self.name, self.args, self.dtype = name, args, dtype

    def match(self, var, env):
        node = var.owner
        sop = getattr(getattr(node, "op", None), "scalar_op", None)
        if sop is None or sop.name != self.name or len(node.inputs) != len(self.args):
            return None
        if self.dtype is not None and node.op.dtype != self.dtype:
            return None
        orders = [node.inputs]
        if self.name in COMMUTATIVE and len(node.inputs) == 2:
            orders.append(node.inputs[::-1])
        for inputs in orders:
            e = env
            for pat, inp in zip(self.args, inputs):
                e = pat.match(inp, e)
                if e is None:
                    break
            if e is not None:
                return e
        return None


class OpPat(Pattern):
    """A node of op class ``cls`` (with ``props`` equal, if given) over ``args``."""

    def __init__(self, cls, *args, bind=None, **props):
        self.cls, self.args, self.props, self.bind = cls, args, props, bind

    def match(self, var, env):
        node = var.owner
        if node is None or not isinstance(node.op, self.cls):
            return None
        if self.args and len(self.args) != len(node.inputs):
            return None
        for k, v in self.props.items():
            if getattr(node.op, k) != v:
                return None
        e = env
        if self.bind is not None:
            e = dict(e)
            e[self.bind] = node
        for pat, inp in zip(self.args, node.inputs):
            e = pat.match(inp, e)
            if e is None:
                return None
        return e


def var(name, guard=None):
    return Var(name, guard)


def const(value):
    return Const(value)


def elem(name, *args, dtype=None):
    return Elem(name, *args, dtype=dtype)


def op(cls, *args, bind=None, **props):
    return OpPat(cls, *args, bind=bind, **props)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: Pattern
    build: Callable
    guard: Optional[Callable] = None


def rule(name, pattern, build, guard=None):
    """A named rewrite: when ``pattern`` matches (and ``guard(**env)`` holds), use ``build(**env)``."""
    return Rule(name, pattern, build, guard)


def _fit(new, old):
    """``new`` made to have ``old``'s exact type, or None when that is not safe."""
    from ..frontend.ops.elemwise import cast
    if new is old or new.ndim != old.ndim:
        return None
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    if new.broadcastable != old.broadcastable:
        if any(n and not o for o, n in zip(old.broadcastable, new.broadcastable)):
            # the original was stretched there by another operand: the replacement
            # would have a different shape
            return None
        from ..frontend.ops.shape import patternbroadcast
        new = patternbroadcast(new, old.broadcastable)
    return new


def clients_of(order, outputs):
    """{id(variable): the nodes of ``order`` that read it, once per read, and None for
    each time it is one of ``outputs``} (a function output counts as a use)."""
    clients = {}
    for node in order:
        for v in node.inputs:
            clients.setdefault(id(v), []).append(node)
    for o in outputs:
        clients.setdefault(id(o), []).append(None)
    return clients


def rebuild(node, memo):
    """``node`` over its inputs' replacements in ``memo`` (id -> variable): the node itself
    when nothing changed, else a clone, whose outputs ``memo`` then maps the old ones to."""
    ins = [memo.get(id(i), i) for i in node.inputs]
    if all(a is b for a, b in zip(ins, node.inputs)):
        return node
    new = node.clone_with_new_inputs(ins)
    for old, nv in zip(node.outputs, new.outputs):
        memo[id(old)] = nv
    return new


def _try_rules(var, rules):
    for r in rules:
        env = r.pattern.match(var, {})
        if env is None:
            continue
        if r.guard is not None and not r.guard(**env):
            continue
        with src_loc_override(var.owner.src_loc):
            new = r.build(**env)
            new = _fit(new, var) if new is not None else None
        if new is not None:
            return r, new
    return None, None


def rewrite(outputs, rules, trace=None, max_sweeps=20):
    """Apply ``rules`` over the graph of ``outputs`` until none fires; returns new outputs.

    Each sweep walks the nodes in topological order, rebuilding a node whose
    inputs were replaced, then trying the rules on it, first match wins.
    ``trace`` (a list) receives ``(rule_name, before_text, after_text)``.
    """
    outputs = list(outputs)
    with config.change_flags(compute_test_value="off"):
        for _ in range(max_sweeps):
            memo = {}
            fired = False
            for node in toposort(outputs):
                cur = rebuild(node, memo)
                if len(cur.outputs) != 1 or not cur.op.pure:
                    continue
                r, new = _try_rules(cur.outputs[0], rules)
                if r is None:
                    continue
                fired = True
                memo[id(node.outputs[0])] = new
                if trace is not None:
                    trace.append((r.name, pp(cur.outputs[0]), pp(new)))
            outputs = [memo.get(id(o), o) for o in outputs]
            if not fired:
                break
    return outputs
