"""Kernel builder for Scan: the loop runs in C, its body is an inner program of kernel calls.

The step graph is optimized with the same passes as a function (so each
step's elementwise gate math is fused into one loop) and lowered through the
module's LowerContext: its kernels are ordinary module kernels, shared with
the functions.  ``templates/c/scan.c.j2`` then renders one C function that

- checks n_steps >= 0, that every sequence has at least n_steps rows and that
  every state's initial value has ``lag`` rows (the reference's errors);
- allocates each state buffer (lag + n_steps rows, the first lag rows copied
  from the initial value), and two buffers per shared state (read one, write
  the other, swap: a step may return a view of its input, so writing in place
  could overwrite what it still reads);
- per step, sets the inner inputs up as views (row s of each sequence, or row
  len-1-s with go_backwards; row lag+s+k of state j for tap k; the current
  shared buffer; the non-sequences as they are), runs the inner steps, and
  copies the new values into the state rows, the map outputs (allocated at
  step 0, when their row shape is known) and the other shared buffer, after
  checking each shape;
- releases the step's temporaries after each step, so the arena's blocks are
  reused by the next step: memory does not grow with n_steps;
- gives each inner GEMM whose B operand is a loop invariant (a non-sequence or
  a constant, or a view of one) a slot for B packed once (aotc_bpack): the
  first step packs it, the others read the panels.

Inner steps tag their allocations with module-unique tags (``r->cur``), so
that the memory plan's releases inside the body never touch outer blocks.
An error inside the body is reported on the Scan node, with the step number
and the inner node that failed (its op and the line that created it).
"""
from .ctypes_map import C_TYPE, itemsize
from .kernels import NotLowerable, c_string
from .program import Rec

#: inner steps tag their blocks from here on (outer steps are numbered from 0)
TAG_BASE = 1 << 20
TAG_STRIDE = 1 << 16


def is_scan(node):
    from ..frontend.scan import Scan
    return isinstance(node.op, Scan)


def _text(s):
    return c_string(s).replace("%", "%%").replace("*/", "* /")


def inner_steps(steps, base, context=None, bpack=None):
    """The template records of an inner program's steps, tagged from ``base``; ``where``
    names the step's node (after ``context``, when given) for error messages; ``bpack``
    maps a step to its slot of B packed for the loop (-1: none)."""
    bpack = bpack or {}
    return tuple(Rec(dict(
        kernel=s.kernel, tag=base + s.index, donate=int(s.donate), bpack=bpack.get(s.index, -1),
        ins=", ".join("&v[%d]" % i for i in s.inputs) or "NULL",
        outs=", ".join("&v[%d]" % o for o in s.outputs) or "NULL",
        where=_text("%s%s (created at %s)" % (context + ", in " if context else "", s.op,
                                               s.src)),
        releases=tuple(Rec(dict(var=v, tag=base + st)) for v, st in s.releases)))
        for s in steps)


class InnerProgram:
    """A graph lowered as a loop body or a branch side: its variable numbering
    (``index``, ``vars``), ``view_of``, planned ``steps``, output variables ``out_idx``,
    and ``body``, the record templates/c/support_inner.c.j2 renders."""

    def __init__(self, ctx, inputs, values, within=None, context=None, invariant=None):
        from .lower import _plan_releases, var_table
        add_var, self.index, self.vars = var_table()
        for v in inputs:
            add_var(v, "input")
        consts, steps, self.view_of = ctx.lower_graph(list(values), add_var, self.index,
                                                      self.vars, within)
        self.out_idx = tuple(self.index[id(o)] for o in values)
        self.steps = _plan_releases(steps, self.vars, self.view_of, self.out_idx,
                                    ctx.templates())
        if len(self.steps) >= TAG_STRIDE:
            raise NotLowerable("an inner program of %d nodes: at most %d"
                               % (len(self.steps), TAG_STRIDE - 1))
        # inner steps tag their blocks from here: unique in the module
        self.base = TAG_BASE + TAG_STRIDE * ctx.n_inner
        ctx.n_inner += 1
        # a loop body (``invariant``: the loop's non-sequences) packs its invariant GEMM
        # operands once (a scan's template declares the slots); a branch side runs once
        self.bpack = ({} if invariant is None else
                      self._invariant_b(ctx, [self.index[id(v)] for v in invariant]))
        self.body = Rec(dict(
            nv=max(1, len(self.vars)), n_bpack=len(self.bpack),
            consts=tuple(Rec(dict(var=c.var, slot=c.slot, ndim=self.vars[c.var].ndim,
                                  itemsize=itemsize(self.vars[c.var].dtype)))
                         for c in consts),
            steps=inner_steps(self.steps, self.base, context, self.bpack)))

    def _invariant_b(self, ctx, invariant):
        """{step index: slot} for the GEMM steps whose B is the same at every run of the
        body: a view of an ``invariant`` input (the loop's non-sequences) or a constant.
        Nothing in a body writes over those (only temporaries are donated), so B's
        packing stays good for the whole loop."""
        from .lower import _root_of
        root = _root_of(self.view_of)
        fixed = set(invariant) | {k for k, v in enumerate(self.vars) if v.kind == "const"}
        kernels = {k.name: k for k in ctx.kernels.values()}
        slots = {}
        for s in self.steps:
            k = kernels[s.kernel]
            if k.template != "c/gemm" or k.params.mode != "blas" or k.params.nb != 2:
                continue
            if root(s.inputs[k.params.ib]) in fixed:
                slots[s.index] = len(slots)
        return slots


