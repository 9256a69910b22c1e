"""Errors inside a loop body or an ifelse branch, or in a node that does two ops'
work, raised by a built module.

The module cannot re-run the graph by reference to find the user's node (aotc.function
does), so its message carries both levels: the inner node that failed (which step or
branch, the node, its line, its inputs' shapes) and then the scan or ifelse node the
error names, with that node's own inputs' shapes and its creation line.  Before, the
inner node's shapes were printed under the scan's name and types, and a scan that a
rewrite had rebuilt said "Created at: (unknown line)".
"""
import re

import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.build.module import build_module
from aotc.ifelse import ifelse

from . import import_built

HERE = "test_inner_errors.py"


def _lines():
    """The line numbers, in this file, of the statements the messages must point at."""
    text = open(__file__).read().splitlines()
    return {tag: 1 + next(i for i, ln in enumerate(text) if ln.rstrip().endswith("# " + tag))
            for tag in ("masked scan", "masked step", "gather scan", "gather step", "branch",
                        "lookup")}


def _model():
    x = T.dtensor3("x")
    mask = T.dmatrix("mask")
    W = T.dmatrix("W")

    def masked(m_, x_, h_):
        # m_[:, None] is hoisted out of the loop (a view per step), which rebuilds the scan
        return m_[:, None] * T.tanh(T.dot(h_, W) + x_) + (1. - m_)[:, None] * h_  # masked step

    h0 = T.zeros_like(x[0])
    hs, _ = aotc.scan(masked, sequences=[mask, x], outputs_info=[h0], name="masked")  # masked scan
    f_masked = aotc.function([x, mask, W], hs[-1].sum())

    i = T.lvector("i")
    rows = T.dmatrix("rows")
    pick = lambda k, r: r[k] * 2.0  # gather step
    picked, _ = aotc.scan(pick, sequences=i, non_sequences=rows, name="gather")  # gather scan
    f_gather = aotc.function([i, rows], picked)

    c = T.dscalar("c")
    a = T.dvector("a")
    b = T.dvector("b")
    f_branch = aotc.function([c, a, b], ifelse(T.gt(c, 0), a * b, a - 1.0))  # branch

    # an embedding lookup and its projection: one GatherDot node in a module
    E = aotc.shared(np.arange(12.0).reshape(4, 3), name="E")
    P = aotc.shared(np.ones((3, 2)), name="P")
    bias = aotc.shared(np.zeros(2), name="bias")
    words = T.lvector("words")
    f_lookup = aotc.function([words], T.dot(E[words], P) + bias)  # lookup
    return [("masked", f_masked), ("gather", f_gather), ("branch", f_branch),
            ("lookup", f_lookup)]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("inner_errors"))
    result = build_module("inner_errors", _model(), out_dir=out)
    return import_built("inner_errors", result["so"])


def _parts(msg):
    """The message's lines by their leading label (the first line is the reason)."""
    lines = msg.splitlines()
    found = {"reason": lines[0]}
    for ln in lines[1:]:
        for label in ("Inside ", "In the ", "Inputs shapes of that node: ",
                      "Inputs strides of that node: ", "Apply node that caused the error: ",
                      "Inputs types: ", "Inputs shapes: ", "Inputs strides: ", "Created at: ",
                      "In function: "):
            if ln.startswith(label):
                found.setdefault(label.strip(": "), ln[len(label):])
                break
    return found


def _tuples(text):
    return re.findall(r"\([^()]*\)", text)


def test_a_fused_node_lists_all_its_inputs_shapes(mod):
    """A node that does two ops' work (GatherDot: a lookup, then a product) shows the
    shapes of all its inputs, as many as its types (before: the lookup's two)."""
    lines = _lines()
    np.testing.assert_array_equal(mod.lookup(np.array([3, 0])), [[30.0, 30.0], [3.0, 3.0]])
    with pytest.raises(IndexError) as e:
        mod.lookup(np.array([1, 4]))
    msg = str(e.value)
    p = _parts(msg)
    assert "index 4 is out of bounds for axis 0 with size 4" in p["reason"], msg
    assert p["Apply node that caused the error"].startswith("GatherDot"), msg
    shapes = _tuples(p["Inputs shapes"])
    assert len(shapes) == p["Inputs types"].count("TensorType(") == 4, msg
    assert "(4, 3)" in shapes and "(2,)" in shapes and "(3, 2)" in shapes, msg
    assert len(_tuples(p["Inputs strides"])) == 4, msg
    assert p["Created at"].startswith("%s:%d" % (HERE, lines["lookup"])), msg


