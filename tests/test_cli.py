"""aotc/cli.py: ``aotc build`` on samples/logreg, its options and its errors.

The sample is built through the real command line once for this file
(``cli_build``); the determinism and --params builds are further processes.
Error cases run through click's CliRunner, except the import failure, whose
"no traceback of aotc internals" is checked on a real process's stderr.
"""
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import aotc
from aotc.build import compiler
from aotc.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "samples", "logreg", "model.py")
SUFFIX = compiler.ext_suffix()


def aotc_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "aotc.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)


def ok(proc):
    assert proc.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def run_python(code, *args):
    return ok(subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                             text=True, timeout=120, cwd=ROOT))


@pytest.fixture(scope="module")
def cli_build(tmp_path_factory):
    """``aotc build samples/logreg/model.py -o OUT --name logreg --trace-rewrites``."""
    out = tmp_path_factory.mktemp("cli") / "out"
    proc = ok(aotc_cli("build", MODEL, "-o", str(out), "--name", "logreg", "--trace-rewrites"))
    return out, proc


@pytest.fixture(scope="module")
def manifest(cli_build):
    with open(cli_build[0] / "logreg.build.json") as f:
        return json.load(f)


# ---------------------------------------------------------------- a build

def test_build_writes_so_stub_and_manifest_only(cli_build):
    out, _ = cli_build
    assert sorted(os.listdir(out)) == sorted(["logreg" + SUFFIX, "logreg.pyi",
                                              "logreg.build.json"])
    assert os.path.getsize(out / ("logreg" + SUFFIX)) > 10000


def test_build_progress_goes_to_stderr(cli_build):
    _, proc = cli_build
    for stage in ("importing", "exporting predict, train_step", "optimizing train_step",
                  "rendering C", "writing", "done:"):
        assert stage in proc.stderr, stage
    assert "aotc:" not in proc.stdout


def test_build_manifest_records_provenance(manifest):
    assert manifest["aotc_version"] == aotc.__version__
    assert manifest["module"] == "logreg"
    assert re.fullmatch(r"[0-9a-f]{16}", manifest["graph_hash"])
    assert manifest["target"] == "cpu"
    assert manifest["compiler"] == compiler.compiler_identity() and manifest["compiler"]
    assert manifest["flags"] == list(compiler.CFLAGS) and "-O2" in manifest["flags"]
    assert manifest["python_abi"] == SUFFIX
    assert manifest["params"] is None
    assert manifest["rewrites"]["log_softmax"] >= 1
    assert manifest["shared"] == {"W": {"dtype": "float64", "broadcastable": [False, False]},
                                  "b": {"dtype": "float64", "broadcastable": [False]}}
    # no absolute paths or timestamps: the manifest must not depend on where it was built
    assert ROOT not in json.dumps(manifest)


def test_build_manifest_records_signatures(manifest):
    fns = manifest["functions"]
    assert list(fns) == ["predict", "train_step"]
    assert fns["predict"]["args"] == [{"name": "x", "dtype": "float64", "ndim": 2,
                                       "broadcastable": [False, False], "default": None}]
    assert fns["predict"]["outputs"] == [{"dtype": "float64", "ndim": 2}]
    assert fns["predict"]["updates"] == []
    ts = fns["train_step"]
    assert [(a["name"], a["dtype"], a["ndim"], a["default"]) for a in ts["args"]] == [
        ("x", "float64", 2, None), ("y", "int32", 1, None), ("lr", "float64", 0, 0.1)]
    assert ts["outputs"] == [{"dtype": "float64", "ndim": 0}]
    assert ts["updates"] == ["W", "b"] and ts["single"] is True
    assert fns["predict"]["graph_hash"] != ts["graph_hash"]


def test_build_stub_has_typed_signatures(cli_build):
    text = (cli_build[0] / "logreg.pyi").read_text()
    compile(text, "logreg.pyi", "exec")
    assert "def predict(x: ArrayLike) -> np.ndarray:" in text
    assert "def train_step(x: ArrayLike, y: ArrayLike, lr: ArrayLike = ...) -> np.ndarray:" in text
    assert '"""train_step(x: float64[:, :], y: int32[:], lr: float64[]) -> np.ndarray"""' in text
    assert "def save_params(path: str) -> None" in text
    assert "__aotc__: Dict[str, Any]" in text


def test_build_trace_rewrites_lists_the_rules_that_fired(cli_build, manifest):
    _, proc = cli_build
    lines = proc.stdout.strip().splitlines()
    fired = {}
    for line in lines:
        rule, sep, rest = line.partition(": ")
        assert sep and " -> " in rest, line
        fired[rule] = fired.get(rule, 0) + 1
    assert fired == manifest["rewrites"]
    assert any(re.match(r"log_softmax: log\(Softmax\(.*\)\) -> LogSoftmax\(", s) for s in lines)


