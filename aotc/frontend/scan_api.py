"""The user API of loops: ``scan`` and its shorthands ``map``, ``reduce``, ``foldl``, ``foldr``.

``fn`` is called once, on placeholders standing for one step's sequence slices
and previous outputs (and on the non-sequences themselves, as in Theano, so that
``T.grad`` inside ``fn`` can follow them back to other variables).  What it
returns becomes the inner graph of a :class:`aotc.frontend.scan.Scan` node.
"""
from collections import OrderedDict

import numpy as np

from ..config import config
from ..errors import AotcError, AotcTypeError, AotcValueError
from .graph import Constant, SharedVariable, Variable, as_tensor_variable, constant
from .scan import build_scan
from .types import TensorType, is_int

__all__ = ["scan", "map", "reduce", "foldl", "foldr"]


def _at_user():
    from .ops.shape import at_user_line
    return at_user_line()


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _tensor(x, label, what):
    """A variable for ``x``; Python floats take floatX (as Theano's outputs_info values do)."""
    if isinstance(x, Variable):
        return x
    if isinstance(x, float):
        return constant(x, dtype=config.floatX)
    try:
        return as_tensor_variable(x)
    except AotcError as e:
        raise AotcTypeError("%s: %s must be a tensor or a numeric value, got %r (%s)%s"
                            % (label, what, x, e, _at_user())) from None


def _int_list(taps, label, what):
    taps = _as_list(taps)
    if not taps or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                           for k in taps):
        raise AotcValueError("%s: the taps of %s must be a non-empty list of integers, got %r%s"
                             % (label, what, taps, _at_user()))
    taps = [int(k) for k in taps]
    if len(set(taps)) != len(taps):
        raise AotcValueError("%s: the taps of %s repeat an offset: %r%s"
                             % (label, what, taps, _at_user()))
    return taps


def _test_value(v):
    if isinstance(v, Constant):
        return v.data
    if isinstance(v, SharedVariable):
        return v.container.value
    return getattr(v.tag, "test_value", None)


def _placeholder(ttype, name, test_value=None):
    ph = TensorType(ttype.dtype, ttype.broadcastable)(name)
    if test_value is not None and config.compute_test_value != "off":
        ph.tag.test_value = np.asarray(test_value, dtype=ttype.dtype)
    return ph


def _is_updates(x):
    if isinstance(x, dict):
        return True
    return (isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(e, (list, tuple)) and len(e) == 2 and isinstance(e[0], SharedVariable)
        for e in x))


def _split_result(res):
    """fn's result -> (outputs list, updates pairs): outputs, (outputs, updates),
    (updates, outputs) or updates alone, as Theano accepts."""
    if res is None:
        return [], []
    if _is_updates(res):
        return [], list(res.items()) if isinstance(res, dict) else list(res)
    outs, upd = res, []
    if isinstance(res, (list, tuple)) and len(res) == 2:
        if _is_updates(res[1]) and not _is_updates(res[0]):
            outs, upd = res
        elif _is_updates(res[0]):
            upd, outs = res
    upd = list(upd.items()) if isinstance(upd, dict) else list(upd)
    return _as_list(outs), upd


def _shared_roots(outputs, stop):
    """Shared variables ``outputs`` read, not looking past the variables in ``stop``."""
    found, seen, stack = [], set(), list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in seen or id(v) in stop:
            continue
        seen.add(id(v))
        if v.owner is not None:
            stack.extend(v.owner.inputs)
        elif isinstance(v, SharedVariable):
            found.append(v)
    return found


