"""Op-table cases for the shape ops (shape.py) and the indexing ops (subtensor.py).

Shapes use distinct sizes (2, 3, 5) so that a swapped axis cannot hide.  Integer
index inputs are int64 with an explicit sampler range; gradients are checked
for the float inputs only (``wrt``).  Sizes that an output depends on by value
(reshape targets, alloc sizes, arange bounds, slice bounds) are constants or
the reshaped input's own ``x.shape[k]`` here, because ``infer_shape`` sees
shapes, not values; symbolic sizes are covered by tests/frontend/test_indexing.py.
"""
import numpy as np

from aotc.frontend.ops import shape as S
from aotc.frontend.ops import subtensor as ST

from .cases import Input, OpCase

F3 = Input((2, 3, 5))
F2 = Input((2, 3))


def ints(shape, lo, hi):
    """An int64 index input drawn from [lo, hi)."""
    return Input(shape, dtype="int64", sampler="int:%d:%d" % (lo, hi))


def _inc(x, idx, y):
    out = x.copy()
    np.add.at(out, idx, y)
    return out


def _set(x, idx, y):
    out = x.copy()
    out[idx] = y
    return out


CASES = [
    # -- DimShuffle ------------------------------------------------------------------
    OpCase("dimshuffle_permute", "DimShuffle", lambda x: S.dimshuffle(x, (2, 0, 1)),
           lambda x: np.transpose(x, (2, 0, 1)), [F3]),
    OpCase("dimshuffle_insert", "DimShuffle", lambda x: S.dimshuffle(x, ("x", 1, "x", 0)),
           lambda x: x.T[None, :, None, :], [F2]),
    OpCase("dimshuffle_drop", "DimShuffle", lambda x: S.dimshuffle(x, (2, 0)),
           lambda x: x[:, 0, :].T, [Input((2, 1, 5), broadcastable=(False, True, False))]),
    OpCase("transpose_T", "DimShuffle", lambda x: x.T, lambda x: x.T, [F3]),
    # -- Rebroadcast -----------------------------------------------------------------
    OpCase("addbroadcast", "Rebroadcast", lambda x: S.addbroadcast(x, 1) * 2.0,
           lambda x: x * 2.0, [Input((2, 1, 5))]),
    OpCase("unbroadcast", "Rebroadcast", lambda x: S.unbroadcast(x, 0, 1),
           lambda x: x, [Input((1, 1, 3), broadcastable=(True, True, False))]),
    # -- Shape and MakeVector ------------------------------------------------------------
    OpCase("shape_vector", "Shape", lambda x: S.shape(x), lambda x: np.array(x.shape),
           [F3], grad=False),
    OpCase("shape_of_scalar", "Shape", lambda x: x.shape, lambda x: np.zeros(0, "int64"),
           [Input(())], grad=False),
    OpCase("shape_index", "Shape", lambda x: x.shape[-1] * x.shape[1],
           lambda x: np.int64(x.shape[-1] * x.shape[1]), [F3], grad=False),
    OpCase("make_vector_floats", "MakeVector", lambda a, b, c: S.stack([a, b, c]),
           lambda a, b, c: np.array([a, b, c]), [Input(()), Input(()), Input(())]),
    OpCase("make_vector_shape", "MakeVector",
           lambda x: S.make_vector([x.shape[2], 7, x.shape[0]], dtype="int64"),
           lambda x: np.array([5, 7, 2]), [F3], grad=False),
    # -- Reshape ---------------------------------------------------------------------------
    OpCase("reshape_const", "Reshape", lambda x: S.reshape(x, (6, 5)),
           lambda x: x.reshape(6, 5), [F3]),
    OpCase("reshape_minus_one", "Reshape", lambda x: x.reshape((3, -1)),
           lambda x: x.reshape(3, -1), [F3]),
    OpCase("reshape_size_one_bcast", "Reshape", lambda x, y: x.reshape((2, 1, 15)) + y,
           lambda x, y: x.reshape(2, 1, 15) + y, [F3, Input((2, 4, 15))]),
    OpCase("reshape_own_shape", "Reshape", lambda x: x.reshape([x.shape[2], x.shape[0], -1]),
           lambda x: x.reshape(5, 2, -1), [F3]),
    OpCase("flatten_1", "Reshape", lambda x: x.flatten(), lambda x: x.reshape(-1), [F3]),
    OpCase("flatten_2", "Reshape", lambda x: S.flatten(x, 2), lambda x: x.reshape(2, -1), [F3]),
    # -- Alloc -------------------------------------------------------------------------------
    OpCase("alloc_vector", "Alloc", lambda v: S.alloc(v, 2, 3, 5),
           lambda v: np.broadcast_to(v, (2, 3, 5)), [Input((5,))]),
    OpCase("alloc_scalar_bcast_axis", "Alloc", lambda s: S.alloc(s, 2, 1, 4),
           lambda s: np.full((2, 1, 4), s), [Input(())]),
    OpCase("alloc_row", "Alloc", lambda r: S.alloc(r, 4, 2, 3),
           lambda r: np.broadcast_to(r, (4, 2, 3)),
           [Input((1, 3), broadcastable=(True, False))]),
    # a zero value fills with stores only; -0. keeps its sign (1 / -0. is -inf)
    OpCase("alloc_zero_fill", "Alloc",
           lambda x: x + S.alloc(abs(x[0, 0, 0]) * 0, x.shape[0], 3, 5), lambda x: x + 0.0,
           [F3], grad=False),
    OpCase("alloc_negative_zero_fill", "Alloc",
           lambda x: 1 / S.alloc(-abs(x[0, 0, 0]) * 0, x.shape[0], 3, 5),
           lambda x: np.full((2, 3, 5), -np.inf), [F3], grad=False),
    # -- ARange --------------------------------------------------------------------------------
    OpCase("arange_float", "ARange", lambda x: x * S.arange(1, 11, 2, dtype=x.dtype),
           lambda x: x * np.arange(1, 11, 2), [Input((5,))]),
    OpCase("arange_int", "ARange", lambda x: x + S.arange(2, 9, 3),
           lambda x: x + np.arange(2, 9, 3), [Input((3,))]),
    OpCase("arange_negative_step", "ARange", lambda x: x * S.arange(4, -1, -1),
           lambda x: x * np.arange(4, -1, -1), [Input((5,))]),
    # -- Join ------------------------------------------------------------------------------------
    OpCase("concatenate_axis1", "Join", lambda a, b: S.concatenate([a, b], axis=1),
           lambda a, b: np.concatenate([a, b], axis=1), [F3, Input((2, 4, 5))]),
    OpCase("concatenate_neg_axis", "Join", lambda a, b: S.concatenate([a, b], axis=-1),
           lambda a, b: np.concatenate([a, b], axis=-1), [F3, Input((2, 3, 2))]),
    OpCase("join_three", "Join", lambda a, b, c: S.join(0, a, b, c),
           lambda a, b, c: np.concatenate([a, b, c]), [F2, Input((1, 3)), Input((3, 3))]),
    OpCase("join_upcast_int", "Join", lambda a, b: S.concatenate([a, b]),
           lambda a, b: np.concatenate([a, b]),
           [Input((2, 3)), Input((3, 3), dtype="int32", sampler="int:-3:4")]),
    OpCase("stack_axis1", "Join", lambda a, b: S.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1), [F2, F2]),
    # -- Subtensor ---------------------------------------------------------------------------------
    OpCase("subtensor_slices", "Subtensor", lambda x: x[1:, ::-1, 1:4],
           lambda x: x[1:, ::-1, 1:4], [F3]),
    OpCase("subtensor_ints", "Subtensor", lambda x: x[1, :, -2], lambda x: x[1, :, -2], [F3]),
    OpCase("subtensor_steps", "Subtensor", lambda x: x[:, ::2, 4:0:-2],
           lambda x: x[:, ::2, 4:0:-2], [F3]),
    OpCase("subtensor_symbolic_int", "Subtensor", lambda x, i: x[i, 1:],
           lambda x, i: x[i, 1:], [F3, ints((), -2, 2)], wrt=(0,)),
    OpCase("subtensor_newaxis", "Subtensor", lambda x: x[:, None, 1],
           lambda x: x[:, None, 1], [F3]),
    OpCase("subtensor_ellipsis", "Subtensor", lambda x: x[..., 1:3], lambda x: x[..., 1:3], [F3]),
    OpCase("subtensor_scalar_out", "Subtensor", lambda x: x[1, 2, 3], lambda x: x[1, 2, 3], [F3]),
    OpCase("subtensor_symbolic_slice", "Subtensor", lambda x, a, b, s: x[a:b:s, 1],
           lambda x, a, b, s: x[a:b:s, 1],
           [Input((5, 3)), ints((), -7, 7), ints((), -7, 7), Input((), "int32", "nonzero")],
           wrt=(0,)),
    OpCase("subtensor_of_reversed_view", "Subtensor", lambda x: x[::-1][1:, ::-2],
           lambda x: x[::-1][1:, ::-2], [Input((3, 4, 5))]),
    # -- IncSubtensor ------------------------------------------------------------------------------
    OpCase("inc_subtensor_bcast_y", "IncSubtensor", lambda x, y: ST.inc_subtensor(x[1:, ::2], y),
           lambda x, y: _inc(x, (slice(1, None), slice(None, None, 2)), y),
           [F3, Input((2, 5))]),
    OpCase("set_subtensor", "IncSubtensor", lambda x, y: ST.set_subtensor(x[0, :, 1:3], y),
           lambda x, y: _set(x, (0, slice(None), slice(1, 3)), y), [F3, Input((3, 2))]),
    OpCase("set_subtensor_scalar", "IncSubtensor", lambda x, s: ST.set_subtensor(x[:, -1], s),
           lambda x, s: _set(x, (slice(None), -1), s), [F2, Input(())]),
    OpCase("inc_subtensor_symbolic", "IncSubtensor",
           lambda x, y, i: ST.inc_subtensor(x[i], y),
           lambda x, y, i: _inc(x, int(i), y), [F2, Input((3,)), ints((), 0, 2)], wrt=(0, 1)),
    OpCase("inc_subtensor_symbolic_step", "IncSubtensor",
           lambda x, y, s: ST.inc_subtensor(x[::s], y),
           lambda x, y, s: _inc(x, slice(None, None, int(s)), y),
           [Input((4, 3)), Input((3,)), Input((), "int64", "nonzero")], wrt=(0, 1)),
    # -- AdvancedSubtensor1 --------------------------------------------------------------------------
    OpCase("gather_rows", "AdvancedSubtensor1", lambda w, i: w[i], lambda w, i: w[i],
           [Input((4, 5)), ints((7,), 0, 4)], wrt=(0,)),
    OpCase("gather_negative", "AdvancedSubtensor1", lambda w, i: w[i, :], lambda w, i: w[i],
           [Input((4, 3)), ints((6,), -4, 4)], wrt=(0,)),
    OpCase("gather_matrix_index", "AdvancedSubtensor1", lambda w, i: w[i], lambda w, i: w[i],
           [Input((4, 5)), ints((2, 3), 0, 4)], wrt=(0,)),
    OpCase("gather_constant", "AdvancedSubtensor1", lambda w: w[[1, 0, 1]],
           lambda w: w[[1, 0, 1]], [F3]),
    OpCase("gather_repeated_negative", "AdvancedSubtensor1", lambda w, i: w[i],
           lambda w, i: w[i], [Input((3, 4)), ints((9,), -3, 3)], wrt=(0,)),
    OpCase("gather_strided_rows_int32", "AdvancedSubtensor1", lambda w, i: w[:, ::-2][i],
           lambda w, i: w[:, ::-2][i], [Input((4, 5)), Input((6,), "int32", "int:-4:4")],
           wrt=(0,)),
    OpCase("gather_vector", "AdvancedSubtensor1", lambda v, i: v[i], lambda v, i: v[i],
           [Input((5,)), ints((2, 3), -5, 5)], wrt=(0,)),
    # -- AdvancedIncSubtensor1 -----------------------------------------------------------------------
    OpCase("scatter_add", "AdvancedIncSubtensor1", lambda x, y, i: ST.inc_subtensor(x[i], y),
           lambda x, y, i: _inc(x, i, y), [Input((4, 5)), Input((6, 5)), ints((6,), 0, 4)],
           wrt=(0, 1)),
    OpCase("scatter_add_bcast_y", "AdvancedIncSubtensor1",
           lambda x, y, i: ST.inc_subtensor(x[i], y),
           lambda x, y, i: _inc(x, i, y), [Input((4, 5)), Input((5,)), ints((6,), -4, 4)],
           wrt=(0, 1)),
    OpCase("scatter_set", "AdvancedIncSubtensor1",
           lambda x, y: ST.set_subtensor(x[[3, 0, 2]], y),
           lambda x, y: _set(x, [3, 0, 2], y), [Input((4, 5)), Input((3, 5))]),
    OpCase("scatter_add_repeated", "AdvancedIncSubtensor1",
           lambda x, y, i: ST.inc_subtensor(x[i], y),
           lambda x, y, i: _inc(x, i, y), [Input((3, 2)), Input((8, 2)), ints((8,), -3, 3)],
           wrt=(0, 1)),
    # -- AdvancedSubtensor ---------------------------------------------------------------------------
    OpCase("paired_index", "AdvancedSubtensor", lambda p, a, b: p[a, b], lambda p, a, b: p[a, b],
           [Input((5, 3)), ints((6,), 0, 5), ints((6,), 0, 3)], wrt=(0,)),
    OpCase("index_axis1", "AdvancedSubtensor", lambda x, i: x[:, i], lambda x, i: x[:, i],
           [F3, ints((4,), -3, 3)], wrt=(0,)),
    OpCase("index_non_adjacent", "AdvancedSubtensor", lambda x, i, j: x[i, :, j],
           lambda x, i, j: x[i, :, j], [F3, ints((4,), 0, 2), ints((4,), 0, 5)], wrt=(0,)),
    OpCase("index_int_and_array", "AdvancedSubtensor", lambda x, j: x[1, :, j],
           lambda x, j: x[1, :, j], [F3, ints((4,), 0, 5)], wrt=(0,)),
    OpCase("index_broadcast_pair", "AdvancedSubtensor", lambda x, r, c: x[r, c],
           lambda x, r, c: x[r, c],
           [Input((4, 6)), Input((3, 1), "int64", "int:0:4", (False, True)),
            Input((1, 5), "int64", "int:0:6", (True, False))], wrt=(0,)),
    OpCase("index_reversed_slice", "AdvancedSubtensor", lambda x, i: x[::-1, i],
           lambda x, i: x[::-1, i], [F3, ints((4,), -3, 3)], wrt=(0,)),
    # -- AdvancedIncSubtensor ------------------------------------------------------------------------
    OpCase("paired_inc", "AdvancedIncSubtensor", lambda p, y, a, b: ST.inc_subtensor(p[a, b], y),
           lambda p, y, a, b: _inc(p, (a, b), y),
           [Input((5, 3)), Input((6,)), ints((6,), 0, 5), ints((6,), 0, 3)], wrt=(0, 1)),
    OpCase("set_columns", "AdvancedIncSubtensor",
           lambda x, y: ST.set_subtensor(x[:, [0, 2]], y),
           lambda x, y: _set(x, (slice(None), [0, 2]), y), [F3, Input((2, 5))]),
    OpCase("paired_inc_repeated", "AdvancedIncSubtensor",
           lambda p, y, a, b: ST.inc_subtensor(p[a, b], y),
           lambda p, y, a, b: _inc(p, (a, b), y),
           [Input((3, 2)), Input((8,)), ints((8,), -3, 3), ints((8,), -2, 2)], wrt=(0, 1)),
    OpCase("inc_columns_symbolic_slice", "AdvancedIncSubtensor",
           lambda x, y, a, i: ST.inc_subtensor(x[a:, :, i], y),
           lambda x, y, a, i: _inc(x, (slice(int(a), None), slice(None), i), y),
           [F3, Input((3, 4)), ints((), -3, 3), ints((4,), -5, 5)], wrt=(0, 1)),
]
