"""Kernel builders for the index op family (see kernels.py for the contract).

The ops are in aotc/frontend/ops/subtensor.py; their ``idx_list`` prop holds one
entry per indexed axis (an int, SCALAR, ARRAY or a (start, stop, step) slice
whose parts are None, an int or SCALAR), and the symbolic parts are the node's
inputs in order.  The builders turn each entry into C expressions; the shared
C pieces (slice normalization, bounds checks, typed strided loops) are in
templates/c/support_index.c.j2.

- Subtensor: a view of x (no copy), like NumPy's basic indexing.
- IncSubtensor: copy x, then set / add y into the view (y broadcast from the right).
- AdvancedSubtensor1 (gather): rows of x; a memcpy per row when rows are contiguous.
- AdvancedIncSubtensor1 (scatter): copy x, then set / add y's rows in index order,
  so repeated indices accumulate (or the last one wins for a set).
- AdvancedSubtensor / AdvancedIncSubtensor: integer arrays broadcast together,
  mixed with ints and slices, output axes in NumPy's order.

Every check happens in the order of the op's ``perform`` so that the same
error is reported first: indices and steps in axis order, then the pairing of
the index arrays, then the shape of y.
"""
from ..frontend.ops.subtensor import ARRAY, SCALAR, _FULL, _arrange
from .ctypes_map import C_TYPE, SUFFIX, itemsize
from .kernels import NotLowerable, c_string
from .program import Rec

_MAXDIM = 16


def _loader(dtype):
    """The support function reading one index of ``dtype`` as int64."""
    if dtype not in SUFFIX or dtype == "bool" or dtype.startswith("float"):
        raise NotLowerable("index dtype %s" % dtype)
    return "aotc_idx_ld_" + SUFFIX[dtype]


def _check_rank(node):
    for v in list(node.inputs) + list(node.outputs):
        if v.ndim > _MAXDIM:
            raise NotLowerable("%s: more than %d dimensions" % (node.op, _MAXDIM))


def _store(x_dtype, set_instead_of_inc):
    """The C statement storing ``b`` (already of x's type) at ``*a``, as NumPy would."""
    if set_instead_of_inc:
        return "*a = b"
    if x_dtype == "bool":
        return "*a = (npy_bool)(*a | b)"  # True + True is True
    if x_dtype.startswith("int"):
        # wrap around on overflow like NumPy, without signed-overflow UB in C
        return "*a = (%s)((u%s)*a + (u%s)b)" % ((C_TYPE[x_dtype],) + (C_TYPE[x_dtype],) * 2)
    return "*a = *a + b"


def _entries(node, idx_list, ndim, first):
    """One Rec per axis of x (kind index / slice / array / full) with the C text that
    reads its parts; ``first`` is the node input holding the first symbolic part.
    Returns (entries, array records)."""
    pos = first
    out, arrays = [], []
    full = list(idx_list) + [_FULL] * (ndim - len(idx_list))
    for axis, e in enumerate(full):
        if isinstance(e, tuple):
            if e == _FULL:
                out.append(Rec(dict(kind="full", axis=axis)))
                continue
            parts = []
            for p in e:
                if p == SCALAR:
                    parts.append("%s(in[%d]->data)" % (_loader(node.inputs[pos].dtype), pos))
                    pos += 1
                elif p is None:
                    parts.append(None)
                else:
                    parts.append("INT64_C(%d)" % p)
            start, stop, step = parts
            out.append(Rec(dict(
                kind="slice", axis=axis, has_start=int(start is not None), start=start or "0",
                has_stop=int(stop is not None), stop=stop or "0", step=step or "INT64_C(1)",
                step_check=e[2] == SCALAR)))
        elif e == ARRAY:
            dtype = node.inputs[pos].dtype
            out.append(Rec(dict(kind="array", axis=axis, input=pos,
                                check="aotc_idx_check_" + _loader(dtype)[len("aotc_idx_ld_"):])))
            arrays.append(dict(input=pos, axis=axis, var=node.inputs[pos], load=_loader(dtype)))
            pos += 1
        elif e == SCALAR:
            out.append(Rec(dict(kind="index", axis=axis, index="%s(in[%d]->data)"
                                % (_loader(node.inputs[pos].dtype), pos))))
            pos += 1
        else:
            out.append(Rec(dict(kind="index", axis=axis, index="INT64_C(%d)" % e)))
    assert pos == len(node.inputs), (node, pos)
    return tuple(out), arrays


def _kept(entries):
    return tuple(e.axis for e in entries if e.kind in ("slice", "full"))


def _y_axes(y, vnd):
    """y against a view of rank vnd, aligned from the right."""
    off = vnd - y.ndim
    return tuple(Rec(dict(yaxis=a, vaxis=off + a, bcast=bool(y.broadcastable[a])))
                 for a in range(y.ndim))


def _common(node):
    _check_rank(node)
    op = node.op
    return dict(label=c_string(str(op)), op=c_string(str(op)), nin=len(node.inputs))


