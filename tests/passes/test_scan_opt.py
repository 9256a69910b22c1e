"""Scan rewrites: sequence maps (the input projection of a recurrent step) leave the loop."""
import numpy as np
import pytest

import aotc
from aotc import tensor as T
from aotc.frontend.evaluator import evaluate, toposort
from aotc.frontend.ops.blas import Dot
from aotc.frontend.printing import debugprint
from aotc.frontend.scan import Scan
from aotc.passes.scan_opt import hoist_sequence_maps

RNG = np.random.RandomState(0)
X = T.dtensor3("X")
W = T.dmatrix("W")
U = T.dmatrix("U")
b = T.dvector("b")
h0 = T.dmatrix("h0")
VALS = (RNG.randn(6, 2, 3), RNG.randn(3, 4), RNG.randn(4, 4) * 0.3, RNG.randn(4),
        RNG.randn(2, 4))


def _rnn(go_backwards=False, n_steps=None):
    def step(x_t, h, W, U, b):
        return T.tanh(T.dot(x_t, W) + b + T.dot(h, U))
    hs, _ = aotc.scan(step, sequences=X, outputs_info=h0, non_sequences=[W, U, b],
                      go_backwards=go_backwards, n_steps=n_steps)
    return hs


def _scans(outs):
    return [n for n in toposort(outs) if isinstance(n.op, Scan)]


def _inner_dots_of_slices(node):
    xs = node.op.inner_parts()[0]
    ids = {id(x) for x in xs}
    return [m for m in toposort(list(node.op.inner.outputs))
            if isinstance(m.op, Dot) and id(m.inputs[0]) in ids]


def test_input_projection_leaves_the_loop():
    hs = _rnn()
    (before,) = _scans([hs])
    assert len(_inner_dots_of_slices(before)) == 1
    trace = []
    (got,) = hoist_sequence_maps([hs], trace)
    (after,) = _scans([got])
    assert [t[0] for t in trace] == ["scan_hoist_sequence_map"]
    assert _inner_dots_of_slices(after) == [], debugprint(got, file="str")
    # the product now runs once, over all rows of X, before the loop: a tensor3 . matrix Dot
    outer_dots = [n for n in toposort([got]) if isinstance(n.op, Dot)]
    assert any(n.inputs[0] is X and n.inputs[1] is W for n in outer_dots)
    inner_dots = [m for m in toposort(list(after.op.inner.outputs)) if isinstance(m.op, Dot)]
    assert len(inner_dots) == 1          # h . U stays: it reads the state
    given = {id(v): a for v, a in zip((X, W, U, b, h0), VALS)}
    np.testing.assert_allclose(evaluate([got], given)[0], evaluate([hs], given)[0], rtol=1e-13)


@pytest.mark.parametrize("go_backwards,n_steps", [(False, None), (True, None), (False, 4),
                                                  (True, 4)])
def test_hoisted_loop_and_its_gradient_match_the_reference(go_backwards, n_steps):
    hs = _rnn(go_backwards, n_steps)
    cost = (hs[-1] ** 2).sum()
    outs = [hs] + T.grad(cost, [W, U, b, h0])
    f = aotc.function([X, W, U, b, h0], outs)
    g = aotc.function([X, W, U, b, h0], outs, mode="FAST_COMPILE")
    assert f.backend == "c"
    for k, (p, q) in enumerate(zip(f(*VALS), g(*VALS))):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12, err_msg="output %d" % k)


def test_two_sequences_of_one_map_are_not_hoisted_together():
    Y = T.dtensor3("Y")
    hs, _ = aotc.scan(lambda x_t, y_t, h, W: T.tanh(T.dot(x_t + y_t, W) + h),
                      sequences=[X, Y], outputs_info=h0[:, :4], non_sequences=W)
    trace = []
    (got,) = hoist_sequence_maps([hs], trace)
    assert trace == []   # X and Y may have different lengths and are read from their own ends
    assert got is hs



