"""``aotc.function``: the one place that drives the pipeline for a function.

frontend graph -> (passes -> codegen -> build -> load, for compiled modes) -> a
callable.  ``aotc build`` goes through the same code.
"""
import threading
import warnings
from collections import OrderedDict

import numpy as np

from .errors import (AotcTypeError, AotcValueError, MissingInputError, UnusedInputError,
                     NanInfError, DebugModeError)
from .frontend.clone import check_replacement, clone_replace
from .frontend.evaluator import evaluate, graph_inputs, toposort, describe_node
from .frontend.graph import (Constant, SharedVariable, TensorConstant, Variable,
                             as_tensor_variable)
from .modes import get_mode


class In:
    """A function input with options: ``In(x, value=1.0, name='rate')``.

    ``value`` makes the argument optional; ``name`` is its keyword (default: the
    variable's name).  ``mutable`` and ``borrow`` are accepted as hints.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 borrow=False, implicit=False, strict=False, allow_downcast=None):
        if not isinstance(variable, Variable):
            raise AotcTypeError("In: expected a symbolic variable, got %r" % (variable,))
        self.variable = variable
        self.name = name if name is not None else variable.name
        self.value = value
        self.has_default = value is not None
        self.update = update
        self.mutable = mutable
        self.borrow = borrow
        self.strict = strict
        self.allow_downcast = allow_downcast


class Out:
    """An output with options (``borrow`` is accepted as a hint)."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow


class FunctionGraph:
    """What a function computes: explicit inputs, outputs, updates, shared state.

    ``outputs`` are the user's outputs followed by the update expressions.
    """

    def __init__(self, inputs, outputs, updates, name):
        self.inputs = inputs                    # explicit input variables
        self.user_outputs = outputs             # list of Variables
        self.updates = updates                  # list of (SharedVariable, Variable)
        self.outputs = list(outputs) + [u for _, u in updates]
        self.name = name
        roots = graph_inputs(self.outputs)
        self.shared = [r for r in roots if isinstance(r, SharedVariable)]
        for s, _ in updates:
            if not any(s is t for t in self.shared):
                self.shared.append(s)

    def toposort(self):
        return toposort(self.outputs)

    @property
    def apply_nodes(self):
        return self.toposort()


class _Maker:
    def __init__(self, fgraph, mode):
        self.fgraph = fgraph
        self.mode = mode


def _normalize_updates(updates):
    if updates is None:
        return []
    if isinstance(updates, dict):
        pairs = list(updates.items())
    elif isinstance(updates, (list, tuple)):
        pairs = []
        for item in updates:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise AotcTypeError("function: each update must be a (shared_variable, "
                                    "new_expression) pair, got %r" % (item,))
            pairs.append((item[0], item[1]))
    else:
        raise AotcTypeError("function: updates must be a list of pairs, a dict or an "
                            "OrderedDict, got %s" % type(updates).__name__)
    out = []
    for s, expr in pairs:
        if not isinstance(s, SharedVariable):
            raise AotcTypeError("function: an update's target must be a shared variable, got "
                                "%s (type %s)" % (s, getattr(s, "type", type(s).__name__)))
        if any(s is t for t, _ in out):
            raise AotcValueError("function: shared variable %s is updated twice" % s)
        if not isinstance(expr, Variable):
            # A plain value (``(s, 0.)``) is a constant of the shared variable's own type,
            # accepted when the conversion loses nothing (Theano's filter rules).
            expr = TensorConstant(s.type, s.type.filter(expr, what="update of %s" % s))
        expr = as_tensor_variable(expr)
        if expr.dtype != s.dtype or expr.ndim != s.ndim:
            raise AotcTypeError(
                "function: the update of %s must have its type %s, got %s of type %s%s"
                % (s, s.type, expr, expr.type,
                   "; cast it with T.cast(expr, %r)" % s.dtype if expr.ndim == s.ndim else ""))
        if expr.broadcastable != s.broadcastable:
            from .frontend.ops.shape import patternbroadcast
            expr = patternbroadcast(expr, s.broadcastable)
        out.append((s, expr))
    return out


