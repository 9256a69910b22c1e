"""Indexing: slicing (Subtensor), row gathers (AdvancedSubtensor1), paired
integer-array indexing (AdvancedSubtensor), and their set / increment forms.

``x[...]`` goes through :func:`getitem`, which picks the op:

- ints, symbolic int scalars, slices (constant or symbolic bounds), ``...``:
  :class:`Subtensor`; ``None`` / ``np.newaxis`` then adds broadcastable axes
  with a DimShuffle;
- one integer array on axis 0 (``W[idx]``, ``W[idx, :]``): :class:`AdvancedSubtensor1`;
- any other use of integer arrays (``p[T.arange(n), y]``, ``x[:, idx]``):
  :class:`AdvancedSubtensor`, with NumPy's rules for where the indexed axes go.

An op's ``idx_list`` prop holds one entry per indexed axis:

- an ``int``: a constant index (the axis is dropped);
- ``SCALAR`` ('s'): a symbolic integer scalar, the node's next input;
- ``ARRAY`` ('a'): a symbolic integer array, the node's next input (advanced ops);
- a tuple ``(start, stop, step)``: a slice; each part None, an int or SCALAR.

Constants stay in the op, so constant slices have sizes known at build time;
symbolic parts are inputs, in order.  Every integer index is bounds-checked
when the graph runs (negative indices wrap as in NumPy); an out-of-range one
raises AotcIndexError (an IndexError) naming the index, the axis length, the
op and the user's line.  Boolean masks, float indices, and ``None`` mixed with
integer arrays are rejected when the graph is built.

Subtensor's reference returns a NumPy view of its input (as Theano's does);
the set / increment ops always return a new array.
"""
import numpy as np

from ...errors import AotcIndexError, AotcTypeError, AotcValueError, ShapeError
from ..graph import Apply, Constant, Op, Variable, as_tensor_variable, constant
from ..types import TensorType, is_float, upcast
from .shape import (DimShuffle, Shape, addbroadcast, at_user_line, dimshuffle, fit_grad,
                    flatten, is_index_dtype, static_int, zeros_like)

__all__ = [
    "Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor1",
    "AdvancedSubtensor", "AdvancedIncSubtensor", "set_subtensor", "inc_subtensor", "take",
]

SCALAR = "s"
ARRAY = "a"
_FULL = (None, None, None)


# ---------------------------------------------------------------------------
# parsing x[index]
# ---------------------------------------------------------------------------

def _bad_index(x, e, why):
    return AotcTypeError("indexing %s (type %s): %s, got %r%s"
                         % (x, x.type, why, e, at_user_line()))


def _slice_part(x, p):
    if p is None:
        return None
    if isinstance(p, (bool, np.bool_)):
        raise _bad_index(x, p, "slice bounds must be integers")
    if isinstance(p, (int, np.integer)):
        return int(p)
    if isinstance(p, Variable) and p.ndim == 0 and is_index_dtype(p.dtype):
        k = static_int(p)
        return k if k is not None else p
    if isinstance(p, Variable):
        raise _bad_index(x, p, "slice bounds must be integer scalars, not %s" % p.type)
    raise _bad_index(x, p, "slice bounds must be integers or integer scalars")


def _classify(x, e):
    """One entry of a user's index -> (kind, payload)."""
    if e is None:
        return ("new", None)
    if e is Ellipsis:
        return ("ellipsis", None)
    if isinstance(e, (bool, np.bool_)):
        raise _bad_index(x, e, "boolean indices are not supported")
    if isinstance(e, (int, np.integer)):
        return ("int", int(e))
    if isinstance(e, slice):
        return ("slice", tuple(_slice_part(x, p) for p in (e.start, e.stop, e.step)))
    if isinstance(e, list) and not e:
        e = np.zeros(0, dtype="int64")
    if not isinstance(e, (Variable, np.ndarray, np.generic, list, tuple)):
        raise _bad_index(x, e, "an index must be an int, a slice, None, ... or an integer "
                               "tensor")
    v = as_tensor_variable(e)
    if v.dtype == "bool":
        raise _bad_index(x, e, "boolean mask indexing is not supported (use T.switch, or "
                               "integer indices)")
    if not is_index_dtype(v.dtype):
        raise _bad_index(x, e, "an index must be an integer, not dtype %s" % v.dtype)
    if v.ndim == 0:
        k = static_int(v)
        return ("int", k) if k is not None else ("scalar", v)
    return ("array", v)


