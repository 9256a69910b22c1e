"""Kernel builder for IfElse: real branching in C, only the taken side runs.

lower_graph hands over the nodes that only one side needs (``then_nodes``,
``else_nodes``) and the variables those read from the eager part of the graph
(``boundary``).  Each side is lowered into an inner program (as a loop body
is, kernels shared with the module) whose inputs are the boundary variables;
the step's inputs are ``(cond, *boundary)``.  ``templates/c/ifelse.c.j2``
reads the condition, runs one program and hands its results over: a block
the side allocated becomes the output's (re-tagged to the outer step, so the
outer memory plan releases it), anything else (a boundary variable, a view,
a constant) is copied, so an output never aliases memory the outer plan may
release.  An error inside a side is reported on the IfElse node, naming the
side and the inner node.
"""
from .ctypes_map import C_TYPE, itemsize
from .kernels import c_string
from .program import Rec
from .kernels_scan import TAG_BASE, TAG_STRIDE, inner_steps


def _text(s):
    return c_string(s).replace("%", "%%").replace("*/", "* /")


def _side(ctx, node, side_nodes, boundary, values):
    from .lower import _plan_releases, var_table
    add_var, index, vars_ = var_table()
    for v in boundary:
        add_var(v, "input")
    within = {id(m) for m in side_nodes}
    consts, steps, view_of = ctx.lower_graph(list(values), add_var, index, vars_, within)
    out_idx = tuple(index[id(o)] for o in values)
    steps = _plan_releases(steps, vars_, view_of, out_idx, ctx.templates())
    base = TAG_BASE + TAG_STRIDE * ctx.n_inner
    ctx.n_inner += 1
    produced = {o for s in steps for o in s.outputs}
    outs = tuple(Rec(dict(
        k=k, var=v, ndim=vars_[v].ndim, itemsize=itemsize(vars_[v].dtype),
        # a block the side allocated for this very variable is handed over; the rest copied
        transfer=int(v in produced and v not in view_of and vars_[v].kind == "temp"
                     and out_idx.index(v) == k)))
        for k, v in enumerate(out_idx))
    return Rec(dict(
        nv=max(1, len(vars_)),
        inputs=tuple(Rec(dict(var=index[id(b)], outer=1 + j)) for j, b in enumerate(boundary)),
        consts=tuple(Rec(dict(var=c.var, slot=c.slot, ndim=vars_[c.var].ndim,
                              itemsize=itemsize(vars_[c.var].dtype))) for c in consts),
        steps=inner_steps(steps, base),
        outs=outs))


def ifelse_params(node, ctx, then_nodes, else_nodes, boundary):
    """(template, params, step inputs) for a lazy IfElse node."""
    n = node.op.n_outs
    cond = node.inputs[0]
    then_side = _side(ctx, node, then_nodes, boundary, node.inputs[1:1 + n])
    else_side = _side(ctx, node, else_nodes, boundary, node.inputs[1 + n:])
    params = dict(label=_text(str(node.op)), cond_t=C_TYPE[cond.dtype],
                  sides=(Rec(dict(name="then", body=then_side)),
                         Rec(dict(name="else", body=else_side))))
    return "c/ifelse", params, [cond] + list(boundary)
