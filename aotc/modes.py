"""Compilation modes: ``'FAST_RUN'``, ``'FAST_COMPILE'``, ``'DEBUG_MODE'`` and ``Mode(...)``.

- FAST_RUN: the optimized graph, compiled to C (the reference evaluator until
  the C backend is present; see ``Mode.backend``).
- FAST_COMPILE: the graph evaluated by each op's NumPy reference.
- DEBUG_MODE: both, compared output by output, raising on a difference, a NaN or an Inf.
"""
from .config import config
from .errors import AotcValueError

_ALIASES = {"FAST_RUN": "FAST_RUN", "FAST_COMPILE": "FAST_COMPILE", "DEBUG_MODE": "DEBUG_MODE",
            "DebugMode": "DEBUG_MODE", "NanGuardMode": "DEBUG_MODE", "Mode": "FAST_RUN"}
_LINKERS = ("c", "vm", "cvm", "c|py", "py", "vm_nogc", "cvm_nogc", "c|py_nogc")
_OPTIMIZERS = ("fast_run", "fast_compile", "merge", "None", None, "o1", "o2", "o3", "o4")


class Mode:
    """``Mode(linker='vm', optimizer='fast_run')``, accepted as in Theano.

    aotc is ahead-of-time: ``linker='py'`` or ``optimizer=None``/'fast_compile'
    select the reference evaluator; every other combination the compiled path.
    """

    def __init__(self, linker=None, optimizer="fast_run", kind=None):
        if linker is not None and linker not in _LINKERS:
            raise AotcValueError("Mode: linker must be one of %s, got %r"
                                 % (", ".join(_LINKERS), linker))
        if optimizer not in _OPTIMIZERS:
            raise AotcValueError("Mode: optimizer must be one of %s, got %r"
                                 % (", ".join(str(o) for o in _OPTIMIZERS), optimizer))
        self.linker = linker
        self.optimizer = optimizer
        self.excluded = ()
        if kind is None:
            kind = "FAST_COMPILE" if (linker == "py" or optimizer in (None, "None", "fast_compile")) \
                else "FAST_RUN"
        self.kind = kind

    def excluding(self, *tags):
        m = Mode(self.linker, self.optimizer, self.kind)
        m.excluded = tuple(self.excluded) + tags
        return m

    def including(self, *tags):
        return self

    def requiring(self, *tags):
        return self

    def __repr__(self):
        return "Mode(kind=%r, linker=%r, optimizer=%r)" % (self.kind, self.linker, self.optimizer)


FAST_RUN = Mode("cvm", "fast_run", "FAST_RUN")
FAST_COMPILE = Mode("py", "fast_compile", "FAST_COMPILE")
DEBUG_MODE = Mode("cvm", "fast_run", "DEBUG_MODE")


def get_mode(mode):
    """A Mode for a string, a Mode, or None (config.mode)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        kind = _ALIASES.get(mode)
        if kind is None:
            raise AotcValueError("mode: expected one of %s or a Mode, got %r"
                                 % (", ".join(sorted(_ALIASES)), mode))
        return {"FAST_RUN": FAST_RUN, "FAST_COMPILE": FAST_COMPILE, "DEBUG_MODE": DEBUG_MODE}[kind]
    raise AotcValueError("mode: expected a string or a Mode, got %r" % (mode,))
