"""Typed constructors: ``scalar``, ``fmatrix``, ``lvector``, ``row``, ``matrices``, ..."""
from ..errors import AotcTypeError
from .types import TensorType, canonical_dtype

__all__ = []

_RANKS = {"scalar": (), "vector": (False,), "matrix": (False, False),
          "tensor3": (False,) * 3, "tensor4": (False,) * 4, "tensor5": (False,) * 5,
          "tensor6": (False,) * 6, "tensor7": (False,) * 7,
          "row": (True, False), "col": (False, True)}
_PREFIX = {"": None, "f": "float32", "d": "float64", "i": "int32", "l": "int64",
           "b": "int8", "w": "int16", "c": "complex64", "z": "complex128"}


def _make(kind, fixed_dtype):
    bcast = _RANKS[kind]

    def ctor(name=None, dtype=None):
        if fixed_dtype is not None and dtype is not None and canonical_dtype(dtype) != fixed_dtype:
            raise AotcTypeError("%s: dtype is fixed to %s, got dtype=%r"
                                % (ctor.__name__, fixed_dtype, dtype))
        if name is not None and not isinstance(name, str):
            raise AotcTypeError("%s: name must be a string, got %r" % (ctor.__name__, name))
        return TensorType(fixed_dtype or dtype, bcast)(name)

    def plural(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            return [ctor(dtype=dtype) for _ in range(names[0])]
        return [ctor(n, dtype=dtype) for n in names]
    return ctor, plural


for _p, _dt in _PREFIX.items():
    for _kind in _RANKS:
        _name = _p + _kind
        _ctor, _plural = _make(_kind, _dt)
        _ctor.__name__ = _name
        _ctor.__doc__ = ("A symbolic %s of dtype %s: ``%s('x')``."
                         % (_kind, _dt or "config.floatX (or dtype=)", _name))
        _plural.__name__ = _name + ("es" if _kind == "matrix" and False else "s")
        globals()[_name] = _ctor
        __all__.append(_name)
        _pl = (_p + "matrices") if _kind == "matrix" else (_name + "s")
        _plural.__name__ = _pl
        globals()[_pl] = _plural
        __all__.append(_pl)


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic tensor of an explicit type: ``tensor('float32', (False, True))``."""
    return TensorType(dtype, broadcastable, shape=shape)(name)


__all__.append("tensor")
