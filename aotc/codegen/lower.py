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


#: kernels that can update their input 0 in place (aotc_take_donated) instead of copying it
DONORS = ("c/inc_subtensor", "c/advanced_inc_subtensor", "c/scatter")


def _root_of(view_of):
    """v -> the variable whose block v lies in (following view_of, view -> viewed)."""
    def root(v):
        while v in view_of:
            v = view_of[v]
        return v
    return root


def _plan_releases(steps, vars_, view_of, out_idx, templates=None):
    """Attach to each step the temporaries whose memory is dead after it, and mark the
    steps that may update their input 0 in place (``donate``).

    A temporary's block serves it and every view of it; the block is released
    after the last step that reads any of them, unless one is a function output.
    A step of a DONORS kernel (``templates``: kernel name -> template) gets its
    input 0's block when that block is its own (no view), read by no later step and
    by no other input of this one, and no function output.
    """
    root = _root_of(view_of)
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
    def donates(s):
        if templates is None or templates.get(s.kernel) not in DONORS or not s.inputs:
            return False
        x = s.inputs[0]
        return (vars_[x].kind == "temp" and x in produced_by and x not in view_of
                and x not in keep and last.get(x) == s.index
                and all(root(i) != x for i in s.inputs[1:]))
    return [s.__class__(s.index, s.kernel, s.inputs, s.outputs, s.op, s.types, s.src,
                        tuple(sorted(rel.get(s.index, ()))), donates(s))
            for s in steps]


#: kernels that can write an output over an input of the same shape (elementwise: each
#: element's inputs are read before its outputs are written)
OVERWRITERS = ("c/fused_elemwise", "c/elemwise")


def _plan_overwrites(steps, updates, index, shared, vars_, view_of, out_idx, templates):
    """Mark the steps whose output is a shared variable's new value (an update) and that
    may write it over the old value's array (Step.overwrite), which the call lends when
    nothing else holds it (the module's Python side decides; see call.c.j2).

    Allowed when the step is elementwise, reads the old value as an input of the same
    type (no view of it), no later step reads the old value or a view of it, and the old
    value is no function output.  The kernel also checks, at run time, that the array
    was lent and has the output's shape and a contiguous layout.
    """
    root = _root_of(view_of)
    shared_no = {var: k for k, (_, var) in enumerate(shared)}
    producer = {o: s for s in steps for o in s.outputs}
    marks = {}
    for sv_obj, new in updates:
        sv, o = index.get(id(sv_obj)), index.get(id(new))
        s = producer.get(o)
        if sv not in shared_no or s is None or templates.get(s.kernel) not in OVERWRITERS:
            continue
        if o in view_of or vars_[o].dtype != vars_[sv].dtype \
                or vars_[o].broadcastable != vars_[sv].broadcastable \
                or any(root(v) == sv for v in out_idx):
            continue
        later = any(root(i) == sv for t in steps if t.index > s.index for i in t.inputs)
        views = any(root(i) == sv and i != sv for i in s.inputs)
        if later or views or sv not in s.inputs:
            continue
        marks.setdefault(s.index, []).append((s.outputs.index(o), s.inputs.index(sv),
                                              shared_no[sv]))
    return [s.__class__(s.index, s.kernel, s.inputs, s.outputs, s.op, s.types, s.src,
                        s.releases, s.donate, tuple(marks.get(s.index, ())))
            for s in steps]


