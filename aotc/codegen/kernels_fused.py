"""Kernel builder for elementwise loops: FusedElemwise groups and plain Elemwise nodes.

Both ops render through ``templates/c/fused_elemwise.c.j2``: a broadcasting
loop over the coalesced output shape whose body evaluates an expression DAG
per element (locals ``x0..`` for the inputs, ``t0..`` for the inner results,
each in the dtype the unfused graph gives it, so the values match the unfused
graph's).  A plain Elemwise node is the one-entry DAG.

SIMD.  When every inner op of a float32 (or float64) group has a vector form
(see ``_vector_body``: add, sub, mul, true_div, neg, abs, sgn, sqr, sqrt,
reciprocal, maximum, minimum, clip, floor, ceil, round, identity, second,
exp, log, log1p, tanh, sigmoid, softplus; comparisons of floats, and_/or_/
xor/invert of their results, switch, casts between bool and the float
dtype), every input has the float dtype (or is a scalar: below) and every
output too, the unit-stride inner loop also gets AVX2+FMA and AVX-512
variants (per-function target attributes), chosen at run time from the
level the runtime's dispatch made active (``aotc_isa_active``, i.e. the
CPU's best level unless ``aotc_force_isa`` lowered it).  Tails use the
runtime's masked loads and stores, so no lane outside the arrays is touched.
Inputs that vary along the inner axis are loaded as vectors; inputs that
are stride-0 there are loaded from a splat of their element; inputs
broadcast along every axis (scalar constants, also of another dtype, e.g.
the int8 ``1`` of ``x + 1``) are converted once, as the scalar code would.

Accuracy of the vector path: arithmetic, sqrt, abs, neg, min/max, floor/
ceil/round and comparisons are IEEE-exact like the scalar code (NaN
propagation of maximum/minimum/clip as in ``aotc_max``); products are kept
out of FMA contraction, so every ISA level gives the scalar code's bits.
exp, log, log1p, tanh, sigmoid and softplus call the runtime's vector math
(``runtime_vmath``), whose measured error bounds apply instead of libm's
(``codegen/runtime.ACCURACY``: at most 1.5 ulp for exp, log and log1p, 2.5
for sigmoid and softplus, 2.5 (float32) and 3 (float64) for tanh, with IEEE
special values): results can differ from the scalar loop in the last bits.
"""
import itertools
import re

from ..frontend.types import upcast
from .ctypes_map import C_TYPE, itemsize, scalar_c
from .kernels import NotLowerable, c_string
from .program import Rec

#: the float dtypes with vector paths, and per ISA level the register layout
_LAYERS = {
    ("avx2", "float32"): dict(ch="s", vt="__m256", vp="_mm256_", vs="ps", vlen=8,
                              kmask_t="__m256i", target="AOTC_TARGET_AVX2", lit="f",
                              si="_mm256_castsi256_ps(_mm256_set1_epi32(-1))"),
    ("avx2", "float64"): dict(ch="d", vt="__m256d", vp="_mm256_", vs="pd", vlen=4,
                              kmask_t="__m256i", target="AOTC_TARGET_AVX2", lit="",
                              si="_mm256_castsi256_pd(_mm256_set1_epi64x(-1))"),
    ("avx512", "float32"): dict(ch="s", vt="__m512", vp="_mm512_", vs="ps", vlen=16,
                                kmask_t="__mmask16", target="AOTC_TARGET_AVX512", lit="f",
                                si=""),
    ("avx512", "float64"): dict(ch="d", vt="__m512d", vp="_mm512_", vs="pd", vlen=8,
                                kmask_t="__mmask8", target="AOTC_TARGET_AVX512", lit="",
                                si=""),
}
ISAS = (("avx512", "AOTC_ISA_AVX512"), ("avx2", "AOTC_ISA_AVX2"))

#: transcendentals the vector math provides on registers (runtime_vmath: e.g.
#: ``__m256 aotc_exp8_avx2(__m256)``, ``__m512d aotc_tanh8d_avx512(__m512d)``)
VMATH_OPS = ("exp", "log", "log1p", "tanh", "sigmoid", "softplus")
_VMATH_FOUND = {}

