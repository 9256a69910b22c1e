"""The Program: what a module computes, lowered from optimized graphs, with no C text yet.

A Program holds, per exported function, its variables (numbered by position:
inputs, shared, constants, then node outputs in topological order), the steps
(one kernel call per Apply node), and the tables the wrapper needs (argument
types, output and update positions, a description of every step for errors).
Kernels are shared between functions when their parameters are equal.
"""
from dataclasses import dataclass, field
from typing import Tuple


class Rec:
    """A frozen record with attribute access, hashable, ordered by key (template parameters)."""

    __slots__ = ("_items",)

    def __init__(self, mapping):
        object.__setattr__(self, "_items", tuple(sorted(
            (k, Rec(v) if isinstance(v, dict) else v) for k, v in mapping.items())))

    def __getattr__(self, key):
        for k, v in object.__getattribute__(self, "_items"):
            if k == key:
                return v
        raise AttributeError(key)

    def __setattr__(self, key, value):
        raise AttributeError("Rec is frozen")

    def __eq__(self, other):
        return isinstance(other, Rec) and other._items == self._items

    def __hash__(self):
        return hash(self._items)

    def items(self):
        return self._items

    def __repr__(self):
        return "{%s}" % ", ".join("%s: %r" % kv for kv in self._items)


@dataclass(frozen=True)
class Kernel:
    """One C function: a template name and its parameters."""
    name: str
    template: str
    params: Rec


@dataclass(frozen=True)
class Var:
    index: int
    dtype: str
    ndim: int
    broadcastable: Tuple[bool, ...]
    kind: str            # input | shared | const | temp


@dataclass(frozen=True)
class Step:
    index: int
    kernel: str
    inputs: Tuple[int, ...]
    outputs: Tuple[int, ...]
    op: str              # the Apply node, as text
    types: str           # its input types
    src: str             # the user's line that built it ("model.py:18   y = a @ b")
    releases: Tuple[Tuple[int, int], ...] = ()   # (var, producing step) dead after this step
    donate: bool = False     # may take over input 0's block (an in-place update)
    #: (output j, input q, shared k): output j may be written over input q, the function's
    #: shared value k, when the call lent that array (an update computed in place)
    overwrite: Tuple[Tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class Const:
    var: int
    slot: int


@dataclass(frozen=True)
class Arg:
    name: str
    var: int
    dtype: str
    ndim: int
    broadcastable: Tuple[bool, ...]
    has_default: bool = False
    default: object = None


@dataclass(frozen=True)
class FunctionProgram:
    index: int
    name: str
    vars: Tuple[Var, ...]
    args: Tuple[Arg, ...]
    shared: Tuple[Tuple[int, int], ...]      # (module shared slot, var index)
    consts: Tuple[Const, ...]
    steps: Tuple[Step, ...]
    outputs: Tuple[int, ...]                 # user outputs then update values (var indices)
    n_user_outputs: int
    single: bool
    updates: Tuple[Tuple[int, int], ...]     # (shared slot, position in outputs)
    graph_text: str


@dataclass(frozen=True)
class SharedSlot:
    name: str
    dtype: str
    ndim: int
    broadcastable: Tuple[bool, ...]


@dataclass(frozen=True)
class ConstSlot:
    dtype: str
    shape: Tuple[int, ...]
    data: bytes


@dataclass(frozen=True)
class Program:
    name: str
    functions: Tuple[FunctionProgram, ...]
    kernels: Tuple[Kernel, ...]
    shared: Tuple[SharedSlot, ...]
    consts: Tuple[ConstSlot, ...]
    runtime: Tuple[str, ...] = field(default=())   # runtime pieces needed (e.g. 'gemm', 'pool')

    def as_text(self):
        lines = ["program %s" % self.name]
        for k in self.kernels:
            lines.append("kernel %s %s" % (k.name, k.template))
        for f in self.functions:
            lines.append("function %s(%s)" % (f.name, ", ".join(
                "%s:%s%s" % (a.name, a.dtype, list(a.broadcastable)) for a in f.args)))
            for s in f.steps:
                lines.append("  t%s = %s(%s)   # %s" % (
                    ",t".join(str(o) for o in s.outputs), s.kernel,
                    ", ".join("t%d" % i for i in s.inputs), s.op))
            lines.append("  return %s" % ", ".join("t%d" % o for o in f.outputs))
        return "\n".join(lines) + "\n"
