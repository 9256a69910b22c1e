"""Kernel builders: for each op template, the parameters its C template renders from.

``BUILDERS`` maps an op's ``c`` slot (``"c/elemwise"``) to a function
``(node) -> dict`` of template parameters (strings, ints and tuples only: the
dict becomes part of the frozen Program, and equal dicts share one kernel).
An op whose slot has no builder, or a dtype C has no type for, raises
:class:`NotLowerable`.
"""
import itertools

from ..frontend.types import upcast
from .ctypes_map import C_TYPE, itemsize, scalar_c, supported
from .program import Rec


class NotLowerable(Exception):
    """The C backend has no kernel for this node (yet)."""


def _check_dtypes(node):
    for v in list(node.inputs) + list(node.outputs):
        if not supported(v.dtype):
            raise NotLowerable("%s: dtype %s has no C type" % (node.op, v.dtype))


def c_string(text):
    """``text`` as the inside of a C string literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t").replace("??", "?\\?"))


def elemwise(node):
    """One elementwise node: a strided, broadcasting loop with unit-stride fast paths."""
    op = node.op
    sop = op.scalar_op
    out = node.outputs[0]
    nin = len(node.inputs)
    ndim = out.ndim
    in_dtypes = [i.dtype for i in node.inputs]
    if sop.compute_in == "in":
        compute = upcast(*in_dtypes)
    else:
        compute = out.dtype
    operands = ["x%d" % i for i in range(nin)]
    expr = scalar_c(sop, compute, operands)
    out_ct = C_TYPE[out.dtype]
    if out.dtype == "bool":
        store = "(npy_bool)((%s) != 0)" % expr
    else:
        store = "(%s)(%s)" % (out_ct, expr)
    axes = []
    for ax in range(ndim):
        full = [i for i, v in enumerate(node.inputs) if not v.broadcastable[ax]]
        axes.append(dict(index=ax, size_from="in[%d]->shape[%d]" % (full[0], ax) if full else "1",
                         check=tuple(full[1:])))
    stride_expr = tuple(
        tuple("0" if v.broadcastable[ax] else "in[%d]->strides[%d]" % (i, ax)
              for ax in range(ndim)) for i, v in enumerate(node.inputs))
    sizes = [itemsize(d) for d in in_dtypes]
    osize = itemsize(out.dtype)
    unit = ["(s%d == %d || s%d == 0)" % (i, sizes[i], i) for i in range(nin)]
    unit.append("so == %d" % osize)
    varying = [i for i, v in enumerate(node.inputs) if not all(v.broadcastable)]
    fast = []
    if len(varying) <= 3:
        for choice in itertools.product((True, False), repeat=len(varying)):
            index, cond = ["0"] * nin, []
            for i, full in zip(varying, choice):
                index[i] = "i" if full else "0"
                cond.append("s%d == %d" % (i, sizes[i]) if full else "s%d == 0" % i)
            fast.append(dict(cond=" && ".join(cond) or "1", index=tuple(index)))
    return dict(
        label=c_string(str(op)), op=c_string(str(op)), nin=nin, nops=nin + 1, ndim=ndim,
        in_ctypes=tuple(C_TYPE[d] for d in in_dtypes),
        compute_ctypes=tuple(C_TYPE[compute] for _ in in_dtypes),
        out_ctype=out_ct, out_size=osize, in_sizes=tuple(sizes), store=store,
        axes=tuple(Rec(a) for a in axes), stride_expr=stride_expr,
        unit_cond=" && ".join(unit), fast_cases=tuple(Rec(f) for f in fast), inplace=-1)


def _all_builders():
    from . import kernels_index, kernels_reduce, kernels_shape
    out = {"c/elemwise": elemwise}
    for mod in (kernels_shape, kernels_index, kernels_reduce):
        out.update(mod.BUILDERS)
    return out


BUILDERS = None


def build_params(node):
    _check_dtypes(node)
    global BUILDERS
    if BUILDERS is None:
        BUILDERS = _all_builders()
    slot = getattr(node.op, "c", None)
    fn = BUILDERS.get(slot)
    if fn is None:
        raise NotLowerable("%s: no C kernel for template %r" % (node.op, slot))
    return slot, fn(node)
