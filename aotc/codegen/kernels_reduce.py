"""Kernel builders for the reduce op family (see kernels.py for the contract)."""

BUILDERS = {}
