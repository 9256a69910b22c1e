"""The op table, walked: facets present, and every case checked four ways.

1. the reference evaluator matches the case's NumPy reference, per dtype;
2. every node's ``infer_shape`` matches the shape it actually produced;
3. every value has its variable's dtype, rank, and length 1 on broadcastable axes;
4. a float64 central-difference check of the gradient along a random direction.
"""

import numpy as np
import pytest

from aotc.frontend import ops as OPS
from aotc.frontend.evaluator import evaluate
from aotc.frontend.graph import Op
from aotc.frontend.grad import grad
from aotc.frontend.types import TensorType

from .cases import sample
from .cases_elemwise import CASES as ELEMWISE_CASES
from .cases_shape import CASES as SHAPE_CASES
from .cases_reduce import CASES as REDUCE_CASES
from .cases_scan import CASES as SCAN_CASES

ALL_CASES = ELEMWISE_CASES + SHAPE_CASES + REDUCE_CASES + SCAN_CASES


def _overrides(cls, name):
    return getattr(cls, name) is not getattr(Op, name)


@pytest.mark.parametrize("cls", OPS.op_classes(), ids=lambda c: c.__name__)
def test_op_class_has_every_facet(cls):
    missing = [f for f in ("make_node", "perform", "infer_shape") if not _overrides(cls, f)]
    if cls.differentiable and not _overrides(cls, "grad"):
        missing.append("grad (or differentiable = False)")
    for slot in ("c", "cuda"):
        if not getattr(cls, slot, None):
            missing.append(slot)
    if not cls.__doc__:
        missing.append("docstring")
    assert not missing, "%s lacks: %s" % (cls.__name__, ", ".join(missing))


@pytest.mark.parametrize("sop", OPS.scalar_ops(), ids=lambda s: s.name)
def test_scalar_op_has_every_facet(sop):
    assert callable(sop.numpy) and callable(sop.dtype_rule)
    assert sop.grad is None or callable(sop.grad)
    assert sop.c and sop.cuda, "%s lacks a C or CUDA expression" % sop.name
    assert set(sop.tol) >= {"float32", "float64"}
    assert all("{%d}" % k in sop.c for k in range(sop.arity)), sop.c


def test_every_op_has_a_case():
    covered = {c.op for c in ALL_CASES}
    names = [c.__name__ for c in OPS.op_classes() if c.__name__ not in ("Elemwise", "PrintOp")]
    names += [s.name for s in OPS.scalar_ops()]
    missing = [n for n in names if n not in covered]
    assert not missing, "ops without a test case: %s" % missing


def _case_params():
    out = []
    for case in ALL_CASES:
        for dtype in case.dtypes:
            out.append(pytest.param(case, dtype, id="%s-%s" % (case.name, dtype)))
    return out


def _make(case, dtype, seed=0):
    rng = np.random.default_rng(seed)
    syms, vals = [], []
    for inp in case.inputs:
        dt = dtype if inp.dtype == "float" else inp.dtype
        bc = inp.broadcastable if inp.broadcastable is not None else (False,) * len(inp.shape)
        syms.append(TensorType(dt, bc)("in%d" % len(syms)))
        vals.append(sample(inp, dt, rng))
    return syms, vals


def _run(out, syms, vals):
    record = []

    def hook(node, ins, outs):
        record.append((node, ins, outs))
    res = evaluate([out], {id(s): v for s, v in zip(syms, vals)}, hook=hook)[0]
    return res, record


@pytest.mark.parametrize("case,dtype", _case_params())
def test_reference_matches_numpy(case, dtype):
    syms, vals = _make(case, dtype)
    out = case.build(*syms)
    got, record = _run(out, syms, vals)
    with np.errstate(all="ignore"):
        want = np.asarray(case.ref(*vals))
    assert got.shape == want.shape, (got.shape, want.shape)
    rtol, atol = case.tol(dtype)
    if got.dtype.kind in "biu" or want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want.astype(got.dtype))
    else:
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=rtol, atol=atol)
    # 2 and 3: shape inference and types of every node
    for node, ins, outs in record:
        if ins is None:
            continue
        shapes = node.op.infer_shape(node, [np.shape(v) for v in ins])
        for var, val, shp in zip(node.outputs, outs, shapes):
            # None marks a size that depends on input values (reshape targets, arange)
            assert len(shp) == val.ndim and all(
                s is None or int(s) == d for s, d in zip(shp, val.shape)), \
                "%s: infer_shape %s, actual %s" % (node.op, shp, val.shape)
            assert val.dtype.name == var.dtype, (node.op, val.dtype, var.dtype)
            assert val.ndim == var.ndim
            for ax, b in enumerate(var.broadcastable):
                assert not b or val.shape[ax] == 1, (node.op, var.type, val.shape)


def _grad_params():
    return [pytest.param(c, id=c.name) for c in ALL_CASES if c.grad]


@pytest.mark.parametrize("case", _grad_params())
def test_gradient_matches_finite_differences(case):
    syms, vals = _make(case, "float64", seed=1)
    out = case.build(*syms)
    assert out.dtype.startswith("float"), "gradient cases need a float output"
    rng = np.random.default_rng(2)
    out_val = evaluate([out], {id(s): v for s, v in zip(syms, vals)})[0]
    weights = rng.standard_normal(out_val.shape)
    w_sym = TensorType("float64", (False,) * out.ndim)("w")
    cost = (out * w_sym).sum()
    positions = case.wrt if case.wrt is not None else [
        k for k, s in enumerate(syms) if s.dtype.startswith("float")]
    grads = grad(cost, [syms[k] for k in positions])
    given = {id(s): v for s, v in zip(syms, vals)}
    given[id(w_sym)] = weights
    gvals = evaluate(grads, given)

    def f(k, value):
        g = dict(given)
        g[id(syms[k])] = value
        return float(evaluate([cost], g)[0])

    eps = 1e-6
    for k, gv in zip(positions, gvals):
        assert gv.shape == vals[k].shape, (gv.shape, vals[k].shape)
        direction = rng.standard_normal(vals[k].shape)
        numeric = (f(k, vals[k] + eps * direction) - f(k, vals[k] - eps * direction)) / (2 * eps)
        analytic = float(np.sum(gv * direction))
        assert abs(numeric - analytic) <= 1e-5 * max(1.0, abs(numeric)), \
            "input %d: finite difference %r, grad %r" % (k, numeric, analytic)
