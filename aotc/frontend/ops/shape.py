"""Shape ops: dimshuffle, rebroadcast, shape, reshape, make_vector, alloc, arange, join.

Ranks and dtypes are static (part of a variable's type); sizes are run-time
data.  Where a size is a literal constant when the graph is built (``alloc(v,
n, 1)``, ``reshape(x, [n, 1])``), the output type marks a literal 1 as
broadcastable, as Theano does.

``infer_shape`` gets numeric input shapes, not input values.  An output size
that depends on the *value* of a symbolic input (reshape's target, alloc's
sizes, arange's bounds) cannot be known from shapes alone and is reported as
``None``; sizes given as constants are reported exactly.
"""
import math

import numpy as np

from ...config import config
from ...errors import AotcTypeError, AotcValueError, ShapeError
from ..graph import (Apply, Constant, Op, Variable, as_tensor_variable, constant,
                     user_src_loc)
from ..types import TensorType, canonical_dtype, is_float, is_int, upcast

__all__ = [
    "DimShuffle", "Rebroadcast", "Shape", "Reshape", "MakeVector", "Alloc", "ARange", "Join",
    "dimshuffle", "transpose", "patternbroadcast", "addbroadcast", "unbroadcast", "squeeze",
    "shape_padleft", "shape_padright", "shape_padaxis", "shape", "reshape", "flatten",
    "make_vector", "stack", "alloc", "zeros", "ones", "zeros_like", "ones_like", "fill",
    "second", "arange", "join", "concatenate",
]


# ---------------------------------------------------------------------------
# helpers shared with subtensor.py
# ---------------------------------------------------------------------------

def at_user_line():
    """The ``"\\n  at:   file.py:N   code"`` suffix build-time errors end with."""
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def is_index_dtype(dtype):
    """Integer dtypes usable as sizes and indices (bool is a mask, not an index)."""
    return is_int(dtype) and dtype != "bool"


def static_int(var):
    """The Python int a 0-d integer variable holds when known at build time, else None.

    Sees through casts of constants (``T.cast(3, 'int64')``).
    """
    if isinstance(var, (int, np.integer)) and not isinstance(var, (bool, np.bool_)):
        return int(var)
    if not isinstance(var, Variable) or var.ndim != 0 or not is_index_dtype(var.dtype):
        return None
    if isinstance(var, Constant):
        return int(var.data)
    owner = var.owner
    if owner is not None and getattr(getattr(owner.op, "scalar_op", None), "name", "") == "cast":
        return static_int(owner.inputs[0])
    return None


def static_vector(var):
    """Entries of an integer vector known at build time: a tuple of ints / None per
    entry (None: only known at run time), or None when even the length is unknown."""
    if not isinstance(var, Variable) or var.ndim != 1:
        return None
    if isinstance(var, Constant):
        return tuple(int(v) for v in var.data)
    owner = var.owner
    if owner is not None and isinstance(owner.op, MakeVector):
        return tuple(static_int(i) for i in owner.inputs)
    if owner is not None and isinstance(owner.op, Shape):
        return tuple(1 if b else None for b in owner.inputs[0].broadcastable)
    return None


def fit_grad(g, like):
    """Give a gradient exactly the type of the variable it is for (dtype and flags).

    Broadcastable flags are restored with a run-time-checked Rebroadcast, never
    with a sum: callers only use it where the sizes already agree.
    """
    from .elemwise import cast
    g = as_tensor_variable(g)
    if g.dtype != like.dtype:
        g = cast(g, like.dtype)
    if g.broadcastable != like.broadcastable:
        g = patternbroadcast(g, like.broadcastable)
    return g


def _size_var(s, who):
    """One size argument -> a 0-d integer variable (Python ints become int64 constants)."""
    if isinstance(s, (bool, np.bool_)):
        raise AotcTypeError("%s: a size must be an integer, got %r%s" % (who, s, at_user_line()))
    if isinstance(s, (int, np.integer)):
        return constant(int(s), dtype="int64")
    v = as_tensor_variable(s)
    if v.ndim != 0 or not is_index_dtype(v.dtype):
        raise AotcTypeError("%s: a size must be an integer scalar, got %s of type %s%s"
                            % (who, v, v.type, at_user_line()))
    return v