# comparison predicates (ordered, quiet; neq is unordered: NaN != x is true, as in C)
_CMP = {"lt": "_CMP_LT_OQ", "gt": "_CMP_GT_OQ", "le": "_CMP_LE_OQ", "ge": "_CMP_GE_OQ",
        "eq": "_CMP_EQ_OQ", "neq": "_CMP_NEQ_UQ"}
_ROUND = {"floor": "(_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)",
          "ceil": "(_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)",
          "round_half_to_even": "(_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)"}
_FLOAT_VEC = ("add", "sub", "mul", "true_div", "neg", "abs", "sgn", "sqr", "sqrt", "reciprocal",
              "maximum", "minimum", "clip", "floor", "ceil", "round_half_to_even", "switch",
              "identity", "second") + VMATH_OPS
_MASK_VEC = ("and_", "or_", "xor", "invert")
#: scalar ops that cost about as much as a vector-math call (tens of cycles a vector)
_HEAVY = VMATH_OPS + ("pow", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
                      "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2",
                      "expm1", "erf", "erfc", "gamma", "gammaln", "psi")


def vmath_name(fn, isa, dtype):
    """The runtime's register-level vector function for ``fn`` (None when it has none).

    The runtime is searched once for the definition, so an op whose entry point
    is missing simply has no vector form (its groups keep the scalar loop).
    """
    key = (fn, isa, dtype)
    if key not in _VMATH_FOUND:
        lay = _LAYERS[(isa, dtype)]
        name = "aotc_%s%d%s_%s" % (fn, lay["vlen"], "" if dtype == "float32" else "d", isa)
        found = re.search(r"\b%s\s*\(" % re.escape(name), _vmath_text()) is not None
        _VMATH_FOUND[key] = name if found else None
    return _VMATH_FOUND[key]


def _vmath_text():
    if "text" not in _VMATH_FOUND:
        # read the runtime's vector math to see what it offers
        from .runtime import render_runtime_sources
        _VMATH_FOUND["text"] = render_runtime_sources()["runtime_vmath.c"]
    return _VMATH_FOUND["text"]


# ---------------------------------------------------------------------------
# the expression DAG of a node
# ---------------------------------------------------------------------------

def program_of(node):
    """``(inner, outputs)`` of an elementwise node in FusedElemwise's encoding."""
    op = node.op
    if hasattr(op, "inner"):
        return op.inner, op.outputs
    sop = op.scalar_op
    refs = tuple("i%d" % k for k in range(len(node.inputs)))
    return ((sop.name, op.dtype, refs, node.outputs[0].dtype),), ("t0",)


def _scalar_ops():
    from ..frontend.ops.elemwise import SCALAR_OPS
    return {s.name: s for s in SCALAR_OPS}


def _analyse(node):
    """Per inner entry: (scalar op, operand refs, operand dtypes, compute dtype, out dtype)."""
    sops = _scalar_ops()
    inner, outputs = program_of(node)
    dtype_of = {"i%d" % k: v.dtype for k, v in enumerate(node.inputs)}
    entries = []
    for j, (name, _, refs, out_dtype) in enumerate(inner):
        sop = sops[name]
        in_dts = [dtype_of[r] for r in refs]
        compute = upcast(*in_dts) if sop.compute_in == "in" else out_dtype
        if compute not in C_TYPE or out_dtype not in C_TYPE:
            raise NotLowerable("%s: dtype %s has no C type" % (node.op, compute))
        entries.append((sop, refs, in_dts, compute, out_dtype))
        dtype_of["t%d" % j] = out_dtype
    return entries, outputs


def _scalar_body(entries):
    """C statements computing t0, t1, ... from x0, x1, ... (the scalar loops)."""
    lines = []
    for j, (sop, refs, in_dts, compute, out_dtype) in enumerate(entries):
        ct = C_TYPE[compute]
        operands = ["(%s)%s" % (ct, _c_name(r)) for r in refs]
        expr = scalar_c(sop, compute, operands)
        if out_dtype == "bool":
            store = "(npy_bool)((%s) != 0)" % expr
        else:
            store = "(%s)(%s)" % (C_TYPE[out_dtype], expr)
        lines.append("const %s t%d = %s;" % (C_TYPE[out_dtype], j, store))
    return tuple(lines)


def _c_name(ref):
    return ("x" if ref[0] == "i" else "t") + ref[1:]


