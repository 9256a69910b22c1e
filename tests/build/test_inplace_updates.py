"""Updates of shared values written into the arrays the module holds alone.

When nothing but the module holds a shared value's array (no borrow=True view, no
call in flight), a function's update is written over it: by the elementwise kernel
that computes the new value (Step.overwrite), or by the copy of the result.  An
array someone else holds is never written: the update gets a new array.  Every
case checks the values against NumPy.
"""
import weakref

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.build.module import build_module

from . import import_built


def _model():
    rng = np.random.RandomState(0)
    W = aotc.shared(rng.randn(4, 3), name="W")
    m = aotc.shared(np.zeros((4, 3)), name="m")
    x = T.dmatrix("x")
    cost = (T.tanh(T.dot(x, W)) ** 2).sum()
    g = T.grad(cost, W)
    m_new = np.float64(0.9) * m + g
    step = aotc.function([x], cost, updates=[(m, m_new), (W, W - np.float64(0.1) * m_new)])
    # the old value is an output as well: it must not be written over
    keep = aotc.function([x], [cost, W * np.float64(1.0), W], updates=[(W, W * np.float64(0.5))])
    return [("step", step), ("keep", keep)]


def _ref_step(x, W, m):
    t = np.tanh(x @ W)
    g = x.T @ (2 * t * (1 - t ** 2))
    m = 0.9 * m + g
    return (t ** 2).sum(), W - 0.1 * m, m


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("inplace_updates"))
    result = build_module("inplace_updates", _model(), out_dir=out)
    return import_built("inplace_updates", result["so"]), result


def test_the_plan_marks_the_update_kernels_and_not_the_kept_old_value():
    from aotc.build.module import function_spec
    from aotc.codegen.lower import lower
    specs = [function_spec(name, fn, [])[0] for name, fn in _model()]
    program, _ = lower("m", specs)
    step_fn, keep_fn = program.functions
    marked = [s for s in step_fn.steps if s.overwrite]
    # W's new value is elementwise (W - 0.1 m'): over W; m' comes out of a Gemm (not
    # elementwise), so the call copies it into m's array afterwards
    assert [len(s.overwrite) for s in marked] == [1]
    assert not any(s.overwrite for s in keep_fn.steps)        # W is an output there


def test_initial_values_are_read_only_views_until_the_first_update(mod):
    """No copy of the embedded weights at import: a value starts as a read-only view of
    the module's blob, the C side never writes it, and the first update makes a new,
    writeable array (later updates write over that one: next test)."""
    m, _ = mod
    W = m.shared["W"].get_value(borrow=True)
    assert not W.flags.writeable and not W.flags.owndata
    with pytest.raises(ValueError, match="read-only"):
        W[0, 0] = 1.0
    W0 = W.copy()
    x = np.random.RandomState(2).randn(5, 4)
    want_cost, want_W, _ = _ref_step(x, W0, m.shared["m"].get_value())
    np.testing.assert_allclose(m.step(x), want_cost, rtol=1e-12)
    np.testing.assert_array_equal(W, W0)                      # the blob is untouched
    W1 = m.shared["W"].get_value(borrow=True)
    assert W1.flags.writeable and W1 is not W
    np.testing.assert_allclose(W1, want_W, rtol=1e-12)
    del W, W1


def test_the_update_kernel_writes_over_the_old_value(mod):
    m, _ = mod
    x = np.random.RandomState(1).randn(5, 4)
    if not m.shared["W"].get_value(borrow=True).flags.writeable:
        m.step(x)                  # the initial values are the blob's: read-only
    W0, m0 = m.shared["W"].get_value(), m.shared["m"].get_value()
    # weak references: a reference of ours would make the arrays held by someone else
    arrays = (weakref.ref(m.shared["W"]._value), weakref.ref(m.shared["m"]._value))
    cost = m.step(x)
    want_cost, want_W, want_m = _ref_step(x, W0, m0)
    np.testing.assert_allclose(cost, want_cost, rtol=1e-12)
    np.testing.assert_allclose(m.shared["W"].get_value(), want_W, rtol=1e-12)
    np.testing.assert_allclose(m.shared["m"].get_value(), want_m, rtol=1e-12)
    # the same arrays, written in place
    assert m.shared["W"]._value is arrays[0]() and m.shared["m"]._value is arrays[1]()


def test_a_borrowed_array_is_never_written(mod):
    m, _ = mod
    x = np.random.RandomState(2).randn(5, 4)
    held = m.shared["W"].get_value(borrow=True)
    before = held.copy()
    m0 = m.shared["m"].get_value()
    m.step(x)
    np.testing.assert_array_equal(held, before)          # the caller's array: untouched
    assert m.shared["W"]._value is not held
    np.testing.assert_allclose(m.shared["W"].get_value(), _ref_step(x, before, m0)[1],
                               rtol=1e-12)


def test_an_old_value_that_is_also_an_output_keeps_its_values(mod):
    m, _ = mod
    x = np.random.RandomState(3).randn(5, 4)
    W0 = m.shared["W"].get_value()
    cost, w1, w_old = m.keep(x)
    np.testing.assert_allclose(w1, W0, rtol=1e-15)
    np.testing.assert_allclose(w_old, W0, rtol=1e-15)
    np.testing.assert_allclose(m.shared["W"].get_value(), W0 * 0.5, rtol=1e-15)
    np.testing.assert_allclose(cost, (np.tanh(x @ W0) ** 2).sum(), rtol=1e-12)


def test_repeated_steps_match_numpy(mod):
    m, _ = mod
    rng = np.random.RandomState(4)
    W, mm = m.shared["W"].get_value(), m.shared["m"].get_value()
    for _ in range(5):
        x = rng.randn(3, 4)
        c = m.step(x)
        want, W, mm = _ref_step(x, W, mm)
        np.testing.assert_allclose(c, want, rtol=1e-12)
    np.testing.assert_allclose(m.shared["W"].get_value(), W, rtol=1e-12)