def shape_entries(shp, who):
    """A shape argument (int, list/tuple of ints and int scalars, or an int vector of
    known length such as ``x.shape``) -> a list of Python ints and 0-d variables."""
    if isinstance(shp, (int, np.integer)) and not isinstance(shp, (bool, np.bool_)):
        return [int(shp)]
    if isinstance(shp, (list, tuple)):
        return list(shp)
    if isinstance(shp, np.ndarray):
        return [int(s) for s in shp.reshape(-1)]
    v = as_tensor_variable(shp)
    if v.ndim == 0:
        return [v]
    known = static_vector(v)
    if v.ndim != 1 or known is None or not is_index_dtype(v.dtype):
        raise AotcTypeError("%s: the shape must be a tuple of sizes or an integer vector of "
                            "known length (like x.shape), got %s of type %s%s"
                            % (who, v, v.type, at_user_line()))
    if v.owner is not None and isinstance(v.owner.op, MakeVector):
        return list(v.owner.inputs)
    from .subtensor import getitem
    return [k if k is not None else getitem(v, i) for i, k in enumerate(known)]


def _shape_of(x):
    """Sizes of ``x`` as shape entries: 1 where the type says so, else ``x.shape[i]``."""
    from .subtensor import getitem
    if x.ndim == 0:
        return []
    sh = shape(x)
    return [1 if b else getitem(sh, i) for i, b in enumerate(x.broadcastable)]


# ---------------------------------------------------------------------------
# DimShuffle
# ---------------------------------------------------------------------------

class DimShuffle(Op):
    """Permute axes, insert broadcastable axes ('x') and drop broadcastable ones.

    ``new_order`` lists, per output axis, the input axis it comes from or 'x'.
    An input axis left out must be broadcastable (it has length 1).
    """

    __props__ = ("new_order",)
    view_map = {0: 0}   # output 0 may alias input 0 (the memory plan keeps it alive)
    c = "c/dimshuffle"
    cuda = "cuda/dimshuffle"

    def __init__(self, new_order):
        self.new_order = tuple(new_order)

    def __str__(self):
        return "DimShuffle{%s}" % ",".join(str(a) for a in self.new_order)

    def make_node(self, x):
        x = as_tensor_variable(x)
        _check_pattern(self.new_order, x.type, self.new_order)
        bcast = tuple(True if a == "x" else x.broadcastable[a] for a in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x = inputs[0]
        kept = [a for a in self.new_order if a != "x"]
        dropped = [a for a in range(x.ndim) if a not in kept]
        for a in dropped:
            if x.shape[a] != 1:
                raise ShapeError("%s: dropped axis %d must have length 1, got shape %s"
                                 % (self, a, x.shape))
        out_shape = tuple(1 if a == "x" else x.shape[a] for a in self.new_order)
        return [np.transpose(x, kept + dropped).reshape(out_shape)]

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        return [tuple(1 if a == "x" else shp[a] for a in self.new_order)]

    def grad(self, node, output_grads):
        x = node.inputs[0]
        if not is_float(x.dtype):
            return [None]
        gz = as_tensor_variable(output_grads[0])
        inserted = [i for i, a in enumerate(self.new_order) if a == "x"]
        if inserted:
            # those axes have length 1 in the output, so in its gradient too
            gz = addbroadcast(gz, *inserted)
        inverse = ["x"] * x.ndim
        for pos, a in enumerate(self.new_order):
            if a != "x":
                inverse[a] = pos
        return [fit_grad(DimShuffle(inverse)(gz), x)]


def _check_pattern(pattern, ttype, shown):
    """Raise AotcValueError naming the pattern, the input type and the user line."""
    def bad(why):
        raise AotcValueError("dimshuffle: bad pattern %r for an input of type %s: %s%s"
                             % (tuple(shown), ttype, why, at_user_line()))
    seen = set()
    for a in pattern:
        if a == "x":
            continue
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            bad("entries must be axis numbers or 'x', got %r" % (a,))
        if not 0 <= a < ttype.ndim:
            bad("axis %d is out of range for ndim %d" % (a, ttype.ndim))
        if a in seen:
            bad("axis %d appears twice" % a)
        seen.add(a)
    for a in range(ttype.ndim):
        if a not in seen and not ttype.broadcastable[a]:
            bad("axis %d is dropped but is not broadcastable (only length-1 axes marked "
                "broadcastable can be dropped; use addbroadcast, or sum over it)" % a)


def dimshuffle(x, pattern):
    """Reorder axes: ``dimshuffle(m, (1, 0))`` is ``m.T``; ``'x'`` adds a broadcastable axis.

    Negative axis numbers count from the end (an aotc convenience).  A bad
    pattern raises AotcValueError when the graph is built.

    >>> dimshuffle(T.vector(), ('x', 0)).broadcastable
    (True, False)
    """
    x = as_tensor_variable(x)
    if isinstance(pattern, (str, int, np.integer)):
        pattern = (pattern,)
    try:
        pattern = tuple(pattern)
    except TypeError:
        raise AotcValueError("dimshuffle: the pattern must be a sequence of axes and 'x', got "
                             "%r for an input of type %s%s" % (pattern, x.type, at_user_line()))
    norm = []
    for a in pattern:
        if isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) \
                and -x.ndim <= a < 0:
            a = int(a) + x.ndim
        elif isinstance(a, np.integer):
            a = int(a)
        norm.append(a)
    _check_pattern(norm, x.type, pattern)
    if tuple(norm) == tuple(range(x.ndim)):
        return x
    return DimShuffle(norm)(x)


