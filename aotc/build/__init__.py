"""The build stage: Sources -> Artifact.

- ``compiler``: compiles Sources into an extension module in a content-addressed
  cache (atomic publication, nothing half-written is ever importable) and loads it;
- ``runtime_lib``: builds the C runtime every module embeds (rendered by
  ``aotc.codegen.runtime``) alone, with a C test surface, for tests and
  benchmarks;
- ``module``: ``aotc build``'s module builder (the .so, its .pyi stubs and its
  .build.json manifest).
"""
