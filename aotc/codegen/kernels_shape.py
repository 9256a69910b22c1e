"""Kernel builders for the shape op family (see kernels.py for the contract)."""

BUILDERS = {}