def transpose(x, axes=None):
    """``T.transpose(x, axes)``: reverse the axes, or permute them as ``axes`` says."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    return dimshuffle(x, axes)


def shape_padleft(x, n_ones=1):
    """Add ``n_ones`` broadcastable axes in front."""
    x = as_tensor_variable(x)
    return dimshuffle(x, ("x",) * n_ones + tuple(range(x.ndim)))


def shape_padright(x, n_ones=1):
    """Add ``n_ones`` broadcastable axes at the end."""
    x = as_tensor_variable(x)
    return dimshuffle(x, tuple(range(x.ndim)) + ("x",) * n_ones)


def shape_padaxis(x, axis):
    """Insert one broadcastable axis at position ``axis`` (negative counts from the end)."""
    x = as_tensor_variable(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise AotcValueError("shape_padaxis: axis %d is out of range for an input of ndim %d%s"
                             % (axis, x.ndim, at_user_line()))
    if axis < 0:
        axis += x.ndim + 1
    order = list(range(x.ndim))
    order.insert(axis, "x")
    return dimshuffle(x, order)


def squeeze(x):
    """Drop every broadcastable axis."""
    x = as_tensor_variable(x)
    return dimshuffle(x, [a for a in range(x.ndim) if not x.broadcastable[a]])


# ---------------------------------------------------------------------------
# Rebroadcast
# ---------------------------------------------------------------------------

class Rebroadcast(Op):
    """Change broadcastable flags: ``Rebroadcast((0, True), (2, False))``.

    Marking an axis broadcastable is checked when the graph runs: the axis must
    have length 1 (a ShapeError otherwise).
    """

    __props__ = ("axis",)
    view_map = {0: 0}   # output 0 may alias input 0 (the memory plan keeps it alive)
    c = "c/rebroadcast"
    cuda = "cuda/rebroadcast"

    def __init__(self, *axis):
        self.axis = tuple(sorted((int(a), bool(f)) for a, f in axis))

    def __str__(self):
        return "Rebroadcast{%s}" % ",".join("%d:%s" % (a, "T" if f else "F") for a, f in self.axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        bcast = list(x.broadcastable)
        for a, f in self.axis:
            if not 0 <= a < x.ndim:
                raise AotcValueError("Rebroadcast: axis %d is out of range for an input of "
                                     "type %s%s" % (a, x.type, at_user_line()))
            bcast[a] = f
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x = inputs[0]
        for a, f in self.axis:
            if f and x.shape[a] != 1:
                raise ShapeError("%s: axis %d is marked broadcastable and must have length 1, "
                                 "got shape %s" % (self, a, x.shape))
        return [x]

    def infer_shape(self, node, input_shapes):
        shp = list(input_shapes[0])
        for a, f in self.axis:
            if f:
                shp[a] = 1
        return [tuple(shp)]

    def grad(self, node, output_grads):
        x = node.inputs[0]
        if not is_float(x.dtype):
            return [None]
        return [fit_grad(output_grads[0], x)]


def patternbroadcast(x, broadcastable):
    """``x`` with these broadcastable flags (a run-time check where a flag is added)."""
    x = as_tensor_variable(x)
    broadcastable = tuple(bool(b) for b in broadcastable)
    if len(broadcastable) != x.ndim:
        raise AotcValueError("patternbroadcast: %d flags for an input of type %s%s"
                             % (len(broadcastable), x.type, at_user_line()))
    pairs = [(a, b) for a, (b, old) in enumerate(zip(broadcastable, x.broadcastable)) if b != old]
    return Rebroadcast(*pairs)(x) if pairs else x


def _norm_axes(x, axes, who):
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -x.ndim <= a < x.ndim:
            raise AotcValueError("%s: axis %r is out of range for an input of type %s%s"
                                 % (who, a, x.type, at_user_line()))
        out.append(int(a) % x.ndim)
    return out


def addbroadcast(x, *axes):
    """Mark ``axes`` broadcastable (each must have length 1 when the graph runs)."""
    x = as_tensor_variable(x)
    bc = list(x.broadcastable)
    for a in _norm_axes(x, axes, "addbroadcast"):
        bc[a] = True
    return patternbroadcast(x, bc)


def unbroadcast(x, *axes):
    """Mark ``axes`` not broadcastable."""
    x = as_tensor_variable(x)
    bc = list(x.broadcastable)
    for a in _norm_axes(x, axes, "unbroadcast"):
        bc[a] = False
    return patternbroadcast(x, bc)


# ---------------------------------------------------------------------------
# Shape and MakeVector
# ---------------------------------------------------------------------------

class Shape(Op):
    """``x.shape``: an int64 vector of length ``x.ndim``.

    Its output is integer-valued, so no gradient flows through it: ``grad``
    gives None (zero) for ``x``.
    """

    c = "c/shape"
    cuda = "cuda/shape"
    differentiable = False

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (False,))()])

    def perform(self, node, inputs):
        return [np.asarray(np.shape(inputs[0]), dtype="int64").reshape(-1)]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0].ndim,)]

    def grad(self, node, output_grads):
        return [None]


def shape(x):
    """``T.shape(x)``, the same as ``x.shape``: an int64 vector; ``x.shape[i]`` an int64 scalar."""
    return Shape()(as_tensor_variable(x))


class MakeVector(Op):
    """Gather scalars into a vector of ``dtype`` (symbolic shapes like ``[n, 3, -1]``)."""

    __props__ = ("dtype",)
    c = "c/make_vector"
    cuda = "cuda/make_vector"

    def __init__(self, dtype="int64"):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        for pos, i in enumerate(inputs):
            if i.ndim != 0:
                raise AotcTypeError("MakeVector: input %d must be a scalar, got %s of type %s%s"
                                    % (pos, i, i.type, at_user_line()))
            if upcast(i.dtype, self.dtype) != self.dtype:
                ok = isinstance(i, Constant) and np.array_equal(i.data.astype(self.dtype), i.data)
                if not ok:
                    raise AotcTypeError("MakeVector: input %d of dtype %s does not fit the "
                                        "vector's dtype %s without loss%s"
                                        % (pos, i.dtype, self.dtype, at_user_line()))
        out = TensorType(self.dtype, (len(inputs) == 1,))()
        return Apply(self, inputs, [out])

    def perform(self, node, inputs):
        return [np.array([np.asarray(v).item() for v in inputs], dtype=self.dtype).reshape(-1)]

    def infer_shape(self, node, input_shapes):
        return [(len(node.inputs),)]

    def grad(self, node, output_grads):
        from .subtensor import getitem
        gz = output_grads[0]
        return [fit_grad(getitem(gz, i), inp) if is_float(inp.dtype) else None
                for i, inp in enumerate(node.inputs)]


def make_vector(entries, dtype=None):
    """A vector from scalars and Python numbers; dtype: their upcast unless given."""
    vs = [as_tensor_variable(e) for e in entries]
    if dtype is None:
        dtype = upcast(*[v.dtype for v in vs]) if vs else "int64"
    dtype = canonical_dtype(dtype)
    if all(isinstance(v, Constant) for v in vs):
        return constant(np.array([v.data for v in vs], dtype=dtype).reshape(-1), dtype=dtype)
    return MakeVector(dtype)(*vs)


# ---------------------------------------------------------------------------
# Reshape and flatten
# ---------------------------------------------------------------------------

class Reshape(Op):
    """Reshape ``x`` to the sizes in an integer vector (of static length ``ndim``).

    One entry may be -1 (inferred from the others).  Output axes whose size is
    a constant 1 are broadcastable.  A size mismatch is a ShapeError at run time.
    """

    __props__ = ("ndim",)
    view_map = {0: 0}   # output 0 may alias input 0 (the memory plan keeps it alive)
    c = "c/reshape"
    cuda = "cuda/reshape"

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_tensor_variable(shp)
        if shp.ndim != 1 or not is_index_dtype(shp.dtype):
            raise AotcTypeError("Reshape: the shape must be an integer vector, got %s of type "
                                "%s%s" % (shp, shp.type, at_user_line()))
        known = static_vector(shp)
        if known is not None:
            if len(known) != self.ndim:
                raise AotcValueError("Reshape: shape has %d entries for ndim %d%s"
                                     % (len(known), self.ndim, at_user_line()))
            consts = [k for k in known if k is not None]
            if sum(k == -1 for k in consts) > 1 or any(k < -1 for k in consts):
                raise AotcValueError("Reshape: bad shape %s: at most one -1 and no other "
                                     "negative size%s" % (_fmt_sizes(known), at_user_line()))
        bcast = tuple(known is not None and known[i] == 1 for i in range(self.ndim))
        return Apply(self, [x, shp], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs):
        x, shp = inputs
        req = [int(s) for s in np.asarray(shp).reshape(-1)]
        if len(req) != self.ndim:
            raise ShapeError("Reshape: the shape vector has %d entries, expected %d"
                             % (len(req), self.ndim))
        return [x.reshape(_resolve_reshape(x.shape, req))]

    def infer_shape(self, node, input_shapes):
        known = static_vector(node.inputs[1])
        if known is None:
            return [(None,) * self.ndim]
        if node.inputs[1].owner is not None and isinstance(node.inputs[1].owner.op, MakeVector):
            # sizes read off the reshaped input itself (flatten: [x.shape[0], -1])
            known = [k if k is not None else _own_size(e, node.inputs[0], input_shapes[0])
                     for k, e in zip(known, node.inputs[1].owner.inputs)]
        if None in known or None in input_shapes[0]:
            return [tuple(None if k is None or k == -1 else k for k in known)]
        return [_resolve_reshape(input_shapes[0], list(known))]

    def grad(self, node, output_grads):
        x = node.inputs[0]
        if not is_float(x.dtype):
            return [None, None]
        g = Reshape(x.ndim)(output_grads[0], shape(x))
        return [fit_grad(g, x), None]


def _own_size(var, x, x_shape):
    """``x_shape[k]`` when ``var`` is ``x.shape[k]``, else None."""
    owner = var.owner
    if owner is None or type(owner.op).__name__ != "Subtensor" or len(owner.op.idx_list) != 1:
        return None
    k, src = owner.op.idx_list[0], owner.inputs[0]
    if not isinstance(k, int) or src.owner is None or not isinstance(src.owner.op, Shape) \
            or src.owner.inputs[0] is not x:
        return None
    return x_shape[k]


def _fmt_sizes(sizes):
    return "(%s)" % ", ".join("?" if s is None else str(s) for s in sizes)


def _resolve_reshape(in_shape, req):
    size = math.prod(in_shape)
    neg = [i for i, s in enumerate(req) if s < 0]
    why = None
    if len(neg) > 1 or any(s < -1 for s in req):
        why = "at most one -1 and no other negative size is allowed"
    elif neg:
        rest = math.prod(s for s in req if s >= 0)
        if rest == 0 or size % rest:
            why = "the sizes do not divide the element count"
        else:
            req = list(req)
            req[neg[0]] = size // rest
    elif math.prod(req) != size:
        why = "the element counts differ"
    if why:
        raise ShapeError("Reshape: cannot reshape an input of shape %s (%d elements) into shape "
                         "%s: %s" % (tuple(in_shape), size, tuple(req), why))
    return tuple(req)


def reshape(x, shape, ndim=None):
    """``x.reshape(shape)``: ``shape`` is a tuple/list of ints and integer scalars
    (``[x.shape[0], n, -1]``) or an integer vector (then ``ndim`` is needed unless
    its length is known, as for ``y.shape``).  One -1 is allowed.

    >>> reshape(T.matrix(), (-1,)).ndim
    1
    """
    x = as_tensor_variable(x)
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if isinstance(shape, (list, tuple)):
        entries = [_size_var(s, "reshape") for s in shape]
        if ndim is not None and ndim != len(entries):
            raise AotcValueError("reshape: ndim=%d but the shape has %d entries%s"
                                 % (ndim, len(entries), at_user_line()))
        if all(isinstance(e, Constant) for e in entries):
            shp = constant(np.array([int(e.data) for e in entries], dtype="int64").reshape(-1),
                           dtype="int64")
        else:
            shp = MakeVector("int64")(*entries)
        return Reshape(len(entries))(x, shp)
    shp = as_tensor_variable(shape)
    if ndim is None:
        known = static_vector(shp)
        if known is None:
            raise AotcValueError("reshape: the shape %s is a symbolic vector of unknown length; "
                                 "pass ndim=%s" % (shp, at_user_line()))
        ndim = len(known)
    return Reshape(ndim)(x, shp)


def flatten(x, outdim=1):
    """Keep the first ``outdim - 1`` axes and merge the rest into one.

    >>> flatten(T.tensor3(), 2).ndim
    2
    """
    x = as_tensor_variable(x)
    if not isinstance(outdim, (int, np.integer)) or outdim < 1 or (outdim > 1 and outdim > x.ndim):
        raise AotcValueError("flatten: outdim must be between 1 and the input's ndim %d, got %r%s"
                             % (x.ndim, outdim, at_user_line()))
    sizes = _shape_of(x)[:outdim - 1]
    sizes.append(1 if all(x.broadcastable[outdim - 1:]) else -1)
    return reshape(x, sizes, ndim=outdim)


# ---------------------------------------------------------------------------
# Alloc and the fills built on it
# ---------------------------------------------------------------------------

class Alloc(Op):
    """``Alloc()(value, *sizes)``: a new tensor of those sizes filled with ``value``.

    ``value`` is broadcast from the right; its axes that are not broadcastable
    must equal the sizes (checked when the graph runs).  A constant size 1 makes
    the output axis broadcastable.  The gradient for ``value`` sums the
    output gradient over the broadcast axes.
    """

    c = "c/alloc"
    cuda = "cuda/alloc"

    def make_node(self, value, *sizes):
        v = as_tensor_variable(value)
        sizes = [_size_var(s, "Alloc") for s in sizes]
        if v.ndim > len(sizes):
            raise AotcValueError("Alloc: the value has ndim %d, more than the %d sizes given%s"
                                 % (v.ndim, len(sizes), at_user_line()))
        known = [static_int(s) for s in sizes]
        for k in known:
            if k is not None and k < 0:
                raise AotcValueError("Alloc: negative size %d%s" % (k, at_user_line()))
        bcast = tuple(k == 1 for k in known)
        return Apply(self, [v] + sizes, [TensorType(v.dtype, bcast)()])

    def perform(self, node, inputs):
        v = inputs[0]
        out_shape = tuple(int(s) for s in inputs[1:])
        if any(s < 0 for s in out_shape):
            raise ShapeError("Alloc: negative size in %s" % (out_shape,))
        off = len(out_shape) - v.ndim
        for a in range(v.ndim):
            if v.shape[a] != out_shape[off + a] and not node.inputs[0].broadcastable[a]:
                raise ShapeError("Alloc: a value of shape %s does not fit the shape %s (axis %d "
                                 "is not broadcastable)" % (v.shape, out_shape, a))
        out = np.empty(out_shape, dtype=node.outputs[0].dtype)
        out[...] = v
        return [out]

    def infer_shape(self, node, input_shapes):
        return [tuple(static_int(s) for s in node.inputs[1:])]

    def grad(self, node, output_grads):
        v = node.inputs[0]
        rest = [None] * (len(node.inputs) - 1)
        if not is_float(v.dtype):
            return [None] + rest
        from .elemwise import reduce_to_input
        return [reduce_to_input(output_grads[0], v)] + rest


def alloc(value, *shape):
    """``T.alloc(value, *sizes)``: ``value`` broadcast to a symbolic shape.

    >>> alloc(0.0, n, 3).ndim   # n a symbolic int scalar
    2
    """
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) and \
            not (isinstance(shape[0], Variable) and shape[0].ndim == 0):
        shape = shape_entries(shape[0], "alloc")
    return Alloc()(value, *shape)


def zeros(shape, dtype=None):
    """Zeros of a (possibly symbolic) shape; dtype defaults to floatX."""
    dtype = canonical_dtype(dtype)
    return Alloc()(constant(0, dtype=dtype), *shape_entries(shape, "zeros"))


def ones(shape, dtype=None):
    """Ones of a (possibly symbolic) shape; dtype defaults to floatX."""
    dtype = canonical_dtype(dtype)
    return Alloc()(constant(1, dtype=dtype), *shape_entries(shape, "ones"))


def zeros_like(model, dtype=None, opt=False):
    """Zeros with the shape and broadcastable flags of ``model`` (dtype: model's)."""
    model = as_tensor_variable(model)
    dtype = model.dtype if dtype is None else canonical_dtype(dtype)
    return Alloc()(constant(0, dtype=dtype), *_shape_of(model))


def ones_like(model, dtype=None, opt=False):
    """Ones with the shape and broadcastable flags of ``model`` (dtype: model's)."""
    model = as_tensor_variable(model)
    dtype = model.dtype if dtype is None else canonical_dtype(dtype)
    return Alloc()(constant(1, dtype=dtype), *_shape_of(model))


def fill(model, value):
    """``value`` broadcast to the shape of ``model``, in ``value``'s dtype (Theano's second)."""
    model = as_tensor_variable(model)
    value = as_tensor_variable(value)
    if value.ndim > model.ndim:
        raise AotcValueError("fill: the value has ndim %d, more than the model's %d%s"
                             % (value.ndim, model.ndim, at_user_line()))
    return Alloc()(value, *_shape_of(model))


second = fill


# ---------------------------------------------------------------------------
# ARange
# ---------------------------------------------------------------------------

class ARange(Op):
    """``np.arange(start, stop, step)`` of a fixed dtype, with scalar inputs."""

    __props__ = ("dtype",)
    c = "c/arange"
    cuda = "cuda/arange"

    def __init__(self, dtype):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, start, stop, step):
        ins = [as_tensor_variable(i) for i in (start, stop, step)]
        for name, i in zip(("start", "stop", "step"), ins):
            if i.ndim != 0 or i.dtype == "bool" or not (is_int(i.dtype) or is_float(i.dtype)):
                raise AotcTypeError("ARange: %s must be a real scalar, got %s of type %s%s"
                                    % (name, i, i.type, at_user_line()))
        if static_int(ins[2]) == 0:
            raise AotcValueError("ARange: step must not be zero%s" % at_user_line())
        return Apply(self, ins, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs):
        start, stop, step = (np.asarray(v).item() for v in inputs)
        if step == 0:
            raise ShapeError("ARange: step must not be zero")
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def infer_shape(self, node, input_shapes):
        vals = [_static_number(i) for i in node.inputs]
        if None in vals:
            return [(None,)]
        start, stop, step = vals
        return [(max(0, int(math.ceil((stop - start) / step))),)]

    def grad(self, node, output_grads):
        if not is_float(self.dtype):
            return [None, None, None]
        from .elemwise import mul
        from .reduce import sum as _sum
        gz = output_grads[0]
        start, _stop, step = node.inputs
        g_start = fit_grad(_sum(gz), start) if is_float(start.dtype) else None
        g_step = None
        if is_float(step.dtype):
            from .subtensor import getitem
            pos = ARange(self.dtype)(0, getitem(shape(gz), 0), 1)
            g_step = fit_grad(_sum(mul(gz, pos)), step)
        return [g_start, None, g_step]