# ---------------------------------------------------------------------------
# vector forms
# ---------------------------------------------------------------------------

class _Vec:
    """Vector C text for one (ISA, float dtype): values are 'v' (vector) or 'm' (mask)."""

    def __init__(self, isa, dtype):
        self.isa, self.dtype = isa, dtype
        lay = _LAYERS[(isa, dtype)]
        self.__dict__.update(lay)
        self.ctype = C_TYPE[dtype]
        self.mt = lay["vt"] if isa == "avx2" else lay["kmask_t"]   # type of a comparison result

    def f(self, name, *args):
        return "%s%s_%s(%s)" % (self.vp, name, self.vs, ", ".join(args))

    def const(self, value):
        return self.f("set1", "%r%s" % (float(value), self.lit))

    def cmp(self, a, b, pred):
        if self.isa == "avx2":
            return self.f("cmp", a, b, pred)
        return "%scmp_%s_mask(%s, %s, %s)" % (self.vp, self.vs, a, b, pred)

    def blend(self, m, if_false, if_true):
        if self.isa == "avx2":
            return self.f("blendv", if_false, if_true, m)
        return "%smask_blend_%s(%s, %s, %s)" % (self.vp, self.vs, m, if_false, if_true)

    def to_v(self, kind, a):
        """A mask as 0/1 values (bool -> float, as the scalar code converts)."""
        if kind == "v":
            return a
        if self.isa == "avx2":
            return self.f("and", a, self.const(1))
        return "%smaskz_mov_%s(%s, %s)" % (self.vp, self.vs, a, self.const(1))

    def to_m(self, kind, a):
        """A value as a truth mask (nonzero, NaN included, is true)."""
        if kind == "m":
            return a
        return self.cmp(a, self.f("setzero"), "_CMP_NEQ_UQ")

    def minmax(self, which, a, b):
        # aotc_max: NaN in a -> a; NaN in b -> b; else the larger (b when equal).
        # maxps returns its second operand when either is NaN and when they are equal.
        return self.blend(self.cmp(a, a, "_CMP_UNORD_Q"), self.f(which, a, b), a)

    def mask_op(self, name, a, b=None):
        if self.isa == "avx2":
            if name == "invert":
                return self.f("xor", a, self.si)
            return self.f({"and_": "and", "or_": "or", "xor": "xor"}[name], a, b)
        if name == "invert":
            return "(%s)~%s" % (self.kmask_t, a)
        return "(%s)(%s %s %s)" % (self.kmask_t, a, {"and_": "&", "or_": "|", "xor": "^"}[name], b)

    def expr(self, name, ops):
        """Vector text of float op ``name`` over vector operand texts (None: no form)."""
        a = ops[0] if ops else None
        if name in ("add", "sub", "mul"):
            return self.f(name, a, ops[1])
        if name == "true_div":
            return self.f("div", a, ops[1])
        if name == "neg":
            return self.f("xor", a, self.const(-0.0))
        if name == "abs":
            return self.f("andnot", self.const(-0.0), a)
        if name == "sqr":
            return self.f("mul", a, a)
        if name == "sqrt":
            return self.f("sqrt", a)
        if name == "reciprocal":
            return self.f("div", self.const(1), a)
        if name == "sgn":
            neg = self.blend(self.cmp(a, self.f("setzero"), "_CMP_LT_OQ"), a, self.const(-1))
            return self.blend(self.cmp(a, self.f("setzero"), "_CMP_GT_OQ"), neg, self.const(1))
        if name in ("maximum", "minimum"):
            return self.minmax("max" if name == "maximum" else "min", a, ops[1])
        if name == "clip":
            return self.minmax("min", self.minmax("max", a, ops[1]), ops[2])
        if name in _ROUND:
            if self.isa == "avx2":
                return self.f("round", a, _ROUND[name])
            return self.f("roundscale", a, _ROUND[name])
        if name == "identity":
            return a
        if name == "second":
            return ops[1]
        if name in VMATH_OPS:
            fn = vmath_name(name, self.isa, self.dtype)
            return None if fn is None else "%s(%s)" % (fn, a)
        return None


