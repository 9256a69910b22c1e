"""The bridge from ``aotc.function`` to the compiled C backend.

``compiled_impl(fgraph)`` optimizes the function's graph (aotc.passes),
lowers it (aotc.codegen), renders and builds the module (aotc.build) and
returns an object whose ``run(values)`` calls it.  It returns None when some
node has no C kernel yet; the caller then evaluates by reference.
"""

from . import errors as E
from .config import config
from .codegen.kernels import NotLowerable
from .codegen.lower import FunctionSpec, lower
from .codegen.render import render
from .build import compiler
from .passes import optimize

#: FAST_RUN compiles through C when True.  Off while the C backend does not yet
#: cover every op (the reference evaluator serves FAST_RUN meanwhile).
ENABLED = True

_ERRORS = {1: E.ShapeError, 2: E.AotcIndexError, 3: MemoryError, 4: E.AotcTypeError,
           5: E.AotcValueError}


class CompiledImpl:
    """Runs one function through its generated module."""

    def __init__(self, module, program, shared, outputs, trace, fgraph):
        self.fgraph = fgraph
        self.module = module
        self.program = program
        self.shared = shared
        self.fn = getattr(module, "_run_0")
        self.steps = program.functions[0].steps
        self.optimized_outputs = outputs
        self.trace = trace
        self.backend = "c"

    def run(self, values):
        state = tuple(self.shared[slot].container.value for slot, _ in self.program.functions[0].shared)
        try:
            return list(self.fn(tuple(values), state))
        except self.module.KernelError as err:
            explain_failure(self.fgraph, values)
            _, step, code, msg = err.args
            s = self.steps[step]
            exc = _ERRORS.get(code, E.AotcError)
            reason, _, shapes = msg.partition("\nInputs shapes:")
            raise exc("%s\nApply node that caused the error: %s\nInputs types: %s\n"
                      "Inputs shapes:%s\nCreated at: %s" % (reason, s.op, s.types, shapes, s.src)) from None


def module_name_for(sources_key):
    return "aotc_" + sources_key[:16]


class OptimizedReferenceImpl:
    """The optimized graph evaluated with the ops' NumPy references (no C kernel for a node)."""

    def __init__(self, fgraph, outputs, trace, reason):
        self.fgraph = fgraph
        self.optimized_outputs = outputs
        self.trace = trace
        self.backend = "reference"
        self.reason = reason

    def run(self, values):
        from .frontend.evaluator import evaluate
        given = {id(v): val for v, val in zip(self.fgraph.inputs, values)}
        try:
            return evaluate(self.optimized_outputs, given)
        except E.AotcError:
            explain_failure(self.fgraph, values)
            raise


def explain_failure(fgraph, values):
    """Re-run the graph as the user wrote it, by reference, so that an error names the
    user's node (rewrites may have fused or replaced the one that failed).  Returns
    normally if the reference run succeeds."""
    from .frontend.evaluator import evaluate
    given = {id(v): val for v, val in zip(fgraph.inputs, values)}
    evaluate(fgraph.outputs, given)


def compiled_impl(fgraph, trace=None):
    """The FAST_RUN implementation of ``fgraph``: optimized, compiled to C when every node
    has a kernel (else the optimized graph by reference, with ``.reason`` saying why)."""
    trace = [] if trace is None else trace
    outs = optimize(fgraph.outputs, trace)
    if not ENABLED:
        return OptimizedReferenceImpl(fgraph, outs, trace, "the C backend is disabled")
    n = len(fgraph.user_outputs)
    args = [(v.name if _ident(v.name) else "arg%d" % k, v, False, None)
            for k, v in enumerate(fgraph.inputs)]
    spec = FunctionSpec("f", args, outs[:n], [(s, u) for (s, _), u in zip(fgraph.updates, outs[n:])],
                        single=False)
    try:
        program, shared = lower("aotc_module", [spec])
    except NotLowerable as e:
        return OptimizedReferenceImpl(fgraph, outs, trace, str(e))
    # The module name must be unique per content: render once to hash, then name it.
    sources = render(program, floatx=config.floatX)
    key = compiler.cache_key(sources, "probe")
    name = module_name_for(key)
    program = program.__class__(name, program.functions, program.kernels, program.shared,
                                program.consts, program.runtime)
    sources = render(program, floatx=config.floatX)
    path = compiler.build(sources, name)
    module = compiler.load(path, name)
    return CompiledImpl(module, program, shared, outs, trace, fgraph)


def _ident(name):
    import keyword
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