# ---- summed map outputs ----------------------------------------------------------

from aotc.passes.scan_opt import sum_map_outputs  # noqa: E402


def test_gradient_of_a_bias_becomes_a_running_sum():
    hs = _rnn()
    gb = T.grad((hs[-1] ** 2).sum(), b)
    trace = []
    (got,) = sum_map_outputs([gb], trace)
    assert [t[0] for t in trace] == ["scan_sum_map_output"]
    scans = _scans([got])
    assert sorted(s.op.n_sums for s in scans) == [0, 1]
    summed = [s for s in scans if s.op.n_sums][0]
    k = len(summed.op.taps) + summed.op.n_nit_sot - 1
    # one running sum of the step's shape, not a stack with a leading steps axis
    assert summed.outputs[k].ndim == summed.op.inner.outputs[k].ndim
    given = {id(v): a for v, a in zip((X, W, U, b, h0), VALS)}
    np.testing.assert_allclose(evaluate([got], given)[0], evaluate([gb], given)[0], rtol=1e-12)


@pytest.mark.parametrize("go_backwards,n_steps", [(False, None), (True, None), (False, 4),
                                                  (True, 4), (False, 0)])
def test_gradient_of_recurrent_weights_is_one_product_after_the_loop(go_backwards, n_steps):
    """sum over steps of h_{t-1}^T . d_t (the gradient of U) -> one dot(H.T, D) over the
    stacked rows of all steps; the loop keeps no sum and no per-step product."""
    hs = _rnn(go_backwards=go_backwards, n_steps=n_steps)
    gU = T.grad(((hs[-1] if n_steps != 0 else hs.sum(axis=0)) ** 2).sum() + (hs ** 2).sum(), U)
    trace = []
    (got,) = sum_map_outputs([gU], trace)
    assert "scan_sum_of_step_products" in [t[0] for t in trace]
    assert all(s.op.n_sums == 0 for s in _scans([got]))
    assert isinstance(got.owner.op, Dot)
    given = {id(v): a for v, a in zip((X, W, U, b, h0), VALS)}
    np.testing.assert_allclose(evaluate([got], given)[0], evaluate([gU], given)[0],
                               rtol=1e-12, atol=1e-14)
    f = aotc.function([X, W, U, b, h0], gU)                  # compiled, the whole pipeline
    assert f.backend == "c"
    np.testing.assert_allclose(f(*VALS), evaluate([gU], given)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_summed_map_output_compiled_matches_the_reference_for_any_length(n):
    k = T.lscalar("k")
    ys, _ = aotc.scan(lambda x_t, W: T.dot(x_t.T, x_t) * W, sequences=X, non_sequences=W[:, :3],
                      n_steps=k)
    out = ys.sum(axis=0)
    f = aotc.function([X, W, k], out)
    g = aotc.function([X, W, k], out, mode="FAST_COMPILE")
    scans = [n_ for n_ in toposort(f._impl.optimized_outputs) if isinstance(n_.op, Scan)]
    assert [s.op.n_sums for s in scans] == [1]
    assert f.backend == "c"
    got, want = f(VALS[0], VALS[1], n), g(VALS[0], VALS[1], n)
    assert got.shape == want.shape == (3, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_a_map_output_used_elsewhere_stays_stacked():
    ys, _ = aotc.scan(lambda x_t: x_t * 2.0, sequences=X)
    trace = []
    got = sum_map_outputs([ys.sum(axis=0), ys[-1]], trace)
    assert trace == []
    assert got[0].owner.inputs[0] is ys


def test_unused_map_outputs_and_their_step_work_are_dropped():
    """The gradient of a scan with respect to a sequence nobody differentiates (a mask)
    is a map output no one reads: prune_scan_outputs drops it and its inner work."""
    from aotc.passes.scan_opt import prune_scan_outputs
    M = T.dmatrix("M")

    def step(x_t, m_t, h, W, U, b):
        hn = T.tanh(T.dot(x_t, W) + b + T.dot(h, U))
        return m_t[:, None] * hn + (1 - m_t)[:, None] * h
    hs, _ = aotc.scan(step, sequences=[X, M], outputs_info=h0, non_sequences=[W, U, b])
    cost = (hs ** 2).sum()
    grads = T.grad(cost, [W, U, b])
    before = _scans(grads)
    trace = []
    after_outs = prune_scan_outputs(grads, trace)
    after = _scans(after_outs)
    assert [name for name, _, _ in trace] == ["scan_prune_unused_outputs"]
    grad_scan_before = max(before, key=lambda n: n.op.n_nit_sot)
    grad_scan_after = max(after, key=lambda n: n.op.n_nit_sot)
    assert grad_scan_after.op.n_nit_sot < grad_scan_before.op.n_nit_sot
    assert len(toposort(list(grad_scan_after.op.inner.outputs))) < \
        len(toposort(list(grad_scan_before.op.inner.outputs)))
    mask = (RNG.rand(6, 2) > 0.3).astype("float64")
    given = dict(zip([id(v) for v in (X, W, U, b, h0, M)], VALS + (mask,)))
    for want, got in zip(evaluate(grads, given), evaluate(after_outs, given)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    f = aotc.function([X, W, U, b, h0, M], grads)            # compiled, the whole pipeline
    for want, got in zip(evaluate(grads, given), f(*(VALS + (mask,)))):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_map_outputs_of_one_inner_variable_are_merged():
    """Two sequences entering the step as one sum (x_t + y_t) get one gradient inside
    the loop: the gradient scan writes those rows once, both gradients read them."""
    from aotc.passes.scan_opt import prune_scan_outputs
    Y = T.dtensor3("Y")

    def step(x_t, y_t, h, U):
        return T.tanh(x_t + y_t + T.dot(h, U))
    hs, _ = aotc.scan(step, sequences=[X, Y], outputs_info=h0, non_sequences=[U])
    cost = (hs ** 2).sum()
    grads = T.grad(cost, [X, Y, U])
    trace = []
    after_outs = prune_scan_outputs(grads, trace)
    assert [t[2].split("; ")[-1] for t in trace] == ["merged 1 into 0)"], trace
    before = max(_scans(grads), key=lambda n: n.op.n_nit_sot)
    after = max(_scans(after_outs), key=lambda n: n.op.n_nit_sot)
    assert after.op.n_nit_sot == before.op.n_nit_sot - 1
    xv, yv = RNG.randn(6, 2, 4), RNG.randn(6, 2, 4)
    given = {id(X): xv, id(Y): yv, id(U): VALS[2], id(h0): VALS[4]}
    want = evaluate(grads, given)
    for w, got in zip(want, evaluate(after_outs, given)):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)
    f = aotc.function([X, Y, U, h0], grads)                   # compiled, the whole pipeline
    for w, got in zip(want, f(xv, yv, VALS[2], VALS[4])):
        np.testing.assert_allclose(got, w, rtol=1e-9, atol=1e-9)
    eps = 1e-6                                                # and against finite differences
    cost_f = aotc.function([X, Y, U, h0], cost)
    d = np.zeros_like(xv)
    d[2, 1, 3] = eps
    fd = (cost_f(xv + d, yv, VALS[2], VALS[4]) - cost_f(xv - d, yv, VALS[2], VALS[4])) / (2 * eps)
    np.testing.assert_allclose(want[0][2, 1, 3], fd, rtol=1e-6, atol=1e-8)


def _gated(go_backwards=False):
    def step(x_t, h, W, U):
        p = T.dot(x_t, W) + T.dot(h, U)
        return T.nnet.sigmoid(p) * T.tanh(p)           # its gradient needs p again
    hs, _ = aotc.scan(step, sequences=X, outputs_info=h0, non_sequences=[W, U],
                      go_backwards=go_backwards)
    return hs


def test_the_gradient_loop_reuses_the_forward_loops_products():
    """The gradient loop needs dot(h_{t-1}, U) of every step, hoisted as one product over
    the forward states; the forward loop's own step values replace it (one GEMM fewer)."""
    from aotc.passes import optimize
    hs = _gated()
    cost = (hs ** 2).sum()
    grads = T.grad(cost, [W, U, X])
    trace = []
    optimized = optimize(grads, trace=trace)
    assert [t[0] for t in trace].count("scan_reuse_step_product") == 1, trace
    loops = _scans(optimized)
    forward = min(loops, key=lambda n: n.op.n_nit_sot)
    assert forward.op.n_nit_sot == 1                       # the step products, kept
    given = {id(v): a for v, a in zip((X, W, U, b, h0), VALS)}
    want = evaluate(grads, given)
    for w, got in zip(want, evaluate(optimized, given)):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)
    f = aotc.function([X, W, U, h0], grads)
    args = (VALS[0], VALS[1], VALS[2], VALS[4])
    for w, got in zip(want, f(*args)):
        np.testing.assert_allclose(got, w, rtol=1e-9, atol=1e-9)
    cost_f = aotc.function([X, W, U, h0], cost)               # and finite differences
    eps, d = 1e-6, np.zeros_like(VALS[2])
    d[1, 2] = eps
    fd = (cost_f(args[0], args[1], args[2] + d, args[3])
          - cost_f(args[0], args[1], args[2] - d, args[3])) / (2 * eps)
    np.testing.assert_allclose(want[1][1, 2], fd, rtol=1e-6, atol=1e-8)


def test_a_backwards_loop_keeps_its_product():
    """go_backwards: the forward step values lie in the reverse order: no reuse."""
    from aotc.passes import optimize
    hs = _gated(go_backwards=True)
    grads = T.grad((hs ** 2).sum(), [U])
    trace = []
    optimize(grads, trace=trace)
    assert "scan_hoist_sequence_map" in [t[0] for t in trace]
    assert "scan_reuse_step_product" not in [t[0] for t in trace]


def test_a_transposed_invariant_is_copied_once_before_the_loop():
    """The backward step reads U transposed (moved out of the loop as a view when the
    gradient scan was built): transpose_invariants_once makes one contiguous copy."""
    from aotc.frontend.ops.elemwise import Elemwise
    from aotc.passes.scan_opt import transpose_invariants_once
    hs = _rnn()
    gW = T.grad((hs ** 2).sum(), [W, U])
    trace = []
    got = transpose_invariants_once(gW, trace)
    assert [t[0] for t in trace] == ["scan_transpose_invariant_once"]
    copies = [n for s in _scans(got) for n in [i.owner for i in s.inputs]
              if n is not None and isinstance(n.op, Elemwise)
              and n.op.scalar_op.name == "identity"]
    assert len(copies) == 2                                  # W.T and U.T (dx and dh)
    given = {id(v): a for v, a in zip((X, W, U, b, h0), VALS)}
    for want, have in zip(evaluate(gW, given), evaluate(got, given)):
        np.testing.assert_array_equal(have, want)
    trace2 = []                                              # no transposed view is left
    transpose_invariants_once(got, trace2)
    assert trace2 == []


# ---- elementwise sequence work that would cost the step calls of its own ------------

M = T.dmatrix("M")


def _masked(go_backwards=False):
    """The tutorial LSTM's mask: m[:, None] and (1 - m)[:, None], each written twice."""
    def step(m_t, x_t, h, W, U):
        new = T.tanh(T.dot(x_t, W) + T.dot(h, U))
        c = m_t[:, None] * new + (1. - m_t)[:, None] * h
        return m_t[:, None] * T.tanh(c) + (1. - m_t)[:, None] * h
    hs, _ = aotc.scan(step, sequences=[M, X], outputs_info=h0, non_sequences=[W, U],
                      go_backwards=go_backwards)
    return hs


MASK = (RNG.rand(6, 2) > 0.3).astype("float64")


def _inner_ops(node):
    return [type(m.op).__name__ for m in toposort(list(node.op.inner.outputs))]


@pytest.mark.parametrize("go_backwards", [False, True])
def test_mask_views_and_their_complement_leave_the_loop(go_backwards):
    """m[:, None] (a view) and (1 - m)[:, None] (elementwise work of another broadcast
    pattern than the gate math that reads it) are each a kernel call per step: they
    become one new sequence each (the step graph is merged first: each is written twice);
    the step's own elementwise work stays, to be fused."""
    hs = _masked(go_backwards)
    trace = []
    (got,) = hoist_sequence_maps([hs], trace)
    (after,) = _scans([got])
    hoisted = [t[1] for t in trace]
    assert len(hoisted) == 3, hoisted        # X . W, m[:, None], (1 - m)[:, None]
    assert after.op.n_seqs == 2 + 3
    ops = _inner_ops(after)
    assert "DimShuffle" not in ops and "Subtensor" not in ops, ops
    assert ops.count("Elemwise") >= 5         # the step's tanh, products and sums stay
    given = {id(v): a for v, a in zip((M, X, W, U, h0), (MASK,) + VALS[:3] + VALS[4:])}
    np.testing.assert_allclose(evaluate([got], given)[0], evaluate([hs], given)[0],
                               rtol=1e-13)
    cost = (hs[-1] ** 2).sum() + hs.sum()
    outs = [hs] + T.grad(cost, [W, U, h0, X])
    f = aotc.function([M, X, W, U, h0], outs)
    g = aotc.function([M, X, W, U, h0], outs, mode="FAST_COMPILE")
    args = (MASK, VALS[0], VALS[1], VALS[2], VALS[4])
    for k, (p, q) in enumerate(zip(f(*args), g(*args))):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12, err_msg="output %d" % k)
    cost_f = aotc.function([M, X, W, U, h0], cost)            # and finite differences
    eps, d = 1e-6, np.zeros_like(VALS[2])
    d[2, 1] = eps
    fd = (cost_f(MASK, VALS[0], VALS[1], VALS[2] + d, VALS[4])
          - cost_f(MASK, VALS[0], VALS[1], VALS[2] - d, VALS[4])) / (2 * eps)
    np.testing.assert_allclose(f(*args)[2][2, 1], fd, rtol=1e-6, atol=1e-8)