def _vector_body(entries, outputs, nin, dtype, isa, in_scalar):
    """Vector statements for t0.. from v0.. (None when some op has no vector form)."""
    V = _Vec(isa, dtype)
    kind = {"i%d" % k: "v" for k in range(nin)}
    lines = []
    for j, (sop, refs, in_dts, compute, out_dtype) in enumerate(entries):
        name = sop.name
        names = ["v%s" % r[1:] if r[0] == "i" else "t%s" % r[1:] for r in refs]
        kinds = [kind[r] for r in refs]
        expr, out_kind = None, None
        if name in _CMP and compute == dtype and out_dtype == "bool":
            expr = V.cmp(V.to_v(kinds[0], names[0]), V.to_v(kinds[1], names[1]), _CMP[name])
            out_kind = "m"
        elif name in _MASK_VEC and compute == "bool" and out_dtype == "bool" \
                and all(d == "bool" and k == "m" for d, k in zip(in_dts, kinds)):
            expr = V.mask_op(name, *names)
            out_kind = "m"
        elif name == "cast" and out_dtype == dtype and in_dts[0] == "bool" and kinds[0] == "m":
            expr, out_kind = V.to_v("m", names[0]), "v"
        elif name == "cast" and out_dtype == "bool" and compute == dtype:
            expr, out_kind = V.to_m(kinds[0], names[0]), "m"
        elif name in ("identity", "second") and out_dtype in (dtype, "bool"):
            pick = 0 if name == "identity" else 1
            if in_dts[pick] == out_dtype:
                expr, out_kind = names[pick], kinds[pick]
        elif name == "switch" and compute == dtype and out_dtype == dtype:
            expr = V.blend(V.to_m(kinds[0], names[0]), V.to_v(kinds[2], names[2]),
                           V.to_v(kinds[1], names[1]))
            out_kind = "v"
        elif name in _FLOAT_VEC and compute == dtype and out_dtype == dtype:
            expr = V.expr(name, [V.to_v(k, n) for k, n in zip(kinds, names)])
            out_kind = "v"
        if expr is None:
            return None
        # operands that are whole-tensor scalars of another dtype were converted to the
        # float dtype once; only uses computing in that dtype may read them that way
        for r, d in zip(refs, in_dts):
            if r[0] == "i" and d != dtype and not (in_scalar[int(r[1:])] and compute == dtype
                                                  and name not in _MASK_VEC):
                return None
        if name in ("mul", "sqr"):
            # an empty asm makes the product a value of its own: the compiler cannot
            # contract it with a following add into an FMA (one rounding less than the
            # scalar code and NumPy), so each ISA level gives the same bits
            lines.append("%s t%d = %s;" % (V.vt, j, expr))
            lines.append('__asm__("" : "+%s"(t%d));' % ("x" if isa == "avx2" else "v", j))
        else:
            lines.append("const %s t%d = %s;" % (V.vt if out_kind == "v" else V.mt, j, expr))
        kind["t%d" % j] = out_kind
    if any(kind[o] != "v" for o in outputs):
        return None
    return tuple(lines)


# ---------------------------------------------------------------------------
# the builder
# ---------------------------------------------------------------------------

def _label(op):
    text = str(op)
    if len(text) > 200:
        text = text[:197] + "..."
    return text


