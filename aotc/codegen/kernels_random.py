"""Kernel builders for the random draws (see kernels.py for the contract).

The kernels implement the counter-based generator of
``aotc/frontend/ops/random.py`` word for word, so the compiled module draws the
reference's numbers: uniform and binomial bit for bit, normal to the last ulp
of the C library's ``log``/``cos``/``sin`` against NumPy's (the module
docstring there states the tolerance).  The templates (``random_*.c.j2``,
sharing ``random_common.c.j2``) read and check the state ``[key, counter]``
and the size vector, walk the parameters with their broadcast strides (or read
them once when they are all 0-d), and write the draws and the new state.  They
are compiled without FMA contraction (no ``-mfma`` and no target attribute),
so ``lo + (hi - lo) * u`` rounds as NumPy's separate add and multiply do.
"""
from ..frontend.ops.random import RandomBinomial, RandomNormal, RandomUniform
from .ctypes_map import C_TYPE, itemsize
from .kernels import NotLowerable, c_string
from .program import Rec


def _label(node):
    return c_string(str(node.op)).replace("%", "%%").replace("*/", "* /")


def _common(node, expect):
    op = node.op
    if not isinstance(op, expect):
        raise NotLowerable("%s: not a %s" % (op, expect.__name__))
    out = node.outputs[0]
    params = []
    for j, (pname, p) in enumerate(zip(op.param_names, node.inputs[2:])):
        off = op.ndim - p.ndim
        axes = tuple(Rec(dict(index=a, out=off + a, bcast=bool(b)))
                     for a, b in enumerate(p.broadcastable))
        params.append(Rec(dict(index=j, pos=2 + j, name=pname, ctype=C_TYPE[p.dtype], ndim=p.ndim,
                               axes=axes)))
    return dict(label=_label(node), opname=type(op).__name__, ndim=op.ndim,
                nin=len(node.inputs), nparams=len(params), params=tuple(params),
                scalar_params=all(p.ndim == 0 for p in node.inputs[2:]),
                bcast_axes=tuple(a for a, b in enumerate(op.bcast) if b),
                ctype=C_TYPE[out.dtype], itemsize=itemsize(out.dtype))


def random_uniform(node):
    """``lo + (hi - lo) * u`` in the output type; u from the top 53 (float64) or 24 bits."""
    k = _common(node, RandomUniform)
    if node.outputs[0].dtype == "float64":
        k["unit"] = "(double)(w >> 11) * 0x1p-53"
    elif node.outputs[0].dtype == "float32":
        k["unit"] = "(float)(w >> 40) * 0x1p-24f"
    else:
        raise NotLowerable("%s: dtype %s has no C kernel" % (node.op, node.outputs[0].dtype))
    return k


def random_normal(node):
    """Box-Muller in double over pairs of words, then ``avg + std * z`` in the output type."""
    if node.outputs[0].dtype not in ("float32", "float64"):
        raise NotLowerable("%s: dtype %s has no C kernel" % (node.op, node.outputs[0].dtype))
    return _common(node, RandomNormal)


def random_binomial(node):
    """``n`` trials per value (words counter + i*n + t), the hit count cast to the dtype."""
    k = _common(node, RandomBinomial)
    dtype = node.outputs[0].dtype
    k["trials"] = int(node.op.n)
    k["store"] = "(npy_bool)(hits != 0)" if dtype == "bool" else "(%s)hits" % C_TYPE[dtype]
    return k


BUILDERS = {
    "c/random_uniform": random_uniform,
    "c/random_normal": random_normal,
    "c/random_binomial": random_binomial,
}
