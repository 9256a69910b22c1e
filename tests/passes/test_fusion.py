"""Elementwise fusion: the groups it forms (graphs printed on failure), equal values by
reference, and the compiled fused loops (every vector ISA level) against the reference."""
import numpy as np
import pytest

from aotc import tensor as T
from aotc.build import compiler
from aotc.codegen.kernels_fused import VMATH_OPS, fused_elemwise, vmath_name
from aotc.codegen.lower import FunctionSpec, lower
from aotc.codegen.render import render
from aotc.errors import AotcTypeError
from aotc.frontend.evaluator import evaluate, toposort
from aotc.frontend.ops.elemwise import Elemwise, TOL_MATH
from aotc.frontend.printing import debugprint
from aotc.passes import PIPELINE, optimize
from aotc.passes.fusion import MAX_OPERANDS, FusedElemwise, fuse_elementwise

RNG = np.random.default_rng(7)


def unfused(outputs):
    return optimize(outputs, excluding=("fuse_elementwise",))


def fused(outputs, trace=None):
    return fuse_elementwise(unfused(outputs), trace)


def nodes_of(outputs, cls=None):
    return [n for n in toposort(outputs) if cls is None or type(n.op) is cls]


def show(before, after):
    return "--- before\n%s--- after\n%s" % (debugprint(before, file="str"),
                                           debugprint(after, file="str"))


def check_fused(outputs, n_fused, n_plain=0):
    """Fuse ``outputs``; expect ``n_fused`` FusedElemwise and ``n_plain`` Elemwise nodes."""
    before = unfused(outputs)
    trace = []
    after = fuse_elementwise(before, trace)
    got = (len(nodes_of(after, FusedElemwise)), len(nodes_of(after, Elemwise)))
    if got != (n_fused, n_plain):
        pytest.fail("expected %d fused and %d plain elementwise nodes, got %s\n%s"
                    % (n_fused, n_plain, got, show(before, after)))
    assert len([t for t in trace if t[0] == "fuse_elementwise"]) == n_fused
    return before, after


# ---- structure -----------------------------------------------------------------

def test_pipeline_ends_with_fusion():
    assert PIPELINE[-1] == "fuse_elementwise"


def test_chain_becomes_one_node():
    x, y, z = T.fmatrix("x"), T.fmatrix("y"), T.fmatrix("z")
    before, after = check_fused([T.exp(x * y + 1) * z], 1)
    node = after[0].owner
    assert isinstance(node.op, FusedElemwise), show(before, after)
    assert [s.name for s in node.inputs if s.name] == ["x", "y", "z"]
    assert [e[0] for e in node.op.inner] == ["mul", "add", "exp", "mul"]
    assert str(node.op) == "FusedElemwise{(exp(((i0 * i1) + i2)) * i3)}"


def test_trace_records_each_group():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    trace = []
    fused([T.exp(x * y) + 1, T.tanh(x) * y], trace)
    entries = [t for t in trace if t[0] == "fuse_elementwise"]
    assert len(entries) == 2, trace
    assert entries[0][1].startswith("3 nodes: ") and "exp((x * y))" in entries[0][1]
    assert "FusedElemwise{" in entries[0][2]


def test_shared_intermediate_used_before_the_group_stays_its_own_node():
    # sum(t) feeds the group, so t cannot be computed inside it
    x, y = T.fmatrix("x"), T.fmatrix("y")
    t = x * y
    before, after = check_fused([T.exp(t) * T.sum(t) + 1], 1, 1)
    plain = nodes_of(after, Elemwise)[0]
    assert plain.op.scalar_op.name == "mul" and plain.inputs[0].name == "x", show(before, after)
    (f,) = nodes_of(after, FusedElemwise)
    assert plain.outputs[0] in f.inputs, show(before, after)


def test_shared_intermediate_used_after_the_group_becomes_an_output():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    t = x * y
    before, after = check_fused([T.exp(t) + 1, T.sum(t)], 1)
    (f,) = nodes_of(after, FusedElemwise)
    assert len(f.outputs) == 2, show(before, after)
    # the sum reads the intermediate from the fused node, not from a copy of x * y
    s = after[1].owner
    assert s.inputs[0] is f.outputs[0], show(before, after)
    assert after[0] is f.outputs[1], show(before, after)


def test_function_output_inside_a_group_is_an_output():
    x = T.dvector("x")
    a = T.exp(x)
    before, after = check_fused([a, a * 2], 1)
    assert after[0].owner is after[1].owner, show(before, after)


def test_group_stops_at_a_different_broadcast_pattern():
    x, r = T.fmatrix("x"), T.frow("r")
    # exp(r) has pattern (True, False): it is not fused into the (False, False) group
    before, after = check_fused([T.tanh(T.exp(r) * x + x)], 1, 1)
    plain = nodes_of(after, Elemwise)[0]
    assert plain.op.scalar_op.name == "exp", show(before, after)
    # an input may be broadcast
    check_fused([T.tanh(r * x + 1)], 1)


