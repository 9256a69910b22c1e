"""Graph objects: Variable, Constant, SharedVariable, Apply and the Op base class.

A graph is a DAG of :class:`Apply` nodes.  Each Apply applies an :class:`Op` to
input variables and owns its output variables.  Every node records the line of
the user's file that created it (``src_loc``), so errors can point there.
"""
import os
import sys
import linecache
import warnings

import numpy as np

from ..config import config
from ..errors import AotcTypeError, AotcValueError
from .types import TensorType, canonical_dtype

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SrcLoc:
    """Where in the user's code a node was created: file, line number, text."""

    __slots__ = ("filename", "lineno", "line")

    def __init__(self, filename, lineno, line):
        self.filename, self.lineno, self.line = filename, lineno, line

    @property
    def short(self):
        return "%s:%d" % (os.path.basename(self.filename), self.lineno)

    def __str__(self):
        return "%s   %s" % (self.short, self.line) if self.line else self.short

    def __repr__(self):
        return "SrcLoc(%s)" % self.short


def user_src_loc():
    """The innermost stack frame outside the aotc package (the user's line)."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_PKG_DIR + os.sep) and not fn.startswith("<frozen"):
            line = linecache.getline(fn, f.f_lineno).strip()
            return SrcLoc(fn, f.f_lineno, line)
        f = f.f_back
    return None


class Tag:
    """Free-form annotations (``tag.test_value``, ...)."""

    def __repr__(self):
        return "Tag(%s)" % ", ".join("%s=..." % k for k in sorted(vars(self)))


class Variable:
    """A symbolic value of a :class:`TensorType`.

    ``owner`` is the Apply that computes it, or None for graph inputs; ``index``
    is its position among ``owner.outputs``.
    """

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()

    # -- type shortcuts -----------------------------------------------------
    @property
    def dtype(self):
        return self.type.dtype

    @property
    def ndim(self):
        return self.type.ndim

    @property
    def broadcastable(self):
        return self.type.broadcastable

    def clone(self):
        cp = self.__class__.__new__(self.__class__)
        cp.__dict__.update(self.__dict__)
        cp.owner, cp.index, cp.tag = None, None, Tag()
        cp.tag.__dict__.update(self.tag.__dict__)
        return cp

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return "%s.out" % op
            return "%s.%d" % (op, self.index)
        return "<%s>" % self.type

    def __repr__(self):
        text = str(self)
        if config.print_test_value and hasattr(self.tag, "test_value"):
            text += "\n" + repr(self.tag.test_value)
        return text

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values=None):
        """Evaluate with the reference evaluator: ``(x + y).eval({x: 1, y: 2})``."""
        from .evaluator import evaluate_variable
        return evaluate_variable(self, inputs_to_values or {})


class Constant(Variable):
    """A variable whose value is fixed when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, name=name)
        data = np.array(data, dtype=type.dtype)
        data.setflags(write=False)
        self.data = data

    def signature(self):
        return (self.type, self.data.shape, self.data.tobytes())

    def equals(self, other):
        return isinstance(other, Constant) and self.signature() == other.signature()

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.data.size <= 8:
            text = np.array2string(self.data, separator=", ")
            return text.replace("\n", "")
        return "Constant{%s%s}" % (self.dtype, list(self.data.shape))

    def clone(self):
        return Constant(self.type, self.data, self.name)


class Apply:
    """One op applied to input variables, owning its output variables."""

    def __init__(self, op, inputs, outputs, src_loc=None):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            out.owner, out.index = self, i
        # a node a rewrite builds (make_node, not op(...)) inside src_loc_override
        # points at the line of the node it replaces
        if src_loc is None and _SRC_OVERRIDE:
            src_loc = _SRC_OVERRIDE[-1]
        self.src_loc = src_loc
        self.tag = Tag()

    @property
    def out(self):
        return self.outputs[0]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def clone_with_new_inputs(self, inputs):
        """The same op on other inputs (re-checked); keeps the creation line."""
        node = self.op.make_node(*inputs)
        node.src_loc = self.src_loc
        for old, new in zip(self.outputs, node.outputs):
            if old.name is not None:
                new.name = old.name
        return node

    def __str__(self):
        return "%s(%s)" % (self.op, ", ".join(str(i) for i in self.inputs))

    __repr__ = __str__