def test_build_module_imports_and_matches_numpy(cli_build):
    code = textwrap.dedent("""
        import sys, json
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import logreg
        rng = np.random.RandomState(0)
        W, b, x = rng.randn(20, 3), rng.randn(3), rng.randn(5, 20)
        logreg.shared["W"].set_value(W)
        logreg.shared["b"].set_value(b)
        z = x @ W + b
        ref = np.exp(z - z.max(1, keepdims=True))
        ref /= ref.sum(1, keepdims=True)
        print(float(np.abs(logreg.predict(x) - ref).max()))
    """)
    assert float(run_python(code, str(cli_build[0])).stdout) < 1e-13


# ---------------------------------------------------------------- --emit

@pytest.mark.parametrize("stage, present, absent", [
    ("graph", ["# predict", "# train_step", "Softmax", "Dot", "Elemwise{log}"], ["LogSoftmax"]),
    ("opt", ["# predict", "# train_step", "LogSoftmax", "FusedElemwise"], ["Elemwise{log}"]),
    ("c", ["PyInit_logreg", "aotc_blob_start", "predict(x: float64[:, :])"], ["# predict"]),
])
def test_emit_prints_stage_and_builds_nothing(tmp_path, stage, present, absent):
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = dict(os.environ, AOTC_FLAGS="compiledir=%s" % cache)
    proc = ok(aotc_cli("build", MODEL, "-o", str(out), "--name", "logreg", "--emit", stage,
                       "-q", env=env))
    for text in present:
        assert text in proc.stdout, text
    for text in absent:
        assert text not in proc.stdout, text
    assert proc.stderr == ""
    assert not out.exists()
    assert not cache.exists() or os.listdir(cache) == []


# ---------------------------------------------------------------- determinism