def fused_elemwise(node):
    """Template parameters of an elementwise node (FusedElemwise or Elemwise)."""
    entries, outputs = _analyse(node)
    ins = list(node.inputs)
    outs = list(node.outputs)
    nin, nout = len(ins), len(outs)
    ndim = outs[0].ndim
    if any(o.ndim != ndim for o in outs):
        raise NotLowerable("%s: outputs of different ndim" % node.op)
    in_dtypes = [v.dtype for v in ins]
    sizes = [itemsize(d) for d in in_dtypes]
    axes = []
    for ax in range(ndim):
        full = [i for i, v in enumerate(ins) if not v.broadcastable[ax]]
        axes.append(Rec(dict(index=ax, size_from="in[%d]->shape[%d]" % (full[0], ax)
                             if full else "1", check=tuple(full[1:]))))
    stride_expr = tuple(
        tuple("0" if v.broadcastable[ax] else "in[%d]->strides[%d]" % (i, ax)
              for ax in range(ndim)) for i, v in enumerate(ins))
    out_refs = tuple("t%s" % o[1:] for o in outputs)
    out_dtypes = [o.dtype for o in outs]
    unit = ["(s%d == %d || s%d == 0)" % (i, sizes[i], i) for i in range(nin)]
    unit += ["so%d == %d" % (j, itemsize(d)) for j, d in enumerate(out_dtypes)]
    varying = [i for i, v in enumerate(ins) if not all(v.broadcastable)]
    fast = []
    if len(varying) <= 3:
        # one loop per (unit / stride-0) choice of the varying inputs: each vectorizes
        for choice in itertools.product((True, False), repeat=len(varying)):
            index, cond = ["0"] * nin, []
            for i, full in zip(varying, choice):
                index[i] = "i" if full else "0"
                cond.append("s%d == %d" % (i, sizes[i]) if full else "s%d == 0" % i)
            fast.append(Rec(dict(cond=" && ".join(cond) or "1", index=tuple(index))))
    inplace = getattr(node.op, "inplace", None)
    op_text = c_string(_label(node.op)).replace("%", "%%")
    params = dict(
        label=c_string(_label(node.op)).replace("*/", "* /"), op=op_text,
        nin=nin, nout=nout, nops=nin + nout, ndim=ndim,
        in_ctypes=tuple(C_TYPE[d] for d in in_dtypes), in_sizes=tuple(sizes),
        out_ctypes=tuple(C_TYPE[d] for d in out_dtypes),
        out_sizes=tuple(itemsize(d) for d in out_dtypes), out_refs=out_refs,
        body=_scalar_body(entries), axes=tuple(axes), stride_expr=stride_expr,
        unit_cond=" && ".join(unit), fast_cases=tuple(fast),
        inplace=-1 if inplace is None else int(inplace),
        # transcendentals per element: the kernel's parallel threshold weighs by them
        heavy=sum(1 for e in entries if e[0].name in _HEAVY))
    params.update(_simd_params(node, entries, outputs, in_dtypes, out_dtypes))
    return params


def _refs(vec_inputs):
    """A pattern for the names a vector body uses: temporaries t<j>, vector inputs v<a>."""
    return re.compile(r"\b(t\d+|v(?:%s))\b" % "|".join(str(a) for a in vec_inputs)
                      if vec_inputs else r"\b(t\d+)\b")


def _second_lane_group(body, vec_inputs):
    """``body`` for a second group of lanes, its statements interleaved with the first's.

    A transcendental is a long chain of dependent instructions (about 30); an element's
    expression chains several (an LSTM gate: sigmoid, then tanh of a sum of products), so
    one vector's statements take several hundred cycles of latency, more than the
    processor's window can hide with the next iteration's.  Two independent vectors, their
    statements alternating, fill it: the same operations, in the same order per element,
    so the same bits."""
    names = _refs(vec_inputs)
    out = []
    for line in body:
        out.append(line)
        out.append(names.sub(r"\1_1", line))
    return tuple(out)


#: vectors a turn of the AVX2 blocked loop (see _lane_block); at 8, the LSTM's gate
#: kernel (five transcendentals an element, 128 elements a call) took 473 ns a call
#: against 497 at 4, 478 at 16 and 543 for two vectors interleaved
BLOCK_VECTORS = 8