def test_a_shape_error_in_a_step_shows_the_inner_node_and_the_scan_with_their_shapes(mod):
    lines = _lines()
    x = np.ones((5, 2, 3))
    W = np.eye(3)
    assert np.isfinite(mod.masked(x, np.ones((5, 2)), W))
    with pytest.raises(ValueError) as e:
        mod.masked(x, np.ones((5, 4)), W)        # 4 samples in the mask, 2 in x
    msg = str(e.value)
    p = _parts(msg)
    assert "do not agree" in p["reason"], msg
    assert p["Inside"].startswith("scan 'masked', at step 0 of 5, in "), msg
    assert "(created at %s:%d" % (HERE, lines["masked step"]) in p["Inside"], msg
    # the step's node: its rows (2 samples) and the mask's row (4 samples)
    inner = _tuples(p["Inputs shapes of that node"])
    assert "(2, 3)" in inner and "(4, 1)" in inner, msg
    assert len(_tuples(p["Inputs strides of that node"])) == len(inner), msg
    # then the scan: its own inputs, as many shapes as types, the mask among them
    assert p["Apply node that caused the error"].startswith("Scan{masked}"), msg
    outer = _tuples(p["Inputs shapes"])
    assert len(outer) == p["Inputs types"].count("TensorType("), msg
    assert "(5, 4)" in outer and "(5, 2, 3)" in outer, msg
    assert len(_tuples(p["Inputs strides"])) == len(outer), msg
    assert p["Created at"].startswith("%s:%d" % (HERE, lines["masked scan"])), msg
    assert p["In function"] == "masked", msg


def test_an_index_error_in_a_step_names_the_step_and_the_scan(mod):
    lines = _lines()
    rows = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(mod.gather(np.array([2, 0]), rows), rows[[2, 0]] * 2.0)
    with pytest.raises(IndexError) as e:
        mod.gather(np.array([0, 5]), rows)
    msg = str(e.value)
    p = _parts(msg)
    assert "index 5 is out of bounds for axis 0 with size 3" in p["reason"], msg
    assert p["Inside"].startswith("scan 'gather', at step 1 of 2, in "), msg
    assert "(created at %s:%d" % (HERE, lines["gather step"]) in p["Inside"], msg
    assert "(3, 2)" in _tuples(p["Inputs shapes of that node"]), msg
    assert p["Apply node that caused the error"].startswith("Scan{gather}"), msg
    outer = _tuples(p["Inputs shapes"])
    assert len(outer) == p["Inputs types"].count("TensorType("), msg
    assert "(2,)" in outer and "(3, 2)" in outer, msg
    assert p["Created at"].startswith("%s:%d" % (HERE, lines["gather scan"])), msg


def test_an_error_in_a_branch_shows_the_branch_node_and_the_ifelse(mod):
    lines = _lines()
    np.testing.assert_array_equal(mod.branch(1.0, np.ones(3), np.ones(3) * 2), np.ones(3) * 2)
    # the other branch does not read b: only the taken side runs
    np.testing.assert_array_equal(mod.branch(-1.0, np.ones(3), np.ones(4)), np.zeros(3))
    with pytest.raises(ValueError) as e:
        mod.branch(1.0, np.ones(3), np.ones(4))
    msg = str(e.value)
    p = _parts(msg)
    assert "do not agree" in p["reason"], msg
    assert "(created at %s:%d" % (HERE, lines["branch"]) in msg, msg
    inner = _tuples(p["Inputs shapes of that node"])
    assert "(3,)" in inner and "(4,)" in inner, msg
    assert p["Apply node that caused the error"].startswith("IfElse"), msg
    outer = _tuples(p["Inputs shapes"])
    assert len(outer) == p["Inputs types"].count("TensorType("), msg
    assert "()" in outer and "(3,)" in outer and "(4,)" in outer, msg
    assert p["Created at"].startswith("%s:%d" % (HERE, lines["branch"])), msg
