"""No-compile versions of the kernels, for small inputs.

A fallback takes the kernel's arguments and does what the kernel does, with the
same floating-point operations in the same order, so that its results are the
kernel's to the bit; only the loops are NumPy's instead of compiled ones. Where
numba evaluates an expression in float64 (an integer times a float32, a
float64 accumulator), the fallback does too; sums that the kernel accumulates
sequentially are sequential here too (``np.add.accumulate``, never ``sum``,
which adds pairwise). ``tests/test_jit.py`` checks every fallback against its
compiled kernel on random inputs.

Each entry also says which inputs are *small*: those that the fallback handles
in at most a few tens of milliseconds. Larger ones go to the compiled kernel.

:func:`lookup` finds the entry of a kernel by its name and the module it is
defined in, and only if the kernel's parameters still carry the names the
fallback was written for: a kernel whose signature has changed runs compiled
until its fallback is brought up to date.
"""

import collections
import functools
import inspect
import math

import numpy as np

Fallback = collections.namedtuple("Fallback", ["func", "small"])

# Work (elements touched, or Python-level steps) below which an input is small.
_SMALL_ELEMENTS = 200_000
_SMALL_STEPS = 20_000

_REGISTRY = {}


def _register(modules, small):
    if isinstance(modules, str):
        modules = (modules,)

    def decorate(func):
        for module in modules:
            _REGISTRY[f"{module}.{func.__name__}"] = Fallback(func, small)
        return func

    return decorate


def lookup(kernel):
    """The :data:`Fallback` of a :class:`~sknonlin._jit.Kernel`, or None."""
    entry = _resolve(kernel)
    return None if entry is None else Fallback(_quiet(entry.func), entry.small)


def _resolve(kernel):
    entry = _REGISTRY.get(f"{kernel.__module__}.{kernel.__name__}")
    if entry is None:
        return None
    if _parameters(entry.func) != _parameters(kernel.py_func):
        return None
    return entry


def _quiet(func):
    """``func`` without NumPy's floating-point warnings, as compiled code runs."""

    @functools.wraps(func)
    def quiet(*args):
        with np.errstate(all="ignore"):
            return func(*args)

    return quiet


def _parameters(func):
    return list(inspect.signature(func).parameters)


def _sequential_sum(initial, terms, dtype):
    """``((initial + terms[0]) + terms[1]) + ...`` along axis 0, in ``dtype``.

    The running sum of a loop ``acc += term``: each step rounded to ``dtype``.
    """
    stacked = np.empty((terms.shape[0] + 1, *terms.shape[1:]), dtype=dtype)
    stacked[0] = initial
    stacked[1:] = terms
    return np.add.accumulate(stacked, axis=0, dtype=dtype)[-1]


# -- activations --------------------------------------------------------------


def _small_block(H, *args):
    return H.size <= _SMALL_ELEMENTS


@_register("sknonlin._activations", _small_block)
def relu(H, b):
    np.add(H, b, out=H)
    # the kernel writes 0 where h > 0 is false: negative, -0.0 and NaN
    np.copyto(H, 0, where=~(H > 0))
    return H


@_register("sknonlin._activations", _small_block)
def relu_with_derivative(H, b, D):
    np.add(H, b, out=H)
    positive = H >= 0
    np.copyto(D, positive, casting="unsafe")
    np.copyto(H, 0, where=~positive)
    return H


@_register("sknonlin._activations", _small_block)
def identity(H, b):
    np.add(H, b, out=H)
    return H


@_register("sknonlin._activations", _small_block)
def identity_with_derivative(H, b, D):
    np.add(H, b, out=H)
    D[...] = 1
    return H


# -- two-layer network ----------------------------------------------------------


def _small_backprop(H, D, Z, Y, sw, scale, W2, b2, gW2, gb1, gb2, accumulate):
    arrays = (H, D, Z, Y, sw, W2, b2, gW2, gb1, gb2)
    # One dtype throughout (as the estimator passes them): then every
    # sequential sum below rounds as the kernel's does.
    same_dtype = all(a.dtype == H.dtype for a in arrays)
    return same_dtype and H.size * Z.shape[1] <= _SMALL_STEPS


