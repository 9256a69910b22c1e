"""Package a built model as a wheel: ``aotc build MODEL.py --wheel``.

The wheel holds one package, NAME:

    NAME/__init__.py      re-exports the compiled module's functions, ``shared``,
                          ``save_params``, ``load_params``, ``__aotc__``, and the
                          names of the model's declared Python extras
    NAME/_core<ext>.so    the compiled module, built as NAME with ``_core`` as a second
                          import name (one build serves ``-o`` and the wheel)
    NAME/_core.pyi        its stubs
    NAME/build.json       the build manifest
    NAME/<extras>         files the model declares in ``__aotc_wheel_extras__``:
                          a list of paths relative to MODEL.py, or a dict
                          {name in the package: path}.  ``.py`` extras are
                          imported by ``__init__`` (``from .extra import *``),
                          so plain-Python helpers (a tokenizer, say) ship with
                          the model; other files are data beside them.

It needs only NumPy at run time (``Requires-Dist: numpy``).  The archive is
deterministic: sorted entries, fixed timestamps and permissions.
"""
import base64
import hashlib
import os
import sys
import sysconfig
import zipfile

import numpy as np

from .. import __version__
from ..codegen.render import render_template
from ..errors import AotcValueError
from . import compiler

_EPOCH = (1980, 1, 1, 0, 0, 0)


class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def wheel_tag():
    """cpXY-cpXY-<platform> for this interpreter."""
    impl = "cp%d%d" % sys.version_info[:2]
    abi = impl + (sysconfig.get_config_var("ABIFLAGS") or "")
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s-%s-%s" % (impl, abi, plat)


def normalize_extras(declared, model_dir):
    """[(name in the package, absolute source path)] from ``__aotc_wheel_extras__``."""
    if declared is None:
        return []
    if isinstance(declared, dict):
        items = list(declared.items())
    elif isinstance(declared, (list, tuple)):
        items = [(os.path.basename(p), p) for p in declared]
    else:
        raise AotcValueError("__aotc_wheel_extras__: expected a list of paths or a dict "
                             "{name: path}, got %r" % (declared,))
    out, seen = [], set()
    for dest, src in items:
        if not isinstance(dest, str) or not isinstance(src, str):
            raise AotcValueError("__aotc_wheel_extras__: expected str names and paths, got "
                                 "%r: %r" % (dest, src))
        if "/" in dest or "\\" in dest or dest.startswith(".") or dest in seen or \
                dest.startswith("_core") or dest in ("__init__.py", "build.json"):
            raise AotcValueError("__aotc_wheel_extras__: %r is not a usable file name in the "
                                 "package" % dest)
        if dest.endswith(".py") and not dest[:-3].isidentifier():
            raise AotcValueError("__aotc_wheel_extras__: %r must be a module name" % dest)
        path = src if os.path.isabs(src) else os.path.join(model_dir, src)
        if not os.path.isfile(path):
            raise AotcValueError("__aotc_wheel_extras__: %s (for %s) does not exist"
                                 % (path, dest))
        seen.add(dest)
        out.append((dest, path))
    return sorted(out)


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(name, built, extras, dist_dir, version="0.1.0", summary=None):
    """Write the wheel for package ``name`` from ``built`` (build_module's result for the
    module built with ``init_aliases=("_core",)``) and ``extras``; returns the wheel's path."""
    if "_core" not in built.get("init_aliases", ()):
        raise AotcValueError("build_wheel: the module %s was built without the import name "
                             "_core (build_module(..., init_aliases=('_core',))), so the "
                             "package could not import it" % built.get("so"))
    files = {}
    with open(built["so"], "rb") as f:
        files["%s/_core%s" % (name, compiler.ext_suffix())] = f.read()
    with open(built["pyi"], "rb") as f:
        files["%s/_core.pyi" % name] = f.read()
    with open(built["manifest"], "rb") as f:
        files["%s/build.json" % name] = f.read()
    modules = []
    for dest, path in extras:
        with open(path, "rb") as f:
            files["%s/%s" % (name, dest)] = f.read()
        if dest.endswith(".py"):
            modules.append(dest[:-3])
    files["%s/__init__.py" % name] = render_template(
        "pymodule/package_init.py.j2",
        m=_NS(name=name, version=__version__, modules=modules)).encode()
    dist = "%s-%s.dist-info" % (name, version)
    files[dist + "/METADATA"] = (
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: ==%d.%d.*\n"
        "Requires-Dist: numpy>=%s\n" % (name, version, summary or "A model compiled by aotc",
                                        sys.version_info[0], sys.version_info[1],
                                        np.__version__.split(".")[0] + ".0")).encode()
    files[dist + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: aotc %s\nRoot-Is-Purelib: false\n"
                              "Tag: %s\n" % (__version__, wheel_tag())).encode()
    files[dist + "/top_level.txt"] = (name + "\n").encode()
    record = "".join("%s,%s,%d\n" % (p, _record_hash(d), len(d)) for p, d in sorted(files.items()))
    files[dist + "/RECORD"] = (record + dist + "/RECORD,,\n").encode()
    os.makedirs(dist_dir, exist_ok=True)
    path = os.path.join(dist_dir, "%s-%s-%s.whl" % (name, version, wheel_tag()))
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(files):
            info = zipfile.ZipInfo(p, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if p.endswith(".so") else 0o644) << 16
            zf.writestr(info, files[p])
    os.replace(tmp, path)
    return path