def test_group_stops_at_a_different_ndim():
    x, v = T.fmatrix("x"), T.fvector("v")
    # exp(exp(v) * 2) is a vector group; the matrix group starts after the DimShuffle
    check_fused([T.exp(T.exp(v) * 2) * x + x], 2)


def test_scalars_fuse():
    a, b = T.dscalar("a"), T.dscalar("b")
    check_fused([T.exp(a * b) + a], 1)


def test_single_elemwise_is_left_alone():
    x = T.fmatrix("x")
    check_fused([T.exp(x)], 0, 1)


def test_group_inputs_are_bounded():
    xs = [T.dvector("x%d" % k) for k in range(2 * MAX_OPERANDS + 5)]
    out = xs[0]
    for v in xs[1:]:
        out = out + v
    before = unfused([out])
    after = fuse_elementwise(before)
    groups = nodes_of(after, FusedElemwise)
    assert len(groups) >= 3, show(before, after)
    for g in groups:
        assert len(g.inputs) + len(g.outputs) <= MAX_OPERANDS
    values = [RNG.standard_normal(3) for _ in xs]
    given = {id(v): val for v, val in zip(xs, values)}
    np.testing.assert_array_equal(evaluate(after, given)[0], evaluate([out], given)[0])


def test_fusing_twice_gives_equal_ops_and_equal_c():
    def build():
        z, c0 = T.fmatrix("z"), T.fmatrix("c0")
        return lstm_cell(z, c0, 7), (z, c0)

    outs1, ins1 = build()
    outs2, ins2 = build()
    f1, f2 = fused(outs1), fused(outs2)
    ops1 = [n.op for n in nodes_of(f1)]
    ops2 = [n.op for n in nodes_of(f2)]
    assert ops1 == ops2 and [str(o) for o in ops1] == [str(o) for o in ops2]
    assert fused(outs1)[0].owner.op == f1[0].owner.op
    srcs = []
    for outs, ins in ((f1, ins1), (f2, ins2)):
        spec = FunctionSpec("f", [(v.name, v, False, None) for v in ins], outs, [], False)
        srcs.append(render(lower("aotc_fusion_det", [spec])[0]))
    assert srcs[0] == srcs[1]


def test_fused_op_checks_its_inputs():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    op = fused([T.exp(x) * y])[0].owner.op
    with pytest.raises(AotcTypeError):
        op(x)
    with pytest.raises(AotcTypeError):
        op(x, T.dmatrix("d"))
    with pytest.raises(AotcTypeError):
        FusedElemwise([("exp", None, ("i1",), "float32")], [("float32", (False,))], ["t0"])


def test_fused_op_shape_and_errors():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    (out,) = fused([T.exp(x) * y])
    node = out.owner
    assert node.op.infer_shape(node, [(2, 3), (2, 3)]) == [(2, 3)]
    from aotc.errors import ShapeError
    with pytest.raises(ShapeError):
        evaluate([out], {id(x): np.ones((2, 3), "f4"), id(y): np.ones((2, 4), "f4")})


# ---- graphs checked numerically ----------------------------------------------------

def lstm_cell(z, c0, n):
    i = T.nnet.sigmoid(z[:, :n])
    f = T.nnet.sigmoid(z[:, n:2 * n])
    g = T.tanh(z[:, 2 * n:3 * n])
    o = T.nnet.sigmoid(z[:, 3 * n:])
    c = f * c0 + i * g
    return [o * T.tanh(c), c]


def _real(shape, dtype):
    return RNG.standard_normal(shape).astype(dtype) * 2


def _special(shape, dtype):
    """Normal values with NaN, +-inf, +-0 and huge ones sprinkled in."""
    a = _real(shape, dtype)
    flat = a.reshape(-1)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 89.0, -104.0, 710.0]
    for k, v in enumerate(specials):
        if k * 7 < flat.size:
            flat[k * 7] = v
    return a


def _positive(shape, dtype):
    return (RNG.uniform(0.1, 3.0, shape)).astype(dtype)


def _f(ctor_name, dtype):
    prefix = "f" if dtype == "float32" else "d"
    return getattr(T, prefix + ctor_name)


