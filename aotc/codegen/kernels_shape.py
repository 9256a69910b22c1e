"""Kernel builders for the shape op family (see kernels.py for the contract).

DimShuffle, Rebroadcast and Reshape (of an input it can view) produce views:
they alias their input's memory and copy nothing.  Shape, MakeVector, Alloc,
ARange and Join allocate.  Print takes the GIL to call Python's ``print``.

Every run-time size these kernels read (reshape targets, alloc sizes, arange
bounds) can come in any integer dtype, so builders pass, per input, a C
expression that reads it as ``int64_t`` (``uint64`` values above INT64_MAX
saturate, so that they fail as "too large" rather than wrap to a negative).
Messages repeat the reference ``perform``'s text, shapes written as Python
tuples.
"""
from ..frontend.types import is_float
from .ctypes_map import C_TYPE, NPY_TYPE, SUFFIX, itemsize
from .kernels import NotLowerable, c_string
from .program import Rec


def _label(node):
    """The op's text, safe inside a C comment and a printf format."""
    return c_string(str(node.op)).replace("%", "%%").replace("*/", "* /")


def _read_scalar(pos, dtype):
    """C expression: input ``pos`` (0-d, any integer dtype) as int64_t."""
    if dtype == "uint64":
        return "aotc_u64_size(*(const uint64_t *)in[%d]->data)" % pos
    return "(int64_t)(*(const %s *)in[%d]->data)" % (C_TYPE[dtype], pos)


def _read_entry(dtype):
    """C expression: entry ``i`` of the 1-d integer vector ``in[1]`` as int64_t."""
    ptr = "(const %s *)(in[1]->data + i * in[1]->strides[0])" % C_TYPE[dtype]
    if dtype == "uint64":
        return "aotc_u64_size(*%s)" % ptr
    return "(int64_t)(*%s)" % ptr


def _need_int(node, v, what):
    if v.dtype == "bool" or is_float(v.dtype):
        raise NotLowerable("%s: %s of dtype %s is not an integer" % (node.op, what, v.dtype))


def dimshuffle(node):
    """A view: output axis d is input axis order[d], or a new length-1 axis (-1)."""
    op = node.op
    x = node.inputs[0]
    order = tuple(-1 if a == "x" else int(a) for a in op.new_order)
    kept = set(a for a in order if a >= 0)
    dropped = tuple(a for a in range(x.ndim) if a not in kept)
    axes_rev = tuple(Rec(dict(index=d, src=order[d])) for d in reversed(range(len(order))))
    return dict(label=_label(node), ndim=len(order), axes_rev=axes_rev, dropped=dropped,
                itemsize=itemsize(x.dtype))


def rebroadcast(node):
    """A view with a run-time check that the axes marked broadcastable have length 1."""
    return dict(label=_label(node), checks=tuple(a for a, f in node.op.axis if f))


def shape(node):
    """x.shape: a fresh int64 vector of the input's sizes."""
    return dict(label=_label(node), ndim=node.inputs[0].ndim)


def make_vector(node):
    """Scalars (any dtypes the op accepted) cast into a fresh vector of the op's dtype."""
    out = node.outputs[0]
    ct = C_TYPE[out.dtype]
    stores = []
    for pos, v in enumerate(node.inputs):
        src = "*(const %s *)in[%d]->data" % (C_TYPE[v.dtype], pos)
        stores.append("(npy_bool)((%s) != 0)" % src if out.dtype == "bool"
                      else "(%s)(%s)" % (ct, src))
    return dict(label=_label(node), n=len(node.inputs), out_ctype=ct,
                out_size=itemsize(out.dtype), stores=tuple(stores))


def reshape(node):
    """Sizes read at run time (one -1 inferred); a view, of a C-ordered copy if need be."""
    x, shp = node.inputs
    _need_int(node, shp, "the shape vector")
    return dict(label=_label(node), ndim=node.op.ndim, itemsize=itemsize(x.dtype),
                read=_read_entry(shp.dtype))


def alloc(node):
    """Run-time sizes; the value aligned to the trailing axes, stretched on its
    broadcastable ones, written once and then repeated over the leading axes."""
    v = node.inputs[0]
    sizes = node.inputs[1:]
    for s in sizes:
        _need_int(node, s, "a size")
    ndim = len(sizes)
    return dict(label=_label(node), ndim=ndim, vndim=v.ndim, off=ndim - v.ndim,
                nin=len(node.inputs), itemsize=itemsize(v.dtype),
                reads=tuple(_read_scalar(pos + 1, s.dtype) for pos, s in enumerate(sizes)),
                vaxes=tuple(Rec(dict(index=a, out=ndim - v.ndim + a, bcast=bool(b)))
                            for a, b in enumerate(v.broadcastable)))


