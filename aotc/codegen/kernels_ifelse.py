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
from .program import Rec
from .kernels_scan import InnerProgram, _text


def _side(ctx, node, name, side_nodes, boundary, values):
    prog = InnerProgram(ctx, boundary, values, within={id(m) for m in side_nodes},
                        context="Inside %s, in the %s-branch" % (node.op, name))
    produced = {o for s in prog.steps for o in s.outputs}
    vars_, out_idx = prog.vars, prog.out_idx
    outs = tuple(Rec(dict(
        k=k, var=v, ndim=vars_[v].ndim, itemsize=itemsize(vars_[v].dtype),
        # a block the side allocated for this very variable is handed over; the rest copied
        transfer=int(v in produced and v not in prog.view_of and vars_[v].kind == "temp"
                     and out_idx.index(v) == k)))
        for k, v in enumerate(out_idx))
    inputs = tuple(Rec(dict(var=prog.index[id(b)], outer=1 + j)) for j, b in enumerate(boundary))
    return Rec(dict(body=prog.body, inputs=inputs, outs=outs))


def ifelse_params(node, ctx, then_nodes, else_nodes, boundary):
    """(template, params, step inputs) for a lazy IfElse node."""
    n = node.op.n_outs
    cond = node.inputs[0]
    params = dict(label=_text(str(node.op)), cond_t=C_TYPE[cond.dtype],
                  n_outer_in=1 + len(boundary), sides=(
        _side(ctx, node, "then", then_nodes, boundary, node.inputs[1:1 + n]),
        _side(ctx, node, "else", else_nodes, boundary, node.inputs[1 + n:])))
    return "c/ifelse", params, [cond] + list(boundary)
