"""Build the sample model with ``aotc build``, then train and evaluate it with the built module.

    python samples/logreg/run.py

The data are generated (Gaussian blobs, one per class), so this runs anywhere.
The built module needs only NumPy: aotc is used to build it, not to run it.
"""
import importlib
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "build")


def make_data(n, n_in=20, n_out=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.random.RandomState(42).randn(n_out, n_in) * 0.35
    y = rng.randint(0, n_out, size=n)
    x = centers[y] + rng.randn(n, n_in)
    return x, y.astype("int32")


def main(epochs=5, batch=50):
    start = time.time()
    cmd = [sys.executable, "-m", "aotc.cli", "build", os.path.join(HERE, "model.py"), "-o", OUT,
           "--name", "logreg"]
    subprocess.run(cmd, check=True)
    print("built in %.1f s" % (time.time() - start))
    sys.path.insert(0, OUT)
    logreg = importlib.import_module("logreg")
    print(logreg.train_step.__doc__)
    x_train, y_train = make_data(1000)
    x_test, y_test = make_data(500, seed=1)
    for epoch in range(epochs):
        losses = [float(logreg.train_step(x_train[i:i + batch], y_train[i:i + batch], 0.1))
                  for i in range(0, len(x_train), batch)]
        acc = np.mean(logreg.predict(x_test).argmax(axis=1) == y_test)
        print("epoch %d: mean loss %.4f, test accuracy %.3f" % (epoch + 1, np.mean(losses), acc))
    logreg.save_params(os.path.join(OUT, "logreg_trained.npz"))
    print("parameters saved to %s" % os.path.join(OUT, "logreg_trained.npz"))
    return losses, acc


if __name__ == "__main__":
    main()