def _static_number(var):
    if isinstance(var, Constant) and var.ndim == 0:
        return var.data.item()
    return None


def arange(start, stop=None, step=1, dtype=None):
    """``T.arange``: like ``np.arange`` with symbolic scalar bounds.

    dtype (when not given) is the NumPy upcast of the inputs' dtypes, where a
    Python number counts as the smallest dtype holding it exactly (Theano's
    rule): ``arange(n)`` is int64 for an int64 ``n`` (``x.shape[0]``), int32 for
    an int32 ``n``.  With Python numbers only, ints give int64 (as NumPy) and
    floats ``config.floatX``.
    """
    if stop is None:
        start, stop = 0, start
    args = (start, stop, step)
    ins = [as_tensor_variable(a) for a in args]
    if dtype is None:
        if any(isinstance(a, Variable) for a in args):
            dtype = upcast(*[i.dtype for i in ins])
        elif all(is_int(i.dtype) for i in ins):
            dtype = "int64"
        else:
            dtype = config.floatX
    return ARange(dtype)(*ins)


# ---------------------------------------------------------------------------
# Join and stack
# ---------------------------------------------------------------------------

class Join(Op):
    """Concatenate tensors of equal ndim along a static ``axis``.

    The dtype is the upcast of the inputs'; all other axes must have equal
    sizes (no broadcasting), else a ShapeError at run time.  The gradient
    splits the output gradient by the inputs' sizes along ``axis``.
    """

    __props__ = ("axis",)
    c = "c/join"
    cuda = "cuda/join"

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, *tensors):
        ts = [as_tensor_variable(t) for t in tensors]
        if not ts:
            raise AotcValueError("Join: nothing to join%s" % at_user_line())
        nd = ts[0].ndim
        for pos, t in enumerate(ts):
            if t.ndim != nd:
                raise AotcTypeError("Join: all inputs need the same ndim; input 0 is %s and "
                                    "input %d is %s%s" % (ts[0].type, pos, t.type, at_user_line()))
        if not 0 <= self.axis < nd:
            raise AotcValueError("Join: axis %d is out of range for inputs of ndim %d%s"
                                 % (self.axis, nd, at_user_line()))
        # sizes off the join axis must agree, so one broadcastable input makes them all 1
        bcast = [any(t.broadcastable[a] for t in ts) for a in range(nd)]
        bcast[self.axis] = False
        return Apply(self, ts, [TensorType(upcast(*[t.dtype for t in ts]), bcast)()])

    def perform(self, node, inputs):
        self._check(inputs[0].shape, [np.shape(v) for v in inputs])
        out = np.concatenate(inputs, axis=self.axis)
        return [out.astype(node.outputs[0].dtype, copy=False)]

    def _check(self, first, shapes):
        for pos, s in enumerate(shapes):
            if any(a != b for k, (a, b) in enumerate(zip(first, s))
                   if k != self.axis and a is not None and b is not None):
                raise ShapeError("Join: all axes except axis %d must agree; input 0 has shape %s "
                                 "and input %d has shape %s" % (self.axis, tuple(first), pos,
                                                                tuple(s)))

    def infer_shape(self, node, input_shapes):
        self._check(input_shapes[0], input_shapes)
        out = list(input_shapes[0])
        sizes = [s[self.axis] for s in input_shapes]
        out[self.axis] = None if None in sizes else sum(sizes)
        return [tuple(out)]

    def grad(self, node, output_grads):
        from .elemwise import add
        from .subtensor import getitem
        gz = output_grads[0]
        grads, start = [], 0
        for t in node.inputs:
            size = 1 if t.broadcastable[self.axis] else getitem(shape(t), self.axis)
            stop = (start + size) if isinstance(start, int) and isinstance(size, int) \
                else add(start, size)
            if is_float(t.dtype):
                idx = (slice(None),) * self.axis + (slice(start, stop),)
                grads.append(fit_grad(getitem(gz, idx), t))
            else:
                grads.append(None)
            start = stop
        return grads