def _known_length(x, axis):
    """The length of ``x`` along ``axis`` when it is known at build time, else None."""
    if isinstance(x, Constant):
        return x.data.shape[axis]
    if x.owner is not None and isinstance(x.owner.op, Shape):
        return x.owner.inputs[0].ndim
    if x.broadcastable[axis]:
        return 1
    return None


def _static_bounds(x, axes_items):
    for axis, (kind, p) in enumerate(axes_items):
        if kind not in ("int", "array"):
            continue
        n = _known_length(x, axis)
        if n is None:
            continue
        if kind == "int":
            bad = p if not -n <= p < n else None
        elif isinstance(p, Constant) and p.data.size:
            out = p.data[(p.data < -n) | (p.data >= n)]
            bad = int(out.flat[0]) if out.size else None
        else:
            bad = None
        if bad is not None:
            raise AotcIndexError("indexing %s (type %s): index %d is out of bounds for axis %d "
                                 "with size %d%s" % (x, x.type, bad, axis, n, at_user_line()))


def _encode(axes_items):
    """(kind, payload) per axis -> (idx_list, symbolic inputs); trailing ':' dropped."""
    items = list(axes_items)
    while items and items[-1] == ("slice", _FULL):
        items.pop()
    idx, inputs = [], []
    for kind, p in items:
        if kind == "int":
            idx.append(p)
        elif kind == "scalar":
            idx.append(SCALAR)
            inputs.append(p)
        elif kind == "array":
            idx.append(ARRAY)
            inputs.append(p)
        else:
            parts = list(p)
            if parts[2] == 1:
                parts[2] = None  # x[a:b:1] is x[a:b]: one canonical op
            enc = []
            for q in parts:
                if isinstance(q, Variable):
                    enc.append(SCALAR)
                    inputs.append(q)
                else:
                    enc.append(q)
            if enc[2] == 0:
                raise AotcValueError("indexing: slice step cannot be zero%s" % at_user_line())
            idx.append(tuple(enc))
    return tuple(idx), inputs


def getitem(x, index):
    """``x[index]`` with NumPy / Theano semantics (used by ``TensorVariable.__getitem__``).

    >>> getitem(T.matrix(), (slice(None), None)).broadcastable
    (False, True, False)
    """
    x = as_tensor_variable(x)
    if not isinstance(index, tuple):
        index = (index,)
    items = [_classify(x, e) for e in index]
    if sum(k == "ellipsis" for k, _ in items) > 1:
        raise AotcIndexError("indexing %s: an index can only have one Ellipsis (...)%s"
                             % (x, at_user_line()))
    used = sum(k not in ("new", "ellipsis") for k, _ in items)
    if used > x.ndim:
        raise AotcIndexError("indexing %s (type %s): too many indices: %d for ndim %d%s"
                             % (x, x.type, used, x.ndim, at_user_line()))
    fill = [("slice", _FULL)] * (x.ndim - used)
    expanded = []
    for k, p in items:
        expanded.extend(fill if k == "ellipsis" else [(k, p)])
    if not any(k == "ellipsis" for k, _ in items):
        expanded.extend(fill)
    axes_items = [(k, p) for k, p in expanded if k != "new"]
    _static_bounds(x, axes_items)
    has_new = len(axes_items) != len(expanded)

    if any(k == "array" for k, _ in axes_items):
        if has_new:
            raise AotcTypeError("indexing %s: None (np.newaxis) together with integer-array "
                                "indices is not supported; index first, then add the axis "
                                "with dimshuffle%s" % (x, at_user_line()))
        if axes_items[0][0] == "array" and all(it == ("slice", _FULL) for it in axes_items[1:]):
            return AdvancedSubtensor1()(x, axes_items[0][1])
        idx, inputs = _encode(axes_items)
        return AdvancedSubtensor(idx)(x, *inputs)

    idx, inputs = _encode(axes_items)
    out = Subtensor(idx)(x, *inputs)
    if has_new:
        pattern, pos = [], 0
        for k, _ in expanded:
            if k == "new":
                pattern.append("x")
            elif k == "slice":
                pattern.append(pos)
                pos += 1
        out = DimShuffle(pattern)(out)
    return out


