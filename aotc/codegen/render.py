"""Rendering: a Program -> Sources ({relative path: text}) through the Jinja2 templates.

Templates only loop and substitute: every string, number and decision they
use is computed here.  The output is deterministic: names come from positions,
tables are written in Program order, nothing depends on hashing or addresses.
"""
import hashlib
import json
import os

import jinja2
import numpy as np

from .. import __version__
from .ctypes_map import C_TYPE, itemsize
from .kernels import c_string

_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
_ENV = None

NPY_NUM = {"bool": 0, "int8": 1, "uint8": 2, "int16": 3, "uint16": 4, "int32": 5, "uint32": 6,
           "int64": 7, "uint64": 8, "float32": 11, "float64": 12}


def env():
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES), undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    return _ENV


def render_template(name, **ctx):
    return env().get_template(name).render(**ctx)


class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _const_values(slot):
    arr = np.frombuffer(slot.data, dtype=slot.dtype) if slot.data else np.zeros(0, slot.dtype)
    if arr.size == 0:
        return "0", 1
    if slot.dtype == "bool":
        vals = ["1" if v else "0" for v in arr]
    elif slot.dtype.startswith("float"):
        vals = []
        for v in arr.tolist():
            if np.isnan(v):
                vals.append("NAN")
            elif np.isinf(v):
                vals.append("INFINITY" if v > 0 else "-INFINITY")
            else:
                vals.append(float(v).hex())
    elif slot.dtype == "int64":
        vals = ["INT64_C(%d)" % v for v in arr.tolist()]
    elif slot.dtype == "uint64":
        vals = ["UINT64_C(%d)" % v for v in arr.tolist()]
    else:
        vals = [str(int(v)) for v in arr.tolist()]
    return ", ".join(vals), arr.size


def graph_hash(program):
    return hashlib.sha256(program.as_text().encode()).hexdigest()[:16]


_RUNTIME = {}


def _runtime_text(kernel_text):
    """The C runtime (dispatch, pool, vector math, GEMM: only the parts ``kernel_text``
    calls), then tensors and the call path."""
    from .runtime import needs, render_runtime_source
    key = needs(kernel_text)
    if key not in _RUNTIME:
        _RUNTIME[key] = "\n".join([render_runtime_source(*key)] + [render_template(t) for t in (
            "c/tensor.c.j2", "c/support_shape.c.j2", "c/support_index.c.j2",
            "c/support_reduce.c.j2", "c/call.c.j2")])
    return _RUNTIME[key]


def _pysrc(program, ghash, manifest, floatx, allow_downcast, blob):
    funcs = []
    for f in program.functions:
        names = [a.name for a in f.args]
        sig = []
        for k, a in enumerate(f.args):
            sig.append("%s=_F%d_DEFAULTS[%d]" % (a.name, f.index, k) if a.has_default else a.name)
        defaults = tuple(np.asarray(a.default).tolist() if a.has_default else None for a in f.args)
        doc = "%s(%s) -> %s" % (f.name, ", ".join(
            "%s: %s%s" % (a.name, a.dtype, _ndim_text(a.ndim)) for a in f.args),
            "array" if f.single else "list of %d arrays" % f.n_user_outputs)
        funcs.append(_NS(
            index=f.index, name=f.name, name_lit=repr(f.name),
            arg_specs=repr(tuple((a.name, a.dtype, a.broadcastable) for a in f.args)),
            defaults=repr(defaults),
            steps=repr(tuple((s.op, s.types, s.src) for s in f.steps)),
            signature=", ".join(sig), doc=doc.replace('"', "'"),
            shared_slots=repr(tuple(slot for slot, _ in f.shared)),
            single=repr(f.single), updates=repr(f.updates), n_user=f.n_user_outputs, n_outs=len(f.outputs),
            allow_downcast=repr(allow_downcast.get(f.name)),
            arg_names="".join(n + ", " for n in names)))
    specs = []
    for k, s in enumerate(program.shared):
        if blob is not None:
            specs.append((s.name, s.dtype, s.broadcastable, blob[1][k], blob[2][k]))
        else:
            specs.append((s.name, s.dtype, s.broadcastable, -1, ()))
    m = _NS(name=program.name, version=__version__, graph_hash=ghash,
            # a Python literal (keys sorted, ASCII): the module need not import json
            manifest_lit=ascii(json.loads(json.dumps(manifest, sort_keys=True))),
            floatx_lit=repr(floatx),
            shared_specs=repr(tuple(specs)), functions=funcs)
    return render_template("pymodule/runtime.py.j2", m=m)