def _normalize_givens(givens):
    if givens is None:
        return {}
    if isinstance(givens, dict):
        pairs = list(givens.items())
    elif isinstance(givens, (list, tuple)):
        pairs = []
        for item in givens:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise AotcTypeError("function: each given must be a (variable, replacement) "
                                    "pair, got %r" % (item,))
            pairs.append(tuple(item))
    else:
        raise AotcTypeError("function: givens must be a list of pairs or a dict, got %s"
                            % type(givens).__name__)
    out = OrderedDict()
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise AotcTypeError("function: givens keys must be symbolic variables, got %r" % (old,))
        out[old] = check_replacement(old, new)
    return out


def function(inputs=None, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates=False, accept_inplace=False, name=None, rebuild_strict=True,
             allow_input_downcast=None, profile=None, on_unused_input=None):
    """Compile a function from symbolic ``inputs`` to ``outputs``.

    >>> x, y = T.dscalars('x', 'y')
    >>> f = function([x, y], x + y)
    >>> f(2, 3)
    array(5.)

    ``updates`` (pairs, dict or OrderedDict) give shared variables new values,
    all computed from the values before the call and written after it.
    """
    if inputs is None:
        inputs = []
    if not isinstance(inputs, (list, tuple)):
        raise AotcTypeError("function: inputs must be a list of variables, got %s"
                            % type(inputs).__name__)
    if on_unused_input is None:
        on_unused_input = "raise"
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise AotcValueError("function: on_unused_input must be 'raise', 'warn' or 'ignore', "
                             "got %r" % (on_unused_input,))
    mode = get_mode(mode)

    ins = []
    for pos, i in enumerate(inputs):
        spec = i if isinstance(i, In) else In(i) if isinstance(i, Variable) else None
        if spec is None:
            raise AotcTypeError("function: input %d must be a symbolic variable or In(...), got %r"
                                % (pos, i))
        v = spec.variable
        if isinstance(v, SharedVariable):
            raise AotcTypeError("function: shared variable %s cannot be an explicit input; "
                                "substitute a non-shared variable with givens" % v)
        if isinstance(v, Constant):
            raise AotcTypeError("function: constant %s cannot be an input" % v)
        if v.owner is not None:
            raise AotcTypeError("function: input %d (%s) is computed by %s; inputs must be free "
                                "variables such as T.matrix()" % (pos, v, v.owner.op))
        if any(v is s.variable for s in ins):
            raise AotcValueError("function: variable %s is given twice as an input" % v)
        ins.append(spec)

    single = False
    if outputs is None:
        outs = []
    elif isinstance(outputs, (list, tuple)):
        outs = [o.variable if isinstance(o, Out) else o for o in outputs]
    else:
        single = True
        outs = [outputs.variable if isinstance(outputs, Out) else outputs]
    outs = [as_tensor_variable(o) for o in outs]

    upd = _normalize_updates(updates)
    repl = _normalize_givens(givens)
    for s in ins:
        if s.update is not None:
            raise AotcValueError("In(update=...) is not supported; use a shared variable "
                                 "and function(updates=...)")

    # Default updates (random streams) unless disabled.
    upd = _add_default_updates(outs, upd, no_default_updates)

    if repl:
        new = clone_replace(outs + [u for _, u in upd], repl)
        outs, upd = new[:len(outs)], [(s, n) for (s, _), n in zip(upd, new[len(outs):])]

    fgraph = FunctionGraph([s.variable for s in ins], outs, upd, name)
    _check_inputs(fgraph, ins, on_unused_input)
    fn = Function(fgraph, ins, single, mode, allow_input_downcast, name)
    return fn


def _add_default_updates(outs, upd, no_default_updates):
    if no_default_updates is True:
        return upd
    skip = no_default_updates if isinstance(no_default_updates, (list, tuple)) else []
    result = list(upd)
    seen = [s for s, _ in upd]
    frontier = outs + [u for _, u in upd]
    changed = True
    while changed:
        changed = False
        for r in graph_inputs(frontier):
            if isinstance(r, SharedVariable) and getattr(r, "default_update", None) is not None \
                    and not any(r is s for s in seen) and not any(r is s for s in skip):
                result.append((r, r.default_update))
                seen.append(r)
                frontier = frontier + [r.default_update]
                changed = True
    return result


