"""Compile Sources into a CPython extension module, through a content-addressed cache.

    path = build(sources, "mymod")          # {relative path: text} -> .../mymod.cpython-311-....so
    module = load(path, "mymod")

The cache lives in ``aotc.config.compiledir``.  Its key is the sha256 of the
sources (and any binary files placed beside them), the module name, the
compiler's identity, the flags, the Python and NumPy ABI and the aotc version:
change any of them and the module is rebuilt.

Publication is atomic: a build happens in a private temporary folder inside
the cache, and the finished folder is renamed into place.  Two processes
building the same key at once both succeed (the loser of the rename uses the
winner's module, which is byte-for-byte the same build); a failed or killed
build leaves only a temporary folder, never a path that ``build`` would
return.  There is no lock file that could go stale.

The compiler is the system C compiler (``cc``, or ``gcc``), called directly:
a generated module is one C file, so setuptools would only add start-up time.
The code is compiled for baseline x86-64; wider instruction sets are reached
through per-function target attributes and run-time dispatch (runtime_core).
"""
import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sysconfig
import tempfile

from .. import __version__
from ..config import config
from ..errors import AotcError

#: Flags every module is compiled with.  -O2 keeps IEEE semantics (no -ffast-math);
#: hidden visibility exports only PyInit_<name>.  A call to an undeclared function is
#: an error (gnu11 would only warn, and the module would then fail at import with an
#: undefined symbol instead of failing its build).
CFLAGS = ("-O2", "-fPIC", "-std=gnu11", "-fno-strict-aliasing", "-fvisibility=hidden",
          "-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable",
          "-Wno-maybe-uninitialized", "-Werror=implicit-function-declaration")
LDFLAGS = ("-shared", "-lm", "-lpthread")


class BuildError(AotcError, RuntimeError):
    """The C compiler rejected generated code (an aotc bug) or could not run."""


@functools.lru_cache(maxsize=None)
def find_compiler():
    """The C compiler to use: ``cc`` or ``gcc`` on PATH."""
    for name in ("cc", "gcc"):
        path = shutil.which(name)
        if path:
            return path
    raise BuildError("no C compiler found: aotc needs cc or gcc on PATH to build modules "
                     "(a built module needs none to run)")


@functools.lru_cache(maxsize=None)
def compiler_identity():
    """The compiler's version line: part of every cache key and of the manifest."""
    cc = find_compiler()
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise BuildError("the C compiler %s does not run: %s" % (cc, e))
    return out.splitlines()[0].strip() if out else os.path.basename(cc)


def ext_suffix():
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def include_dirs():
    import numpy as np
    return (sysconfig.get_paths()["include"], np.get_include())


def cache_key(sources, name, extra_flags=(), files=None):
    """sha256 (hex) of everything that determines the built module."""
    import numpy as np
    h = hashlib.sha256()

    def put(tag, data):
        data = data if isinstance(data, bytes) else str(data).encode()
        h.update(("%s %d\n" % (tag, len(data))).encode())
        h.update(data)

    put("aotc", __version__)
    put("name", name)
    put("compiler", compiler_identity())
    put("flags", " ".join(CFLAGS + tuple(extra_flags) + LDFLAGS))
    put("python", ext_suffix())
    put("numpy", np.lib.NumpyVersion(np.__version__).version.split(".")[0])
    for path in sorted(sources):
        put("source " + path, sources[path])
    for path in sorted(files or {}):
        put("file " + path, files[path])
    return h.hexdigest()


def cache_root():
    return os.path.abspath(os.path.expanduser(config.compiledir))


def build(sources, name, extra_flags=(), files=None, progress=None):
    """Build (or find in the cache) the module ``name`` from ``sources``; returns the .so path.

    ``sources``: {relative path: text}, exactly one ``.c`` file; ``files``:
    {relative path: bytes} placed beside them (e.g. the shared values' blob).
    """
    if not name.isidentifier():
        raise BuildError("module name %r is not a Python identifier" % (name,))
    c_files = sorted(p for p in sources if p.endswith(".c"))
    if len(c_files) != 1:
        raise BuildError("expected exactly one .c source, got %s" % (c_files,))
    key = cache_key(sources, name, extra_flags, files)
    root = cache_root()
    final = os.path.join(root, key[:2], key)
    so_name = name + ext_suffix()
    so_path = os.path.join(final, so_name)
    if os.path.exists(so_path):
        return so_path
    os.makedirs(os.path.dirname(final), exist_ok=True)
    work = tempfile.mkdtemp(prefix="tmp-" + key[:12] + "-", dir=os.path.dirname(final))
    try:
        for rel, text in list(sources.items()) + list((files or {}).items()):
            dest = os.path.join(work, rel)
            with open(dest, "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode())
        if progress:
            progress("compiling %s (%d kB of C)" % (name, len(sources[c_files[0]]) // 1024))
        err = _cc(c_files[0], so_name, extra_flags, include_dirs(), cwd=work)
        if err is not None:
            kept = _keep_failed(work, key)
            raise BuildError("compiling module %s failed (an aotc bug: please report it with "
                             "the sources kept in %s):\n%s" % (name, kept, err))
        try:
            os.rename(work, final)
        except OSError:
            # Another process published the same key first: use its build.
            if not os.path.exists(so_path):
                raise
            shutil.rmtree(work, ignore_errors=True)
        return so_path
    except BaseException:
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)
        raise


def _keep_failed(work, key):
    """Move a failed build's folder aside (never where build() would look) for a bug report."""
    dest = os.path.join(cache_root(), "failed", key[:16])
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.rmtree(dest, ignore_errors=True)
    try:
        os.rename(work, dest)
    except OSError:
        return work
    return dest


def _cc(src, out, extra_flags=(), includes=(), cwd=None):
    """Compile C file ``src`` into shared library ``out``; None, or the compiler's last
    40 lines of complaint."""
    cmd = [find_compiler(), *CFLAGS, *extra_flags, *("-I" + d for d in includes), src,
           "-o", out, *LDFLAGS]
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if res.returncode == 0:
        return None
    return "\n".join(res.stderr.strip().splitlines()[-40:])


def load(path, name):
    """Import the extension module at ``path`` under ``name`` (not entered in sys.modules)."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        raise BuildError("cannot load %s" % path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_shared_library(c_source, out_path, extra_flags=()):
    """Compile one self-contained C file (no Python) into a shared library (tests, benches)."""
    folder = os.path.dirname(os.path.abspath(out_path))
    src = os.path.join(folder, os.path.splitext(os.path.basename(out_path))[0] + ".c")
    with open(src, "w") as f:
        f.write(c_source)
    err = _cc(src, out_path, extra_flags)
    if err is not None:
        raise BuildError("compiling %s failed:\n%s" % (src, err))
    return out_path


__all__ = ["build", "load", "cache_key", "BuildError", "compile_shared_library"]