def _fit_to(expr, ttype, label, what):
    """``expr`` given the type ``ttype`` a state or shared variable has: the dtype must
    agree (constants are cast), broadcastable flags are asserted."""
    from .ops.elemwise import cast
    from .ops.shape import patternbroadcast
    if expr.ndim != ttype.ndim:
        raise AotcTypeError("%s: %s has ndim %d, but it must have ndim %d (type %s)%s"
                            % (label, what, expr.ndim, ttype.ndim, ttype, _at_user()))
    if expr.dtype != ttype.dtype:
        if not isinstance(expr, Constant):
            raise AotcTypeError(
                "%s: %s has dtype %s, but its initial value has dtype %s; scan keeps a state's "
                "dtype from step to step: cast the initial value or the result (T.cast)%s"
                % (label, what, expr.dtype, ttype.dtype, _at_user()))
        expr = cast(expr, ttype.dtype)
    if expr.broadcastable != ttype.broadcastable:
        expr = patternbroadcast(expr, ttype.broadcastable)
    return expr


def _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient,
          go_backwards, name, strict):
    """scan's work; returns (outputs, updates, per output ('state', buffer, lag) or
    ('map', output, 0))."""
    from .ops.elemwise import cast, minimum
    from .ops.shape import shape_padleft, static_int
    label = "scan %r" % name if name else "scan"
    if not callable(fn):
        raise AotcTypeError("%s: fn must be callable, got %r%s" % (label, fn, _at_user()))
    if isinstance(truncate_gradient, bool) or not isinstance(truncate_gradient,
                                                             (int, np.integer)):
        raise AotcTypeError("%s: truncate_gradient must be an int (-1: no truncation), got %r%s"
                            % (label, truncate_gradient, _at_user()))

    # sequences: one window per tap, so that step s reads window[s] for x[t + tap]
    seq_pairs = []
    for pos, s in enumerate(_as_list(sequences)):
        what = "sequence %d" % pos
        if isinstance(s, dict):
            extra = sorted(set(s) - {"input", "taps"})
            if extra or "input" not in s:
                raise AotcValueError("%s: a sequence given as a dict needs 'input' (and optional "
                                     "'taps'), got keys %s%s" % (label, sorted(s), _at_user()))
            var = _tensor(s["input"], label, what)
            taps = [0] if s.get("taps") is None else _int_list(s["taps"], label, what)
        else:
            var, taps = _tensor(s, label, what), [0]
        if var.ndim == 0:
            raise AotcTypeError("%s: %s is a scalar (type %s); sequences are iterated over "
                                "their first axis%s" % (label, what, var.type, _at_user()))
        lo, hi = -min(min(taps), 0), max(max(taps), 0)
        base = var.name or "seq%d" % pos
        inner_type = TensorType(var.dtype, var.broadcastable[1:])
        for k in taps:
            start, end = lo + k, hi - k
            win = var if start == 0 and end == 0 else var[start:(-end if end else None)]
            tv = _test_value(win)
            tv = tv[-1 if go_backwards else 0] if tv is not None and len(tv) else None
            ph = _placeholder(inner_type, "%s[t]" % base if k == 0 else "%s[t%+d]" % (base, k), tv)
            seq_pairs.append((win, ph))

    # n_steps: given (the sequences must be long enough), else the shortest window
    if n_steps is None:
        if not seq_pairs:
            raise AotcValueError("%s: no sequences and no n_steps: give n_steps (the number "
                                 "of iterations) or a sequence to iterate over%s"
                                 % (label, _at_user()))
        n = seq_pairs[0][0].shape[0]
        for win, _ in seq_pairs[1:]:
            n = minimum(n, win.shape[0])
    else:
        if isinstance(n_steps, (bool, np.bool_)) or isinstance(n_steps, (float, np.floating)):
            raise AotcTypeError("%s: n_steps must be an integer, got %r%s"
                                % (label, n_steps, _at_user()))
        n = as_tensor_variable(n_steps) if isinstance(n_steps, Variable) else \
            constant(int(n_steps), dtype="int64")
        if n.ndim != 0 or not is_int(n.dtype) or n.dtype == "bool":
            raise AotcTypeError("%s: n_steps must be an integer scalar, got %s of type %s%s"
                                % (label, n, n.type, _at_user()))
        known = static_int(n)
        if known is not None and known < 0:
            raise AotcValueError("%s: n_steps must be >= 0, got %d (negative counts are not "
                                 "supported; use go_backwards=True)%s" % (label, known, _at_user()))
        if n.dtype != "int64":
            n = cast(n, "int64")

    # outputs_info: None (a map output), an initial state, or dict(initial=..., taps=[...])
    specs = []
    for pos, info in enumerate(_as_list(outputs_info)):
        what = "outputs_info[%d]" % pos
        if isinstance(info, dict):
            extra = sorted(set(info) - {"initial", "taps"})
            if extra:
                raise AotcValueError("%s: %s has unknown keys %s (expected 'initial' and "
                                     "'taps')%s" % (label, what, extra, _at_user()))
            if info.get("initial") is None:
                if info.get("taps"):
                    raise AotcValueError("%s: %s gives taps but no initial value%s"
                                         % (label, what, _at_user()))
                specs.append(None)
                continue
            taps = [-1] if info.get("taps") is None else _int_list(info["taps"], label, what)
            if any(k >= 0 for k in taps):
                raise AotcValueError("%s: the taps of %s must be negative (earlier steps), got "
                                     "%r%s" % (label, what, taps, _at_user()))
            specs.append((_tensor(info["initial"], label, what), taps))
        elif info is None:
            specs.append(None)
        else:
            specs.append((_tensor(info, label, what), [-1]))

    states = {}   # output position -> (buffer, taps, placeholders, state type)
    state_args = []
    for pos, spec in enumerate(specs):
        if spec is None:
            continue
        init, taps = spec
        lag = -min(taps)
        if taps == [-1]:
            buffer, stype = shape_padleft(init), init.type
        else:
            if init.ndim == 0 or (isinstance(init, Constant) and init.data.shape[0] < lag):
                raise AotcValueError(
                    "%s: outputs_info[%d] reads taps %r, so its initial value needs a leading "
                    "axis of at least %d rows (the earliest first), got %s of type %s%s"
                    % (label, pos, taps, lag, init, init.type, _at_user()))
            buffer = init if isinstance(init, Constant) and init.data.shape[0] == lag \
                else init[:lag]
            stype = TensorType(init.dtype, init.broadcastable[1:])
        tv = _test_value(buffer)
        base = init.name or "out%d" % pos
        phs = [_placeholder(stype, "%s[t%d]" % (base, k),
                            tv[lag + k] if tv is not None else None) for k in taps]
        states[pos] = (buffer, taps, phs, stype)
        state_args += phs
    non_seqs = [v if isinstance(v, Variable) else _tensor(v, label, "non_sequences[%d]" % p)
                for p, v in enumerate(_as_list(non_sequences))]

    outs, upd = _split_result(fn(*([ph for _, ph in seq_pairs] + state_args + non_seqs)))
    outs = [_tensor(o, label, "output %d of fn" % k) for k, o in enumerate(outs)]
    if not specs:
        specs = [None] * len(outs)
    elif len(specs) != len(outs):
        raise AotcValueError("%s: fn returned %d output(s) but outputs_info has %d entr%s; give "
                             "one entry per output (None for an output that is not fed back)%s"
                             % (label, len(outs), len(specs), "y" if len(specs) == 1 else "ies",
                                _at_user()))
    for pos, (_, _, _, stype) in states.items():
        outs[pos] = _fit_to(outs[pos], stype, label, "output %d of fn" % pos)

    updates = OrderedDict()
    for sv, expr in upd:
        if not isinstance(sv, SharedVariable):
            raise AotcTypeError("%s: the updates fn returns must have shared variables as keys, "
                                "got %s%s" % (label, sv, _at_user()))
        expr = _tensor(expr, label, "the update of %s" % sv)
        updates[sv] = _fit_to(expr, sv.type, label, "the update of %s" % sv)
    # shared variables with a default update read by the step (random streams) advance
    # at every step: their updates become the loop's
    stop = {id(ph) for _, ph in seq_pairs} | {id(ph) for ph in state_args}
    stop |= {id(v) for v in non_seqs}
    taken_over = []
    while True:
        frontier = outs + list(updates.values())
        added = False
        for sv in _shared_roots(frontier, stop):
            if getattr(sv, "default_update", None) is not None and sv not in updates:
                updates[sv] = _fit_to(as_tensor_variable(sv.default_update), sv.type, label,
                                      "the default update of %s" % sv)
                taken_over.append(sv)
                added = True
        if not added:
            break
    if strict:
        explicit = {id(v) for v in non_seqs}
        loose = [sv for sv in _shared_roots(outs + list(updates.values()), stop)
                 if id(sv) not in explicit]
        if loose:
            raise AotcValueError("%s: strict=True, but fn uses shared variable(s) %s that are "
                                 "not in non_sequences%s"
                                 % (label, ", ".join(str(s) for s in loose), _at_user()))

    rec_pos = sorted(states)
    map_pos = [k for k in range(len(outs)) if k not in states]
    recs = [(states[k][0], states[k][1], states[k][2], outs[k]) for k in rec_pos]
    shareds = [(sv, sv, expr) for sv, expr in updates.items()]
    bufs, maps, finals = build_scan(n, seq_pairs, recs, [outs[k] for k in map_pos], shareds,
                                    truncate_gradient=int(truncate_gradient),
                                    go_backwards=go_backwards, name=name)
    final_of = dict(zip((id(sv) for sv in updates), finals))
    for sv in taken_over:
        # the state now advances through the loop: a function that uses the loop without
        # passing its updates (or an enclosing scan) advances it by the loop's final value
        sv.default_update = final_of[id(sv)]
    results, info = [None] * len(outs), [None] * len(outs)
    for k, buf in zip(rec_pos, bufs):
        lag = -min(states[k][1])
        results[k] = buf[lag:]
        info[k] = ("state", buf, lag)
    for k, y in zip(map_pos, maps):
        results[k] = y
        info[k] = ("map", y, 0)
    return results, OrderedDict(zip(updates.keys(), finals)), info