def _check_inputs(fgraph, ins, on_unused_input):
    roots = graph_inputs(fgraph.outputs)
    explicit = [s.variable for s in ins]
    for r in roots:
        if isinstance(r, (Constant, SharedVariable)):
            continue
        if not any(r is e for e in explicit):
            loc = getattr(r.tag, "src_loc", None)
            raise MissingInputError(
                "function%s: the outputs need %s (type %s), which is not among the inputs; add "
                "it to the inputs or replace it with givens%s"
                % (" %r" % fgraph.name if fgraph.name else "", r, r.type,
                   ("\n  created at: %s" % loc) if loc else ""))
    for s in ins:
        if not any(s.variable is r for r in roots):
            msg = ("function%s: input %s is not used by any output or update; pass "
                   "on_unused_input='ignore' to allow it"
                   % (" %r" % fgraph.name if fgraph.name else "", s.variable))
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            if on_unused_input == "warn":
                warnings.warn(msg, stacklevel=3)


class Function:
    """A compiled function: call it with NumPy values (positionally or by keyword)."""

    def __init__(self, fgraph, ins, single, mode, allow_input_downcast, name):
        self.maker = _Maker(fgraph, mode)
        self.fgraph = fgraph
        self.ins = ins
        self.single = single
        self.mode = mode
        self.allow_input_downcast = allow_input_downcast
        self.name = name
        self._nout = len(fgraph.user_outputs)
        self._impl_cache = None
        self._impl_lock = threading.Lock()
        self.__doc__ = self._signature()

    @property
    def _impl(self):
        """The implementation, made on first use: importing a model file that defines
        functions (as ``aotc build`` does) compiles nothing."""
        impl = self._impl_cache
        if impl is None:
            with self._impl_lock:
                if self._impl_cache is None:
                    self._impl_cache = self._make_impl()
                impl = self._impl_cache
        return impl

    def compile(self):
        """Build the implementation now (otherwise the first call does)."""
        return self._impl

    @property
    def backend(self):
        """'c' when calls run the generated module, 'reference' when the NumPy references."""
        return getattr(self._impl, "backend", "reference")

    def _make_impl(self):
        kind = self.mode.kind
        if kind == "FAST_COMPILE":
            return _ReferenceImpl(self.fgraph)
        from .backend import compiled_impl
        if kind == "DEBUG_MODE":
            return _DebugImpl(self.fgraph, compiled_impl(self.fgraph),
                              _ReferenceImpl(self.fgraph, check_finite=True))
        return compiled_impl(self.fgraph)

    def _signature(self):
        args = ", ".join("%s: %s" % (s.name or "arg%d" % k, s.variable.type)
                         for k, s in enumerate(self.ins))
        return "%s(%s)" % (self.name or "function", args)

    def __repr__(self):
        return "<aotc.Function %s>" % self._signature()

    def _bind(self, args, kwargs):
        label = "function %r" % self.name if self.name else "function"
        n = len(self.ins)
        if len(args) > n:
            raise AotcTypeError("%s takes %d argument%s (%s), got %d"
                                % (label, n, "" if n == 1 else "s",
                                   ", ".join(s.name or "arg%d" % k for k, s in enumerate(self.ins)),
                                   len(args)))
        values = list(args) + [_MISSING] * (n - len(args))
        for key, val in kwargs.items():
            idx = next((k for k, s in enumerate(self.ins) if s.name == key), None)
            if idx is None:
                raise AotcTypeError("%s got an unexpected keyword argument %r (inputs: %s)"
                                    % (label, key, ", ".join(str(s.name) for s in self.ins)))
            if values[idx] is not _MISSING:
                raise AotcTypeError("%s got several values for argument %r" % (label, key))
            values[idx] = val
        out = []
        for k, (s, v) in enumerate(zip(self.ins, values)):
            if v is _MISSING:
                if s.has_default:
                    v = s.value
                else:
                    raise AotcTypeError("%s takes %d argument%s, got %d: missing argument %d (%s)"
                                        % (label, n, "" if n == 1 else "s",
                                           len(args) + len(kwargs), k, s.name or "unnamed"))
            allow = s.allow_downcast if s.allow_downcast is not None else self.allow_input_downcast
            what = "%s, argument %d (%s)" % (label, k, s.name or "unnamed")
            out.append(s.variable.type.filter(v, allow_downcast=allow, what=what))
        return out

    def __call__(self, *args, **kwargs):
        values = self._bind(args, kwargs)
        # Arrays the caller must not receive as-is: its inputs and the shared storage
        # (an output ``s`` or an update ``(a, b)`` would otherwise alias it).
        held = list(values) + [s.container.value for s in self.fgraph.shared]
        results = self._impl.run(values)
        outs = _fresh(results[:self._nout], held)
        written = []
        for (s, _), v in zip(self.fgraph.updates, results[self._nout:]):
            if not (isinstance(v, np.ndarray) and v.flags.owndata and v.flags.writeable) \
                    or any(v is o for o in outs) or any(v is x for x in held) \
                    or any(v is w for w in written):
                v = np.array(v, copy=True)
            written.append(v)
        # written only now, after every output and update was computed from the old values
        for (s, _), v in zip(self.fgraph.updates, written):
            s.container.value = v
        if self.single:
            return outs[0]
        return outs

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None):
        return self

    def free(self):
        pass


