"""Reverse-mode differentiation: ``grad(cost, wrt)``.

The gradient is itself a graph built from each op's symbolic ``grad`` facet,
so it can be differentiated again (second order) and compiled like any graph.
"""
import warnings

from ..config import config
from ..errors import AotcTypeError, AotcValueError, DisconnectedInputError
from .evaluator import toposort
from .graph import Variable, as_tensor_variable, constant
from .types import is_float


def _zeros_like(v, dtype=None):
    """Zeros of ``v``'s shape (and dtype, unless given)."""
    from .ops.shape import zeros_like
    return zeros_like(v, dtype=dtype)


def _seed(cost):
    # d cost / d cost = 1, written second(cost, 1) as Theano's fill(cost, 1): the seed
    # depends on the cost, so the inputs of a constant gradient (grad(2 * x, x)) stay
    # connected to the function.  The optimizer folds it to the constant.
    from .ops.elemwise import second
    return second(cost, constant(1, dtype=cost.dtype if is_float(cost.dtype) else config.floatX))


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    ``wrt`` is a variable (returns one variable) or a list/tuple (returns a list).
    Variables in ``consider_constant`` are treated as constants.  A ``wrt`` the
    cost does not depend on raises DisconnectedInputError unless
    ``disconnected_inputs`` is 'warn' or 'ignore' (then its gradient is zeros).
    ``known_grads`` maps variables to gradients to start from (cost may be None).

    >>> x = T.dscalar('x')
    >>> grad(x ** 2, x).eval({x: 3.0})
    array(6.)
    """
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise AotcValueError("grad: disconnected_inputs must be 'raise', 'warn' or 'ignore', "
                             "got %r" % (disconnected_inputs,))
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise AotcTypeError("grad: wrt must be symbolic variables, got %r" % (w,))
    seeds = []
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise AotcTypeError("grad: cost must be a scalar (ndim 0), got %s of type %s; "
                                "reduce it first, e.g. cost.sum() or cost.mean()"
                                % (cost, cost.type))
        seeds.append((cost, _seed(cost)))
    for var, g in (known_grads or {}).items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise AotcTypeError("grad: known gradient for %s has ndim %d, expected %d"
                                % (var, g.ndim, var.ndim))
        seeds.append((var, g))
    if not seeds:
        raise AotcValueError("grad: give a cost or known_grads")

    const_ids = {id(v) for v in (consider_constant or [])}
    outputs = [v for v, _ in seeds]
    order = toposort(outputs)

    # Variables that depend on some wrt (through non-constant paths).
    depends = {id(w) for w in wrt_list}
    for node in order:
        if any(id(i) in depends and id(i) not in const_ids for i in node.inputs):
            for o in node.outputs:
                depends.add(id(o))

    grads = {}
    for var, g in seeds:
        _accumulate(grads, var, g)

    for node in reversed(order):
        out_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        if not any(id(o) in depends for o in node.outputs):
            continue
        if not any(id(i) in depends and id(i) not in const_ids for i in node.inputs):
            continue
        out_grads = [g if g is not None else _zeros_like(o) for g, o in zip(out_grads, node.outputs)]
        in_grads = node.op.grad(node, out_grads)
        if len(in_grads) != len(node.inputs):
            raise AssertionError("internal: %s.grad returned %d gradients for %d inputs"
                                 % (node.op, len(in_grads), len(node.inputs)))
        for inp, g in zip(node.inputs, in_grads):
            if g is None or id(inp) not in depends or id(inp) in const_ids:
                continue
            if not is_float(inp.dtype):
                continue
            g = as_tensor_variable(g)
            if g.ndim != inp.ndim:
                raise AssertionError("internal: %s.grad gave ndim %d for an input of ndim %d"
                                     % (node.op, g.ndim, inp.ndim))
            _accumulate(grads, inp, g)

    results = []
    for w in wrt_list:
        g = grads.get(id(w))
        if g is None:
            if not any(id(w) == id(v) for v in outputs) and not _connected(w, outputs, order):
                msg = ("grad: the cost does not depend on %s (type %s); pass "
                       "disconnected_inputs='ignore' to get zeros" % (w, w.type))
                if disconnected_inputs == "raise":
                    raise DisconnectedInputError(msg)
                if disconnected_inputs == "warn":
                    warnings.warn(msg, stacklevel=2)
            # Theano: integer variables get float zeros (floatX), as gradients are real.
            g = _zeros_like(w, None if is_float(w.dtype) else config.floatX)
        if g.dtype != w.dtype and is_float(w.dtype):
            from .ops.elemwise import cast
            g = cast(g, w.dtype)
        results.append(g)
    if add_names and cost is not None:
        # a variable serving as several results (e.g. the seed of grad(x + y, [x, y]))
        # stays unnamed: one name could not describe both
        for w, g in zip(wrt_list, results):
            if g.name is None and g.owner is not None and w.name is not None \
                    and sum(r is g for r in results) == 1:
                g.name = "(d%s/d%s)" % (cost.name or "cost", w.name)
    return results[0] if single else results


def _connected(w, outputs, order):
    for node in order:
        if any(i is w for i in node.inputs):
            return True
    return False


def _accumulate(grads, var, g):
    prev = grads.get(id(var))
    if prev is None:
        grads[id(var)] = g
    else:
        from .ops.elemwise import add
        grads[id(var)] = add(prev, g)


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points`` times the Jacobian of ``f`` w.r.t. ``wrt``."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    eps = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    return grad(None, wrt, consider_constant=consider_constant,
                disconnected_inputs=disconnected_inputs,
                known_grads=dict(zip(fs, eps)))
