"""Op-table cases for the Scan op (aotc/frontend/scan.py).

Sequences have 5 steps, states 3 entries, so that a swapped axis cannot hide.
The behaviour of ``scan`` itself (taps, updates, truncation, modes) is covered
by tests/frontend/test_scan.py.
"""
import numpy as np

from aotc import tensor as T
from aotc.frontend.scan_api import scan

from .cases import Input, OpCase


def _rnn(x, h0, w):
    hs, _ = scan(lambda xt, h, w: T.tanh(h * w + xt), sequences=x, outputs_info=h0,
                 non_sequences=w)
    return hs


def _rnn_ref(x, h0, w):
    out, h = [], h0
    for xt in x:
        h = np.tanh(h * w + xt)
        out.append(h)
    return np.array(out)


def _fib2(init, a):
    ys, _ = scan(lambda y2, y1, a: y2 * a + T.sin(y1),
                 outputs_info=dict(initial=init, taps=[-2, -1]), non_sequences=a, n_steps=4)
    return ys


def _fib2_ref(init, a):
    rows = [init[0], init[1]]
    for _ in range(4):
        rows.append(rows[-2] * a + np.sin(rows[-1]))
    return np.array(rows[2:])


def _map_back(x, w):
    ys, _ = scan(lambda xt, w: (xt * w).sum(axis=0), sequences=x, non_sequences=w,
                 go_backwards=True)
    return ys


def _gates(x, h0, c0, w):
    """States and map outputs written straight into their rows (aotc_new's destinations):
    a map output equal to a state's new value, two states with one new value, a view."""
    def step(xt, h, c, g, w):
        c2 = T.tanh(c * w + xt)
        h2 = T.nnet.sigmoid(h + c2) * c2
        return h2, c2, c2, h2 * 2.0, c2, h2[::-1]
    (hs, cs, gs, ys, zs, rs), _ = scan(step, sequences=x,
                                       outputs_info=[h0, c0, c0, None, None, None],
                                       non_sequences=w)
    return hs + 2 * cs + 3 * gs + 4 * ys + 5 * zs + 6 * rs


def _gates_ref(x, h0, c0, w):
    h, c, out = h0, c0, []
    for xt in x:
        c = np.tanh(c * w + xt)
        h = 1 / (1 + np.exp(-(h + c))) * c
        out.append(h + 2 * c + 3 * c + 4 * (2 * h) + 5 * c + 6 * h[::-1])
    return np.array(out)


def _nested(x, h0):
    """A state's new value made by a scan inside the body."""
    def step(xt, h):
        acc, _ = scan(lambda a, s, h: s + a * h, sequences=xt, outputs_info=T.zeros_like(h),
                      non_sequences=h)
        return T.tanh(acc[-1])
    hs, _ = scan(step, sequences=x, outputs_info=h0)
    return hs


def _nested_ref(x, h0):
    h, out = h0, []
    for xt in x:
        h = np.tanh((xt * h).sum(axis=0))
        out.append(h)
    return np.array(out)


CASES = [
    OpCase("scan_rnn", "Scan", _rnn, _rnn_ref, [Input((5, 3)), Input((3,)), Input((3,))],
           rtol=1e-5, atol=1e-5),
    OpCase("scan_taps_2", "Scan", _fib2, _fib2_ref, [Input((2, 3)), Input((3,))],
           rtol=1e-5, atol=1e-5),
    OpCase("scan_map_backwards", "Scan", _map_back, lambda x, w: (x * w).sum(axis=1)[::-1],
           [Input((5, 2, 3)), Input((2, 3))], rtol=1e-5, atol=1e-5),
    OpCase("scan_rows_written_in_place", "Scan", _gates, _gates_ref,
           [Input((5, 3)), Input((3,)), Input((3,)), Input((3,))], rtol=1e-5, atol=1e-5),
    OpCase("scan_nested_state", "Scan", _nested, _nested_ref,
           [Input((5, 2, 3)), Input((3,))], rtol=1e-5, atol=1e-5),
]
