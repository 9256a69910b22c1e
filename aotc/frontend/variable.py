"""Operators and methods of tensor variables (``x + y``, ``x.sum()``, ``x[1:]``, ...)."""
from ..errors import AotcTypeError


def _E():
    from .ops import elemwise
    return elemwise


class TensorVariableMixin:
    """Arithmetic, comparisons, indexing and reductions on symbolic tensors.

    ``==`` and ``!=`` keep Python's identity meaning, as in Theano: use
    ``T.eq`` / ``T.neq`` for elementwise equality.
    """

    __array_priority__ = 1000

    # -- arithmetic ---------------------------------------------------------
    def __add__(self, other): return _E().add(self, other)
    def __radd__(self, other): return _E().add(other, self)
    def __sub__(self, other): return _E().sub(self, other)
    def __rsub__(self, other): return _E().sub(other, self)
    def __mul__(self, other): return _E().mul(self, other)
    def __rmul__(self, other): return _E().mul(other, self)
    def __truediv__(self, other): return _E().true_div(self, other)
    def __rtruediv__(self, other): return _E().true_div(other, self)
    def __floordiv__(self, other): return _E().int_div(self, other)
    def __rfloordiv__(self, other): return _E().int_div(other, self)
    def __mod__(self, other): return _E().mod(self, other)
    def __rmod__(self, other): return _E().mod(other, self)
    def __pow__(self, other): return _E().pow(self, other)
    def __rpow__(self, other): return _E().pow(other, self)
    def __neg__(self): return _E().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _E().abs_(self)
    def __invert__(self): return _E().invert(self)
    def __and__(self, other): return _E().and_(self, other)
    def __rand__(self, other): return _E().and_(other, self)
    def __or__(self, other): return _E().or_(self, other)
    def __ror__(self, other): return _E().or_(other, self)
    def __xor__(self, other): return _E().xor(self, other)
    def __rxor__(self, other): return _E().xor(other, self)

    def __matmul__(self, other):
        from .ops.blas import dot
        return dot(self, other)

    def __rmatmul__(self, other):
        from .ops.blas import dot
        return dot(other, self)

    # -- comparisons (elementwise, bool dtype) --------------------------------
    def __lt__(self, other): return _E().lt(self, other)
    def __le__(self, other): return _E().le(self, other)
    def __gt__(self, other): return _E().gt(self, other)
    def __ge__(self, other): return _E().ge(self, other)

    __hash__ = object.__hash__

    def __bool__(self):
        raise AotcTypeError(
            "a symbolic variable (%s) has no truth value; use T.switch or ifelse for "
            "conditions, T.eq/T.neq for comparisons" % self)

    def __iter__(self):
        raise AotcTypeError("a symbolic variable (%s) cannot be iterated; index it instead" % self)

    def __len__(self):
        raise AotcTypeError("a symbolic variable (%s) has no len(); use .shape[0]" % self)

    # -- shape ----------------------------------------------------------------
    @property
    def shape(self):
        from .ops.shape import shape
        return shape(self)

    @property
    def size(self):
        from .ops.reduce import prod
        return prod(self.shape)

    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return self.dimshuffle(axes)

    def dimshuffle(self, *pattern):
        from .ops.shape import dimshuffle
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return dimshuffle(self, pattern)

    def reshape(self, shape, *more, ndim=None):
        from .ops.shape import reshape
        if more:
            shape = (shape,) + more
        return reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        from .ops.shape import flatten
        return flatten(self, outdim if outdim is not None else ndim)

    def __getitem__(self, index):
        from .ops.subtensor import getitem
        return getitem(self, index)

    def astype(self, dtype):
        return _E().cast(self, dtype)

    # -- reductions -------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        from .ops.reduce import sum as _sum
        return _sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False):
        from .ops.reduce import prod
        return prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        from .ops.reduce import mean
        return mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        from .ops.reduce import max as _max
        return _max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        from .ops.reduce import min as _min
        return _min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        from .ops.reduce import argmax
        return argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        from .ops.reduce import argmin
        return argmin(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False):
        from .ops.reduce import var
        return var(self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, keepdims=False):
        from .ops.reduce import std
        return std(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        from .ops.reduce import all as _all
        return _all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        from .ops.reduce import any as _any
        return _any(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None):
        if L == 1:
            return abs(self).sum(axis=axis)
        if L == 2:
            return _E().sqrt((self ** 2).sum(axis=axis))
        return (abs(self) ** L).sum(axis=axis) ** (1.0 / L)

    def dot(self, other):
        from .ops.blas import dot
        return dot(self, other)

    def nonzero_values(self):
        raise AotcTypeError("nonzero_values is not supported by aotc")

    def clip(self, a_min, a_max):
        return _E().clip(self, a_min, a_max)

    def exp(self): return _E().exp(self)
    def log(self): return _E().log(self)
    def sqrt(self): return _E().sqrt(self)
    def tanh(self): return _E().tanh(self)
