"""Random draws: counter-based, so every path (NumPy reference, C) gives the same numbers.

The generator
-------------
A random variable's state is a ``uint64`` vector ``[key, counter]`` held in a
shared variable.  Word ``c`` of the stream ``key`` is SplitMix64's output for the
state ``key + c * GAMMA``::

    z = key + c * 0x9E3779B97F4A7C15              (mod 2**64)
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    word = z ^ (z >> 31)

A draw of ``N`` values reads words ``counter, counter + 1, ...`` (one pure
function of ``(key, counter + i)``, so a vectorized NumPy reference and a C loop
produce identical bits) and its second output is the advanced state
``[key, counter + words used]``:

- uniform: one word per value.  float64 ``u = (word >> 11) * 2**-53``, float32
  ``u = (word >> 40) * 2**-24`` (exact, in ``[0, 1)``); then
  ``low + (high - low) * u`` computed in the output dtype.  Bit-identical
  across paths (IEEE add and multiply; the C kernels are compiled without FMA).
- normal: Box-Muller over pairs of words (``2 * ceil(N / 2)`` words): from
  words ``w0, w1`` (``counter + 2j``, ``counter + 2j + 1``),
  ``u1 = ((w0 >> 11) + 1) * 2**-53`` in ``(0, 1]``, ``u2 = (w1 >> 11) * 2**-53``,
  ``r = sqrt(-2 log u1)``, ``t = 2 pi u2``; value ``2j`` is ``r cos t``, value
  ``2j + 1`` is ``r sin t`` (float64), then cast to the output dtype and
  ``avg + std * z`` computed in it.  NumPy's ``log``/``cos``/``sin`` (SIMD
  versions on some CPUs) and the C library's may differ in the last bit, so the
  paths agree to a few float64 ulps (measured: about 0.2% of float64 values differ,
  by at most 4.5e-16).  Documented tolerance: ``rtol=1e-12, atol=1e-12`` for
  float64; ``rtol=1e-6, atol=1e-6`` (one float32 ulp, when the float64 value sits
  at a float32 rounding boundary) for float32.
- binomial(n, p): ``n`` words per value (value ``i`` uses words
  ``counter + i*n .. counter + i*n + n - 1``); the value is the number of the
  float64 uniforms ``(word >> 11) * 2**-53`` that are ``< p`` (p in float64),
  cast to the output dtype.  Bit-identical across paths.

Streams give each random variable its own key, ``mix64(mix64(seed) + (k + 1) *
GAMMA)`` for the k-th variable a stream creates, and counter 0.  Words of two
keys only overlap when the keys differ by a small multiple of GAMMA, which for
hashed keys has probability about ``2 * length / 2**64``.

Parameters (low/high, avg/std, p) are tensors broadcast to the draws' shape
from the right; a length-1 axis stretches only where the type marks it
broadcastable (aotc's elementwise rule).  ``size`` is an int64 vector of
static length: sizes are run-time data.

Random ops are ``pure = False``: the rewrites never merge, fold or drop them,
so a random variable used twice is drawn once per call.  They have no
gradient: the draws are constants with respect to the parameters (write
``avg + std * normal(size)`` for a reparameterized gradient).
"""
import numpy as np

from ...config import config
from ...errors import AotcTypeError, AotcValueError, ShapeError
from ..graph import Apply, Constant, Op, Variable, as_tensor_variable, constant
from ..types import TensorType, canonical_dtype, is_float, upcast

__all__ = []

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TWO_PI = 6.283185307179586          # the double nearest 2 pi (the C kernels use this literal)
STATE_TYPE = TensorType("uint64", (False,))


# ---------------------------------------------------------------------------
# the generator, in NumPy (vectorized) and in Python ints (keys)
# ---------------------------------------------------------------------------

def mix64(z):
    """SplitMix64's finalizer on a Python int (mod 2**64)."""
    z &= MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


def seed_word(seed):
    """A stream seed (an int, or a sequence of ints as MRG accepts) as one 64-bit word."""
    if isinstance(seed, (list, tuple, np.ndarray)):
        acc = 0
        for s in np.asarray(seed).reshape(-1).tolist():
            acc = mix64(acc ^ (int(s) & MASK))
        return acc
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise AotcTypeError("random streams: the seed must be an integer, got %r" % (seed,))
    return mix64(int(seed) & MASK)


def derive_key(seed, k):
    """The key of the k-th random variable of a stream seeded with ``seed``."""
    return mix64(seed_word(seed) + (k + 1) * GAMMA)


