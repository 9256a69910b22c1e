"""Op-table records for the elementwise ops, generated from the scalar op table.

Every scalar op gets: a same-shape case over (2, 3, 5); for binary ops a
broadcasting case ((1, 3, 1) flagged broadcastable against (2, 3, 5)) and a
scalar-against-tensor case; over float32, float64, int32 and int64 wherever
the op accepts the dtype.  Tolerances come from the scalar op's record.
"""

from aotc import tensor as T
from aotc.frontend.ops import elemwise as E

from .cases import Input, OpCase

INT_OK = {"add", "sub", "mul", "true_div", "int_div", "mod", "neg", "abs", "sgn", "sqr",
          "maximum", "minimum", "lt", "gt", "le", "ge", "eq", "neq", "and_", "or_", "xor",
          "invert", "switch", "clip", "identity", "exp", "log", "sqrt", "tanh", "sigmoid"}
INT_ONLY = {"and_", "or_", "xor", "invert"}


def _samplers(sop):
    d = sop.domain
    n = sop.arity
    if d == "positive":
        return ("positive",) * n
    if d == "nonzero":
        return ("nonzero",) * n
    if d == "nonzero_rhs":
        return ("real", "nonzero")
    if d == "distinct":
        return ("distinct", "distinct")
    if d == "switch":
        return ("bool", "real", "real")
    if d == "clip":
        return ("real", "value:-0.5", "value:0.5")
    return ("real",) * n


def _ref(sop):
    def ref(*arrays):
        out = sop.numpy(*arrays)
        return out
    return ref


def _tol(sop):
    r32, a32 = sop.tol["float32"]
    r64, a64 = sop.tol["float64"]
    return dict(rtol=r32, atol=a32, rtol64=r64, atol64=a64)


def _shape_sets(sop):
    n = sop.arity
    full = (2, 3, 5)
    sets = [("same", [(full, None)] * n)]
    if n >= 2:
        sets.append(("bcast", [((1, 3, 1), (True, False, True))] + [(full, None)] * (n - 1)))
        sets.append(("scalar", [(full, None)] + [((), ())] * (n - 1)))
    return sets


def _dtypes(sop):
    if sop.name in INT_ONLY:
        return ("int32", "int64")
    out = ("float32", "float64")
    if sop.name in INT_OK:
        out = out + ("int32", "int64")
    return out


def _cases():
    cases = []
    for sop in E.SCALAR_OPS:
        if sop.name == "cast":
            continue
        samplers = _samplers(sop)
        fn = getattr(E, sop.name if sop.name != "abs" else "abs_")
        for label, shapes in _shape_sets(sop):
            inputs = []
            for pos, ((shape, bc), smp) in enumerate(zip(shapes, samplers)):
                dtype = "bool" if smp == "bool" else "float"
                inputs.append(Input(shape, dtype=dtype, sampler=smp, broadcastable=bc))
            wrt = None
            if sop.name == "switch":
                wrt = (1, 2)
            elif sop.name == "clip":
                wrt = (0,)
            cases.append(OpCase(
                name="%s_%s" % (sop.name, label), op=sop.name, build=fn, ref=_ref(sop),
                inputs=inputs, dtypes=_dtypes(sop), grad=sop.grad is not None, wrt=wrt,
                **_tol(sop)))
    # cast: between float widths, float -> int (truncation) and int -> float
    for src, dst in (("float64", "float32"), ("float32", "float64"), ("float64", "int64"),
                     ("int32", "float64"), ("int64", "int32"), ("float32", "bool")):
        cases.append(OpCase(
            name="cast_%s_to_%s" % (src, dst), op="cast",
            build=(lambda d: lambda x: T.cast(x, d))(dst),
            ref=(lambda d: lambda x: x.astype(d))(dst),
            inputs=[Input((2, 3, 5))], dtypes=(src,),
            # the check runs in float64: a float32 result would drown it in rounding
            grad=src.startswith("float") and dst == "float64"))
    return cases


CASES = _cases()
