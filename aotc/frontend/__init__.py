"""The frontend: types, graphs, ops, gradients and the reference evaluator.

It knows nothing of the stages after it (passes, codegen, build).
"""