class Op:
    """An operation: one declaration holds every facet of it.

    - ``make_node(*inputs)``: checks the inputs and infers output types;
    - ``perform(node, inputs)``: the NumPy reference, returns a list of arrays;
    - ``infer_shape(node, input_shapes)``: output shapes from input shapes;
    - ``grad(node, output_grads)``: one symbolic gradient (or None: zero) per input;
    - ``c`` / ``cuda``: the snippet or template name the code generators use.

    Ops compare equal when they are of one class with equal ``__props__``.
    """

    __props__ = ()
    c = None
    cuda = None
    differentiable = True
    # False for ops whose result is not a function of their inputs alone (random
    # draws, printing): rewrites never merge, fold or drop them.
    pure = True
    # {output index: input index} for outputs that may be views of an input's memory
    view_map = {}

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(_hashable(p) for p in self._props()))

    def __str__(self):
        if self.__props__:
            return "%s{%s}" % (type(self).__name__, ", ".join(str(p) for p in self._props()))
        return type(self).__name__

    __repr__ = __str__

    def make_node(self, *inputs):
        raise NotImplementedError

    def perform(self, node, inputs):
        raise NotImplementedError

    def infer_shape(self, node, input_shapes):
        raise NotImplementedError

    def grad(self, node, output_grads):
        from ..errors import NotDifferentiableError
        raise NotDifferentiableError("%s has no gradient" % self)

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        if node.src_loc is None:
            node.src_loc = _SRC_OVERRIDE[-1] if _SRC_OVERRIDE else user_src_loc()
        if config.compute_test_value != "off":
            _compute_test_value(node)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs


_SRC_OVERRIDE = []


class src_loc_override:
    """Within this block, new nodes get ``loc`` as their creation line.

    Rewrites use it so the nodes they build point at the user's line of the
    node they replace (the rule does not have to copy it).
    """

    def __init__(self, loc):
        self.loc = loc

    def __enter__(self):
        _SRC_OVERRIDE.append(self.loc)

    def __exit__(self, *exc):
        _SRC_OVERRIDE.pop()
        return False


def _hashable(p):
    if isinstance(p, list):
        return tuple(_hashable(x) for x in p)
    if isinstance(p, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in p.items()))
    return p


def _compute_test_value(node):
    values = []
    for inp in node.inputs:
        if isinstance(inp, Constant):
            values.append(inp.data)
        elif isinstance(inp, SharedVariable):
            values.append(inp.container.value)
        elif hasattr(inp.tag, "test_value"):
            values.append(inp.tag.test_value)
        else:
            mode = config.compute_test_value
            msg = ("%s: input %s has no test value (set %s.tag.test_value, or "
                   "config.compute_test_value='off')" % (node.op, inp, inp.name or "var"))
            if mode == "raise":
                from ..errors import AotcValueError
                raise AotcValueError(msg + _at(node))
            if mode == "warn":
                warnings.warn(msg, stacklevel=3)
            return
    from .evaluator import run_node
    outs = run_node(node, values)
    for var, val in zip(node.outputs, outs):
        var.tag.test_value = val


def _at(node):
    return ("\n  at:   %s" % node.src_loc) if node.src_loc is not None else ""


#: where a shared value's array starts: a cache line, as in a built module (see
#: templates/pymodule/runtime.py.j2).  NumPy's allocator gives 16 bytes, and the compiled
#: kernels' 32-byte loads from such an array straddle two lines every other load.
_ALIGN = 64


def _own_copy(value):
    """A copy of a shared value; an ndarray's is C-contiguous and starts on a cache line."""
    if not isinstance(value, np.ndarray):
        return value.copy()
    buf = np.empty(value.nbytes + _ALIGN, np.uint8)
    off = -buf.__array_interface__["data"][0] % _ALIGN
    out = buf[off:off + value.nbytes].view(value.dtype).reshape(value.shape)
    out[...] = value
    return out


def _on_a_line(arr):
    return (isinstance(arr, np.ndarray) and arr.flags.c_contiguous
            and arr.__array_interface__["data"][0] % _ALIGN == 0)


