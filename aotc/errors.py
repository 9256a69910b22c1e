"""The error hierarchy.

Every error aotc raises on purpose derives from :class:`AotcError` and from the
builtin a user would expect (``ValueError`` for shapes, ``TypeError`` for
dtypes, ...), so ``except ValueError`` keeps working in ported Theano code.
"""


class AotcError(Exception):
    """Base class of every error aotc raises on purpose."""


class ShapeError(AotcError, ValueError):
    """Shapes that do not agree, at graph-build time or at run time."""


class AotcTypeError(AotcError, TypeError):
    """A dtype, rank or kind of value that does not fit what was expected."""


class AotcValueError(AotcError, ValueError):
    """A bad value (an option, a pattern, an axis) given to the API."""


class AotcIndexError(AotcError, IndexError):
    """An index out of bounds (gathers, subtensors) at run time."""


class MissingInputError(AotcError, ValueError):
    """A graph needs a variable that is neither an input nor shared nor constant."""


class UnusedInputError(AotcError, ValueError):
    """An input of ``function`` is not used by any output or update."""


class DisconnectedInputError(AotcError, ValueError):
    """``grad`` was asked for a variable the cost does not depend on."""


class NotDifferentiableError(AotcError, TypeError):
    """``grad`` went through an op that has no gradient for that input."""


class NanInfError(AotcError, FloatingPointError):
    """DEBUG_MODE found a NaN or an Inf in a computed value."""


class DebugModeError(AotcError, AssertionError):
    """DEBUG_MODE found two evaluators that disagree."""


class BuildError(AotcError, RuntimeError):
    """Compiling generated sources failed."""
