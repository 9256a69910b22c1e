"""Lowering: optimized function graphs -> a Program (kernels, variables, steps, tables)."""
import numpy as np

from ..frontend.evaluator import graph_inputs, toposort
from ..frontend.graph import Constant, SharedVariable
from ..frontend.printing import pp
from .kernels import NotLowerable, build_params
from .program import (Arg, Const, ConstSlot, FunctionProgram, Kernel, Program, Rec, SharedSlot,
                      Step, Var)


class FunctionSpec:
    """What one exported function computes (after the passes).

    ``args`` are (name, variable, has_default, default) in call order;
    ``outputs`` the user outputs; ``updates`` (shared, expression) pairs.
    """

    def __init__(self, name, args, outputs, updates, single):
        self.name, self.args, self.outputs = name, list(args), list(outputs)
        self.updates, self.single = list(updates), single


def _src_text(node):
    loc = node.src_loc
    return str(loc) if loc is not None else "(unknown line)"


def _plan_releases(steps, vars_, view_of, out_idx):
    """Attach to each step the temporaries whose memory is dead after it.

    A temporary's block serves it and every view of it; the block is released
    after the last step that reads any of them, unless one is a function output.
    """
    def root(v):
        while v in view_of:
            v = view_of[v]
        return v
    produced_by = {}
    for s in steps:
        for o in s.outputs:
            produced_by[o] = s.index
    last = {}
    for s in steps:
        for i in s.inputs:
            last[root(i)] = max(last.get(root(i), -1), s.index)
        for o in s.outputs:
            last[root(o)] = max(last.get(root(o), -1), s.index)
    keep = {root(o) for o in out_idx}
    rel = {}
    for r, at in last.items():
        if r in keep or vars_[r].kind != "temp" or r not in produced_by:
            continue
        rel.setdefault(at, []).append((r, produced_by[r]))
    return [s.__class__(s.index, s.kernel, s.inputs, s.outputs, s.op, s.types, s.src,
                        tuple(sorted(rel.get(s.index, ()))))
            for s in steps]


class LowerContext:
    """Module-wide lowering state: kernels (shared by equal parameters), constant slots,
    and the step tags of inner programs (loop bodies), unique in the module."""

    def __init__(self):
        self.kernels = {}           # (template, Rec) -> Kernel
        self.const_slots = {}       # signature -> (slot index, ConstSlot)
        self.n_inner = 0            # inner programs lowered so far

    def const_slot(self, c):
        key = c.signature()
        if key not in self.const_slots:
            data = np.array(c.data, order="C")      # 0-d stays 0-d
            self.const_slots[key] = (len(self.const_slots),
                                     ConstSlot(c.dtype, tuple(data.shape), data.tobytes()))
        return self.const_slots[key][0]

    def kernel(self, node):
        """The kernel name for ``node`` (a loop lowers its body first, through this context)."""
        from .kernels_scan import is_scan, scan_params
        try:
            if is_scan(node):
                template, params = scan_params(node, self)
            else:
                template, params = build_params(node)
        except NotLowerable as e:
            if "\n  node: " in str(e):
                raise
            raise NotLowerable("%s\n  node: %s\n  created at: %s"
                               % (e, node, _src_text(node))) from None
        key = (template, Rec(params))
        if key not in self.kernels:
            self.kernels[key] = Kernel("k%d" % len(self.kernels), template, key[1])
        return self.kernels[key].name

    def lower_graph(self, outs, add_var, index, vars_):
        """Steps computing ``outs`` (variables already in ``index`` are given); the
        constants among the roots become const variables.  Returns (consts, steps, view_of)."""
        consts = []
        for r in graph_inputs(outs):
            if isinstance(r, Constant) and id(r) not in index:
                add_var(r, "const")
                consts.append(Const(index[id(r)], self.const_slot(r)))
        for r in graph_inputs(outs):
            if id(r) not in index:
                raise NotLowerable("free variable %s is not an argument" % r)
        steps = []
        view_of = {}            # var index -> var index whose memory it may alias
        for node in toposort(outs):
            kname = self.kernel(node)
            for o in node.outputs:
                add_var(o, "temp")
            for oi, ii in getattr(node.op, "view_map", {}).items():
                view_of[index[id(node.outputs[oi])]] = index[id(node.inputs[ii])]
            steps.append(Step(len(steps), kname,
                              tuple(index[id(i)] for i in node.inputs),
                              tuple(index[id(o)] for o in node.outputs),
                              str(node), "[%s]" % ", ".join(str(i.type) for i in node.inputs),
                              _src_text(node)))
        return consts, steps, view_of


def var_table():
    """(add_var, index, vars_): a fresh numbering of variables by position."""
    index, vars_ = {}, []

    def add_var(v, kind):
        index[id(v)] = len(vars_)
        vars_.append(Var(len(vars_), v.dtype, v.ndim, tuple(v.broadcastable), kind))
        return index[id(v)]
    return add_var, index, vars_


def lower(module_name, specs):
    """A Program for ``specs`` (a list of FunctionSpec)."""
    ctx = LowerContext()
    shared_slots = []       # SharedVariable objects, in first-use order
    functions = []

    def shared_slot(s):
        for k, t in enumerate(shared_slots):
            if t is s:
                return k
        shared_slots.append(s)
        return len(shared_slots) - 1

    for findex, spec in enumerate(specs):
        outs = spec.outputs + [u for _, u in spec.updates]
        roots = graph_inputs(outs)
        add_var, index, vars_ = var_table()
        args = []
        for name, v, has_default, default in spec.args:
            add_var(v, "input")
            args.append(Arg(name, index[id(v)], v.dtype, v.ndim, tuple(v.broadcastable),
                            has_default, default))
        shared = []
        for r in roots:
            if isinstance(r, SharedVariable) and id(r) not in index:
                add_var(r, "shared")
                shared.append((shared_slot(r), index[id(r)]))
        for s, _ in spec.updates:
            shared_slot(s)
        consts, steps, view_of = ctx.lower_graph(outs, add_var, index, vars_)
        out_idx = tuple(index[id(o)] for o in outs)
        steps = _plan_releases(steps, vars_, view_of, out_idx)
        n_user = len(spec.outputs)
        updates = tuple((shared_slot(s), n_user + k) for k, (s, _) in enumerate(spec.updates))
        functions.append(FunctionProgram(
            findex, spec.name, tuple(vars_), tuple(args), tuple(shared), tuple(consts),
            tuple(steps), out_idx, n_user, spec.single, updates,
            "\n".join(pp(o) for o in outs)))

    slots = tuple(SharedSlot(s.name or "shared%d" % k, s.dtype, s.ndim, tuple(s.broadcastable))
                  for k, s in enumerate(shared_slots))
    consts = tuple(c for _, c in sorted(ctx.const_slots.values(), key=lambda t: t[0]))
    program = Program(module_name, tuple(functions), tuple(ctx.kernels.values()), slots, consts)
    return program, shared_slots