def test_elementwise_sequence_work_the_step_fuses_stays_in_the_loop():
    """x_t * 2 has the pattern of the step's tanh(...) that reads it: fused there, it costs
    no call; hoisted, it would cost a pass over memory.  Nothing moves."""
    hs, _ = aotc.scan(lambda x_t, h, U: T.tanh(x_t * 2. + T.dot(h, U)), sequences=X,
                      outputs_info=h0[:, :3], non_sequences=U[:3, :3])
    trace = []
    (got,) = hoist_sequence_maps([hs], trace)
    assert trace == [] and got is hs


def test_a_view_read_by_a_dot_stays_for_the_step_product_rewrites():
    """x_t.T read by a Dot is left for the rewrites that know Dots of views (a hoisted view
    of every row would hide the step product from them)."""
    hs, _ = aotc.scan(lambda x_t, h: h + T.dot(x_t.T, x_t), sequences=X,
                      outputs_info=T.zeros((3, 3), dtype="float64"))
    trace = []
    (got,) = hoist_sequence_maps([hs], trace)
    assert trace == [] and got is hs


def test_hoisting_with_a_gradient_keeps_one_forward_loop():
    """The forward loop and the gradient loop that reads its states are rewritten once
    each: no second copy of the forward loop (one once appeared when hoisting rebuilt the
    values it read)."""
    from aotc.passes import optimize
    hs = _masked()
    grads = T.grad((hs ** 2).sum(), [U, W])
    loops = _scans(optimize(grads))
    assert len(loops) == 2, [n.op.name for n in loops]