def test_build_output_identical_across_hash_seeds(tmp_path, cli_build):
    runs = []
    for seed in ("1", "2023"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        c = ok(aotc_cli("build", MODEL, "--name", "logreg", "--emit", "c", "-q", env=env)).stdout
        out = tmp_path / seed
        ok(aotc_cli("build", MODEL, "-o", str(out), "--name", "logreg", "-q", env=env))
        runs.append([c] + [(out / f).read_bytes()
                           for f in ("logreg.pyi", "logreg.build.json", "logreg" + SUFFIX)])
    assert len(runs[0][0]) > 100000
    for k, name in enumerate(["C source", "stub", "manifest", "module"]):
        assert runs[0][k] == runs[1][k], name
    # and the same as the build made under this session's own hash seed
    for k, f in ((1, "logreg.pyi"), (2, "logreg.build.json")):
        assert runs[0][k] == (cli_build[0] / f).read_bytes(), f


# ---------------------------------------------------------------- --params

@pytest.fixture(scope="module")
def trained_npz(cli_build, tmp_path_factory):
    """Parameters trained with the built module and saved by its save_params."""
    path = str(tmp_path_factory.mktemp("trained") / "trained.npz")
    code = textwrap.dedent("""
        import sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import logreg
        rng = np.random.RandomState(1)
        x = rng.randn(60, 20) + np.repeat(np.eye(3, 20) * 2, 20, axis=0)
        y = np.repeat(np.arange(3, dtype="int32"), 20)
        for _ in range(30):
            logreg.train_step(x, y, 0.5)
        logreg.save_params(sys.argv[2])
    """)
    run_python(code, str(cli_build[0]), path)
    return path


def test_build_params_replaces_baked_values(tmp_path, trained_npz):
    out = tmp_path / "out"
    ok(aotc_cli("build", MODEL, "-o", str(out), "--name", "logreg_trained", "-q",
                "--params", trained_npz))
    code = textwrap.dedent("""
        import sys, json
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import logreg_trained as m
        np.savez(sys.argv[2], W=m.shared["W"].get_value(), b=m.shared["b"].get_value(),
                 p=m.predict(np.eye(3, 20)))
        print(json.dumps(m.__aotc__["params"]))
    """)
    got_path = str(tmp_path / "got.npz")
    proc = run_python(code, str(out), got_path)
    assert json.loads(proc.stdout) == "trained.npz"
    with np.load(trained_npz) as want, np.load(got_path) as got:
        assert np.abs(want["W"]).max() > 0.1  # really trained, not the zeros of model.py
        np.testing.assert_array_equal(got["W"], want["W"])
        np.testing.assert_array_equal(got["b"], want["b"])
        assert (got["p"].argmax(axis=1) == [0, 1, 2]).all()


@pytest.mark.parametrize("arrays, needles", [
    (dict(W=np.zeros((20, 3)), V=np.zeros(3)), ["V names no shared variable", "(it has: W, b)"]),
    (dict(W=np.zeros((3, 20))), ["'W'", "shape (3, 20)", "(20, 3)"]),
    (dict(W=np.zeros((20, 3, 1))), ["'W'", "dimensions"]),
    (dict(b=np.zeros(3, complex)), ["'b'", "complex128", "float64"]),
    (dict(b=np.array([None, 1, 2], dtype=object)), ["'b'", "Object arrays"]),
], ids=["unknown_name", "wrong_shape", "wrong_ndim", "wrong_dtype", "object_array"])
def test_build_params_bad_npz_fails_clearly(tmp_path, arrays, needles):
    path = str(tmp_path / "bad.npz")
    np.savez(path, **arrays)
    res = CliRunner().invoke(main, ["build", MODEL, "-o", str(tmp_path / "out"), "-q",
                                    "--params", path])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "--params %s" % path in res.output
    for needle in needles:
        assert needle in res.output, (needle, res.output)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- errors

def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _fails(args, code=1):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == code and isinstance(res.exception, SystemExit), (
        res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    return res.output


@pytest.mark.parametrize("name", ["1bad", "a-b", "class", "my model"])
def test_build_bad_name_fails_clearly(tmp_path, name):
    output = _fails(["build", MODEL, "-o", str(tmp_path), "--name", name])
    assert "module name %r is not a Python identifier" % name in output


def test_build_default_name_from_bad_stem_fails_clearly(tmp_path):
    path = _write(tmp_path, "my-model.py", "x = 1\n")
    output = _fails(["build", path])
    assert "'my-model' is not a Python identifier" in output and "pass --name" in output


def test_build_model_without_function_fails_clearly(tmp_path):
    path = _write(tmp_path, "empty.py", """
        import aotc
        from aotc import tensor as T
        x = T.matrix("x")
        y = x * 2          # a graph, but no aotc.function
    """)
    output = _fails(["build", path, "-o", str(tmp_path / "out")])
    assert "empty.py defines no aotc.function at module level" in output


def test_build_export_list_naming_non_function_fails_clearly(tmp_path):
    path = _write(tmp_path, "exp.py", """
        __aotc_export__ = ["helper"]
        def helper():
            pass
    """)
    assert "__aotc_export__ names 'helper', which is not an aotc.function" in _fails(
        ["build", path, "-o", str(tmp_path / "out")])


def test_build_missing_file_fails_clearly(tmp_path):
    missing = str(tmp_path / "nope.py")
    output = _fails(["build", missing], code=2)
    assert "does not exist" in output and "nope.py" in output


def test_build_model_syntax_error_names_the_line(tmp_path):
    path = _write(tmp_path, "bad_syntax.py", "x = 1\ndef broken(:\n")
    output = _fails(["build", path, "-o", str(tmp_path / "out")])
    assert "importing bad_syntax.py failed" in output
    assert "SyntaxError" in output and "line 2" in output and "<frozen" not in output


def test_build_model_raising_on_import_shows_user_frames_only(tmp_path):
    path = _write(tmp_path, "boom.py", """
        import aotc
        from aotc import tensor as T

        def make():
            raise RuntimeError("no data file here")

        x = T.matrix("x")
        W = make()
    """)
    proc = aotc_cli("build", path, "-o", str(tmp_path / "out"))
    assert proc.returncode == 1
    err = proc.stderr
    assert "Error: importing boom.py failed" in err
    assert "RuntimeError: no data file here" in err
    assert 'boom.py", line 9, in <module>' in err and 'boom.py", line 6, in make' in err
    assert "Traceback" not in err
    assert os.path.join("aotc", "cli.py") not in err and "<frozen" not in err
    assert not (tmp_path / "out").exists()


def test_build_model_graph_error_names_user_line(tmp_path):
    path = _write(tmp_path, "missing_input.py", """
        import aotc
        from aotc import tensor as T
        x = T.matrix("x")
        y = T.matrix("y")
        f = aotc.function([x], x + y)
    """)
    output = _fails(["build", path, "-o", str(tmp_path / "out")])
    assert "missing_input.py\", line 6" in output
    assert "MissingInputError" in output and "not among the inputs" in output
    assert os.path.join("aotc", "compile.py") not in output


def test_cli_mode_other_than_fast_run_is_refused(tmp_path):
    from click.testing import CliRunner
    from aotc.cli import main
    res = CliRunner().invoke(main, ["build", os.path.join(ROOT, "samples", "logreg", "model.py"),
                                    "-o", str(tmp_path / "out"), "--mode", "FAST_COMPILE"])
    assert res.exit_code != 0 and "FAST_RUN" in res.output
    assert not (tmp_path / "out").exists()
