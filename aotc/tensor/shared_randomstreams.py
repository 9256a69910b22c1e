"""``aotc.tensor.shared_randomstreams`` — Theano's NumPy-backed ``RandomStreams``.

Random streams arrive with scan and ifelse (THEANO_API.md section 12).
"""
