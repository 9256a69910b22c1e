"""Printing graphs: ``debugprint``, ``pp``/``pprint`` and the ``Print`` op."""
import string
import sys

import numpy as np

from ..errors import AotcTypeError
from .graph import Apply, Constant, Op, Variable, as_tensor_variable


# ---------------------------------------------------------------------------
# debugprint
# ---------------------------------------------------------------------------

def _id_label(n):
    """A, B, ..., Z, BA, BB, ... (Theano's 'CHAR' ids)."""
    letters = string.ascii_uppercase
    out = ""
    while True:
        out = letters[n % 26] + out
        n //= 26
        if n == 0:
            return out


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False,
               done=None, print_storage=False, used_ids=None):
    """An indented dump of a graph, a list of variables, or a compiled function.

    Each line shows the op (or variable name), an id, the variable's name and,
    with ``print_type=True``, its type.  A node met again is shown by id only.
    ``file='str'`` returns the text; None prints to stdout.
    """
    order = None
    updates = []
    if hasattr(obj, "maker") and hasattr(obj.maker, "fgraph"):
        fg = obj.maker.fgraph
        roots = list(fg.user_outputs)
        updates = list(fg.updates)
        order = fg.toposort()
        roots = roots + [u for _, u in updates]
    elif isinstance(obj, (list, tuple)):
        roots = list(obj)
    elif isinstance(obj, Apply):
        roots = list(obj.outputs)
    elif isinstance(obj, Variable):
        roots = [obj]
    else:
        raise AotcTypeError("debugprint: expected a variable, a list of variables, an Apply or "
                            "a function, got %s" % type(obj).__name__)
    topo_index = {id(n): k for k, n in enumerate(order)} if order is not None else {}
    labels = {} if used_ids is None else used_ids
    done = {} if done is None else done
    lines = []
    for var in roots:
        _dp_var(var, "", depth, print_type, lines, labels, done, topo_index, stop_on_name, ids)
    if updates:
        lines.append("Updates:")
        for s, u in updates:
            lines.append(" %s <- %s" % (s, _label_of(u, labels, ids)))
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    stream = sys.stdout if file is None else file
    stream.write(text)
    return stream


def _label_of(var, labels, ids):
    key = id(var.owner) if var.owner is not None else id(var)
    if key not in labels:
        labels[key] = _id_label(len(labels))
    if ids == "":
        return ""
    return "[id %s]" % labels[key]


def _dp_var(var, prefix, depth, print_type, lines, labels, done, topo_index, stop_on_name, ids):
    if depth == 0:
        return
    node = var.owner
    label = _label_of(var, labels, ids)
    type_str = " <%s>" % var.type if print_type else ""
    if node is None:
        lines.append("%s%s %s%s" % (prefix, _var_text(var), label, type_str))
        return
    out_idx = ".%d" % var.index if len(node.outputs) > 1 else ""
    name = "'%s'" % (var.name or "")
    topo = "   %d" % topo_index[id(node)] if id(node) in topo_index else ""
    seen = id(node) in done
    lines.append("%s%s%s %s%s %s%s" % (prefix, node.op, out_idx, label, type_str, name, topo))
    if seen or (stop_on_name and var.name is not None and prefix):
        return
    done[id(node)] = True
    for inp in node.inputs:
        _dp_var(inp, prefix + " |", depth - 1, print_type, lines, labels, done,
                topo_index, stop_on_name, ids)


def _var_text(var):
    if isinstance(var, Constant):
        return "%s{%s}" % (type(var).__name__, str(var))
    if var.name is not None:
        return var.name
    return "<%s>" % var.type


# ---------------------------------------------------------------------------
# pp / pprint
# ---------------------------------------------------------------------------

_PRECEDENCE = {"or_": 0, "xor": 1, "and_": 2, "lt": 3, "gt": 3, "le": 3, "ge": 3, "eq": 3,
               "neq": 3, "add": 4, "sub": 4, "mul": 5, "true_div": 5, "int_div": 5, "mod": 5,
               "neg": 6, "invert": 6, "pow": 7}