# ---------------------------------------------------------------------------
# shared pieces of the indexing ops
# ---------------------------------------------------------------------------

def _fmt_idx(idx_list):
    def part(p):
        return "" if p is None else str(p)
    out = []
    for e in idx_list:
        if isinstance(e, tuple):
            text = "%s:%s" % (part(e[0]), part(e[1]))
            out.append(text + (":" + part(e[2]) if e[2] is not None else ""))
        else:
            out.append(str(e))
    return ", ".join(out)


def _check_inputs(op, x, inputs, arrays):
    """Inputs match the SCALAR / ARRAY slots of ``op.idx_list``; returns them as variables."""
    inputs = [as_tensor_variable(i) for i in inputs]
    if len(op.idx_list) > x.ndim:
        raise AotcIndexError("%s: %d indices for an input of type %s%s"
                             % (op, len(op.idx_list), x.type, at_user_line()))
    slots = []
    for e in op.idx_list:
        for p in (e if isinstance(e, tuple) else (e,)):
            if isinstance(p, str):
                slots.append(p)
    if len(slots) != len(inputs):
        raise AotcTypeError("%s: expected %d index inputs, got %d%s"
                            % (op, len(slots), len(inputs), at_user_line()))
    for slot, v in zip(slots, inputs):
        if not is_index_dtype(v.dtype):
            raise AotcTypeError("%s: an index must be an integer, got %s of dtype %s%s"
                                % (op, v, v.dtype, at_user_line()))
        if slot == SCALAR and v.ndim != 0:
            raise AotcTypeError("%s: expected an integer scalar index, got %s of type %s%s"
                                % (op, v, v.type, at_user_line()))
        if slot == ARRAY and (v.ndim == 0 or not arrays):
            raise AotcTypeError("%s: unexpected index %s of type %s%s"
                                % (op, v, v.type, at_user_line()))
    return inputs


def _slice_bcast(e, bc):
    """Whether slicing a broadcastable (length-1) axis with ``e`` surely keeps length 1."""
    start, stop, step = e
    if not bc or start not in (None, 0):
        return False
    if stop is None:
        return True
    return (isinstance(stop, int) and stop > 0
            and (step is None or (isinstance(step, int) and step > 0)))


def _check_array_bounds(op, arr, n, axis):
    arr = np.asarray(arr)
    if arr.size:
        bad = arr[(arr < -n) | (arr >= n)]
        if bad.size:
            raise AotcIndexError("%s: index %d is out of bounds for axis %d with size %d"
                                 % (op, int(bad.flat[0]), axis, n))
    return arr


def _numeric_index(op, shape, values):
    """The NumPy index for ``op.idx_list`` given the values of the symbolic inputs."""
    vals = iter(values)
    out = []
    for axis, e in enumerate(op.idx_list):
        if isinstance(e, tuple):
            parts = [int(next(vals)) if p == SCALAR else p for p in e]
            if parts[2] == 0:
                raise AotcValueError("%s: slice step cannot be zero" % op)
            out.append(slice(*parts))
        elif e == ARRAY:
            out.append(_check_array_bounds(op, next(vals), shape[axis], axis))
        else:
            i = int(next(vals)) if e == SCALAR else e
            if not -shape[axis] <= i < shape[axis]:
                raise AotcIndexError("%s: index %d is out of bounds for axis %d with size %d"
                                     % (op, i, axis, shape[axis]))
            out.append(i)
    return tuple(out)


