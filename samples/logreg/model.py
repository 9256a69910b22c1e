"""A softmax (multinomial logistic) regression model, written for ``aotc build``.

Exports two functions (module-level ``aotc.function`` objects):

- ``predict(x)``: class probabilities for a batch of feature rows;
- ``train_step(x, y, lr=0.1)``: one SGD step on a minibatch; returns the loss
  (the mean negative log-likelihood) and updates the weights.

    aotc build samples/logreg/model.py -o build     # -> build/model*.so, .pyi, .build.json
"""
import numpy as np

import aotc
from aotc import tensor as T

N_IN, N_OUT = 20, 3

x = T.matrix("x")
y = T.ivector("y")
lr = T.scalar("lr")
W = aotc.shared(np.zeros((N_IN, N_OUT), dtype=aotc.config.floatX), name="W")
b = aotc.shared(np.zeros(N_OUT, dtype=aotc.config.floatX), name="b")

p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
nll = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
g_W, g_b = T.grad(nll, [W, b])

predict = aotc.function([x], p_y_given_x, name="predict")
train_step = aotc.function([x, y, aotc.In(lr, value=0.1)], nll,
                           updates=[(W, W - lr * g_W), (b, b - lr * g_b)], name="train_step")
