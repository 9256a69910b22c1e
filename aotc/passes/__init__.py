"""Graph rewrites, run in one literal order (read this list top to bottom).

Each phase maps a list of output variables to an equivalent list.  Rules are
data (see ``rewrite.py``); nothing registers itself.
"""
from . import blas, canonicalize, fusion, memo, merge, rewrite, scan_opt, stabilize

#: The passes of the default (FAST_RUN) pipeline, in order.
PIPELINE = (
    "canonicalize",
    "fold_constants",
    "merge",
    "stabilize",
    "canonicalize",
    "fold_constants",
    "merge",
    "prune_scan_outputs",
    "hoist_sequence_maps",
    "sum_map_outputs",
    "transpose_invariants_once",
    "recognize_gemm",
    "memoize_embedding_products",
    "fuse_elementwise",
)

#: Passes that only hold in a function updating no shared variable (``stateless``):
#: their kernels keep results between calls, valid while the shared state is unchanged.
STATELESS_ONLY = ("memoize_embedding_products",)


def run_pass(name, outputs, trace):
    if name == "canonicalize":
        return rewrite.rewrite(outputs, canonicalize.rules(), trace)
    if name == "stabilize":
        return rewrite.rewrite(outputs, stabilize.rules(), trace)
    if name == "fold_constants":
        return merge.fold_constants(outputs, trace)
    if name == "merge":
        return merge.merge_nodes(outputs, trace)
    if name == "prune_scan_outputs":
        return scan_opt.prune_scan_outputs(outputs, trace)
    if name == "hoist_sequence_maps":
        return scan_opt.hoist_sequence_maps(outputs, trace)
    if name == "sum_map_outputs":
        return scan_opt.sum_map_outputs(outputs, trace)
    if name == "transpose_invariants_once":
        return scan_opt.transpose_invariants_once(outputs, trace)
    if name == "recognize_gemm":
        return blas.recognize_gemm(outputs, trace)
    if name == "memoize_embedding_products":
        return memo.memoize_embedding_products(outputs, trace)
    if name == "fuse_elementwise":
        return fusion.fuse_elementwise(outputs, trace)
    raise KeyError(name)


def optimize(outputs, trace=None, excluding=(), stateless=False):
    """Run PIPELINE over the graph of ``outputs``; returns the new outputs.

    ``trace`` (a list) receives ``(rule, before, after)`` for each rewrite that fired.
    ``stateless``: the function updates no shared variable and runs in a built module
    (whose shared state tells its kernels when it changes), so STATELESS_ONLY passes run.
    """
    outputs = list(outputs)
    for name in PIPELINE:
        if name in excluding or (name in STATELESS_ONLY and not stateless):
            continue
        outputs = run_pass(name, outputs, trace)
    return outputs