def _slice_len(e, n):
    if n is None or any(p == SCALAR for p in e):
        return None
    return len(range(*slice(*e).indices(n)))


def _coerce_y(op, x, y):
    """The value stored by a set/inc op: its dtype must fit into x's without loss."""
    y = as_tensor_variable(y)
    if upcast(x.dtype, y.dtype) != x.dtype:
        if isinstance(y, Constant) and np.array_equal(y.data.astype(x.dtype), y.data):
            return constant(y.data.astype(x.dtype), dtype=x.dtype)
        raise AotcTypeError("%s: cannot store a value of dtype %s into x of dtype %s without "
                            "loss; cast it first (T.cast(y, %r))%s"
                            % (op, y.dtype, x.dtype, x.dtype, at_user_line()))
    return y


def _check_y_rank(op, y, view_ndim):
    if y.ndim > view_ndim:
        raise AotcValueError("%s: cannot %s a %d-dimensional value into a %d-dimensional "
                             "subtensor%s" % (op, "set" if op.set_instead_of_inc else "add",
                                              y.ndim, view_ndim, at_user_line()))


def _check_y_shape(op, view_shape, y, y_bcast):
    off = len(view_shape) - y.ndim
    for a in range(y.ndim):
        if y.shape[a] != view_shape[off + a] and not (y_bcast[a] and y.shape[a] == 1):
            raise ShapeError("%s: a value of shape %s does not fit the indexed part of shape %s "
                             "(only axes marked broadcastable stretch)"
                             % (op, y.shape, tuple(view_shape)))


def _store(op, out, idx, y):
    if op.set_instead_of_inc:
        out[idx] = y
    else:
        # np.add.at accumulates repeated indices (a plain += would keep only one); y is
        # broadcast first because np.add.at mis-broadcasts some patterns (NumPy 2.4)
        np.add.at(out, idx, np.broadcast_to(np.asarray(y, dtype=out.dtype), out[idx].shape))
    return [out]


def _inc_grads(op, node, gz, read_op):
    """Gradients of a set/inc node ``(x, y, *indices)``: x gets gz (zeroed where a set
    overwrote it), y gets gz read at the index (summed where y was broadcast)."""
    from .elemwise import reduce_to_input
    x, y, rest = node.inputs[0], node.inputs[1], node.inputs[2:]
    gz = fit_grad(gz, node.outputs[0])
    gx = gy = None
    if is_float(x.dtype):
        if op.set_instead_of_inc:
            gx = type(op)(*_same_props(op, True))(gz, constant(0, dtype=gz.dtype), *rest)
        else:
            gx = gz
    if is_float(y.dtype):
        gy = reduce_to_input(read_op(gz, *rest), y)
    return [gx, gy] + [None] * len(rest)


def _same_props(op, set_instead_of_inc):
    if hasattr(op, "idx_list"):
        return (op.idx_list, set_instead_of_inc)
    return (set_instead_of_inc,)


# ---------------------------------------------------------------------------
# basic indexing
# ---------------------------------------------------------------------------