# name -> (inputs [(name, ctor, value)], build(*syms) -> outputs); each for float32 and float64
def _cases(dtype):
    m, r, c, s = (_f(k, dtype) for k in ("matrix", "row", "col", "scalar"))
    big, big2 = _real((9, 45), dtype), _real((15, 10), dtype)   # views: (5, 15) each
    cases = {
        "chain": ([("x", m, _real((5, 37), dtype)), ("y", m, _real((5, 37), dtype)),
                   ("z", m, _real((5, 37), dtype))],
                  lambda x, y, z: [T.exp(x * y + 1) * z]),
        "arith_special": ([("x", m, _special((4, 41), dtype)), ("y", m, _special((4, 41), dtype))],
                          lambda x, y: [T.switch(x > y, T.maximum(x * y + 1, y),
                                                 -abs(y) / 2.5 - T.minimum(x, 0.5)),
                                        T.sqrt(abs(x)) * T.sgn(y) + T.sqr(x) - 1 / y]),
        "round_clip": ([("x", m, _special((3, 35), dtype))],
                       lambda x: [T.floor(x) + T.ceil(x * 0.5) * T.round(x * 1.5)
                                  - T.clip(x, -1.5, 2.0)]),
        "masks": ([("x", m, _special((3, 19), dtype)), ("y", m, _real((3, 19), dtype))],
                  lambda x, y: [y * (x > 0) + T.switch(T.and_(x > -1, T.invert(y < 0.5)), x, y)
                                + T.cast(T.or_(T.eq(x, y), T.neq(x, x)), dtype)]),
        "broadcast": ([("x", m, _real((6, 23), dtype)), ("r", r, _real((1, 23), dtype)),
                       ("c", c, _real((6, 1), dtype)), ("s", s, np.asarray(1.5, dtype))],
                      lambda x, r, c, s: [T.tanh(x * r + c) - s * x, r * c + s]),
        "noncontig": ([("x", m, big[::2, ::3]), ("y", m, big2.T[::-2])],
                      lambda x, y: [T.nnet.sigmoid(x) * y + x]),
        "sizes_0": ([("x", m, _real((0, 5), dtype)), ("y", m, _real((0, 5), dtype))],
                    lambda x, y: [T.exp(x) * y + 1]),
        "sizes_1": ([("x", m, _real((1, 1), dtype)), ("y", m, _real((1, 1), dtype))],
                    lambda x, y: [T.exp(x) * y + 1]),
        "sizes_odd": ([("x", m, _real((3, 1), dtype).repeat(33, 1)),
                       ("y", m, _real((3, 33), dtype))],
                      lambda x, y: [T.log1p(abs(x)) * y + T.nnet.softplus(y)]),
        "transcendental": ([("x", m, _special((5, 57), dtype)), ("p", m, _positive((5, 57), dtype))],
                           lambda x, p: [T.exp(x * 0.25) + T.tanh(x) * T.nnet.sigmoid(x)
                                         + T.nnet.softplus(x) - T.log(p) + T.log1p(p)]),
        "lstm": ([("z", m, _real((16, 4 * 37), dtype)), ("c0", m, _real((16, 37), dtype))],
                 lambda z, c0: lstm_cell(z, c0, 37)),
        # runs long enough for the AVX2 loop's blocks of 8 vectors (and its tails), with a
        # row and a column broadcast into them and special values
        "blocked": ([("x", m, _special((3, 150), dtype)), ("r", r, _real((1, 150), dtype)),
                     ("c", c, _real((3, 1), dtype))],
                    lambda x, r, c: [T.tanh(x * r + c) * T.nnet.sigmoid(c - x),
                                     T.exp(x * 0.5) - r]),
        "scalar_graph": ([("a", s, np.asarray(0.7, dtype)), ("b", s, np.asarray(-1.3, dtype))],
                         lambda a, b: [T.exp(a * b) + a]),
        "int_const": ([("x", m, _real((2, 21), dtype))],
                      lambda x: [T.switch(x > 0, x, 0) * 3 + (x + 1)]),
    }
    return cases


