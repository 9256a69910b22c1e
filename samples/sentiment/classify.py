"""Build the sentiment wheel from the trained parameters, install it, classify sentences.

    python samples/sentiment/classify.py "a great movie" "a waste of two hours"

What a user does to ship the model, end to end:

1. ``aotc build samples/sentiment/model.py --wheel --params trained/params.npz``
   (float32; the wheel carries the compiled module, the tokenizer and the
   vocabulary: model.py's ``__aotc_wheel_extras__``);
2. ``pip install`` the wheel into a fresh folder;
3. in a new Python process, ``import sentiment; sentiment.predict_text([...])``:
   the package needs NumPy alone (no aotc, no compiler).

Without sentences it classifies a few examples.  ``--work DIR`` keeps the
build, the wheel and the installed package there (default: a temporary folder).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = ["A great movie, I loved every minute of it.",
            "A waste of two hours: dull, predictable and badly acted.",
            "The acting was superb and the story moving: one of the best films this year.",
            "I wanted to like it, but it was boring."]

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import sentiment
texts = json.loads(sys.argv[2])
print(json.dumps(sentiment.predict_text(texts).tolist()))
"""


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit("error: %s failed:\n%s" % (" ".join(cmd[:4]) + " ...", res.stderr or res.stdout))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sentences", nargs="*")
    ap.add_argument("--params", default=os.path.join(HERE, "trained", "params.npz"))
    ap.add_argument("--work", default=None)
    args = ap.parse_args(argv)
    texts = args.sentences or EXAMPLES
    work = args.work or tempfile.mkdtemp(prefix="aotc-sentiment-")
    start = time.time()
    # the model is float32; the caller's other flags (compiledir, ...) still apply
    env = dict(os.environ, AOTC_FLAGS=",".join(
        filter(None, [os.environ.get("AOTC_FLAGS"), "floatX=float32"])))
    print("building the wheel (aotc build --wheel) ...", flush=True)
    run([sys.executable, "-m", "aotc.cli", "build", os.path.join(HERE, "model.py"), "--name",
         "sentiment", "-o", os.path.join(work, "build"), "--wheel", "--dist",
         os.path.join(work, "dist"), "--params", args.params, "-q"], env=env)
    wheel = [f for f in os.listdir(os.path.join(work, "dist")) if f.endswith(".whl")][0]
    print("built %s in %.1f s; installing it ..." % (wheel, time.time() - start), flush=True)
    site = os.path.join(work, "site")
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--upgrade",
         "--target", site, os.path.join(work, "dist", wheel)])
    # a fresh interpreter imports the installed package, which uses NumPy and nothing of
    # aotc (tests/build/test_wheel.py checks this in a venv that holds NumPy alone)
    res = run([sys.executable, "-I", "-c", CHILD, site, json.dumps(texts)])
    probs = json.loads(res.stdout.strip().splitlines()[-1])
    for t, (neg, pos) in zip(texts, probs):
        print("%-9s %.3f  %s" % ("positive" if pos >= 0.5 else "negative", max(pos, neg), t))
    return probs


if __name__ == "__main__":
    main()
