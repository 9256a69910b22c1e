"""The build cache: content-addressed keys, concurrent builders, failed builds leave nothing."""
import os
import subprocess
import sys
import textwrap

import pytest

from aotc import config
from aotc.build import compiler

SRC = textwrap.dedent('''
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>
    static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(%d); }
    static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%s", NULL, -1, methods};
    PyMODINIT_FUNC PyInit_%s(void) { return PyModule_Create(&def); }
''')


def _sources(name, value):
    return {name + ".c": SRC % (value, name, name)}


@pytest.fixture
def cache(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cache")):
        yield tmp_path / "cache"


def test_cache_key_depends_on_sources_name_flags_and_files():
    a = compiler.cache_key(_sources("m", 1), "m")
    assert a == compiler.cache_key(_sources("m", 1), "m")
    others = [compiler.cache_key(_sources("m", 2), "m"),
              compiler.cache_key(_sources("m", 1), "n"),
              compiler.cache_key(_sources("m", 1), "m", extra_flags=("-DX",)),
              compiler.cache_key(_sources("m", 1), "m", files={"b.blob": b"\0"})]
    assert len({a, *others}) == 5


def test_build_then_cache_hit_returns_the_same_module(cache):
    path = compiler.build(_sources("aotc_cache_t1", 41), "aotc_cache_t1")
    assert path.startswith(str(cache))
    mtime = os.path.getmtime(path)
    assert compiler.build(_sources("aotc_cache_t1", 41), "aotc_cache_t1") == path
    assert os.path.getmtime(path) == mtime
    assert compiler.load(path, "aotc_cache_t1").answer() == 41


def test_concurrent_builders_of_one_key_both_succeed(cache):
    code = textwrap.dedent('''
        import sys
        from aotc import config
        from aotc.build import compiler
        sys.path.insert(0, %r)
        from test_compiler import _sources
        with config.change_flags(compiledir=%r):
            p = compiler.build(_sources("aotc_cache_race", 7), "aotc_cache_race")
            assert compiler.load(p, "aotc_cache_race").answer() == 7
            print(p)
    ''') % (os.path.dirname(os.path.abspath(__file__)), str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    paths = {o.strip() for o, _ in outs}
    assert len(paths) == 1
    # no temporary folder is left behind
    leftovers = [d for root, dirs, _ in os.walk(cache) for d in dirs if d.startswith("tmp-")]
    assert leftovers == []


def test_failed_build_leaves_nothing_importable(cache):
    bad = {"aotc_cache_bad.c": "this is not C;\n"}
    with pytest.raises(compiler.BuildError, match="aotc_cache_bad"):
        compiler.build(bad, "aotc_cache_bad")
    key = compiler.cache_key(bad, "aotc_cache_bad")
    assert not os.path.exists(os.path.join(str(cache), key[:2], key))
    # the sources are kept aside for a bug report, away from where build() looks
    kept = os.path.join(str(cache), "failed", key[:16], "aotc_cache_bad.c")
    assert os.path.exists(kept)
    with pytest.raises(compiler.BuildError):
        compiler.build(bad, "aotc_cache_bad")


def test_build_rejects_bad_names_and_source_sets(cache):
    with pytest.raises(compiler.BuildError, match="identifier"):
        compiler.build(_sources("x", 1), "not-a-name")
    with pytest.raises(compiler.BuildError, match="exactly one"):
        compiler.build({"a.c": "", "b.c": ""}, "two")
