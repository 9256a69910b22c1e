"""The ``aotc`` command line.

``aotc build MODEL.py`` imports MODEL.py and compiles the functions it
exports into one extension module.  Exports are the module-level
``aotc.function`` objects, in definition order, under their variable names —
or, when the model defines ``__aotc_export__`` (a list of names), exactly those.
"""
import importlib.util
import keyword
import os
import sys
import time
import traceback

import click

from . import __version__


def load_model(path):
    """Import MODEL.py as a module (its folder first on sys.path while it loads)."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location("aotc_model_" + stem, path)
    if spec is None or spec.loader is None:
        raise click.ClickException("%s is not a Python file" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # noqa: BLE001 - report the user's error with their frames
        tb = traceback.extract_tb(e.__traceback__)
        here = os.path.dirname(os.path.abspath(__file__)) + os.sep
        user = [f for f in tb if not f.filename.startswith("<frozen ") and (
            os.path.abspath(f.filename) == path or
            not os.path.abspath(f.filename).startswith(here))]
        lines = "".join(traceback.format_list(user[-6:]))
        # format_exception_only shows a SyntaxError's file, line and caret
        what = "".join(traceback.format_exception_only(type(e), e)).rstrip("\n")
        raise click.ClickException("importing %s failed:\n%s%s"
                                   % (os.path.basename(path), lines, what))
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return mod


def collect_exports(mod):
    """[(name, Function)] the model exports (see the module docstring)."""
    from .compile import Function
    names = getattr(mod, "__aotc_export__", None)
    if names is not None:
        out = []
        for n in names:
            fn = getattr(mod, n, None)
            if not isinstance(fn, Function):
                raise click.ClickException("__aotc_export__ names %r, which is not an "
                                           "aotc.function in the model" % n)
            out.append((n, fn))
        return out
    return [(n, v) for n, v in vars(mod).items() if isinstance(v, Function) and not n.startswith("_")]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aotc")
def main():
    """aotc: compile models written in a Theano-style DSL into importable modules."""


@main.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", default="build", show_default=True, help="output folder")
@click.option("--name", default=None, help="module name (default: the model file's stem)")
@click.option("--params", type=click.Path(exists=True, dir_okay=False), default=None,
              help=".npz whose arrays replace the shared variables' initial values, by name")
@click.option("--target", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--mode", default="FAST_RUN", show_default=True,
              help="compilation mode (FAST_RUN applies every rewrite)")
@click.option("--emit", type=click.Choice(["graph", "opt", "c", "cuda"]), default=None,
              help="print one stage (graph, optimized graph, C source) and stop")
@click.option("--trace-rewrites", is_flag=True, help="list the rewrites that fired")
@click.option("--wheel", is_flag=True, help="also package a wheel (see --dist)")
@click.option("--dist", default="dist", show_default=True, help="where --wheel writes the wheel")
@click.option("-q", "--quiet", is_flag=True, help="no progress messages")
def build(model, out, name, params, target, mode, emit, trace_rewrites, wheel, dist, quiet):
    """Compile MODEL.py into an importable extension module (.so, .pyi, .build.json)."""
    from .build.module import build_module
    from .errors import AotcError
    start = time.time()

    def progress(msg):
        if not quiet:
            click.echo("aotc: %5.1fs  %s" % (time.time() - start, msg), err=True)

    if mode != "FAST_RUN":
        raise click.ClickException(
            "--mode %s: a built module always holds the optimized, compiled graph (FAST_RUN); "
            "FAST_COMPILE and DEBUG_MODE are for aotc.function in a Python process" % mode)
    if target == "cuda" or emit == "cuda":
        raise click.ClickException("the CUDA target is not available in this version")
    name = name or os.path.splitext(os.path.basename(model))[0]
    if not name.isidentifier() or keyword.iskeyword(name):
        raise click.ClickException("module name %r is not a Python identifier (or is a keyword); "
                                   "pass --name" % name)
    progress("importing %s" % model)
    mod = load_model(model)
    exports = collect_exports(mod)
    if not exports:
        raise click.ClickException(
            "%s defines no aotc.function at module level (and no __aotc_export__ list)" % model)
    progress("exporting %s" % ", ".join(n for n, _ in exports))
    trace = []
    try:
        # with --wheel the module is also importable as the package's _core: one build
        # serves the output folder and the wheel
        result = build_module(name, exports, out_dir=out, params=params, trace=trace,
                              progress=progress, emit=emit, echo=click.echo,
                              init_aliases=("_core",) if wheel else ())
    except AotcError as e:
        raise click.ClickException(str(e))
    if trace_rewrites:
        for rule, before, after in trace:
            click.echo("%s: %s -> %s" % (rule, _short(before), _short(after)))
    if result is not None:
        progress("done: %s" % result["so"])
    if wheel and result is not None:
        progress("wheel: packaging %s" % result["so"])
        whl = _build_wheel(mod, model, name, result, dist)
        progress("done: %s" % whl)


def _build_wheel(mod, model, name, built, dist):
    """The package NAME: the module just built (importable as NAME._core), plus the model's
    declared extras."""
    from .build.wheel import build_wheel, normalize_extras
    from .errors import AotcError
    try:
        extras = normalize_extras(getattr(mod, "__aotc_wheel_extras__", None),
                                  os.path.dirname(os.path.abspath(model)))
        version = str(getattr(mod, "__version__", "0.1.0"))
        return build_wheel(name, built, extras, dist, version=version,
                           summary=(mod.__doc__ or "").strip().split("\n")[0] or None)
    except AotcError as e:
        raise click.ClickException(str(e))


def _short(text, n=160):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


if __name__ == "__main__":  # pragma: no cover
    main()