class Subtensor(Op):
    """Basic indexing ``x[i, a:b:c, ...]``: ints drop axes, slices keep them.

    A slice of a broadcastable axis stays broadcastable when it surely keeps
    its one element (``x[:]``, ``x[0:1]``, ``x[::-1]``), as in Theano.
    """

    __props__ = ("idx_list",)
    view_map = {0: 0}   # output 0 may alias input 0 (the memory plan keeps it alive)
    c = "c/subtensor"
    cuda = "cuda/subtensor"

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return "Subtensor{%s}" % _fmt_idx(self.idx_list)

    def make_node(self, x, *inputs):
        x = as_tensor_variable(x)
        inputs = _check_inputs(self, x, inputs, arrays=False)
        bcast = [_slice_bcast(e, x.broadcastable[k]) for k, e in enumerate(self.idx_list)
                 if isinstance(e, tuple)]
        bcast += x.broadcastable[len(self.idx_list):]
        return Apply(self, [x] + inputs, [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x = inputs[0]
        return [np.asarray(x[_numeric_index(self, x.shape, inputs[1:])])]

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        out = [_slice_len(e, shp[k]) for k, e in enumerate(self.idx_list) if isinstance(e, tuple)]
        return [tuple(out) + tuple(shp[len(self.idx_list):])]

    def grad(self, node, output_grads):
        x, rest = node.inputs[0], [None] * (len(node.inputs) - 1)
        if not is_float(x.dtype):
            return [None] + rest
        gz = fit_grad(output_grads[0], node.outputs[0])
        return [IncSubtensor(self.idx_list)(zeros_like(x), gz, *node.inputs[1:])] + rest


class IncSubtensor(Op):
    """``x`` with ``x[idx]`` increased by (or set to) ``y``; inputs ``(x, y, *indices)``.

    ``y`` broadcasts into the indexed part from the right (only along axes
    its type marks broadcastable); its dtype must fit into x's.  The result is
    a new tensor; ``x`` is not changed.
    """

    __props__ = ("idx_list", "set_instead_of_inc")
    c = "c/inc_subtensor"
    cuda = "cuda/inc_subtensor"

    def __init__(self, idx_list, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        return "IncSubtensor{%s;%s}" % ("Set" if self.set_instead_of_inc else "Inc",
                                        _fmt_idx(self.idx_list))

    def make_node(self, x, y, *inputs):
        x = as_tensor_variable(x)
        y = _coerce_y(self, x, y)
        inputs = _check_inputs(self, x, inputs, arrays=False)
        view = Subtensor(self.idx_list).make_node(x, *inputs).outputs[0]
        _check_y_rank(self, y, view.ndim)
        return Apply(self, [x, y] + inputs, [x.type()])

    def perform(self, node, inputs):
        x, y = inputs[0], np.asarray(inputs[1])
        idx = _numeric_index(self, x.shape, inputs[2:])
        out = x.copy()
        _check_y_shape(self, np.shape(out[idx]), y, node.inputs[1].broadcastable)
        if self.set_instead_of_inc:
            out[idx] = y
        else:
            out[idx] += y  # basic indices never repeat an element
        return [out]

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, node, output_grads):
        return _inc_grads(self, node, output_grads[0],
                          lambda g, *rest: Subtensor(self.idx_list)(g, *rest))


# ---------------------------------------------------------------------------
# gather along axis 0
# ---------------------------------------------------------------------------

class AdvancedSubtensor1(Op):
    """``x[ilist]``: rows of ``x`` picked by an integer array (embedding lookup).

    The output shape is ``ilist.shape + x.shape[1:]``; its gradient scatter-adds
    into zeros (AdvancedIncSubtensor1), so repeated indices accumulate.
    """

    c = "c/gather"
    cuda = "cuda/gather"

    def make_node(self, x, ilist):
        x = as_tensor_variable(x)
        ilist = as_tensor_variable(ilist)
        _check_gather(self, x, ilist)
        bcast = ilist.broadcastable + x.broadcastable[1:]
        return Apply(self, [x, ilist], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x, idx = inputs
        idx = _check_array_bounds(self, idx, x.shape[0], 0)
        return [np.asarray(x[idx])]

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[1]) + tuple(input_shapes[0][1:])]

    def grad(self, node, output_grads):
        x, ilist = node.inputs
        if not is_float(x.dtype):
            return [None, None]
        gz = fit_grad(output_grads[0], node.outputs[0])
        return [AdvancedIncSubtensor1()(zeros_like(x), gz, ilist), None]


def _check_gather(op, x, ilist):
    if x.ndim == 0:
        raise AotcIndexError("%s: a scalar cannot be indexed%s" % (op, at_user_line()))
    if ilist.ndim == 0 or not is_index_dtype(ilist.dtype):
        raise AotcTypeError("%s: the index must be an integer array, got %s of type %s%s"
                            % (op, ilist, ilist.type, at_user_line()))


class AdvancedIncSubtensor1(Op):
    """``x`` with rows ``ilist`` increased by (or set to) ``y``: inputs ``(x, y, ilist)``.

    Increments accumulate over repeated indices (``np.add.at``); with
    repeated indices a set keeps the last value, as NumPy does.
    """

    __props__ = ("set_instead_of_inc",)
    c = "c/scatter"
    cuda = "cuda/scatter"

    def __init__(self, set_instead_of_inc=False):
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        return "AdvancedIncSubtensor1{%s}" % ("set" if self.set_instead_of_inc else "inc")

    def make_node(self, x, y, ilist):
        x = as_tensor_variable(x)
        y = _coerce_y(self, x, y)
        ilist = as_tensor_variable(ilist)
        _check_gather(self, x, ilist)
        _check_y_rank(self, y, ilist.ndim + x.ndim - 1)
        return Apply(self, [x, y, ilist], [x.type()])

    def perform(self, node, inputs):
        x, y, idx = inputs[0], np.asarray(inputs[1]), inputs[2]
        idx = _check_array_bounds(self, idx, x.shape[0], 0)
        _check_y_shape(self, idx.shape + x.shape[1:], y, node.inputs[1].broadcastable)
        return _store(self, x.copy(), idx, y)

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, node, output_grads):
        return _inc_grads(self, node, output_grads[0], AdvancedSubtensor1())