def _pack(results, return_list):
    if return_list:
        return list(results)
    if len(results) == 1:
        return results[0]
    return list(results) if results else None


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """A symbolic loop; returns ``(outputs, updates)``.

    ``fn`` gets, in order: one slice per sequence (per tap), the previous values
    of the outputs fed back (per tap, in the order of their taps), then the
    non-sequences.  It returns the outputs, ``(outputs, updates)`` or the
    updates alone (``{shared: new_value}``).  ``outputs_info`` gives per output
    an initial value, ``None`` (not fed back: a map output) or
    ``dict(initial=x, taps=[-2, -1])`` (``x`` holds 2 rows, the earliest first).
    Without ``n_steps`` the loop runs over the shortest sequence.  Each output
    has one row per step (initial values excluded).  ``updates`` is an
    OrderedDict for ``function(updates=...)``.  ``mode``, ``profile`` and
    ``allow_gc`` are accepted and ignored.

    >>> k = T.iscalar('k'); A = T.vector('A')
    >>> result, updates = scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
    ...                        non_sequences=A, n_steps=k)
    >>> power = result[-1]
    """
    results, updates, _ = _scan(fn, sequences, outputs_info, non_sequences, n_steps,
                                truncate_gradient, go_backwards, name, strict)
    return _pack(results, return_list), updates


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,  # noqa: A001
        mode=None, name=None):
    """``fn`` applied to each slice of the sequences: ``(outputs, updates)``.

    >>> squares, _ = map(lambda v: v ** 2, sequences=T.vector('x'))
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False,  # noqa: A001
           mode=None, name=None):
    """Like Python's ``reduce``: the outputs after the last step, ``(outputs, updates)``.

    With zero steps an output fed back is its initial value.

    >>> total, _ = reduce(lambda v, acc: acc + v, sequences=T.vector('x'), outputs_info=0.0)
    """
    results, updates, info = _scan(fn, sequences, outputs_info, non_sequences, None, -1,
                                   go_backwards, name, False)
    last = [v[-1] for _, v, _ in info]
    return _pack(last, False), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the first slice to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode,
                  name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the last slice to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode,
                  name=name)
