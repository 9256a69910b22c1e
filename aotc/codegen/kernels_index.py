"""Kernel builders for the index op family (see kernels.py for the contract)."""

BUILDERS = {}
