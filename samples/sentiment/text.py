"""Text to model inputs: the tokenizer, the vocabulary, batching, and ``predict_text``.

Plain Python and NumPy: this file ships inside the sentiment wheel beside the
compiled module (model.py declares it in ``__aotc_wheel_extras__``), so a
user can classify raw text with nothing but NumPy installed:

    >>> import sentiment
    >>> sentiment.predict_text(["a great movie", "a waste of time"])   # doctest: +SKIP
    array([[0.08, 0.92], [0.95, 0.05]], dtype=float32)   # P(negative), P(positive)

Word ids follow the Theano tutorial: 0 pads (masked out), 1 is any word
outside the vocabulary, 2.. are the vocabulary's words by falling frequency
(ties broken alphabetically, so the vocabulary is deterministic).
"""
import json
import os
import re

import numpy as np

__all__ = ["predict_text", "tokenize", "encode", "prepare_data", "Vocabulary"]

PAD, UNK = 0, 1
_TAG = re.compile(r"<[^>]{0,20}>")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text):
    """Lower-cased words of ``text`` (HTML line breaks dropped, punctuation split off)."""
    return _WORD.findall(_TAG.sub(" ", text.lower()))


class Vocabulary:
    """word -> id for the ``size - 2`` most frequent words (ids 2 .. size-1)."""

    def __init__(self, words):
        self.words = list(words)
        self.ids = {w: k + 2 for k, w in enumerate(self.words)}

    @property
    def size(self):
        return len(self.words) + 2

    @classmethod
    def build(cls, texts, size):
        counts = {}
        for t in texts:
            for w in tokenize(t):
                counts[w] = counts.get(w, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls([w for w, _ in ranked[:size - 2]])

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"words": self.words}, f, separators=(",", ":"))
            f.write("\n")

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f)["words"])


def encode(texts, vocab):
    """Token ids of each text (lists of ints; unknown words become UNK)."""
    return [[vocab.ids.get(w, UNK) for w in tokenize(t)] for t in texts]


def prepare_data(seqs, maxlen=None):
    """(x, mask) for a batch of id lists, as the tutorial: x is int64 (n_timesteps,
    n_samples), mask float32 with 1 on real words.  Sequences longer than ``maxlen``
    keep their first ``maxlen`` words; an empty one gets a single UNK."""
    seqs = [list(s[:maxlen] if maxlen else s) or [UNK] for s in seqs]
    n = max(len(s) for s in seqs)
    x = np.zeros((n, len(seqs)), dtype="int64")
    mask = np.zeros((n, len(seqs)), dtype="float32")
    for k, s in enumerate(seqs):
        x[:len(s), k] = s
        mask[:len(s), k] = 1.0
    return x, mask


_VOCAB = {}


def _shipped_vocab():
    if "v" not in _VOCAB:
        _VOCAB["v"] = Vocabulary.load(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "vocab.json"))
    return _VOCAB["v"]


def predict_text(texts, predict=None, vocab=None, maxlen=None, batch_size=64):
    """P(negative), P(positive) for each text: an (n, 2) float array.

    ``predict`` and ``vocab`` default to the compiled module and the vocabulary
    shipped beside this file (in the wheel).
    """
    if isinstance(texts, str):
        raise TypeError("predict_text: expected a list of strings, got one string; "
                        "wrap it in a list")
    texts = list(texts)
    for k, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError("predict_text: text %d is %r, not a string" % (k, type(t).__name__))
    if predict is None:
        from . import predict        # the compiled module's, when this file is in the wheel
    vocab = vocab or _shipped_vocab()
    seqs = encode(texts, vocab)
    out = []
    for i in range(0, len(seqs), batch_size):
        x, mask = prepare_data(seqs[i:i + batch_size], maxlen)
        out.append(predict(x, mask))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype="float32")
