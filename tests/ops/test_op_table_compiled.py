"""The op table, compiled: every case runs through the C backend and must match the reference.

All cases (and dtypes) are lowered into two modules (halves of the table, compiled
side by side: the suite runs on two cores), built once for the whole file (the build
cache keeps them between runs), then each case is called with the same inputs as the
reference run.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from aotc.build import compiler
from aotc.codegen.kernels import NotLowerable
from aotc.codegen.lower import FunctionSpec, lower
from aotc.codegen.render import render
from aotc.frontend.evaluator import evaluate

from .test_op_table import ALL_CASES, _make

PARAMS = [(case, dtype) for case in ALL_CASES for dtype in case.dtypes]

#: Ops whose C lowering is still being written: their cases are expected to fail
#: lowering (strictly: once they lower, these marks must go).
NOT_YET_COMPILED = set()


def _spec(k, case, dtype):
    syms, vals = _make(case, dtype)
    out = case.build(*syms)
    args = [("a%d" % i, s, False, None) for i, s in enumerate(syms)]
    return FunctionSpec("c%d" % k, args, [out], [], single=True), syms, vals, out


#: modules the table is cut into (built in parallel threads, each a compiler process)
PARTS = 2


@pytest.fixture(scope="module")
def compiled():
    specs, table, failures = [[] for _ in range(PARTS)], {}, {}
    for k, (case, dtype) in enumerate(PARAMS):
        spec, syms, vals, out = _spec(k, case, dtype)
        try:
            lower("probe", [spec])
        except NotLowerable as e:
            failures[k] = str(e)
            continue
        part = k * PARTS // len(PARAMS)
        table[k] = (part, syms, vals, out)
        specs[part].append(FunctionSpec("c%d" % k, spec.args, spec.outputs, [], True))
    names = ["aotc_optable%d" % i for i in range(PARTS)]
    sources = [render(lower(name, part_specs)[0]) for name, part_specs in zip(names, specs)]
    with ThreadPoolExecutor(PARTS) as pool:
        paths = list(pool.map(compiler.build, sources, names))
    modules = [compiler.load(path, name) for path, name in zip(paths, names)]
    return modules, table, failures


@pytest.mark.parametrize("k", range(len(PARAMS)),
                         ids=["%s-%s" % (c.name, d) for c, d in PARAMS])
def test_compiled_matches_reference(compiled, k):
    modules, table, failures = compiled
    case, dtype = PARAMS[k]
    if case.op in NOT_YET_COMPILED:
        assert k in failures, "%s now lowers: remove it from NOT_YET_COMPILED" % case.op
        pytest.xfail("no C lowering for %s yet: %s" % (case.op, failures[k]))
    if k in failures:
        pytest.fail("not lowerable to C: %s" % failures[k])
    part, syms, vals, out = table[k]
    want = evaluate([out], {id(s): v for s, v in zip(syms, vals)})[0]
    got = getattr(modules[part], "c%d" % k)(*vals)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    rtol, atol = case.tol(dtype)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=max(rtol, 1e-15), atol=atol)
