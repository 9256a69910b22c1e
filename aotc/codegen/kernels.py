"""Kernel builders: for each op template, the parameters its C template renders from.

``BUILDERS`` maps an op's ``c`` slot (``"c/elemwise"``) to a function
``(node) -> dict`` of template parameters (strings, ints and tuples only: the
dict becomes part of the frozen Program, and equal dicts share one kernel).
An op whose slot has no builder, or a dtype C has no type for, raises
:class:`NotLowerable`.
"""
from .ctypes_map import supported


class NotLowerable(Exception):
    """The C backend has no kernel for this node (yet)."""


def _check_dtypes(node):
    for v in list(node.inputs) + list(node.outputs):
        if not supported(v.dtype):
            raise NotLowerable("%s: dtype %s has no C type" % (node.op, v.dtype))


def c_string(text):
    """``text`` as the inside of a C string literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t").replace("??", "?\\?"))


def elemwise(node):
    """One elementwise node: the one-entry case of the fused elementwise loop.

    See kernels_fused.py: a strided, broadcasting loop with unit-stride fast
    paths (vectorized on AVX2/AVX-512 for float ops that have a vector form).
    """
    from .kernels_fused import fused_elemwise
    return fused_elemwise(node)


def _all_builders():
    from . import kernels_fused, kernels_index, kernels_random, kernels_reduce, kernels_shape
    out = {"c/elemwise": elemwise}
    for mod in (kernels_shape, kernels_index, kernels_reduce, kernels_fused, kernels_random):
        out.update(mod.BUILDERS)
    return out


BUILDERS = None


def build_params(node):
    _check_dtypes(node)
    global BUILDERS
    if BUILDERS is None:
        BUILDERS = _all_builders()
    slot = getattr(node.op, "c", None)
    fn = BUILDERS.get(slot)
    if fn is None:
        raise NotLowerable("%s: no C kernel for template %r" % (node.op, slot))
    return slot, fn(node)