def scan_params(node, ctx):
    """(template, params) for a Scan node; lowers (and optimizes) its step graph via ``ctx``."""
    from ..passes import optimize
    from .lower import _root_of
    op = node.op
    xs, hs, zs, ws, h_out, y_out, z_out = op.inner_parts()
    nr, nn = len(op.taps), op.n_nit_sot
    prog = InnerProgram(ctx, op.inner.inputs, optimize(list(op.inner.outputs)),
                        invariant=ws)
    index, vars_, view_of, out_idx = prog.index, prog.vars, prog.view_of, prog.out_idx

    root = _root_of(view_of)
    produced_by = {o: s.index for s in prog.steps for o in s.outputs}
    # the step's results are copied out, then their blocks are free for the next step
    out_releases = tuple(dict.fromkeys(
        (root(v), prog.base + produced_by[root(v)]) for v in out_idx
        if vars_[root(v)].kind == "temp" and root(v) in produced_by))

    outer_in = list(node.inputs)
    p = 1
    seqs = []
    for i, x in enumerate(xs):
        seqs.append(Rec(dict(var=index[id(x)], outer=p + i, itemsize=itemsize(x.dtype))))
    p += op.n_seqs
    states = []
    for j, (taps, phs) in enumerate(zip(op.taps, hs)):
        states.append(Rec(dict(
            j=j, lag=-min(taps), outer=p + j, out=j, itemsize=itemsize(node.outputs[j].dtype),
            rdim=node.outputs[j].ndim - 1, new=out_idx[j], taps_text=str(list(taps)),
            taps=tuple(Rec(dict(var=index[id(ph)], tap=t)) for t, ph in zip(taps, phs)))))
    p += nr
    maps = []
    for m in range(nn):
        o = node.outputs[nr + m]
        summed = m >= nn - op.n_sums     # summed over the steps: the output is one row
        bcast = o.broadcastable if summed else o.broadcastable[1:]
        dims = ([] if summed else ["0"]) + ["1" if b else "0" for b in bcast]
        maps.append(Rec(dict(m=m, out=nr + m, new=out_idx[nr + m], itemsize=itemsize(o.dtype),
                             rdim=len(bcast), summed=int(summed), ctype=C_TYPE[o.dtype],
                             out_ndim=len(dims), empty_shape=", ".join(dims) or "0")))
    shared = []
    for q, z in enumerate(zs):
        o = node.outputs[nr + nn + q]
        shared.append(Rec(dict(q=q, var=index[id(z)], outer=p + q, out=nr + nn + q,
                               new=out_idx[nr + nn + q], itemsize=itemsize(o.dtype),
                               ndim=o.ndim)))
    p += op.n_shared_outs
    nonseqs = tuple(Rec(dict(var=index[id(w)], outer=p + i)) for i, w in enumerate(ws))
    label = _text(str(op) if not op.name else "scan %r" % op.name)
    return "c/scan", dict(
        label=label, body=prog.body, n_outer_in=len(outer_in), n_outer_out=len(node.outputs),
        go_backwards=int(op.go_backwards), seqs=tuple(seqs), states=tuple(states),
        maps=tuple(maps), shared=tuple(shared), nonseqs=nonseqs,
        out_releases=tuple(Rec(dict(var=v, tag=t)) for v, t in out_releases))