def _static_axis(axis, who):
    if isinstance(axis, Variable):
        k = static_int(axis)
        if k is None:
            raise AotcTypeError("%s: axis must be a Python int (a symbolic axis is not "
                                "supported), got %s%s" % (who, axis, at_user_line()))
        return k
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise AotcTypeError("%s: axis must be an int, got %r%s" % (who, axis, at_user_line()))
    return int(axis)


def join(axis, *tensors_list):
    """``T.join(axis, a, b, ...)``: concatenate along ``axis`` (negative counts from the end).

    A single tensor is returned as is.
    """
    if len(tensors_list) == 1 and isinstance(tensors_list[0], (list, tuple)):
        tensors_list = tuple(tensors_list[0])
    axis = _static_axis(axis, "join")
    ts = [as_tensor_variable(t) for t in tensors_list]
    if not ts:
        raise AotcValueError("join: nothing to join%s" % at_user_line())
    if len(ts) == 1:
        return ts[0]
    nd = ts[0].ndim
    if nd == 0:
        raise AotcTypeError("join: scalars cannot be joined (use stack)%s" % at_user_line())
    if not -nd <= axis < nd:
        raise AotcValueError("join: axis %d is out of range for inputs of ndim %d%s"
                             % (axis, nd, at_user_line()))
    return Join(axis % nd)(*ts)