def _int_cases():
    a, b = T.imatrix("a"), T.imatrix("b")
    va = RNG.integers(-50, 50, (4, 13)).astype("int32")
    vb = RNG.integers(1, 9, (4, 13)).astype("int32")
    return {"int": ([("a", None, va), ("b", None, vb)], (a, b),
                    lambda a, b: [(a + b) * 3 // b - a % b, T.maximum(a, b) > 3]),
            "mixed": ([("a", None, va), ("b", None, vb)], (a, b),
                      lambda a, b: [T.cast(a, "float32") * 0.5 + T.exp(T.cast(b, "float64"))])}


def _all_cases():
    out = []
    for dtype in ("float32", "float64"):
        for name, (inputs, build) in _cases(dtype).items():
            syms = tuple(ctor(n) for n, ctor, _ in inputs)
            out.append(("%s-%s" % (name, dtype), syms, [v for _, _, v in inputs], build(*syms)))
    for name, (inputs, syms, build) in _int_cases().items():
        out.append((name, syms, [v for _, _, v in inputs], build(*syms)))
    return out


CASES = _all_cases()
IDS = [c[0] for c in CASES]


def _reference(case):
    _, syms, vals, outs = case
    return evaluate(outs, {id(s): v for s, v in zip(syms, vals)})


def _tolerance(outs):
    ops = [n.op.scalar_op.name for n in nodes_of(outs, Elemwise)]
    dtype = max(o.dtype for o in outs)
    if any(o in VMATH_OPS or o == "log1p" for o in ops):
        return TOL_MATH.get(dtype, (0, 0))
    return 0, 0


def assert_same(got, want, rtol, atol, what):
    assert got.dtype == want.dtype and got.shape == want.shape, \
        (what, got.dtype, got.shape, want.dtype, want.shape)
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
def test_fused_reference_equals_unfused(k):
    name, syms, vals, outs = CASES[k]
    after = fused(outs)
    assert nodes_of(after, FusedElemwise) or name.startswith("sizes"), show(outs, after)
    got = evaluate(after, {id(s): v for s, v in zip(syms, vals)})
    for g, w in zip(got, _reference(CASES[k])):
        # the same NumPy functions in the same dtypes: the very same bits
        assert_same(g, w, 0, 0, name)


# ---- compiled: every case under each vector ISA level --------------------------

ISA_LEVELS = (0, 1, 2)   # AOTC_ISA_GENERIC, AVX2, AVX512 (clamped to what the CPU has)


@pytest.fixture(scope="module")
def modules():
    specs = []
    for k, (name, syms, vals, outs) in enumerate(CASES):
        args = [("a%d" % i, s, False, None) for i, s in enumerate(syms)]
        specs.append(FunctionSpec("c%d" % k, args, optimize(outs), [], single=False))
    mods = {}
    for level in ISA_LEVELS:
        name = "aotc_fusion_isa%d" % level
        program, _ = lower(name, specs)
        sources = render(program)
        path = compiler.build(sources, name, extra_flags=("-DAOTC_ELEMWISE_MAX_ISA=%d" % level,))
        mods[level] = compiler.load(path, name)
    return mods


@pytest.mark.parametrize("level", ISA_LEVELS)
@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
def test_compiled_fused_matches_reference(modules, k, level):
    name, syms, vals, outs = CASES[k]
    got = getattr(modules[level], "c%d" % k)(*vals)
    rtol, atol = _tolerance(outs)
    for j, (g, w) in enumerate(zip(got, _reference(CASES[k]))):
        assert_same(g, w, rtol, atol, "%s output %d at ISA level %d" % (name, j, level))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blocked_loop_same_bits_as_one_vector_loop(modules, dtype):
    """The vector loop's block of 8 vectors (runs of 64 float32 or 32 float64 elements and
    more) computes each element as the one-vector loop does: the same bits.  Columns 8
    wide (two float64 vectors, one float32) never reach the block."""
    k = IDS.index("blocked-" + dtype)
    _, _, (x, r, c), _ = CASES[k]
    f = getattr(modules[1], "c%d" % k)
    whole = f(x, r, c)
    for j0 in range(0, x.shape[1], 8):
        part = f(x[:, j0:j0 + 8], r[:, j0:j0 + 8], c)
        for w, p in zip(whole, part):
            assert np.array_equal(w[:, j0:j0 + 8], p, equal_nan=True), (dtype, j0)


def test_compiled_shape_mismatch_raises(modules):
    k = IDS.index("chain-float32")
    f = getattr(modules[2], "c%d" % k)
    a = np.ones((2, 3), "f4")
    with pytest.raises(ValueError):
        f(a, a, np.ones((2, 4), "f4"))


def _kernel_params(outs):
    return [fused_elemwise(n) for n in nodes_of(optimize(outs), FusedElemwise)]


def test_simd_coverage():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    # arithmetic, comparisons and selections always have vector forms
    (p,) = _kernel_params([T.switch(x > y, T.maximum(x * y + 1, y), -abs(y) / 2.5)])
    assert p["simd"] and [v.isa for v in p["variants"]] == ["avx512", "avx2"]
    # integer groups and ops without a vector form use the scalar loop
    a = T.imatrix("a")
    assert not _kernel_params([(a + 1) * a])[0]["simd"]
    assert not _kernel_params([T.sin(x) * y + 1])[0]["simd"]
    # transcendentals: vectorized when the runtime's vector math has the entry points
    (p,) = _kernel_params(lstm_cell(T.fmatrix("z"), T.fmatrix("c0"), 8))
    have = all(vmath_name(f, isa, "float32") for f in ("sigmoid", "tanh")
               for isa in ("avx2", "avx512"))
    assert p["simd"] == have
    # with transcendentals: AVX2 runs blocks of vectors, AVX-512 two vectors a turn
    blocks = {v.isa: bool(v.block) for v in p["variants"]}
    assert not have or blocks == {"avx512": False, "avx2": True}, blocks
    # without: one vector a turn
    (p,) = _kernel_params([x * y + 1])
    assert not any(v.block or v.body2 for v in p["variants"])