# ---------------------------------------------------------------------------
# general integer-array indexing
# ---------------------------------------------------------------------------

def _arrange(idx_list, ndim, slice_vals, array_part):
    """Order output axes as NumPy does: the broadcast index axes (``array_part``) go
    where the advanced indices sit when those are adjacent, else in front.  Integer
    indices count as advanced once an array is present.  ``slice_vals`` holds
    (axis, value) per sliced axis."""
    entries = list(idx_list) + [_FULL] * (ndim - len(idx_list))
    adv = [k for k, e in enumerate(entries) if not isinstance(e, tuple)]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return ([v for k, v in slice_vals if k < adv[0]] + list(array_part)
                + [v for k, v in slice_vals if k > adv[-1]])
    return list(array_part) + [v for _, v in slice_vals]


def _split_inputs(idx_list, ndim, inputs):
    """-> ([(axis, slice entry)] for every sliced axis, [the inputs at ARRAY slots])."""
    it = iter(inputs)
    slices, arrays = [], []
    entries = list(idx_list) + [_FULL] * (ndim - len(idx_list))
    for k, e in enumerate(entries):
        parts = e if isinstance(e, tuple) else (e,)
        for p in parts:
            if p == ARRAY:
                arrays.append(next(it))
            elif p == SCALAR:
                next(it)
        if isinstance(e, tuple):
            slices.append((k, e))
    return slices, arrays


def _check_pairing(op, arrays, flags):
    """Index arrays broadcast together, a length-1 axis stretching only where flagged."""
    bnd = max(a.ndim for a in arrays)
    for pos in range(bnd):
        size = None
        for a, f in zip(arrays, flags):
            j = pos - (bnd - a.ndim)
            if j < 0 or f[j]:
                continue
            if size is None:
                size = a.shape[j]
            elif a.shape[j] != size:
                raise ShapeError("%s: the index arrays of shapes %s do not broadcast together "
                                 "(only axes marked broadcastable stretch)"
                                 % (op, ", ".join(str(np.shape(b)) for b in arrays)))


