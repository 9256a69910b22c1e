"""``aotc.printing`` (debugprint, pp/pprint, Print) and ``aotc.gof`` graph objects.

THEANO_API.md section 11 and the graph-inspection part of section 3.
"""
import io
import re

import numpy as np
import pytest

import aotc
from aotc import config, function, printing, shared
from aotc import tensor as T

@pytest.fixture(autouse=True)
def _reference_mode_by_default():
    """Build by reference unless a test names its mode: these are API semantics, equal in
    every mode, and compiling each of them would be slow; the tests parametrized over
    ``MODES`` run the compiled path too."""
    with config.change_flags(mode="FAST_COMPILE"):
        yield



def _lines(text):
    return [ln for ln in text.splitlines() if ln.strip()]


def test_debugprint_variable_shows_names_ops_and_ids():
    x = T.dvector("x")
    y = T.dvector("y")
    z = x * y + x
    z.name = "z"
    text = printing.debugprint(z, file="str")
    lines = _lines(text)
    assert "add" in lines[0] and "'z'" in lines[0] and "[id A]" in lines[0]
    assert any("mul" in ln and ln.startswith(" |") for ln in lines)
    assert any(re.search(r"\|x \[id [A-Z]+\]", ln) for ln in lines)
    assert any(re.search(r"\|y \[id [A-Z]+\]", ln) for ln in lines)
    # x appears twice, under one id
    x_ids = re.findall(r"\|x (\[id [A-Z]+\])", text)
    assert len(x_ids) == 2 and x_ids[0] == x_ids[1]


def test_debugprint_print_type_shows_types():
    x = T.fmatrix("x")
    v = T.fvector("v")
    text = printing.debugprint(x + v, file="str", print_type=True)
    assert "TensorType(float32, matrix)" in text
    assert "<TensorType(float32" in text
    plain = printing.debugprint(x + v, file="str")
    assert "TensorType" not in plain or "<" not in plain


def test_debugprint_repeated_subgraph_printed_once():
    x = T.dscalar("x")
    y = T.exp(x * x)
    z = y + y
    text = printing.debugprint(z, file="str")
    assert text.count("exp") == 2              # the node is listed at each use ...
    assert text.count("mul") == 1              # ... but its inputs only the first time
    exp_ids = re.findall(r"exp\} (\[id [A-Z]+\])", text)
    assert len(exp_ids) == 2 and exp_ids[0] == exp_ids[1]


def test_debugprint_depth_limits_output():
    x = T.dscalar("x")
    z = T.exp(T.log(T.tanh(x)))
    full = _lines(printing.debugprint(z, file="str"))
    short = _lines(printing.debugprint(z, file="str", depth=2))
    assert len(full) == 4 and len(short) == 2
    assert "exp" in short[0] and "log" in short[1]


def test_debugprint_to_stdout_and_to_file(capsys):
    x = T.dscalar("x_out")
    printing.debugprint(x + 1)
    assert "x_out" in capsys.readouterr().out
    buf = io.StringIO()
    printing.debugprint(x + 1, file=buf)
    assert "x_out" in buf.getvalue()


def test_debugprint_function_shows_graph_and_updates():
    x = T.dvector("x")
    w = shared(np.ones(3), name="w")
    y = T.tanh(x * w)
    y.name = "y_out"
    f = function([x], y, updates=[(w, w + x)])
    text = printing.debugprint(f, file="str")
    for word in ("tanh", "mul", "x", "w", "y_out", "[id A]"):
        assert word in text
    assert "Updates" in text and "w <-" in text
    typed = printing.debugprint(f, file="str", print_type=True)
    assert "TensorType(float64, vector)" in typed


def test_debugprint_list_of_variables():
    x = T.dscalar("x")
    text = printing.debugprint([x + 1, x * 2], file="str")
    assert "add" in text and "mul" in text


def test_debugprint_rejects_non_graph():
    with pytest.raises(TypeError):
        printing.debugprint(42, file="str")


def test_pp_is_compact_math():
    x, y = T.dscalars("x", "y")
    text = aotc.pp(x + y)
    assert "x" in text and "+" in text and "y" in text
    assert "\n" not in text
    assert aotc.pp(x + y) == printing.pp(x + y) == printing.pprint(x + y)
    assert aotc.pp(x * 2 + y) == "((x * 2) + y)"


def test_pp_unary_and_named_intermediate():
    x = T.dscalar("x")
    h = T.exp(-x)
    assert aotc.pp(h) == "exp(-x)"
    h.name = "h"
    assert aotc.pp(h * 3) == "(h * 3)"


def test_pp_of_gradient_mentions_inputs():
    x = T.dscalar("x")
    g = T.grad(x ** 2, x)
    text = aotc.pp(g)
    assert "x" in text and "*" in text


def test_pp_of_function():
    x = T.dscalar("x")
    f = function([x], [x + 1, x * 2])
    text = printing.pp(f)
    assert "(x + 1)" in text and "(x * 2)" in text


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"])
def test_print_op_prints_when_run(capsys, mode):
    x = T.dvector("x")
    y = printing.Print("this is x")(x) * x
    f = function([x], y, mode=mode)
    capsys.readouterr()
    out = f(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, [1.0, 4.0])
    printed = capsys.readouterr().out
    assert "this is x __str__ = [1. 2.]" in printed
    f(np.array([3.0, 2.0]))
    assert "this is x __str__ = [3. 2.]" in capsys.readouterr().out


def test_print_op_prints_nothing_at_build(capsys):
    x = T.dvector("x")
    printing.Print("quiet")(x)
    assert "quiet" not in capsys.readouterr().out


def test_print_op_attrs(capsys):
    x = T.dmatrix("x")
    f = function([x], printing.Print("m", attrs=("shape",))(x))
    f(np.zeros((2, 3)))
    assert "m shape = (2, 3)" in capsys.readouterr().out


def test_print_op_gradient_passes_through(capsys):
    x = T.dscalar("x")
    c = printing.Print("px")(x) ** 2
    g = T.grad(c, x)
    assert float(function([x], g)(3.0)) == 6.0


def test_gof_variable_is_base_of_tensor_variables():
    from aotc.gof import Variable
    m = T.matrix()
    assert isinstance(m, Variable)
    assert isinstance(m + m, Variable)
    assert isinstance(shared(1.0), Variable)
    assert isinstance(T.as_tensor_variable(1.0), Variable)
    assert aotc.Variable is Variable


def test_gof_owner_op_inputs_outputs():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    assert x.owner is None
    z = x + y
    node = z.owner
    assert isinstance(node, aotc.gof.Apply)
    assert isinstance(node.op, aotc.gof.Op)
    assert node.inputs[0] is x and node.inputs[1] is y
    assert node.outputs[0] is z and len(node.outputs) == 1
    assert isinstance(node.op, T.Elemwise)


def test_variable_attributes():
    x = T.fmatrix("x")
    assert x.name == "x" and x.dtype == "float32" and x.ndim == 2
    assert x.broadcastable == (False, False)
    assert x.type == T.TensorType("float32", (False, False))
    x.name = "renamed"
    assert "renamed" in printing.debugprint(x, file="str")
    r = T.row()
    assert r.broadcastable == (True, False)


def test_pp_hides_broadcasting_dimshuffle_and_shows_transpose():
    v = T.dvector("v")
    m = T.dmatrix("m")
    assert aotc.pp(v * 2) == "(v * 2)"
    assert aotc.pp(m.T) == "m.T"
    assert aotc.pp(m + v) == "(m + v)"
    assert "DimShuffle{0,x}" in aotc.pp(v.dimshuffle(0, "x"))
