"""Logistic regression trained by minibatch SGD, in the classic tutorial's shape.

The data set lives in shared variables; each minibatch is selected with
``givens`` from a symbolic index, as Theano programs do.  The data is generated
(two Gaussian blobs per class in 20 dimensions), so the sample runs anywhere.

    python samples/logreg/tutorial.py
"""
import numpy as np

import aotc as theano
import aotc.tensor as T


def make_data(n=600, n_in=20, n_out=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.randn(n_out, n_in) * 2.0
    y = rng.randint(0, n_out, size=n)
    x = centers[y] + rng.randn(n, n_in)
    return x.astype(theano.config.floatX), y.astype("int32")


class LogisticRegression:
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(np.zeros((n_in, n_out), dtype=theano.config.floatX),
                               name="W", borrow=True)
        self.b = theano.shared(np.zeros((n_out,), dtype=theano.config.floatX),
                               name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        return T.mean(T.neq(self.y_pred, y))


def build(batch_size=50, learning_rate=0.1, mode=None):
    """Compile the training and evaluation functions; returns them with the data."""
    x_np, y_np = make_data()
    train_x = theano.shared(x_np, borrow=True)
    train_y = theano.shared(y_np, borrow=True)
    index = T.lscalar("index")
    x = T.matrix("x")
    y = T.ivector("y")
    clf = LogisticRegression(x, n_in=x_np.shape[1], n_out=3)
    cost = clf.negative_log_likelihood(y)
    g_W, g_b = T.grad(cost=cost, wrt=[clf.W, clf.b])
    updates = [(clf.W, clf.W - learning_rate * g_W), (clf.b, clf.b - learning_rate * g_b)]
    batch = slice(index * batch_size, (index + 1) * batch_size)
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_x[batch], y: train_y[batch]}, name="train_model", mode=mode)
    evaluate = theano.function([], [cost, clf.errors(y)],
                               givens={x: train_x, y: train_y}, name="evaluate", mode=mode)
    n_batches = x_np.shape[0] // batch_size
    return train_model, evaluate, n_batches, clf


def main(epochs=5):
    train_model, evaluate, n_batches, clf = build()
    loss0, err0 = evaluate()
    print("before training: loss %.4f, error rate %.3f" % (loss0, err0))
    for epoch in range(epochs):
        losses = [float(train_model(i)) for i in range(n_batches)]
        loss, err = evaluate()
        print("epoch %d: mean minibatch loss %.4f, full loss %.4f, error rate %.3f"
              % (epoch + 1, np.mean(losses), loss, err))
    print("graph of the training function:")
    theano.printing.debugprint(train_model)
    return loss0, loss


if __name__ == "__main__":
    main()