def _adv_index(op, node, x, values):
    idx = _numeric_index(op, x.shape, values)
    arrays = [i for i in idx if isinstance(i, np.ndarray)]
    _, avars = _split_inputs(op.idx_list, x.ndim, node.inputs[-len(values):] if values else [])
    _check_pairing(op, arrays, [v.broadcastable for v in avars])
    return idx


class AdvancedSubtensor(Op):
    """Integer-array indexing mixed with ints and slices: ``p[T.arange(n), y]``, ``x[:, idx]``.

    The index arrays broadcast together (a length-1 axis stretches only where
    its type marks it broadcastable); output axes are ordered as NumPy orders
    them.  The gradient scatter-adds (AdvancedIncSubtensor).
    """

    __props__ = ("idx_list",)
    c = "c/advanced_subtensor"
    cuda = "cuda/advanced_subtensor"

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return "AdvancedSubtensor{%s}" % _fmt_idx(self.idx_list)

    def make_node(self, x, *inputs):
        x = as_tensor_variable(x)
        inputs = _check_inputs(self, x, inputs, arrays=True)
        if ARRAY not in self.idx_list:
            raise AotcTypeError("%s: needs at least one integer-array index (use Subtensor)%s"
                                % (self, at_user_line()))
        slices, arrays = _split_inputs(self.idx_list, x.ndim, inputs)
        bnd = max(a.ndim for a in arrays)
        part = [True] * bnd
        for a in arrays:
            for j, f in enumerate(a.broadcastable):
                part[bnd - a.ndim + j] = part[bnd - a.ndim + j] and f
        slice_b = [(k, _slice_bcast(e, x.broadcastable[k])) for k, e in slices]
        bcast = _arrange(self.idx_list, x.ndim, slice_b, part)
        return Apply(self, [x] + inputs, [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x = inputs[0]
        return [np.asarray(x[_adv_index(self, node, x, inputs[1:])])]

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        slices, ashapes = _split_inputs(self.idx_list, len(shp), input_shapes[1:])
        part = np.broadcast_shapes(*[tuple(s) for s in ashapes])
        lens = [(k, _slice_len(e, shp[k])) for k, e in slices]
        return [tuple(_arrange(self.idx_list, len(shp), lens, part))]

    def grad(self, node, output_grads):
        x, rest = node.inputs[0], [None] * (len(node.inputs) - 1)
        if not is_float(x.dtype):
            return [None] + rest
        gz = fit_grad(output_grads[0], node.outputs[0])
        return [AdvancedIncSubtensor(self.idx_list)(zeros_like(x), gz, *node.inputs[1:])] + rest


class AdvancedIncSubtensor(Op):
    """``x`` with ``x[idx]`` (integer-array indexing) increased by or set to ``y``.

    Inputs ``(x, y, *indices)``.  Increments accumulate over repeated index
    pairs (``np.add.at``).
    """

    __props__ = ("idx_list", "set_instead_of_inc")
    c = "c/advanced_inc_subtensor"
    cuda = "cuda/advanced_inc_subtensor"

    def __init__(self, idx_list, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        return "AdvancedIncSubtensor{%s;%s}" % ("Set" if self.set_instead_of_inc else "Inc",
                                                _fmt_idx(self.idx_list))

    def make_node(self, x, y, *inputs):
        x = as_tensor_variable(x)
        y = _coerce_y(self, x, y)
        view = AdvancedSubtensor(self.idx_list).make_node(x, *inputs)
        _check_y_rank(self, y, view.outputs[0].ndim)
        return Apply(self, [x, y] + view.inputs[1:], [x.type()])

    def perform(self, node, inputs):
        x, y = inputs[0], np.asarray(inputs[1])
        idx = _adv_index(self, node, x, inputs[2:])
        _check_y_shape(self, np.shape(x[idx]), y, node.inputs[1].broadcastable)
        return _store(self, x.copy(), idx, y)

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, node, output_grads):
        return _inc_grads(self, node, output_grads[0],
                          lambda g, *rest: AdvancedSubtensor(self.idx_list)(g, *rest))


# ---------------------------------------------------------------------------
# public set / increment and take
# ---------------------------------------------------------------------------

_READS = (Subtensor, AdvancedSubtensor1, AdvancedSubtensor)


def _only_inserts(order):
    kept = [a for a in order if a != "x"]
    return kept == list(range(len(kept)))


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False):
    """``T.inc_subtensor(x[idx], y)``: a copy of the indexed tensor with ``y`` added at ``idx``.

    ``x`` must be the result of indexing (``a[1:3]``, ``a[idx]``, ``p[i, j]``,
    also ``a[:, None]``); the op is rebuilt on the tensor it indexes.  Repeated
    integer-array indices accumulate.  ``inplace`` is accepted and ignored.

    >>> v = T.vector(); w = T.inc_subtensor(v[1:3], 10.0)
    """
    x = as_tensor_variable(x)
    y = as_tensor_variable(y)
    who = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    node = x.owner
    if (node is not None and isinstance(node.op, DimShuffle) and _only_inserts(node.op.new_order)
            and node.inputs[0].owner is not None and isinstance(node.inputs[0].owner.op, _READS)):
        # x came from indexing with None: drop y's matching length-1 axes
        order = node.op.new_order
        if y.ndim > x.ndim:
            raise AotcValueError("%s: cannot %s a %d-dimensional value into a %d-dimensional "
                                 "subtensor%s" % (who, who[:3], y.ndim, x.ndim, at_user_line()))
        if y.ndim < x.ndim:
            y = dimshuffle(y, ("x",) * (x.ndim - y.ndim) + tuple(range(y.ndim)))
        y = addbroadcast(y, *[i for i, a in enumerate(order) if a == "x"])
        y = dimshuffle(y, [i for i, a in enumerate(order) if a != "x"])
        node = node.inputs[0].owner
    if node is None or not isinstance(node.op, _READS):
        raise AotcTypeError("%s: the first argument must be the result of indexing (like a[1:3] "
                            "or a[idx]), got %s%s" % (who, x, at_user_line()))
    op = node.op
    if isinstance(op, Subtensor):
        new = IncSubtensor(op.idx_list, set_instead_of_inc)
    elif isinstance(op, AdvancedSubtensor1):
        new = AdvancedIncSubtensor1(set_instead_of_inc)
    else:
        new = AdvancedIncSubtensor(op.idx_list, set_instead_of_inc)
    return new(node.inputs[0], y, *node.inputs[1:])


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """``T.set_subtensor(x[idx], y)``: a copy of the indexed tensor with ``x[idx] = y``.

    >>> m = T.matrix(); z = T.set_subtensor(m[0, :], 0.0)
    """
    return inc_subtensor(x, y, inplace, set_instead_of_inc=True,
                         tolerate_inplace_aliasing=tolerate_inplace_aliasing)


def take(a, indices, axis=None):
    """``T.take``: ``a[indices]`` along ``axis`` (None: of the flattened ``a``)."""
    a = as_tensor_variable(a)
    if axis is None:
        return getitem(flatten(a), indices)
    if not isinstance(axis, (int, np.integer)) or not -a.ndim <= axis < a.ndim:
        raise AotcValueError("take: axis %r is out of range for ndim %d%s"
                             % (axis, a.ndim, at_user_line()))
    return getitem(a, (slice(None),) * (int(axis) % a.ndim) + (indices,))


OPS = (Subtensor, IncSubtensor, AdvancedSubtensor1, AdvancedIncSubtensor1, AdvancedSubtensor,
       AdvancedIncSubtensor)