def subtensor(node):
    """Basic indexing: checks ints / steps, normalizes slices, sets up a view."""
    x, out = node.inputs[0], node.outputs[0]
    entries, _ = _entries(node, node.op.idx_list, x.ndim, 1)
    return dict(_common(node), entries=entries, keep=_kept(entries), ndim=x.ndim,
                out_ndim=out.ndim)


def inc_subtensor(node):
    """Set / increment a basic-indexed view of a copy of x."""
    op = node.op
    x, y = node.inputs[0], node.inputs[1]
    entries, _ = _entries(node, op.idx_list, x.ndim, 2)
    keep = _kept(entries)
    return dict(_common(node), entries=entries, keep=keep, ndim=x.ndim, vnd=len(keep),
                y_axes=_y_axes(y, len(keep)), itemsize=itemsize(x.dtype),
                x_ctype=C_TYPE[x.dtype], y_ctype=C_TYPE[y.dtype],
                store=_store(x.dtype, op.set_instead_of_inc),
                verb="stored into" if op.set_instead_of_inc else "added to")


def gather(node):
    """Rows of x picked by an integer array (the embedding lookup W[idx])."""
    x, ilist = node.inputs
    return dict(_common(node), xnd=x.ndim, ind=ilist.ndim, out_ndim=node.outputs[0].ndim,
                rows=x.ndim > 1, itemsize=itemsize(x.dtype), ctype=C_TYPE[x.dtype],
                load=_loader(ilist.dtype))


def scatter(node):
    """Set / add rows of y into a copy of x at an integer array of row indices."""
    op = node.op
    x, y, ilist = node.inputs
    vnd = ilist.ndim + x.ndim - 1
    load = _loader(ilist.dtype)
    return dict(_common(node), xnd=x.ndim, ind=ilist.ndim, vnd=vnd, y_axes=_y_axes(y, vnd),
                itemsize=itemsize(x.dtype), x_ctype=C_TYPE[x.dtype], y_ctype=C_TYPE[y.dtype],
                load=load, check="aotc_idx_check_" + load[len("aotc_idx_ld_"):],
                store=_store(x.dtype, op.set_instead_of_inc),
                verb="stored into" if op.set_instead_of_inc else "added to")


def _advanced(node, first):
    """Parameters shared by AdvancedSubtensor and AdvancedIncSubtensor."""
    x = node.inputs[0]
    idx_list = node.op.idx_list
    entries, arrays = _entries(node, idx_list, x.ndim, first)
    bnd = max(a["var"].ndim for a in arrays)
    if bnd > _MAXDIM:
        raise NotLowerable("%s: index arrays of more than %d dimensions" % (node.op, _MAXDIM))
    arr_recs = []
    uses = [[] for _ in range(bnd)]
    for slot, a in enumerate(arrays):
        v = a["var"]
        dims = []
        for j in range(v.ndim):
            p = bnd - v.ndim + j
            dims.append(Rec(dict(pos=p, dim=j)))
            uses[p].append(Rec(dict(input=a["input"], dim=j, flag=bool(v.broadcastable[j]))))
        arr_recs.append(Rec(dict(slot=slot, input=a["input"], axis=a["axis"], load=a["load"],
                                 dims=tuple(dims))))
    slices = [(e.axis, ("s", e.axis)) for e in entries if e.kind in ("slice", "full")]
    order = _arrange(idx_list, x.ndim, slices, [("b", p) for p in range(bnd)])
    out_axes, spos = [], 0
    for q, (kind, v) in enumerate(order):
        if kind == "b":
            out_axes.append(Rec(dict(kind="b", index=q, pos=v)))
        else:
            out_axes.append(Rec(dict(kind="s", index=q, axis=v, spos=spos)))
            spos += 1
    return dict(
        _common(node), entries=entries, ndim=x.ndim, narr=len(arrays),
        arr_inputs=", ".join(str(a["input"]) for a in arrays), arrays=tuple(arr_recs), bnd=bnd,
        bdims=tuple(Rec(dict(pos=p, uses=tuple(uses[p]))) for p in range(bnd)),
        out_axes=tuple(out_axes), vnd=len(order), nslice=spos, itemsize=itemsize(x.dtype))


def advanced_subtensor(node):
    """Integer-array indexing (``p[arange(n), y]``, ``x[:, idx]``): a copy."""
    params = _advanced(node, 1)
    assert params["vnd"] == node.outputs[0].ndim
    return dict(params, ctype=C_TYPE[node.inputs[0].dtype])


def advanced_inc_subtensor(node):
    """Set / add y at the positions an integer-array index selects, in a copy of x."""
    op = node.op
    x, y = node.inputs[0], node.inputs[1]
    params = _advanced(node, 2)
    return dict(params, y_axes=_y_axes(y, params["vnd"]), x_ctype=C_TYPE[x.dtype],
                y_ctype=C_TYPE[y.dtype], store=_store(x.dtype, op.set_instead_of_inc),
                verb="stored into" if op.set_instead_of_inc else "added to")


BUILDERS = {
    "c/subtensor": subtensor,
    "c/inc_subtensor": inc_subtensor,
    "c/gather": gather,
    "c/scatter": scatter,
    "c/advanced_subtensor": advanced_subtensor,
    "c/advanced_inc_subtensor": advanced_inc_subtensor,
}