class PPrinter:
    """Compact, math-like text of a graph: ``pp(x * 2 + y)`` -> ``((x * 2) + y)``.

    ``assign(op_class_or_predicate, fn)`` adds a custom rule (as Theano's pprint does).
    """

    def __init__(self):
        self.rules = []

    def assign(self, condition, printer):
        self.rules.append((condition, printer))

    def __call__(self, obj):
        if isinstance(obj, (list, tuple)):
            return "\n".join(self(o) for o in obj)
        if hasattr(obj, "maker"):
            return "\n".join(self(o) for o in obj.maker.fgraph.user_outputs)
        if isinstance(obj, Apply):
            obj = obj.outputs[0]
        if not isinstance(obj, Variable):
            raise AotcTypeError("pp: expected a variable, got %s" % type(obj).__name__)
        return self._pp(obj, top=True)

    def _pp(self, var, top=False):
        node = var.owner
        if node is None:
            if isinstance(var, Constant):
                return str(var)
            return var.name if var.name is not None else "<%s>" % var.type
        if var.name is not None and not top:
            return var.name
        for cond, printer in self.rules:
            hit = cond(node) if callable(cond) and not isinstance(cond, type) \
                else isinstance(node.op, cond)
            if hit:
                return printer(self, var)
        op = node.op
        sop = getattr(op, "scalar_op", None)
        args = [self._pp(i) for i in node.inputs]
        if sop is not None:
            if sop.name == "cast":
                return "cast{%s}(%s)" % (op.dtype, args[0])
            if sop.symbol is not None and len(args) == 2:
                return "(%s %s %s)" % (args[0], sop.symbol, args[1])
            if sop.symbol is not None and len(args) == 1:
                return "%s%s" % (sop.symbol, args[0])
            return "%s(%s)" % (sop.name, ", ".join(args))
        if type(op).__name__ == "DimShuffle":
            return _pp_dimshuffle(op.new_order, node.inputs[0].ndim, args[0])
        text_fn = getattr(op, "pp_text", None)
        if text_fn is not None:
            return text_fn(node, args)
        suffix = "[%d]" % var.index if len(node.outputs) > 1 else ""
        return "%s(%s)%s" % (op, ", ".join(args), suffix)


def _pp_dimshuffle(order, ndim, arg):
    """Theano's rule: broadcasting axes added in front are implied, a full reversal is ``.T``."""
    order = tuple(order)
    while order and order[0] == "x":
        order = order[1:]
    if order == tuple(range(ndim)):
        return arg
    if ndim > 1 and order == tuple(reversed(range(ndim))):
        return "%s.T" % arg
    return "DimShuffle{%s}(%s)" % (",".join(str(a) for a in order), arg)


pprint = PPrinter()


def pp(obj):
    """Compact text of a graph (``aotc.pp``)."""
    return pprint(obj)


# ---------------------------------------------------------------------------
# Print: an identity op that prints when the function runs
# ---------------------------------------------------------------------------

class PrintOp(Op):
    """Identity that prints ``message`` and attributes of its value when run.

    ``Print('x is')(x)`` prints ``x is __str__ = [1. 2.]`` each time the value is
    computed; the gradient passes through unchanged.
    """

    __props__ = ("message", "attrs")
    pure = False
    c = "c/print"
    cuda = "cuda/print"

    def __init__(self, message="", attrs=("__str__",), global_fn=None):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        x = inputs[0]
        if self.global_fn is not None:
            self.global_fn(self, x)
        else:
            for attr in self.attrs:
                val = getattr(x, attr)
                if callable(val):
                    val = val()
                print(self.message, attr, "=", val)
        return [np.array(x, copy=True)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, node, output_grads):
        return [output_grads[0]]


Print = PrintOp


def min_informative_str(obj):
    """A short listing of a graph (one line per node)."""
    return debugprint(obj, file="str", ids="CHAR")