@_register("sknonlin._two_layer_math", _small_backprop)
def backprop(H, D, Z, Y, sw, scale, W2, b2, gW2, gb1, gb2, accumulate):
    dtype = H.dtype
    m = Z.shape[1]
    if not accumulate:
        gW2[:] = 0
        gb1[:] = 0
        gb2[:] = 0
    errors = Z + b2 - Y
    # loss += sw_i * (e * e), in float64, row by row and output by output
    squares = (sw[:, None] * (errors * errors)).ravel().astype(np.float64)
    loss = float(_sequential_sum(0.0, squares, np.float64))
    # c = 2 * sw_i * scale in float64, times e in float64, stored in Z
    c = (2.0 * sw.astype(np.float64)) * float(scale)
    Z[...] = c[:, None] * errors.astype(np.float64)
    gb2[:] = _sequential_sum(gb2, Z, dtype)
    if m == 1:
        r = Z[:, 0:1]
        gW2[:, 0] = _sequential_sum(gW2[:, 0], H * r, dtype)
        delta = D * (r * W2[:, 0])
    else:
        products = H[:, :, None] * Z[:, None, :]
        gW2[...] = _sequential_sum(gW2, products, dtype)
        s = Z[:, 0:1] * W2[:, 0]
        for o in range(1, m):
            s = s + Z[:, o : o + 1] * W2[:, o]
        delta = D * s
    H[...] = delta
    gb1[:] = _sequential_sum(gb1, delta, dtype)
    return loss


# -- solvers --------------------------------------------------------------------


def _small_step(theta, *args):
    return theta.shape[0] <= _SMALL_ELEMENTS


def _penalize(theta, grad, n_weights, alpha):
    """``add_l2_penalty``; returns the float64 penalty."""
    if alpha == 0:
        return 0.0
    weights = theta[:n_weights]
    squares = (weights * weights).astype(np.float64)
    total = float(_sequential_sum(0.0, squares, np.float64))
    # grad_j += (2 * alpha) * w_j, in float64
    grad[:n_weights] += (2 * alpha) * weights.astype(np.float64)
    return alpha * total


@_register("sknonlin._solvers", _small_step)
def add_l2_penalty(theta, grad, n_weights, alpha):
    return _penalize(theta, grad, n_weights, alpha)


@_register("sknonlin._solvers", _small_step)
def gd_step(theta, grad, n_weights, alpha, learning_rate):
    penalty = _penalize(theta, grad, n_weights, alpha)
    theta -= float(learning_rate) * grad.astype(np.float64)
    return penalty


@_register("sknonlin._solvers", _small_step)
def momentum_step(theta, grad, n_weights, alpha, learning_rate, momentum, velocity):
    penalty = _penalize(theta, grad, n_weights, alpha)
    v = float(momentum) * velocity.astype(np.float64) - float(
        learning_rate
    ) * grad.astype(np.float64)
    velocity[...] = v
    theta += v
    return penalty


def _integer_power(base, exponent):
    """``base ** exponent`` for a float and an int, as numba computes it."""
    if exponent < 0 or exponent > 0x10000:
        return math.pow(base, float(exponent)) if exponent >= 0 else None
    result = 1.0
    while exponent != 0:
        if exponent & 1:
            result *= base
        exponent >>= 1
        base *= base
    return result


def _small_adam(theta, grad, n_weights, alpha, learning_rate, t, m, v):
    return 0 <= t and theta.shape[0] <= _SMALL_ELEMENTS


@_register("sknonlin._solvers", _small_adam)
def adam_step(theta, grad, n_weights, alpha, learning_rate, t, m, v):
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    penalty = _penalize(theta, grad, n_weights, alpha)
    t = int(t)
    step = (
        learning_rate
        * math.sqrt(1 - _integer_power(beta2, t))
        / (1 - _integer_power(beta1, t))
    )
    g = grad.astype(np.float64)
    g_squared = (grad * grad).astype(np.float64)
    mj = beta1 * m.astype(np.float64) + (1 - beta1) * g
    vj = beta2 * v.astype(np.float64) + (1 - beta2) * g_squared
    m[...] = mj
    v[...] = vj
    theta -= step * mj / (np.sqrt(vj) + eps)
    return penalty


# -- perceptron -----------------------------------------------------------------


def _small_order(n_samples, seed):
    return n_samples <= _SMALL_ELEMENTS


@_register("sknonlin._perceptron_kernels", _small_order)
def shuffled_order(n_samples, seed):
    # The SplitMix64 states are seed + k * gamma: all outputs at once, in
    # wrapping uint64 arithmetic, then the swaps of the Fisher-Yates shuffle.
    steps = np.arange(1, n_samples, dtype=np.uint64)
    z = np.uint64(seed) + steps * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    i = np.arange(n_samples - 1, 0, -1)
    # 53 random bits scaled to 0 ... i, truncated as int() does
    j = ((z >> np.uint64(11)).astype(np.float64) * 2.0**-53 * (i + 1)).astype(np.int64)
    order = list(range(n_samples))
    for i_, j_ in zip(i.tolist(), j.tolist(), strict=True):
        order[i_], order[j_] = order[j_], order[i_]
    return np.array(order, dtype=np.int64)