def _ndim_text(n):
    return "[%s]" % ", ".join(":" for _ in range(n)) if n else "[]"


def render(program, manifest=None, floatx="float64", allow_downcast=None, blob=None,
           init_aliases=()):
    """Sources for ``program``: ``{'<name>.c': text}``.

    ``init_aliases``: more names the module can be imported under (each gets a
    ``PyInit_<alias>`` that is ``PyInit_<name>``).

    ``blob`` = (file name, offsets, shapes): the shared variables' initial values,
    assembled into the module from that file (placed beside the C source).
    """
    ghash = graph_hash(program)
    kernels = [render_template(k.template + ".c.j2", k=_kernel_ns(k)) for k in program.kernels]
    consts = []
    for slot_index, slot in enumerate(program.consts):
        values, count = _const_values(slot)
        consts.append(_NS(slot=slot_index, ctype=C_TYPE[slot.dtype], count=count, values=values,
                          shape=", ".join(str(s) for s in slot.shape) or "0",
                          shape_len=max(1, len(slot.shape))))
    funcs = []
    for f in program.functions:
        cvars = []
        for c in f.consts:
            var = f.vars[c.var]
            cvars.append(_NS(var=c.var, slot=c.slot, ndim=var.ndim, itemsize=itemsize(var.dtype)))
        steps = [_NS(index=s.index, kernel=s.kernel, donate=s.donate,
                     overwrite=", ".join("%d, %d, %d" % w for w in s.overwrite),
                     n_ow=len(s.overwrite),
                     ins=", ".join("&v[%d]" % i for i in s.inputs) or "NULL",
                     outs=", ".join("&v[%d]" % o for o in s.outputs) or "NULL",
                     releases=[_NS(var=v, step=st) for v, st in s.releases])
                 for s in f.steps]
        funcs.append(_NS(
            index=f.index, name=f.name, consts=cvars, steps=steps, nvars=len(f.vars),
            nargs=len(f.args), nshared=len(f.shared), nouts=len(f.outputs),
            var_types=", ".join(str(NPY_NUM[v.dtype]) for v in f.vars) or "0",
            var_ndims=", ".join(str(v.ndim) for v in f.vars) or "0",
            arg_vars=", ".join(str(a.var) for a in f.args) or "0",
            shared_vars=", ".join(str(v) for _, v in f.shared) or "0",
            out_vars=", ".join(str(o) for o in f.outputs) or "0"))
    manifest = dict(manifest or {})
    manifest.setdefault("graph_hash", ghash)
    pysrc = _pysrc(program, ghash, manifest, floatx, allow_downcast or {}, blob)
    m = _NS(name=program.name, version=__version__, graph_hash=ghash,
            runtime=_runtime_text("\n".join(kernels)), consts=consts, kernels=kernels, functions=funcs,
            pysrc_lines=[c_string(line + "\n") for line in pysrc.split("\n")],
            blob=c_string(blob[0]) if blob is not None and program.shared else "",
            init_aliases=list(init_aliases))
    return {program.name + ".c": render_template("c/module.c.j2", m=m)}


def _kernel_ns(k):
    ns = _NS(name=k.name)
    for key, value in k.params.items():
        setattr(ns, key, value)
    return ns
