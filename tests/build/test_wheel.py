"""``aotc build --wheel``: a wheel that installs into a venv holding only NumPy and, with the
model's declared extras (tokenizer, vocabulary), classifies raw text without aotc or a compiler."""
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENTIMENT = os.path.join(ROOT, "samples", "sentiment")

TINY_MODEL = '''
"""A tiny sentiment model for the wheel test."""
import sys
sys.path.insert(0, {sentiment!r})
import aotc
aotc.config.floatX = "float32"
import model as _m

__version__ = "0.0.1"
__aotc_wheel_extras__ = {{"text.py": {text!r}, "vocab.json": "vocab.json"}}
predict, train_step, _tparams = _m.make_functions(dict(n_words=12, dim_proj=4, seed=7))
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    d = tmp_path_factory.mktemp("wheel")
    sys.path.insert(0, SENTIMENT)
    try:
        import text
    finally:
        sys.path.remove(SENTIMENT)
    vocab = text.Vocabulary.build(["a great great movie", "an awful movie", "great fun"], 12)
    vocab.save(str(d / "vocab.json"))
    (d / "tiny_sentiment.py").write_text(TINY_MODEL.format(
        sentiment=SENTIMENT, text=os.path.join(SENTIMENT, "text.py")))
    res = subprocess.run([sys.executable, "-m", "aotc.cli", "build", str(d / "tiny_sentiment.py"),
                          "-o", str(d / "build"), "--wheel", "--dist", str(d / "dist"), "-q"],
                         capture_output=True, text=True, cwd=str(d))
    assert res.returncode == 0, res.stderr
    wheels = os.listdir(d / "dist")
    assert len(wheels) == 1 and wheels[0].startswith("tiny_sentiment-0.0.1-cp"), wheels
    return d, d / "dist" / wheels[0], vocab


def test_wheel_holds_package_module_extras_and_record(wheel):
    _, path, _ = wheel
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        for want in ("tiny_sentiment/__init__.py", "tiny_sentiment/text.py",
                     "tiny_sentiment/vocab.json", "tiny_sentiment/build.json",
                     "tiny_sentiment/_core.pyi", "tiny_sentiment-0.0.1.dist-info/METADATA",
                     "tiny_sentiment-0.0.1.dist-info/WHEEL", "tiny_sentiment-0.0.1.dist-info/RECORD"):
            assert want in names, want
        assert any(n.startswith("tiny_sentiment/_core.") and n.endswith(".so") for n in names)
        record = zf.read("tiny_sentiment-0.0.1.dist-info/RECORD").decode()
        assert all(("%s,sha256=" % n) in record for n in names if not n.endswith("RECORD"))
        meta = zf.read("tiny_sentiment-0.0.1.dist-info/METADATA").decode()
        assert "Requires-Dist: numpy" in meta
        assert json.loads(zf.read("tiny_sentiment/build.json"))["functions"]["predict"]
        # one build serves both: the package's _core is the -o folder's module, byte for byte
        so = [n for n in names if n.endswith(".so")][0]
        built = wheel[0] / "build" / ("tiny_sentiment" + so[len("tiny_sentiment/_core"):])
        assert zf.read(so) == built.read_bytes()


def test_build_module_refuses_bad_import_aliases(tmp_path):
    from aotc.build.module import build_module
    from aotc.errors import AotcValueError
    for bad in (("tiny",), ("not an identifier",), ("_core", "_core"), (3,)):
        with pytest.raises(AotcValueError, match="init_aliases"):
            build_module("tiny", [], out_dir=str(tmp_path), init_aliases=bad)


def test_build_wheel_refuses_a_module_without_the_core_import_name(tmp_path):
    from aotc.build.wheel import build_wheel
    from aotc.errors import AotcValueError
    built = {"so": "x.so", "pyi": "x.pyi", "manifest": "x.build.json", "name": "x",
             "init_aliases": ()}
    with pytest.raises(AotcValueError, match="without the import name _core"):
        build_wheel("x", built, [], str(tmp_path))
    assert os.listdir(tmp_path) == []


def _numpy_only_venv(tmp, wheel_path):
    """A venv without pip whose site-packages holds NumPy (linked) and the installed wheel."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    np_dir = os.path.dirname(np.__file__)
    os.symlink(np_dir, os.path.join(site, "numpy"))
    libs = os.path.join(os.path.dirname(np_dir), "numpy.libs")
    if os.path.isdir(libs):
        os.symlink(libs, os.path.join(site, "numpy.libs"))
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                          "--no-index", str(wheel_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    return py


def test_wheel_in_numpy_only_venv_classifies_text(wheel, tmp_path):
    d, path, vocab = wheel
    py = _numpy_only_venv(tmp_path, path)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    code = textwrap.dedent('''
        import importlib, json, shutil, sys
        for mod in ("aotc", "jinja2", "click", "setuptools"):
            try:
                importlib.import_module(mod)
            except ImportError:
                pass
            else:
                raise SystemExit("%s is importable" % mod)
        assert shutil.which("cc") is None and shutil.which("gcc") is None
        import numpy as np
        import tiny_sentiment as m
        p = m.predict_text(["a great movie", "an awful movie", "", "unknown words only"])
        assert p.shape == (4, 2) and p.dtype == np.float32, (p.shape, p.dtype)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
        x = np.array([[2, 3], [4, 0]], dtype="int64")
        mask = np.array([[1, 1], [1, 0]], dtype="float32")
        q = m.predict(x, mask)
        # the loop runs in the module: a training step moves the weights, no aotc needed
        U0 = m.shared["U"].get_value()
        cost = m.train_step(x, mask, np.array([1, 0], dtype="int64"))
        assert np.isfinite(cost) and not np.array_equal(U0, m.shared["U"].get_value())
        m.shared["U"].set_value(U0)
        try:
            m.predict_text("one string")
        except TypeError:
            pass
        else:
            raise SystemExit("a bare string was accepted")
        print(json.dumps({"p": p.tolist(), "q": q.tolist(), "W": m.shared["U"].get_value().tolist(),
                          "module": m.__aotc__["module"]}))
    ''')
    res = subprocess.run([str(py), "-I", "-c", code], capture_output=True, text=True,
                         env={"PATH": str(empty), "HOME": str(tmp_path)}, cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # the package imports the module built as tiny_sentiment through its _core import name
    assert out["module"] == "tiny_sentiment"
    # the same computation in this process, from the model's own functions
    sys.path.insert(0, SENTIMENT)
    try:
        import text
        import aotc
        with aotc.config.change_flags(floatX="float32"):
            import importlib
            model = importlib.import_module("model")
            predict, _, tparams = model.make_functions(dict(n_words=12, dim_proj=4, seed=7),
                                                       mode="FAST_COMPILE")
    finally:
        sys.path.remove(SENTIMENT)
    want = text.predict_text(["a great movie", "an awful movie", "", "unknown words only"],
                             predict=predict, vocab=vocab)
    np.testing.assert_allclose(out["p"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["W"], tparams["U"].get_value(), rtol=0, atol=0)