def _lane_block(body, vec_inputs, outputs, vt, vlen, loadu, storeu, nb):
    """``body`` evaluated for ``nb`` vectors a turn, one statement at a time over all of
    them (the loop body of the blocked loop, at element ``i``).

    Each statement's ``nb`` evaluations are independent, so a transcendental runs at the
    processor's throughput rather than at its latency; two vectors interleaved
    (_second_lane_group) leave the chain from a gate's sigmoid through the cell's tanh
    latency-bound.  Temporaries become arrays of ``nb`` vectors (held in registers or on
    the stack, as the compiler allocates them), and an input is loaded where it is used
    (L1 loads, no register held across statements).  The same operations in the same
    order per element: the same bits."""
    def_re = re.compile(r"^(?:const )?(\S+) (t\d+) = (.*);$")
    asm_re = re.compile(r'^__asm__\(""\s*:\s*"\+(\w)"\((t\d+)\)\);$')
    call_re = re.compile(r"\baotc_\w+\(")
    ref_re = _refs(vec_inputs)

    def per_lane(expr):
        def sub(m):
            name = m.group(1)
            if name[0] == "t":
                return "%s[g]" % name
            a = name[1:]
            return "%s(x%s + ((i + %d * g) & m%s))" % (loadu, a, vlen, a)
        return ref_re.sub(sub, expr)

    stmts, temps = [], []
    for line in body:
        m = asm_re.match(line)
        if m:
            if not stmts or stmts[-1][0] != m.group(2):
                return ()   # not the form _vector_body writes: the two-vector loop only
            stmts[-1][2].append('__asm__("" : "+%s"(%s[g]));' % (m.group(1), m.group(2)))
            continue
        m = def_re.match(line)
        if m is None:
            return ()
        typ, name, expr = m.groups()
        temps.append((typ, name))
        stmts.append((name, "%s[g] = %s;" % (name, per_lane(expr)), []))
    # one loop over the vectors for each transcendental (a call of the vector math), one
    # for each run of cheap statements between them (and the stores after the last)
    loops = []
    for name, first, rest in stmts:
        heavy = call_re.search(first) is not None
        if heavy or not loops or loops[-1][0]:
            loops.append((heavy, []))
        loops[-1][1].extend([first] + rest)
    stores = ["%s(q%d + i + %d * g, t%s[g]);" % (storeu, j, vlen, o[1:])
              for j, o in enumerate(outputs)]
    if loops and not loops[-1][0]:
        loops[-1][1].extend(stores)
    else:
        loops.append((False, stores))
    out = ["%s %s[%d];" % (typ, name, nb) for typ, name in temps]
    for _, lines in loops:
        # unrolled, the arrays become registers (or spill slots) of their own
        out.append('_Pragma("GCC unroll %d")' % nb)
        out.append("for (int g = 0; g < %d; g++) {" % nb)
        out.extend("    " + t for t in lines)
        out.append("}")
    return tuple(out)


def _simd_params(node, entries, outputs, in_dtypes, out_dtypes):
    dtype = out_dtypes[0]
    none = dict(simd=False, variants=(), vec_inputs=(), scalar_inputs=())
    if dtype not in ("float32", "float64") or any(d != dtype for d in out_dtypes):
        return none
    if node.outputs[0].ndim == 0:
        return none  # one element: the scalar loop
    nin = len(in_dtypes)
    in_scalar = [all(v.broadcastable) for v in node.inputs]
    for i, d in enumerate(in_dtypes):
        if d != dtype and not in_scalar[i]:
            return none
    vec_inputs = tuple(i for i in range(nin) if not in_scalar[i])
    # two vectors a turn where a transcendental makes each statement chain long
    pair = any(e[0].name in _HEAVY for e in entries)
    variants = []
    for isa, macro in ISAS:
        body = _vector_body(entries, outputs, nin, dtype, isa, in_scalar)
        if body is None:
            return none
        lay = _LAYERS[(isa, dtype)]
        V = _Vec(isa, dtype)
        loadu, storeu = "%sloadu_%s" % (V.vp, V.vs), "%sstoreu_%s" % (V.vp, V.vs)
        variants.append(Rec(dict(
            isa=isa, macro=macro, target=lay["target"], vt=lay["vt"], vlen=lay["vlen"],
            kmask_t=lay["kmask_t"], body=body,
            body2=_second_lane_group(body, vec_inputs) if pair else (),
            # AVX2 only: the AVX-512 path (32 registers, 16 lanes) keeps the two-vector
            # turn, as no machine here could measure a block size for it
            block=_lane_block(body, vec_inputs, outputs, lay["vt"], lay["vlen"], loadu, storeu,
                              BLOCK_VECTORS) if pair and isa == "avx2" else (),
            nb=BLOCK_VECTORS, loadu=loadu, storeu=storeu,
            set1="%sset1_%s" % (V.vp, V.vs),
            mask="aotc_%smask_%s" % (lay["ch"], isa), loadm="aotc_%sloadm_%s" % (lay["ch"], isa),
            storem="aotc_%sstorem_%s" % (lay["ch"], isa))))
    return dict(simd=True, variants=tuple(variants), ctype=C_TYPE[dtype],
                vec_inputs=vec_inputs,
                scalar_inputs=tuple(i for i in range(nin) if in_scalar[i]))


BUILDERS = {"c/fused_elemwise": fused_elemwise}