class LowerContext:
    """Module-wide lowering state: kernels (shared by equal parameters), constant slots,
    and the step tags of inner programs (loop bodies), unique in the module."""

    def __init__(self):
        self.kernels = {}           # (template, Rec) -> Kernel
        self.const_slots = {}       # signature -> (slot index, ConstSlot)
        self.n_inner = 0            # inner programs lowered so far

    def templates(self):
        """kernel name -> template name."""
        return {k.name: k.template for k in self.kernels.values()}

    def const_slot(self, c):
        key = c.signature()
        if key not in self.const_slots:
            data = np.array(c.data, order="C")      # 0-d stays 0-d
            self.const_slots[key] = (len(self.const_slots),
                                     ConstSlot(c.dtype, tuple(data.shape), data.tobytes()))
        return self.const_slots[key][0]

    def kernel(self, node, branches=None):
        """(kernel name, step inputs) for ``node``.  A loop lowers its body first, a
        branch (``branches``: see lower_graph) its two sides, through this context."""
        from .kernels_scan import is_scan, scan_params
        from .kernels_ifelse import ifelse_params
        inputs = node.inputs
        try:
            if is_scan(node):
                template, params = scan_params(node, self)
            elif getattr(node.op, "lazy", False):
                template, params, inputs = ifelse_params(node, self, *branches)
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
        return self.kernels[key].name, inputs

    def lower_graph(self, outs, add_var, index, vars_, within=None):
        """Steps computing ``outs`` from the variables already in ``index``; constants
        among the leaves become const variables.  ``within`` (node ids) limits the
        nodes to those of a branch.  Returns (consts, steps, view_of).

        Lazy nodes (ifelse) run only their taken side: the nodes that only a
        branch needs (not needed eagerly) are lowered into that branch's program,
        inside the ifelse kernel, which reads the eagerly computed variables the
        branch uses (its boundary) as extra step inputs.
        """
        def stop(v):
            return id(v) in index or (within is not None and v.owner is not None
                                      and id(v.owner) not in within)
        eager = toposort(outs, lazy=True, stop=stop)
        eager_ids = {id(n) for n in eager}
        branches = {}
        for node in eager:
            if getattr(node.op, "lazy", False):
                branches[id(node)] = _branches(node, eager_ids, stop)

        def deps_of(node):
            if id(node) in branches:
                return node.op.eager_inputs(node) + branches[id(node)][2]
            return node.inputs
        order = toposort(outs, deps_of=deps_of, stop=stop)
        consts = []

        def leaf(r):
            # a variable nothing here computes: a constant, or an error
            if not isinstance(r, Constant):
                raise NotLowerable("free variable %s is not an argument" % r)
            add_var(r, "const")
            consts.append(Const(index[id(r)], self.const_slot(r)))
        produced = set()
        for node in order:
            for r in deps_of(node):
                if id(r) not in index and id(r.owner) not in produced:
                    leaf(r)
            produced.add(id(node))
        for r in outs:
            if id(r) not in index and r.owner is None:
                leaf(r)
        steps = []
        view_of = {}            # var index -> var index whose memory it may alias
        for node in order:
            kname, ins = self.kernel(node, branches.get(id(node)))
            for o in node.outputs:
                add_var(o, "temp")
            for oi, ii in getattr(node.op, "view_map", {}).items():
                view_of[index[id(node.outputs[oi])]] = index[id(node.inputs[ii])]
            steps.append(Step(len(steps), kname,
                              tuple(index[id(i)] for i in ins),
                              tuple(index[id(o)] for o in node.outputs),
                              str(node), "[%s]" % ", ".join(str(i.type) for i in node.inputs),
                              _src_text(node)))
        return consts, steps, view_of


def _branches(node, eager_ids, stop):
    """(then nodes, else nodes, boundary variables) of a lazy node: the nodes each side
    needs that nothing eager needs, and the variables those read from outside them."""
    n = node.op.n_outs
    sides = []
    for vals in (node.inputs[1:1 + n], node.inputs[1 + n:]):
        sides.append([m for m in toposort(vals, stop=stop) if id(m) not in eager_ids])
    boundary, seen = [], set()
    for k, side in enumerate(sides):
        ids = {id(m) for m in side}
        reads = [i for m in side for i in m.inputs]
        reads += list(node.inputs[1 + k * n:1 + (k + 1) * n])
        for v in reads:
            if (v.owner is None or id(v.owner) not in ids) and not isinstance(v, Constant) \
                    and id(v) not in seen:
                seen.add(id(v))
                boundary.append(v)
    return sides[0], sides[1], boundary


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
        steps = _plan_releases(steps, vars_, view_of, out_idx, ctx.templates())
        n_user = len(spec.outputs)
        steps = _plan_overwrites(steps, spec.updates, index, shared, vars_, view_of, out_idx,
                                 ctx.templates())
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