def arange(node):
    """np.arange: length and values as NumPy computes them from the ``.item()`` scalars.

    Python arithmetic on those scalars is exact for int (op) int and double
    otherwise; ``__int128`` keeps int subtraction and addition exact for every
    integer dtype, uint64 included.
    """
    out = node.outputs[0]
    if out.dtype == "bool":
        # NumPy has no fill function for bool ranges longer than 2
        raise NotLowerable("%s: a bool arange has no C kernel" % node.op)
    decls, is_i = [], []
    for pos, v in enumerate(node.inputs):
        src = "*(const %s *)in[%d]->data" % (C_TYPE[v.dtype], pos)
        if is_float(v.dtype):
            decls.append("const double v%dd AOTC_UNUSED = (double)(%s);" % (pos, src))
            is_i.append(False)
        else:
            decls.append("const __int128 v%di AOTC_UNUSED = (__int128)(%s);" % (pos, src))
            decls.append("const double v%dd AOTC_UNUSED = (double)v%di;" % (pos, pos))
            is_i.append(True)
    suffix = SUFFIX[out.dtype]
    if is_i[0]:
        start_conv = "aotc_i128_to_%s(v0i, &b0)" % suffix
    else:
        start_conv = "aotc_f64_to_%s(v0d, &b0)" % suffix
    if is_i[0] and is_i[2]:
        next_conv = "aotc_i128_to_%s(v0i + v2i, &b1)" % suffix
    else:
        next_conv = "aotc_f64_to_%s(v0d + v2d, &b1)" % suffix
    diff = "(double)(v1i - v0i)" if is_i[0] and is_i[1] else "(v1d - v0d)"
    ct = C_TYPE[out.dtype]
    if is_float(out.dtype):
        delta = "b1 - b0"
        fill = "b0 + (%s)i * delta" % ct
    else:
        # NumPy's fill computes start + i*delta in 64-bit integers and stores the
        # low bits; unsigned arithmetic gives the same bits without overflow
        delta = "(%s)((uint64_t)b1 - (uint64_t)b0)" % ct
        fill = "(%s)((uint64_t)b0 + (uint64_t)i * (uint64_t)delta)" % ct
    return dict(label=_label(node), decls=tuple(decls), diff=diff, start_conv=start_conv,
                next_conv=next_conv, out_ctype=ct, out_size=itemsize(out.dtype),
                out_dtype=out.dtype, delta=delta, fill=fill)


def join(node):
    """A fresh output; each input copied (cast where its dtype differs) into its slab."""
    out = node.outputs[0]
    axis = node.op.axis
    ins = []
    for pos, v in enumerate(node.inputs):
        ins.append(dict(pos=pos, same=v.dtype == out.dtype, in_ctype=C_TYPE[v.dtype]))
    return dict(label=_label(node), nin=len(node.inputs), ndim=out.ndim, axis=axis,
                out_ctype=C_TYPE[out.dtype], out_size=itemsize(out.dtype),
                inputs=tuple(Rec(i) for i in ins))


def _c_bytes(text):
    """``text`` (UTF-8) as the inside of a C string literal, every odd byte in octal."""
    out = []
    for b in str(text).encode("utf-8"):
        ch = chr(b)
        out.append(ch if (ch.isalnum() and b < 128) or ch in " _.,:;=-+()[]{}<>/*!#%&|^~'" else
                   "\\%03o" % b)
    return "".join(out)


def print_op(node):
    """Print's ``message attr = value`` lines through Python's print, then a copy of x."""
    op = node.op
    if getattr(op, "global_fn", None) is not None:
        raise NotLowerable("%s: a Print with global_fn calls Python code of its own" % op)
    x = node.inputs[0]
    # the message goes only into string literals (octal escapes), never into a
    # comment or a printf format
    return dict(message=_c_bytes(op.message), attrs=tuple(_c_bytes(a) for a in op.attrs),
                ndim=x.ndim, npy_type=NPY_TYPE[x.dtype], itemsize=itemsize(x.dtype))


BUILDERS = {
    "c/dimshuffle": dimshuffle,
    "c/rebroadcast": rebroadcast,
    "c/shape": shape,
    "c/make_vector": make_vector,
    "c/reshape": reshape,
    "c/alloc": alloc,
    "c/arange": arange,
    "c/join": join,
    "c/print": print_op,
}
