"""The op table: every op class and scalar op aotc knows, in one walkable list.

Nothing registers itself: the tuples below are the table.  ``tests/ops``
walks them and fails when an op lacks a facet (reference, shape rule,
gradient or an explicit ``differentiable = False``, C and CUDA slots).
"""
from . import elemwise, shape, subtensor, reduce, blas, nnet  # noqa: F401


def op_classes():
    """Every Op class of the tensor language (elementwise ops are one class)."""
    from ..printing import PrintOp
    classes = [elemwise.Elemwise]
    for mod in (shape, subtensor, reduce, blas, nnet):
        classes.extend(mod.OPS)
    classes.append(PrintOp)
    from .. import scan as _scan
    classes.extend(_scan.OPS)
    return classes


def scalar_ops():
    """Every scalar op the Elemwise class maps."""
    return elemwise.SCALAR_OPS
