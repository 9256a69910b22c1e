"""Kernel builders for reductions, argmax, dot and the softmax family (see kernels.py).

Every builder returns the template parameters of one node: C types, and the
C statements that differ between kinds of reduction (how one element joins an
accumulator, how two partial results combine, how the result is stored).  The
templates (``aotc/templates/c/reduce.c.j2`` and friends) only place them in
loops; the iteration itself is planned at run time from the input's strides
(``aotc_rplan_make`` in ``support_reduce.c.j2``).
"""
from .ctypes_map import C_TYPE, itemsize
from .kernels import NotLowerable, c_string
from .program import Rec

_FLOATS = ("float32", "float64")
# unsigned arithmetic for signed accumulators (int8 / int16 promote to int: uint32 arithmetic)
_SIGNED = {"int8": "uint32_t", "int16": "uint32_t", "int32": "uint32_t", "int64": "uint64_t"}


def _mask(ndim, axes):
    """The reduced-axis mask as a C initializer (never empty: C has no zero-length arrays)."""
    return ", ".join("1" if d in axes else "0" for d in range(ndim)) or "0"


def reduce(node):
    """Reduce{sum, prod, max, min, all, any}: one strided reduction over a tuple of axes.

    Accumulators: ``acc_t`` (the op's acc_dtype) inside one line of memory,
    ``tot_t`` across lines and in the per-output buffer.  They differ only for
    float32 sums, whose running totals are kept in double so that a long
    reduction stays accurate whichever way it walks the input (along a line a
    float32 sum is pairwise, as NumPy's).
    """
    op = node.op
    (x,) = node.inputs
    out = node.outputs[0]
    kind = op.scalar
    in_dt, out_dt = x.dtype, out.dtype
    in_t, out_t = C_TYPE[in_dt], C_TYPE[out_dt]
    nan = False
    if kind in ("sum", "prod"):
        acc_dt = op.acc_for(in_dt)
        if acc_dt not in C_TYPE:
            raise NotLowerable("%s: accumulator dtype %s has no C type" % (op, acc_dt))
        acc_t = C_TYPE[acc_dt]
        tot_t = "double" if (kind == "sum" and acc_dt == "float32") else acc_t
        sym = "+" if kind == "sum" else "*"
        lift_acc = "(%s)v" % acc_t
        lift_tot = lift_acc if tot_t == acc_t else "(%s)(%s)v" % (tot_t, acc_t)
        if acc_dt in _SIGNED:
            # signed integers wrap like NumPy's through unsigned arithmetic (no undefined
            # behaviour in C, the same bits)
            u = _SIGNED[acc_dt]
            lane_step = step_tot = "a = (%s)((%s)a %s (%s)%s);" % (acc_t, u, sym, u, lift_acc)
            lane_comb = comb = "a = (%s)((%s)a %s (%s)b);" % (acc_t, u, sym, u)
        else:
            lane_step = "a %s= %s;" % (sym, lift_acc)
            lane_comb = "a %s= b;" % sym
            step_tot = "a %s= %s;" % (sym, lift_tot)
            comb = "a %s= (%s)b;" % (sym, tot_t)
        identity = "0" if kind == "sum" else "1"
        pairwise = kind == "sum" and acc_dt in _FLOATS
    elif kind in ("max", "min"):
        acc_t = tot_t = in_t
        cmp = ">" if kind == "max" else "<"
        nan = in_dt in _FLOATS
        lift_acc = lift_tot = "v"
        # lanes compare only and track NaN apart (branch-free, so they vectorize);
        # elsewhere NaN wins inline, as in NumPy: once a is NaN nothing replaces it
        lane_step = "a = (v %s a) ? v : a;" % cmp
        lane_comb = "a = (b %s a) ? b : a;" % cmp
        if nan:
            step_tot = "a = ((v %s a) | (v != v)) ? v : a;" % cmp
            comb = "a = ((b %s a) | (b != b)) ? b : a;" % cmp
        else:
            step_tot, comb = lane_step, lane_comb
        identity = None
        pairwise = False
    else:
        acc_t = tot_t = "npy_bool"
        lift_acc = lift_tot = "(npy_bool)(v != 0)"
        sym = "&" if kind == "all" else "|"
        lane_step = step_tot = "a %s= (npy_bool)(v != 0);" % sym
        lane_comb = comb = "a %s= b;" % sym
        identity = "1" if kind == "all" else "0"
        pairwise = False
    if out_dt == "bool":
        store = "(npy_bool)(a != 0)"
    else:
        store = "(%s)a" % out_t
    ident_store = None
    if identity is not None:
        ident_store = "(npy_bool)%s" % identity if out_dt == "bool" else "(%s)%s" % (out_t, identity)
    return dict(
        label=c_string(str(op)), ndim=x.ndim, out_ndim=out.ndim,
        mask=_mask(x.ndim, op.axis), in_t=in_t, acc_t=acc_t, tot_t=tot_t, out_t=out_t,
        in_size=itemsize(in_dt), out_size=itemsize(out_dt), lift_acc=lift_acc,
        lift_tot=lift_tot, lane_step=lane_step, lane_comb=lane_comb, step_tot=step_tot,
        comb=comb, store=store, nan=nan,
        has_identity=identity is not None, identity=ident_store or "0", pairwise=pairwise,
        direct=(tot_t == out_t), opname=kind)