def initial_state(seed, k):
    """``[key, 0]``: the state the k-th random variable of a stream starts from."""
    return np.array([derive_key(seed, k), 0], dtype="uint64")


def words(key, counter, count):
    """Words ``counter .. counter + count - 1`` of stream ``key``, as a uint64 array."""
    c = np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        c += np.uint64(counter & MASK)
        z = c * np.uint64(GAMMA)
        z += np.uint64(key & MASK)
        z ^= z >> np.uint64(30)
        z *= np.uint64(MIX1)
        z ^= z >> np.uint64(27)
        z *= np.uint64(MIX2)
        z ^= z >> np.uint64(31)
    return z


def unit_float64(w):
    """Uniforms in [0, 1) from the top 53 bits (exact)."""
    return (w >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def unit_float32(w):
    """Uniforms in [0, 1) from the top 24 bits (exact in float32)."""
    return (w >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def standard_normal(key, counter, count):
    """``count`` float64 standard normals by Box-Muller, and the number of words used."""
    pairs = (count + 1) // 2
    w = words(key, counter, 2 * pairs)
    u1 = ((w[0::2] >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * (2.0 ** -53)
    u2 = unit_float64(w[1::2])
    r = np.sqrt(-2.0 * np.log(u1))
    t = TWO_PI * u2
    z = np.empty(2 * pairs, dtype=np.float64)
    z[0::2] = r * np.cos(t)
    z[1::2] = r * np.sin(t)
    return z[:count], 2 * pairs


# ---------------------------------------------------------------------------
# the ops
# ---------------------------------------------------------------------------

def _at_user():
    from ..graph import user_src_loc
    loc = user_src_loc()
    return ("\n  at:   %s" % loc) if loc is not None else ""


def _fmt(shape):
    return str(tuple(int(s) for s in shape))


class RandomOp(Op):
    """Base of the random draws: inputs ``(state, size, *params)``, outputs ``(draws, new_state)``.

    ``state`` is a uint64 vector ``[key, counter]``; ``size`` an int64 vector of
    length ``len(bcast)`` (the draws' shape, read at run time); ``bcast`` the
    draws' broadcastable flags, fixed when the variable is created.
    """

    __props__ = ("dtype", "bcast")
    pure = False             # a draw is not a function of its inputs: never merged or folded
    differentiable = False
    param_names = ()
    dtypes = ()

    def __init__(self, dtype, bcast):
        self.dtype = canonical_dtype(dtype)
        self.bcast = tuple(bool(b) for b in bcast)
        if self.dtype not in self.dtypes:
            raise AotcTypeError("%s: dtype must be one of %s, got %s%s"
                                % (type(self).__name__, ", ".join(self.dtypes), self.dtype,
                                   _at_user()))

    @property
    def ndim(self):
        return len(self.bcast)

    def make_node(self, state, size, *params):
        name = type(self).__name__
        state = as_tensor_variable(state)
        if state.type != STATE_TYPE:
            raise AotcTypeError("%s: the state must be a uint64 vector [key, counter], got %s "
                                "of type %s%s" % (name, state, state.type, _at_user()))
        size = as_tensor_variable(size)
        if size.dtype != "int64" or size.ndim != 1:
            raise AotcTypeError("%s: the size must be an int64 vector, got %s of type %s%s"
                                % (name, size, size.type, _at_user()))
        if len(params) != len(self.param_names):
            raise AotcTypeError("%s: expected %d parameters (%s), got %d%s"
                                % (name, len(self.param_names), ", ".join(self.param_names),
                                   len(params), _at_user()))
        params = [as_tensor_variable(p) for p in params]
        for pname, p in zip(self.param_names, params):
            if p.dtype == "bool" or p.dtype.startswith("complex"):
                raise AotcTypeError("%s: %s must be a real number, got %s of type %s%s"
                                    % (name, pname, p, p.type, _at_user()))
            if p.ndim > self.ndim:
                raise AotcTypeError("%s: %s has %d dimensions, more than the %d of the draws%s"
                                    % (name, pname, p.ndim, self.ndim, _at_user()))
        draws = TensorType(self.dtype, self.bcast)()
        return Apply(self, [state, size] + params, [draws, STATE_TYPE()])

    def infer_shape(self, node, input_shapes):
        from .shape import static_vector
        known = static_vector(node.inputs[1])
        shp = tuple(known) if known is not None else (None,) * self.ndim
        return [shp, tuple(input_shapes[0])]

    def grad(self, node, output_grads):
        # the draws are constants of every input (the state and size are integers)
        return [None] * len(node.inputs)

    # -- the reference --------------------------------------------------------
    def perform(self, node, inputs):
        state, size, params = inputs[0], inputs[1], inputs[2:]
        key, counter = _read_state(self, state)
        shape = _read_size(self, size)
        params = [_broadcast_param(self, pname, var, val, shape)
                  for pname, var, val in zip(self.param_names, node.inputs[2:], params)]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        flat, used = self.draw(key, counter, count, [p.reshape(-1) for p in params])
        new_state = np.array([key, (counter + used) & MASK], dtype="uint64")
        return [np.asarray(flat, dtype=self.dtype).reshape(shape), new_state]

    def draw(self, key, counter, count, params):
        """``count`` values (flat, output dtype) and the number of words used."""
        raise NotImplementedError


def _read_state(op, state):
    if state.shape != (2,):
        raise ShapeError("%s: the random state must be a uint64 vector [key, counter] of length 2, "
                         "got shape %s" % (type(op).__name__, _fmt(state.shape)))
    return int(state[0]), int(state[1])


def _read_size(op, size):
    shape = tuple(int(s) for s in size)
    if len(shape) != op.ndim:
        raise ShapeError("%s: the size has %d entries, expected %d"
                         % (type(op).__name__, len(shape), op.ndim))
    if any(s < 0 for s in shape):
        raise ShapeError("%s: negative size in %s" % (type(op).__name__, _fmt(shape)))
    for ax, b in enumerate(op.bcast):
        if b and shape[ax] != 1:
            raise ShapeError("%s: the size %s has %d on axis %d, which the draws' type marks "
                             "broadcastable (length 1)" % (type(op).__name__, _fmt(shape),
                                                          shape[ax], ax))
    return shape


def _broadcast_param(op, pname, var, val, shape):
    """``val`` stretched to ``shape`` from the right; only broadcastable axes stretch."""
    off = len(shape) - val.ndim
    for a in range(val.ndim):
        if val.shape[a] != shape[off + a] and not var.broadcastable[a]:
            raise ShapeError("%s: %s of shape %s does not fit the draws' shape %s (axis %d is "
                             "not broadcastable)" % (type(op).__name__, pname, _fmt(val.shape),
                                                     _fmt(shape), a))
    return np.broadcast_to(val, shape)


class RandomUniform(RandomOp):
    """Uniform draws in ``[low, high)`` of a float dtype (see the module docstring)."""

    param_names = ("low", "high")
    dtypes = ("float16", "float32", "float64")
    c = "c/random_uniform"
    cuda = "cuda/random_uniform"

    def draw(self, key, counter, count, params):
        low, high = params
        w = words(key, counter, count)
        if self.dtype == "float64":
            ct, u = np.float64, unit_float64(w)
        else:   # float16: drawn as float32, then rounded
            ct, u = np.float32, unit_float32(w)
        lo, hi = low.astype(ct), high.astype(ct)
        with np.errstate(all="ignore"):
            return lo + (hi - lo) * u, count


class RandomNormal(RandomOp):
    """Normal draws with mean ``avg`` and standard deviation ``std`` (Box-Muller)."""

    param_names = ("avg", "std")
    dtypes = ("float16", "float32", "float64")
    c = "c/random_normal"
    cuda = "cuda/random_normal"

    def draw(self, key, counter, count, params):
        avg, std = params
        z, used = standard_normal(key, counter, count)
        ct = np.float64 if self.dtype == "float64" else np.float32
        with np.errstate(all="ignore"):
            return avg.astype(ct) + std.astype(ct) * z.astype(ct), used


class RandomBinomial(RandomOp):
    """Binomial draws: the number of successes in ``n`` trials of probability ``p``.

    ``n`` is a non-negative Python int (part of the op); each value uses ``n``
    words, so keep it small (dropout masks use ``n=1``).
    """

    __props__ = ("dtype", "bcast", "n")
    param_names = ("p",)
    dtypes = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64")
    c = "c/random_binomial"
    cuda = "cuda/random_binomial"

    def __init__(self, dtype, bcast, n=1):
        super().__init__(dtype, bcast)
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise AotcValueError("binomial: n must be a non-negative Python int, got %r%s"
                                 % (n, _at_user()))
        self.n = int(n)

    def draw(self, key, counter, count, params):
        (p,) = params
        n = self.n
        pd = p.astype(np.float64)
        if n == 0:
            hits = np.zeros(count, dtype=np.int64)
        else:
            u = unit_float64(words(key, counter, count * n)).reshape(count, n)
            hits = np.count_nonzero(u < pd[:, None], axis=1).astype(np.int64)
        if self.dtype == "bool":
            return hits != 0, count * n
        with np.errstate(all="ignore"):
            return hits.astype(self.dtype), count * n


OPS = (RandomUniform, RandomNormal, RandomBinomial)


# ---------------------------------------------------------------------------
# building draws: sizes, parameters, states
# ---------------------------------------------------------------------------

def size_vector(size, ndim, who):
    """``size`` (ints / int scalars, or an int vector of known length) -> (int64 vector, bcast).

    ``ndim`` (or None) must agree with the number of entries.
    """
    from .elemwise import cast
    from .shape import MakeVector, _size_var, static_vector
    if isinstance(size, (int, np.integer)) and not isinstance(size, (bool, np.bool_)):
        size = (int(size),)
    if isinstance(size, np.ndarray):
        size = tuple(int(s) for s in size.reshape(-1))
    if isinstance(size, (list, tuple)):
        entries = [_size_var(s, who) for s in size]
        for e in entries:
            if isinstance(e, Constant) and int(e.data) < 0:
                raise AotcValueError("%s: negative size %d%s" % (who, int(e.data), _at_user()))
        if all(isinstance(e, Constant) for e in entries):
            vec = constant(np.array([int(e.data) for e in entries], dtype="int64").reshape(-1),
                           dtype="int64")
        else:
            vec = MakeVector("int64")(*[cast(e, "int64") for e in entries])
    else:
        vec = as_tensor_variable(size)
        if vec.ndim == 0:
            return size_vector((vec,), ndim, who)
        if vec.ndim != 1 or vec.dtype == "bool" or not vec.dtype.startswith(("int", "uint")):
            raise AotcTypeError("%s: size must be a tuple of sizes or an integer vector, got %s "
                                "of type %s%s" % (who, vec, vec.type, _at_user()))
        if vec.dtype != "int64":
            vec = cast(vec, "int64")
    known = static_vector(vec)
    if known is None:
        if ndim is None:
            raise AotcValueError("%s: the size %s is a symbolic vector of unknown length; pass "
                                 "ndim=%s" % (who, vec, _at_user()))
        known = (None,) * int(ndim)
    if ndim is not None and int(ndim) != len(known):
        raise AotcValueError("%s: ndim=%d but the size has %d entries%s"
                             % (who, ndim, len(known), _at_user()))
    return vec, tuple(k == 1 for k in known)


def size_from_params(params):
    """The draws' size when none is given: the params broadcast (aotc's elementwise rule)."""
    from .shape import MakeVector, shape
    from .subtensor import getitem
    ndim = max([p.ndim for p in params] + [0])
    if ndim == 0:
        return constant(np.zeros(0, dtype="int64"), dtype="int64"), ()
    entries, bcast = [], []
    for ax in range(ndim):
        src = None
        for p in params:
            a = ax - (ndim - p.ndim)
            if a >= 0 and not p.broadcastable[a]:
                src = (p, a)
                break
        if src is None:
            entries.append(constant(1, dtype="int64"))
            bcast.append(True)
        else:
            entries.append(getitem(shape(src[0]), src[1]))
            bcast.append(False)
    return MakeVector("int64")(*entries), tuple(bcast)


def float_param(value, who, pname):
    """A parameter as a variable (Python numbers become constants, as Theano does)."""
    v = as_tensor_variable(value)
    if v.dtype == "bool" or v.dtype.startswith("complex"):
        raise AotcTypeError("%s: %s must be a real number, got %s of type %s%s"
                            % (who, pname, v, v.type, _at_user()))
    return v


def draw(op_cls, state, size, ndim, dtype, params, who, **props):
    """Build one draw node; returns ``(draws, new_state)``."""
    if size is None or (isinstance(size, (tuple, list)) and len(size) == 0 and
                        any(p.ndim for p in params)):
        if ndim is not None and int(ndim) != max([p.ndim for p in params] + [0]):
            raise AotcValueError("%s: ndim=%d but the parameters have %d dimensions%s"
                                 % (who, ndim, max([p.ndim for p in params] + [0]), _at_user()))
        vec, bcast = size_from_params(params)
    else:
        vec, bcast = size_vector(size, ndim, who)
    for pname, p in zip(op_cls.param_names, params):
        if p.ndim > len(bcast):
            raise AotcValueError("%s: %s has %d dimensions, more than the %d of the size%s"
                                 % (who, pname, p.ndim, len(bcast), _at_user()))
    op = op_cls(dtype, bcast, **props)
    out, new_state = op(state, vec, *params)
    return out, new_state


class RandomStateValue(np.ndarray):
    """A state value ``[key, counter]`` as ``rv.rng.get_value()`` returns it.

    A uint64 vector with the methods Theano's tutorial calls on the NumPy
    RandomState it had there: ``seed(n)`` (in place: the state a stream seeded
    with ``n`` gives its first variable), ``get_state()`` and ``set_state(s)``.
    """

    def seed(self, seed=None):
        """Re-key in place (then ``rv.rng.set_value(value, borrow=True)``)."""
        self[...] = initial_state(0 if seed is None else seed, 0)

    def get_state(self):
        return np.array(self, dtype="uint64")

    def set_state(self, state):
        self[...] = np.asarray(state, dtype="uint64")


def _state_variable(value, name):
    from ..graph import TensorSharedVariable, user_src_loc

    class RandomStateSharedVariable(TensorSharedVariable):
        """A random variable's state: a uint64 ``[key, counter]`` shared variable."""

        def get_value(self, borrow=False, return_internal_type=False):
            return super().get_value(borrow, return_internal_type).view(RandomStateValue)

    sv = RandomStateSharedVariable(STATE_TYPE, value, name=name)
    sv.tag.src_loc = user_src_loc()
    return sv


class RandomStreamsBase:
    """What MRG_RandomStreams and RandomStreams share: one state per random variable.

    Each draw creates a shared uint64 state ``[key, counter]`` whose
    ``default_update`` is the advanced state, so ``aotc.function`` advances it
    on every call (unless ``no_default_updates=True``).  The variable returned
    carries ``.rng`` / ``.rstate`` (the state) and ``.update`` (the pair).
    """

    def __init__(self, seed):
        self._seed = seed
        seed_word(seed)             # validate now
        self.state_updates = []

    @property
    def default_instance_seed(self):
        return self._seed

    def updates(self):
        """The (state, new_state) pairs of every variable drawn so far."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Re-seed every variable's state as a fresh stream with ``seed`` would start it."""
        if seed is None:
            seed = self._seed
        seed_word(seed)
        self._seed = seed
        for k, (state, _) in enumerate(self.state_updates):
            state.set_value(initial_state(seed, k))

    def __getitem__(self, rv):
        """The state value ``[key, counter]`` of random variable ``rv``."""
        return self._state_of(rv).get_value()

    def __setitem__(self, rv, value):
        self._state_of(rv).set_value(value)

    def _state_of(self, rv):
        st = getattr(rv, "rng", rv)
        if not any(st is s for s, _ in self.state_updates):
            raise AotcValueError("random streams: %s was not drawn from this stream" % (rv,))
        return st

    def _draw(self, op_cls, size, ndim, dtype, params, who, **props):
        k = len(self.state_updates)
        state = _state_variable(initial_state(self._seed, k), "rng_state_%d" % k)
        out, new_state = draw(op_cls, state, size, ndim, dtype, params, who, **props)
        state.default_update = new_state
        out.rng = state
        out.rstate = state
        out.update = (state, new_state)
        self.state_updates.append((state, new_state))
        return out

    # -- distributions ----------------------------------------------------------
    def _uniform(self, size, low, high, ndim, dtype, who):
        low, high = float_param(low, who, "low"), float_param(high, who, "high")
        if dtype is None:
            dtype = upcast(config.floatX, low.dtype, high.dtype)
        return self._draw(RandomUniform, size, ndim, _float_dtype(dtype, who), [low, high], who)

    def _normal(self, size, avg, std, ndim, dtype, who):
        avg, std = float_param(avg, who, "avg"), float_param(std, who, "std")
        if dtype is None:
            dtype = upcast(config.floatX, avg.dtype, std.dtype)
        return self._draw(RandomNormal, size, ndim, _float_dtype(dtype, who), [avg, std], who)

    def _binomial(self, size, n, p, ndim, dtype, who):
        if isinstance(n, Variable):
            from .shape import static_int
            k = static_int(n)
            if k is None:
                raise AotcTypeError("%s: n must be a Python int (the number of trials is part of "
                                    "the op), got the symbolic %s%s" % (who, n, _at_user()))
            n = k
        p = float_param(p, who, "p")
        return self._draw(RandomBinomial, size, ndim, canonical_dtype(dtype), [p], who, n=n)


def _float_dtype(dtype, who):
    dtype = canonical_dtype(dtype)
    if not is_float(dtype):
        raise AotcTypeError("%s: dtype must be a float dtype, got %s%s" % (who, dtype, _at_user()))
    return dtype
