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
    "reuse_step_products",
    "sum_map_outputs",
    "transpose_invariants_once",
    "prune_scan_outputs",      # again: hoisting can leave two map outputs of one value
    "recognize_gemm",
    "memoize_embedding_products",
    "fuse_elementwise",
)

#: Passes that only hold in a function updating no shared variable (``stateless``):
#: their kernels keep results between calls, valid while the shared state is unchanged.
STATELESS_ONLY = ("memoize_embedding_products",)


#: name -> the pass: (outputs, trace) -> new outputs
PASSES = {
    "canonicalize": lambda outs, trace: rewrite.rewrite(outs, canonicalize.rules(), trace),
    "stabilize": lambda outs, trace: rewrite.rewrite(outs, stabilize.rules(), trace),
    "fold_constants": merge.fold_constants,
    "merge": merge.merge_nodes,
    "prune_scan_outputs": scan_opt.prune_scan_outputs,
    "hoist_sequence_maps": scan_opt.hoist_sequence_maps,
    "reuse_step_products": scan_opt.reuse_step_products,
    "sum_map_outputs": scan_opt.sum_map_outputs,
    "transpose_invariants_once": scan_opt.transpose_invariants_once,
    "recognize_gemm": blas.recognize_gemm,
    "memoize_embedding_products": memo.memoize_embedding_products,
    "fuse_elementwise": fusion.fuse_elementwise,
}


def run_pass(name, outputs, trace):
    return PASSES[name](outputs, trace)


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