def argmax(node):
    """Argmax / argmin: int64 index of the first extremum over the reduced axes (C-order flat)."""
    op = node.op
    (x,) = node.inputs
    in_dt = x.dtype
    cmp = ">" if op.kind == "max" else "<"
    nan = in_dt in _FLOATS
    return dict(label=c_string(str(op)), opname="arg" + op.kind, ndim=x.ndim,
                out_ndim=node.outputs[0].ndim, mask=_mask(x.ndim, op.axis),
                in_t=C_TYPE[in_dt], in_size=itemsize(in_dt),
                cmp=cmp, better="(v %s m)%s" % (cmp, " | (v != v)" if nan else ""), nan=nan)


def gemm(node):
    """Dot: numpy.dot for a of ndim >= 1 and b a vector or a matrix; Gemm: the same
    product scaled by alpha and accumulated onto c (c broadcast into the output
    first, then one GEMM call with beta = 1).

    float32 / float64 products call the runtime's strided GEMM (GEMV for a
    vector operand); an operand of another dtype is first converted into a
    contiguous copy of the output dtype.  Integer and bool products use plain
    loops in the output dtype (wrapping like NumPy).
    """
    bias = len(node.inputs) == 3          # Gemm: c + alpha * dot(a, b)
    a, b = node.inputs[-2:]
    out = node.outputs[0]
    dt = out.dtype
    out_t = C_TYPE[dt]
    alpha = getattr(node.op, "alpha", 1.0)
    if dt in _FLOATS:
        mode = "blas"
    elif dt == "bool":
        mode = "bool"
    else:
        mode = "int"
    # integer products wrap in unsigned arithmetic (no undefined behaviour, same bits)
    mul_t = "uint64_t" if itemsize(dt) == 8 else "uint32_t"
    return dict(label=c_string(str(node.op)), na=a.ndim, nb=b.ndim, a_last=a.ndim - 1,
                a_t=C_TYPE[a.dtype], b_t=C_TYPE[b.dtype], out_t=out_t, mul_t=mul_t, mode=mode,
                a_size=itemsize(a.dtype), b_size=itemsize(b.dtype), out_size=itemsize(dt),
                a_conv=(mode == "blas" and a.dtype != dt), b_conv=(mode == "blas" and b.dtype != dt),
                gemm="aotc_sgemm" if dt == "float32" else "aotc_dgemm",
                gemm_fn="aotc_sgemm_strided" if dt == "float32" else "aotc_dgemm_strided",
                zero="0.0f" if dt == "float32" else "0.0",
                one="1.0f" if dt == "float32" else "1.0",
                bias=bias, ia=1 if bias else 0, ib=2 if bias else 1,
                alpha=float(alpha).hex() + ("f" if dt == "float32" else ""),
                c_bcast=", ".join("1" if f else "0" for f in node.inputs[0].broadcastable)
                if bias and out.ndim else "0")


