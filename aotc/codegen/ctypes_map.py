"""C types of aotc dtypes, and C text for scalar expressions."""
import re

import numpy as np

C_TYPE = {"bool": "npy_bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
          "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
          "uint64": "uint64_t", "float32": "float", "float64": "double"}
SUFFIX = {"bool": "u8", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
          "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "float32": "f32",
          "float64": "f64"}
NPY_TYPE = {"bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
            "int64": "NPY_INT64", "uint8": "NPY_UINT8", "uint16": "NPY_UINT16",
            "uint32": "NPY_UINT32", "uint64": "NPY_UINT64", "float32": "NPY_FLOAT32",
            "float64": "NPY_FLOAT64"}
_MATH = ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "tanh", "sin", "cos", "floor",
         "ceil", "nearbyint", "pow", "fabs", "rint", "fmod")
_MATH_RE = re.compile(r"\b(%s)\(" % "|".join(_MATH))
_AOTC_RE = re.compile(r"\baotc_(\w+)\(")


def itemsize(dtype):
    return np.dtype(dtype).itemsize


def supported(dtype):
    return dtype in C_TYPE


def _ifloat(dtype):
    return dtype in ("float32", "float64")


def scalar_c(sop, compute_dtype, operands):
    """C text of ``sop`` applied to ``operands`` (C expressions already of compute_dtype)."""
    name = sop.name
    a = operands
    is_f = _ifloat(compute_dtype)
    if name == "abs":
        return ("fabsf(%s)" if compute_dtype == "float32" else "fabs(%s)") % a[0] if is_f \
            else "((%s) < 0 ? -(%s) : (%s))" % (a[0], a[0], a[0])
    if name == "sgn":
        if is_f:
            return "((%s) > 0 ? 1 : ((%s) < 0 ? -1 : (%s)))" % (a[0], a[0], a[0])
        return "(((%s) > 0) - ((%s) < 0))" % (a[0], a[0])
    if name == "invert":
        return "(!(%s))" % a[0] if compute_dtype == "bool" else "(~(%s))" % a[0]
    if name == "pow" and not is_f:
        return "aotc_ipow_%s(%s, %s)" % (SUFFIX[compute_dtype], a[0], a[1])
    if name == "true_div" and not is_f:
        raise AssertionError("true_div computes in a float type")
    text = sop.c.format(*["(%s)" % x for x in a])
    suf = SUFFIX[compute_dtype]
    text = _AOTC_RE.sub(lambda m: "aotc_%s_%s(" % (m.group(1), suf), text)
    if compute_dtype == "float32":
        text = _MATH_RE.sub(lambda m: m.group(1) + "f(", text)
    return text