_MISSING = object()


def _fresh(outs, held):
    """Outputs the caller owns: views, read-only arrays, repeats and ``held`` arrays are copied."""
    res = []
    for v in outs:
        if not (v.flags.owndata and v.flags.writeable) or any(v is r for r in res) \
                or any(v is x for x in held):
            v = np.array(v, copy=True)
        res.append(v)
    return res


class _DebugImpl:
    """DEBUG_MODE: the reference (checking every node for NaN/Inf), then the compiled
    module; every output and update must agree."""

    backend = "debug"

    def __init__(self, fgraph, compiled, reference):
        self.fgraph, self.compiled, self.reference = fgraph, compiled, reference

    def run(self, values):
        want = self.reference.run(values)
        got = self.compiled.run(values)
        names = ["output %d" % k for k in range(len(self.fgraph.user_outputs))] + \
            ["update of %s" % s for s, _ in self.fgraph.updates]
        for k, (name, w, g, var) in enumerate(zip(names, want, got, self.fgraph.outputs)):
            if w.shape != g.shape or w.dtype != g.dtype:
                raise DebugModeError("DEBUG_MODE: %s: the compiled module gave %s%s, the "
                                     "reference %s%s%s" % (name, g.dtype, g.shape, w.dtype,
                                                           w.shape, _origin(var)))
            if w.dtype.kind in "fc":
                tol = {"float32": (1e-4, 1e-5), "float16": (1e-2, 1e-3)}.get(w.dtype.name,
                                                                             (1e-9, 1e-12))
                bad = ~np.isclose(g, w, rtol=tol[0], atol=tol[1], equal_nan=True)
            else:
                bad = g != w
            if np.any(bad):
                i = tuple(int(j) for j in np.argwhere(bad)[0]) if w.ndim else ()
                raise DebugModeError(
                    "DEBUG_MODE: %s differs between the compiled module and the reference "
                    "(%d of %d elements; at index %s: %r vs %r)%s"
                    % (name, int(np.sum(bad)), w.size, i, g[i], w[i], _origin(var)))
        return got


def _origin(var):
    node = var.owner
    if node is None:
        return ""
    return "\nnode: %s\ncreated at: %s" % (node, node.src_loc or "(unknown line)")


class _ReferenceImpl:
    """Runs the function's graph with the ops' NumPy references."""

    def __init__(self, fgraph, check_finite=False):
        self.fgraph = fgraph
        self.check_finite = check_finite

    def run(self, values):
        given = {id(v): val for v, val in zip(self.fgraph.inputs, values)}
        hook = _finite_hook if self.check_finite else None
        return evaluate(self.fgraph.outputs, given, hook=hook)


def _finite_hook(node, ins, outs):
    for k, v in enumerate(outs):
        if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):
            kind = "NaN" if np.isnan(v).any() else "Inf"
            raise NanInfError("DEBUG_MODE: output %d of %s holds %s\n%s"
                              % (k, node.op, kind,
                                 describe_node(node, ins) if ins is not None
                                 else describe_node(node)))