def gather_dot(node):
    """GatherDot: c + alpha * dot(E[idx], W) with the rows of E.dot(W) + c kept between
    calls (see passes/memo.py and gather_dot.c.j2)."""
    from ..passes.memo import MAX_TABLE_BYTES
    from .kernels_index import _loader
    c, E, idx, W = node.inputs
    dt = node.outputs[0].dtype
    if dt not in _FLOATS:
        raise NotLowerable("GatherDot: dtype %s" % dt)
    return dict(label=c_string(str(node.op)), ctype=C_TYPE[dt], size=itemsize(dt),
                ind=idx.ndim, load=_loader(idx.dtype), row_len=node.op.row_len,
                c_bcast=int(c.broadcastable[0]), max_bytes=MAX_TABLE_BYTES,
                gemm_fn="aotc_sgemm_strided" if dt == "float32" else "aotc_dgemm_strided",
                one="1.0f" if dt == "float32" else "1.0",
                alpha=float(node.op.alpha).hex() + ("f" if dt == "float32" else ""),
                # one table per (E, W) pair: equal parameters share one kernel (and table)
                memo=c_string("%s.%s" % (E.name, W.name)).replace("*/", "* /"))


def _math(dtype, fn):
    return fn + "f" if dtype == "float32" else fn


def _rows(node, opname):
    x = node.inputs[0]
    out = node.outputs[0]
    if out.dtype not in _FLOATS:
        raise NotLowerable("%s: output dtype %s" % (opname, out.dtype))
    return dict(label=c_string(str(node.op)), opname=opname, ndim=x.ndim, in_t=C_TYPE[x.dtype],
                in_size=itemsize(x.dtype), out_t=C_TYPE[out.dtype], out_size=itemsize(out.dtype),
                suf="f32" if out.dtype == "float32" else "f64", log=_math(out.dtype, "log"))


def softmax(node):
    """Row-wise softmax along the last axis: exp(x - max) / sum(exp(x - max))."""
    return _rows(node, "softmax")


def log_softmax(node):
    """Row-wise log-softmax along the last axis: (x - max) - log(sum(exp(x - max)))."""
    return _rows(node, "log_softmax")


def softmax_grad(node):
    """(dy - sum(dy * sm, axis=-1, keepdims=True)) * sm, broadcasting on broadcastable axes."""
    dy, sm = node.inputs
    out = node.outputs[0]
    if out.dtype not in _FLOATS:
        raise NotLowerable("softmax_grad: output dtype %s" % out.dtype)
    ndim = sm.ndim
    axes = []
    for ax in range(ndim):
        # the output's length: sm's, unless sm is broadcastable there (infer_shape's rule)
        src = 0 if sm.broadcastable[ax] else 1
        check = not dy.broadcastable[ax] and not sm.broadcastable[ax]
        axes.append(dict(
            index=ax, size_from="in[%d]->shape[%d]" % (src, ax), check=check,
            dy_stride="0" if dy.broadcastable[ax] else "in[0]->strides[%d]" % ax,
            sm_stride="0" if sm.broadcastable[ax] else "in[1]->strides[%d]" % ax))
    return dict(label=c_string(str(node.op)), ndim=ndim, dy_t=C_TYPE[dy.dtype],
                sm_t=C_TYPE[sm.dtype], out_t=C_TYPE[out.dtype], out_size=itemsize(out.dtype),
                axes=tuple(Rec(a) for a in axes))


BUILDERS = {
    "c/reduce": reduce,
    "c/argmax": argmax,
    "c/gemm": gemm,
    "c/gather_dot": gather_dot,
    "c/softmax": softmax,
    "c/log_softmax": log_softmax,
    "c/softmax_grad": softmax_grad,
}