class SharedContainer:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class SharedVariable(Variable):
    """A variable with a value held across function calls (``aotc.shared``)."""

    def __init__(self, type, value, name=None):
        super().__init__(type, name=name)
        self.container = SharedContainer(_own_copy(type.filter(
            value, allow_downcast=None, what="shared %s" % (name or ""))))
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        """A copy of the value (with ``borrow=True``, the held array itself)."""
        v = self.container.value
        return v if borrow else v.copy()

    def set_value(self, value, borrow=False):
        """Replace the value (copied unless borrow); the shape may change.  The copy
        starts on a cache line; ``borrow=True`` keeps ``value`` itself where it is a
        C-contiguous array that already does (else it is copied too)."""
        arr = self.type.filter(value, allow_downcast=None, what="set_value of %s" % (self.name or "shared"))
        keep = borrow and arr is value and _on_a_line(arr)
        self.container.value = arr if keep else _own_copy(arr)

    @property
    def value(self):
        return self.container.value

    def clone(self):
        cp = Variable.clone(self)
        return cp  # shares the container: a clone of a shared variable is the same state


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False,
           broadcastable=None, **kwargs):
    """A shared variable holding a copy of ``value``.

    >>> counter = shared(0.0, name="counter")
    >>> counter.get_value()
    array(0.)
    """
    if isinstance(value, Variable):
        raise AotcTypeError("shared: expected a NumPy value, got a symbolic variable %s" % value)
    try:
        arr = np.asarray(value)
    except Exception as e:  # noqa: BLE001 - report what came
        raise AotcTypeError("shared: expected a numeric value, got %r (%s)" % (value, e))
    if arr.dtype.kind not in "biufc":
        raise AotcTypeError("shared: expected a numeric value, got dtype %s" % arr.dtype)
    if broadcastable is None:
        broadcastable = (False,) * arr.ndim
    if len(broadcastable) != arr.ndim:
        raise AotcValueError("shared: broadcastable has %d flags for a value of ndim %d"
                             % (len(broadcastable), arr.ndim))
    ttype = TensorType(arr.dtype.name, broadcastable)
    sv = TensorSharedVariable(ttype, arr, name=name)
    if borrow and isinstance(value, np.ndarray) and value.dtype == arr.dtype:
        sv.container.value = value
    sv.tag.src_loc = user_src_loc()
    return sv


from .variable import TensorVariableMixin  # noqa: E402


class TensorVariable(TensorVariableMixin, Variable):
    """A symbolic tensor (what ``T.matrix()`` returns)."""


class TensorConstant(TensorVariableMixin, Constant):
    """A constant tensor."""


class TensorSharedVariable(TensorVariableMixin, SharedVariable):
    """A shared tensor."""


def constant(x, name=None, ndim=None, dtype=None):
    """A constant holding ``x``; Python numbers get Theano's smallest exact dtype."""
    if dtype is not None:
        arr = np.asarray(x, dtype=canonical_dtype(dtype))
    else:
        arr = _autocast(x)
    if ndim is not None:
        if arr.ndim > ndim:
            raise AotcValueError("constant: value of ndim %d does not fit ndim %d" % (arr.ndim, ndim))
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    if arr.dtype.kind not in "biufc":
        raise AotcTypeError("constant: expected a numeric value, got %r of dtype %s" % (x, arr.dtype))
    ttype = TensorType(arr.dtype.name, tuple(s == 1 for s in arr.shape))
    return TensorConstant(ttype, arr, name=name)


def _autocast(x):
    if isinstance(x, bool) or isinstance(x, np.bool_):
        return np.asarray(x, dtype="bool")
    if isinstance(x, int):
        for dt in ("int8", "int16", "int32", "int64"):
            info = np.iinfo(dt)
            if info.min <= x <= info.max:
                return np.asarray(x, dtype=dt)
        raise AotcValueError("constant: integer %d does not fit in int64" % x)
    if isinstance(x, float):
        if config.floatX == "float32":
            return np.asarray(x, dtype="float32")
        if np.isnan(x) or np.float32(x) == x:
            return np.asarray(x, dtype="float32")
        return np.asarray(x, dtype="float64")
    try:
        return np.asarray(x)
    except Exception as e:  # noqa: BLE001
        raise AotcTypeError("constant: expected a numeric value, got %r (%s)" % (x, e))


def as_tensor_variable(x, name=None, ndim=None):
    """A variable for ``x``: variables pass through, values become constants."""
    if isinstance(x, Apply):
        if len(x.outputs) != 1:
            raise AotcValueError("as_tensor_variable: an Apply with %d outputs is ambiguous"
                                 % len(x.outputs))
        x = x.outputs[0]
    if isinstance(x, Variable):
        if ndim is not None and x.ndim != ndim:
            raise AotcTypeError("as_tensor_variable: expected ndim %d, got %s of ndim %d"
                                % (ndim, x, x.ndim))
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from .ops.shape import stack
        return stack([as_tensor_variable(e) for e in x])
    return constant(x, name=name, ndim=ndim)