def concatenate(tensor_list, axis=0):
    """``T.concatenate([a, b], axis=1)``: join along ``axis``.

    >>> concatenate([T.matrix(), T.matrix()], axis=1).ndim
    2
    """
    if not isinstance(tensor_list, (list, tuple)):
        raise AotcTypeError("concatenate: expected a list or tuple of tensors, got %r (did you "
                            "mean concatenate([a, b])?)%s" % (tensor_list, at_user_line()))
    return join(axis, *tensor_list)


def stack(*tensors, axis=0):
    """``T.stack([a, b], axis=0)``: join along a new axis.

    Scalars stacked on axis 0 become one MakeVector (the form symbolic shapes
    take).  ``stack(a, b, c)`` (Theano's old form) is accepted too.
    """
    if len(tensors) >= 1 and isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise AotcTypeError("stack: expected stack(list, axis), got %d arguments%s"
                                % (len(tensors), at_user_line()))
        if len(tensors) == 2:
            axis = tensors[1]
        tensors = tensors[0]
    ts = [as_tensor_variable(t) for t in tensors]
    if not ts:
        raise AotcValueError("stack: nothing to stack%s" % at_user_line())
    nd = ts[0].ndim
    for pos, t in enumerate(ts):
        if t.ndim != nd:
            raise AotcTypeError("stack: all inputs need the same ndim; input 0 is %s and input %d "
                                "is %s%s" % (ts[0].type, pos, t.type, at_user_line()))
    axis = _static_axis(axis, "stack")
    if not -nd - 1 <= axis <= nd:
        raise AotcValueError("stack: axis %d is out of range for inputs of ndim %d%s"
                             % (axis, nd, at_user_line()))
    if axis < 0:
        axis += nd + 1
    if nd == 0:
        return MakeVector(upcast(*[t.dtype for t in ts]))(*ts)
    order = list(range(axis)) + ["x"] + list(range(axis, nd))
    return join(axis, *[dimshuffle(t, order) for t in ts])


OPS = (DimShuffle, Rebroadcast, Shape, MakeVector, Reshape, Alloc, ARange, Join)
