"""In-place updates: an increment or set of a view takes over its input's block when the
memory plan proves that block dead (Step.donate), and copies otherwise."""
import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.codegen.lower import FunctionSpec, lower
from aotc.passes import optimize

x = T.dvector("x")
y = T.dvector("y")
XV = np.arange(6.0)
YV = np.array([10.0, 20.0])


def _donating_ops(outs):
    outs = optimize(outs)
    spec = FunctionSpec("f", [("x", x, False, None), ("y", y, False, None)], outs, [],
                        single=False)
    program, _ = lower("m", [spec])
    return [s.op.split("(")[0] for s in program.functions[0].steps if s.donate]


def _check(outs, want):
    f = aotc.function([x, y], outs, on_unused_input="ignore")
    g = aotc.function([x, y], outs, mode="FAST_COMPILE", on_unused_input="ignore")
    assert f.backend == "c"
    for _ in range(2):        # the second call reuses the first call's blocks
        got = f(XV, YV)
        for a, b, w in zip(got, g(XV, YV), want):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, w)
    np.testing.assert_array_equal(XV, np.arange(6.0))       # inputs untouched


def test_a_dead_temporary_is_updated_in_place():
    z = x * 2.0
    out = T.inc_subtensor(z[1:3], y)
    assert _donating_ops([out]) == ["IncSubtensor{Inc;1:3}"]
    _check([out], [np.array([0, 12, 24, 6, 8, 10.0])])


@pytest.mark.parametrize("case", ["output", "read_later", "y_is_a_view", "input"])
def test_a_live_block_is_copied(case):
    z = x * 2.0
    if case == "output":
        outs = [T.set_subtensor(z[1:3], y), z]
        want = [np.array([0, 10, 20, 6, 8, 10.0]), XV * 2]
    elif case == "read_later":
        outs = [T.set_subtensor(z[1:3], y) + z]
        want = [np.array([0, 12, 24, 12, 16, 20.0])]
    elif case == "y_is_a_view":
        outs = [T.inc_subtensor(z[1:3], z[0:2])]
        want = [np.array([0, 2, 6, 6, 8, 10.0])]
    else:
        outs = [T.inc_subtensor(x[1:3], y)]          # an argument: never written
        want = [np.array([0, 11, 22, 3, 4, 5.0])]
    assert _donating_ops(outs) == []
    _check(outs, want)


def test_advanced_increment_in_place_accumulates_repeated_rows():
    idx = T.lvector("idx")
    z = x * 1.0 + 1.0
    out = T.inc_subtensor(z[idx], 5.0)
    f = aotc.function([x, idx], out)
    g = aotc.function([x, idx], out, mode="FAST_COMPILE")
    iv = np.array([1, 1, 4])
    np.testing.assert_array_equal(f(XV, iv), g(XV, iv))
    np.testing.assert_array_equal(f(XV, iv), [1, 12, 3, 4, 10, 6.0])


def test_embedding_gradient_adds_rows_into_its_zero_matrix_in_place():
    """AdvancedIncSubtensor1 (the gradient of an embedding lookup) takes over its dead
    zero matrix; a live one (read later) is copied.  Repeated rows accumulate."""
    E = T.dmatrix("E")
    idx = T.lvector("idx")
    g = T.dmatrix("g")
    from aotc.frontend.ops.subtensor import AdvancedIncSubtensor1
    dead = AdvancedIncSubtensor1()(T.zeros_like(E) + 0.5, g, idx)
    live_base = T.zeros_like(E) + 0.25
    live = [AdvancedIncSubtensor1()(live_base, g, idx), live_base * 2]
    ev, iv, gv = np.ones((5, 2)), np.array([3, 0, 3, -1]), np.arange(8.0).reshape(4, 2)
    for outs, n_donating in (([dead], 1), (live, 0)):
        spec = FunctionSpec("f", [("E", E, False, None), ("idx", idx, False, None),
                                  ("g", g, False, None)], optimize(outs), [], single=False)
        program, _ = lower("m", [spec])
        steps = program.functions[0].steps
        assert sum(1 for s in steps if s.donate and s.op.startswith("AdvancedIncSubtensor1")) \
            == n_donating
        f = aotc.function([E, idx, g], outs)
        ref = aotc.function([E, idx, g], outs, mode="FAST_COMPILE")
        for _ in range(2):
            for a, b in zip(f(ev, iv, gv), ref(ev, iv, gv)):
                np.testing.assert_array_equal(a, b)
