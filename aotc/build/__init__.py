"""The build stage: Sources -> Artifact.

- ``compiler``: compiles Sources into an extension module in a content-addressed
  cache (atomic publication, nothing half-written is ever importable) and loads it;
- ``runtime_lib``: renders the C runtime (CPU dispatch, thread pool, vector
  math, GEMM) that every module embeds, and builds it alone for tests and
  benchmarks;
- ``module``: ``aotc build``'s module builder (the .so, its .pyi stubs and its
  .build.json manifest).
"""
