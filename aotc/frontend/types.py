"""Tensor types: a dtype plus a broadcastable pattern (one flag per axis)."""
import numpy as np

from ..config import config
from ..errors import AotcTypeError

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
COMPLEX_DTYPES = ("complex64", "complex128")
ALL_DTYPES = ("bool",) + INT_DTYPES + FLOAT_DTYPES + COMPLEX_DTYPES

_NDIM_NAMES = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4"}


def canonical_dtype(dtype):
    """'floatX' -> config.floatX; numpy dtypes -> their name; anything else is an error."""
    if dtype is None or dtype == "floatX":
        return config.floatX
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in ALL_DTYPES:
        from .graph import user_src_loc
        loc = user_src_loc()
        raise AotcTypeError("unknown dtype: expected one of %s, got %r%s" % (
            ", ".join(ALL_DTYPES), dtype, ("\n  at:   %s" % loc) if loc is not None else ""))
    return name


def upcast(*dtypes):
    """The dtype NumPy's array promotion gives for operands of these dtypes."""
    out = np.dtype(dtypes[0])
    for d in dtypes[1:]:
        out = np.promote_types(out, d)
    return out.name


def is_float(dtype):
    return dtype in FLOAT_DTYPES


def is_int(dtype):
    return dtype in INT_DTYPES or dtype == "bool"


class TensorType:
    """The type of a tensor variable: ``TensorType(dtype, broadcastable)``.

    >>> TensorType('float32', (False, True)).ndim
    2

    Calling a type makes a fresh variable of it: ``TensorType('float64', (False,))('v')``.
    """

    def __init__(self, dtype=None, broadcastable=None, shape=None, name=None):
        if broadcastable is None and shape is not None:
            broadcastable = tuple(s == 1 for s in shape)
        if broadcastable is None:
            raise AotcTypeError("TensorType: expected a broadcastable pattern, got None")
        if isinstance(broadcastable, (str, bytes)) or not hasattr(broadcastable, "__iter__"):
            raise AotcTypeError("TensorType: broadcastable must be a tuple of bools, got %r"
                                % (broadcastable,))
        self.dtype = canonical_dtype(dtype)
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.name = name

    @property
    def ndim(self):
        return len(self.broadcastable)

    def __call__(self, name=None):
        from .graph import TensorVariable, user_src_loc
        var = TensorVariable(self, name=name)
        var.tag.src_loc = user_src_loc()
        return var

    def __eq__(self, other):
        return (type(other) is type(self) and other.dtype == self.dtype
                and other.broadcastable == self.broadcastable)

    def __hash__(self):
        return hash((type(self).__name__, self.dtype, self.broadcastable))

    def clone(self, dtype=None, broadcastable=None):
        return TensorType(self.dtype if dtype is None else dtype,
                          self.broadcastable if broadcastable is None else broadcastable)

    def __str__(self):
        if self.name:
            return self.name
        bc = self.broadcastable
        if not any(bc) and self.ndim in _NDIM_NAMES:
            kind = _NDIM_NAMES[self.ndim]
        elif bc == (True, False):
            kind = "row"
        elif bc == (False, True):
            kind = "col"
        else:
            kind = "(" + ", ".join("True" if b else "False" for b in bc) + ("," if len(bc) == 1 else "") + ")"
        return "TensorType(%s, %s)" % (self.dtype, kind)

    __repr__ = __str__

    # -- run-time conversion -------------------------------------------------
    def filter(self, data, allow_downcast=None, what="value"):
        """Convert ``data`` to an ndarray of this type, with Theano's rules.

        - an ndarray of another dtype is accepted when NumPy upcasting the two
          dtypes gives this type's dtype (lossless), or always with
          ``allow_downcast=True``;
        - a Python float goes into a floatX tensor unless allow_downcast is False;
        - lists and Python scalars are accepted when converting them loses nothing;
        - the rank must match, and broadcastable axes must have length 1.
        """
        if isinstance(data, np.ndarray) and data.dtype.name == self.dtype:
            arr = data
        elif allow_downcast:
            arr = _asarray(data, self.dtype, what)
        elif isinstance(data, np.ndarray):
            src = data.dtype
            if src.kind not in "biufc":
                raise AotcTypeError("%s: expected a numeric array for %s, got dtype %s"
                                    % (what, self, src))
            if upcast(self.dtype, src.name) == self.dtype:
                arr = np.asarray(data, dtype=self.dtype)
            else:
                raise AotcTypeError(
                    "%s: expected dtype %s (type %s), got an array of dtype %s; the "
                    "conversion could lose precision. %s" % (what, self.dtype, self, src,
                                                            _hint(what)))
        elif allow_downcast is None and type(data) is float and self.dtype == config.floatX:
            arr = np.asarray(data, dtype=self.dtype)
        else:
            probe = _asarray_any(data, what)
            arr = _asarray(probe, self.dtype, what)
            if not _same_values(probe, arr):
                raise AotcTypeError(
                    "%s: expected dtype %s (type %s), got %r of dtype %s, which does not "
                    "convert without loss. %s" % (what, self.dtype, self, _short(data),
                                                  probe.dtype, _hint(what)))
        if not arr.dtype.isnative:
            # same dtype name, other byte order (e.g. '>f8'): kernels read native order
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.ndim != self.ndim:
            raise AotcTypeError("%s: wrong number of dimensions: expected %d (type %s), got %d "
                                "with shape %s" % (what, self.ndim, self, arr.ndim, arr.shape))
        for i, (b, s) in enumerate(zip(self.broadcastable, arr.shape)):
            if b and s != 1:
                raise AotcTypeError(
                    "%s: axis %d is broadcastable in type %s and must have length 1, got shape %s"
                    % (what, i, self, arr.shape))
        return arr

    def value_zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)


def _hint(what):
    if what.startswith("function") or "argument" in what:
        return "Cast it, or pass allow_input_downcast=True to function()."
    return "Cast it to the expected dtype first."


def _short(data):
    text = repr(data)
    return text if len(text) < 60 else text[:57] + "..."


def _asarray_any(data, what):
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise AotcTypeError("%s: expected a numeric array, got %s (%s)" % (what, _short(data), e))
    if arr.dtype.kind not in "biufc":
        raise AotcTypeError("%s: expected a numeric array, got %s of dtype %s"
                            % (what, _short(data), arr.dtype))
    return arr


def _asarray(data, dtype, what):
    arr = _asarray_any(data, what)
    with np.errstate(all="ignore"):
        return arr.astype(dtype, copy=False)


def _same_values(a, b):
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))


def broadcast_pattern(*patterns):
    """Output broadcastable flags of an elementwise op (inputs already have equal ndim)."""
    return tuple(all(flags) for flags in zip(*patterns))
