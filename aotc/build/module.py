"""``aotc build``'s module builder: exported functions -> NAME<ext>.so, NAME.pyi, NAME.build.json.

    result = build_module("logreg", [("predict", f1), ("train_step", f2)], out_dir="build")

Each exported ``aotc.function`` is optimized (aotc.passes), all are lowered
together into one Program (kernels shared between functions), rendered,
compiled through the build cache and copied into ``out_dir``.  The shared
variables' values (their current values, or those of ``params``, an .npz
file) are embedded in the module as one binary blob placed beside the C
source and assembled in (``.incbin``), so large weights cost no C parsing.

Everything written is deterministic: the same model and options give
byte-identical sources, stubs and manifest (no timestamps, no absolute paths).
"""
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np

from .. import __version__
from ..codegen.kernels import NotLowerable
from ..codegen.lower import FunctionSpec, lower
from ..codegen.render import graph_hash, render, render_template
from ..config import config
from ..errors import AotcError, AotcTypeError, AotcValueError
from ..passes import optimize
from . import compiler

BLOB_ALIGN = 64


class BuildFailed(AotcError, RuntimeError):
    """A model could not be built; the message names the function and the node."""


class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _arg_name(k, i):
    import keyword
    name = i.name
    if isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name):
        return name
    return "arg%d" % k


def function_spec(fname, fn, trace):
    """(FunctionSpec, optimized outputs) for the aotc.function ``fn`` exported as ``fname``."""
    fg = fn.fgraph
    outs = optimize(fg.outputs, trace, stateless=not fg.updates)
    n = len(fg.user_outputs)
    names = [_arg_name(k, i) for k, i in enumerate(fn.ins)]
    seen = {}
    for k, nm in enumerate(names):
        if nm in seen:
            raise BuildFailed("function %s: two arguments are named %r (arguments %d and %d); "
                              "name them apart (aotc.In(x, name=...))" % (fname, nm, seen[nm], k))
        seen[nm] = k
    args = [(names[k], i.variable, i.has_default,
             np.asarray(i.value) if i.has_default else None) for k, i in enumerate(fn.ins)]
    spec = FunctionSpec(fname, args, outs[:n],
                        [(s, u) for (s, _), u in zip(fg.updates, outs[n:])], single=fn.single)
    return spec, outs


def _param_values(shared_vars, params):
    """Values to embed, per shared slot: the variable's value, or the .npz's by name."""
    values = [s.container.value for s in shared_vars]
    if params is None:
        return values
    try:
        data = np.load(params, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise BuildFailed("--params %s: not a readable .npz file (%s)" % (params, e))
    with data:
        by_name = {}
        for k, s in enumerate(shared_vars):
            by_name.setdefault(s.name, []).append(k)
        unknown = sorted(n for n in data.files if n not in by_name)
        if unknown:
            raise BuildFailed("--params %s: %s name%s no shared variable of the model (it has: %s)"
                              % (params, ", ".join(unknown), "s" if len(unknown) == 1 else "",
                                 ", ".join(sorted(n for n in by_name if n)) or "none"))
        for name in data.files:
            what = "--params %s: array %r" % (params, name)
            try:
                array = data[name]
            except (OSError, ValueError) as e:
                raise BuildFailed("%s: cannot be read (%s)" % (what, e))
            for k in by_name[name]:
                s = shared_vars[k]
                try:
                    values[k] = s.type.filter(array, allow_downcast=False, what=what)
                except (TypeError, ValueError) as e:
                    raise BuildFailed(str(e))
                old = s.container.value
                if old is not None and np.shape(values[k]) != np.shape(old):
                    raise BuildFailed("%s: shape %s does not match the model's %s, whose shape is "
                                      "%s" % (what, np.shape(values[k]), name, np.shape(old)))
    return values


def _blob(program, values, blob_name):
    """(bytes, (file name, offsets, shapes)) holding every shared value, 64-byte aligned."""
    parts, offsets, shapes, pos = [], [], [], 0
    for slot, value in zip(program.shared, values):
        if value is None:
            offsets.append(-1)
            shapes.append(())
            continue
        # (np.ascontiguousarray would turn a 0-d value into shape (1,))
        arr = np.array(value, dtype=slot.dtype, order="C")
        pad = (-pos) % BLOB_ALIGN
        parts.append(b"\0" * pad)
        pos += pad
        offsets.append(pos)
        shapes.append(tuple(int(d) for d in arr.shape))
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        parts.append(data)
        pos += len(data)
    return b"".join(parts), (blob_name, tuple(offsets), tuple(shapes))


def _signature(f, spec):
    return {
        "args": [{"name": a.name, "dtype": a.dtype, "ndim": a.ndim,
                  "broadcastable": list(a.broadcastable),
                  "default": np.asarray(a.default).tolist() if a.has_default else None}
                 for a in f.args],
        "outputs": [{"dtype": o.dtype, "ndim": o.ndim} for o in spec.outputs],
        "single": f.single,
        "updates": [u[0].name for u in spec.updates],
        "graph_hash": hashlib.sha256(f.graph_text.encode()).hexdigest()[:16],
    }


def _manifest(name, program, specs, trace, shared_vars, params):
    fired = {}
    for rule, _, _ in trace:
        fired[rule] = fired.get(rule, 0) + 1
    return {
        "aotc_version": __version__,
        "module": name,
        "target": "cpu",
        "graph_hash": graph_hash(program),
        "compiler": compiler.compiler_identity(),
        "flags": list(compiler.CFLAGS),
        "python_abi": compiler.ext_suffix(),
        "floatX": config.floatX,
        "rewrites": dict(sorted(fired.items())),
        "functions": {f.name: _signature(f, spec) for f, spec in zip(program.functions, specs)},
        "shared": {s.name: {"dtype": s.dtype, "broadcastable": list(s.broadcastable)}
                   for s in program.shared},
        "params": os.path.basename(params) if params else None,
    }


def _stub_text(name, program, specs):
    funcs = []
    for f, spec in zip(program.functions, specs):
        params = ", ".join("%s: ArrayLike%s" % (a.name, " = ..." if a.has_default else "")
                           for a in f.args)
        ret = "np.ndarray" if f.single else "List[np.ndarray]"
        # the notation of the module's own docstrings: x: float64[:, :] is a matrix
        doc = "%s(%s) -> %s" % (f.name, ", ".join(
            "%s: %s[%s]" % (a.name, a.dtype, ", ".join(":" for _ in range(a.ndim)))
            for a in f.args), ret)
        funcs.append(_NS(name=f.name, params=params, ret=ret, doc=doc.replace('"', "'")))
    return render_template("pymodule/stub.pyi.j2", m=_NS(name=name, version=__version__,
                                                        functions=funcs))


def _publish(src, dest):
    """Copy ``src`` to ``dest`` atomically (a reader never sees a partial file)."""
    folder = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o755 if dest.endswith(".so") else 0o644)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_text(text, dest):
    folder = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


