"""Theano's ``config`` object.

The one place in aotc that reads the environment: ``AOTC_FLAGS`` is read once,
when this module is imported, as ``name=value`` pairs separated by commas
(``AOTC_FLAGS=floatX=float32,compute_test_value=raise``).  Flags Theano programs
set that have no meaning here (``warn.subtensor_merge_bug``, ``device``, ...)
are accepted and kept, so ported code runs unchanged.
"""
import os

from .errors import AotcValueError

_FLOATX = ("float64", "float32", "float16")
_TEST_VALUE = ("off", "raise", "warn", "ignore")
# the names ``function(mode=...)`` accepts (aotc/modes.py maps each to a Mode)
_MODES = ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "DebugMode", "NanGuardMode", "Mode")


class _Section:
    """A dotted group of flags (``config.warn.subtensor_merge_bug``) accepted as-is."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        sub = _Section(self._name + "." + item)
        object.__setattr__(self, item, sub)
        return sub


class Config:
    """Global defaults for graph construction and compilation."""

    def __init__(self):
        object.__setattr__(self, "_values", {
            "floatX": "float64",
            "compute_test_value": "off",
            "print_test_value": False,
            "mode": "FAST_RUN",
            "exception_verbosity": "low",
            "optimizer": "fast_run",
            "linker": "c",
            "device": "cpu",
            # where built modules are cached (Theano's name for it)
            "compiledir": os.path.join(os.path.expanduser("~"), ".cache", "aotc"),
        })

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name.startswith("__"):
            raise AttributeError(name)
        # Unknown flag groups (warn, nvcc, DebugMode, ...) are accepted as sections.
        sec = _Section(name)
        object.__setattr__(self, name, sec)
        return sec

    def __setattr__(self, name, value):
        if name == "floatX" and value not in _FLOATX:
            raise AotcValueError(
                "config.floatX: expected one of %s, got %r" % (", ".join(_FLOATX), value))
        if name == "compute_test_value" and value not in _TEST_VALUE:
            raise AotcValueError(
                "config.compute_test_value: expected one of %s, got %r"
                % (", ".join(_TEST_VALUE), value))
        if name == "mode" and value not in _MODES:
            raise AotcValueError(
                "config.mode: expected one of %s, got %r" % (", ".join(_MODES), value))
        self._values[name] = value

    def change_flags(self, **kw):
        """Context manager setting flags for a block: ``with config.change_flags(floatX='float32'):``."""
        return _ChangeFlags(self, kw)


class _ChangeFlags:
    def __init__(self, cfg, kw):
        self.cfg, self.kw, self.old = cfg, kw, {}

    def __enter__(self):
        for k, v in self.kw.items():
            self.old[k] = getattr(self.cfg, k)
            setattr(self.cfg, k, v)
        return self.cfg

    def __exit__(self, *exc):
        for k, v in self.old.items():
            setattr(self.cfg, k, v)
        return False


def _parse_flags(text):
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise AotcValueError("AOTC_FLAGS: expected name=value, got %r" % item)
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def _apply_flags(cfg, text):
    for key, val in _parse_flags(text):
        if val in ("True", "False"):
            val = val == "True"
        *sections, leaf = key.split(".")
        target = cfg
        for sec in sections:   # dotted legacy flags (warn.subtensor_merge_bug): kept, no effect
            target = getattr(target, sec)
        setattr(target, leaf, val)


config = Config()
_apply_flags(config, os.environ.get("AOTC_FLAGS", ""))
