"""``aotc.printing`` — Theano's ``theano.printing``."""
from .frontend.printing import (debugprint, pp, pprint, Print, PrintOp,  # noqa: F401
                                PPrinter, min_informative_str)