def prepare(name, exports, params=None, trace=None, progress=None, init_aliases=()):
    """Optimize, lower and render: (sources, files, program, manifest, stub text)."""
    progress = progress or (lambda msg: None)
    trace = [] if trace is None else trace
    specs = []
    for fname, fn in exports:
        if not fname.isidentifier():
            raise BuildFailed("exported name %r is not a Python identifier" % (fname,))
        progress("optimizing %s" % fname)
        specs.append(function_spec(fname, fn, trace)[0])
    progress("lowering %d function%s" % (len(specs), "" if len(specs) == 1 else "s"))
    try:
        program, shared_vars = lower(name, specs)
    except NotLowerable as e:
        raise BuildFailed("cannot compile %s: %s" % (_which_function(name, specs, e), e))
    values = _param_values(shared_vars, params)
    blob_bytes, blob = _blob(program, values, name + ".blob")
    manifest = _manifest(name, program, specs, trace, shared_vars, params)
    progress("rendering C")
    sources = render(program, manifest=manifest, floatx=config.floatX,
                     allow_downcast={fname: fn.allow_input_downcast for fname, fn in exports},
                     blob=blob, init_aliases=init_aliases)
    files = {name + ".blob": blob_bytes} if program.shared else {}
    return sources, files, program, manifest, _stub_text(name, program, specs)


def _which_function(name, specs, err):
    for spec in specs:
        try:
            lower(name, [spec])
        except NotLowerable:
            return "function %s" % spec.name
    return "module %s" % name


def build_module(name, exports, out_dir="build", params=None, trace=None, progress=None,
                 emit=None, echo=print, init_aliases=()):
    """Build the module ``name`` from ``exports`` ([(name, aotc.function)]) into ``out_dir``.

    Returns {"so", "pyi", "manifest", "name", "init_aliases"}, or None with ``emit``
    ('graph', 'opt' or 'c'), which prints that stage instead of building.
    ``init_aliases``: more names the .so can be imported under, as a file renamed
    ``<alias><ext>`` (a wheel's package holds the module as ``_core``).
    """
    from ..frontend.printing import debugprint
    progress = progress or (lambda msg: None)
    trace = [] if trace is None else trace
    for alias in init_aliases:
        if not isinstance(alias, str) or not alias.isidentifier() or alias == name:
            raise AotcValueError("init_aliases: expected Python identifiers other than the "
                                 "module's name %r, got %r" % (name, alias))
    if len(set(init_aliases)) != len(init_aliases):
        raise AotcValueError("init_aliases: %r names an alias twice" % (list(init_aliases),))
    for fname, fn in exports:
        if not hasattr(fn, "fgraph"):
            raise AotcTypeError("export %r: expected an aotc.function, got %r" % (fname, fn))
    if emit == "graph":
        for fname, fn in exports:
            echo("# %s\n%s" % (fname, debugprint(fn, file="str", print_type=True)))
        return None
    if emit == "opt":
        for fname, fn in exports:
            outs = function_spec(fname, fn, trace)[1]
            echo("# %s\n%s" % (fname, debugprint(outs, file="str", print_type=True)))
        return None
    sources, files, program, manifest, stub = prepare(name, exports, params, trace, progress,
                                                      init_aliases)
    if emit == "c":
        for path in sorted(sources):
            echo(sources[path])
        return None
    if emit is not None:
        raise AotcValueError("emit: expected graph, opt or c, got %r" % (emit,))
    built = compiler.build(sources, name, files=files, progress=progress)
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, name + compiler.ext_suffix())
    pyi = os.path.join(out_dir, name + ".pyi")
    man = os.path.join(out_dir, name + ".build.json")
    progress("writing %s" % so)
    _publish(built, so)
    _write_text(stub, pyi)
    _write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", man)
    return {"so": so, "pyi": pyi, "manifest": man, "name": name,
            "init_aliases": tuple(init_aliases)}
