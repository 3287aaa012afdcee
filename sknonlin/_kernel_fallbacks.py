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
import types

import numpy as np

from sknonlin._jit import Kernel

Fallback = collections.namedtuple("Fallback", ["func", "small"])

# Work (elements touched, or Python-level steps) below which an input is small.
_SMALL_ELEMENTS = 200_000
_SMALL_STEPS = 20_000

_POLYNOMIAL_MODULES = (
    "sknonlin._polynomial_kernels",
    "sknonlin._polynomial_sparse_kernels",
)
_MONOMIAL, _LEGENDRE, _CHEBYSHEV = 0, 1, 2

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
    func = entry.func
    # The parameters the fallback was written for (for a kernel run as its
    # own fallback, those its ``small`` test was written for).
    written_for = entry.small if func is _RUN_SOURCE else func
    if _parameters(written_for) != _parameters(kernel.py_func):
        return None
    if func is _RUN_SOURCE:
        func = _python_version(kernel.py_func)
    return Fallback(func, entry.small)


def _quiet(func):
    """``func`` without NumPy's floating-point warnings, as compiled code runs."""

    @functools.wraps(func)
    def quiet(*args):
        with np.errstate(all="ignore"):
            return func(*args)

    return quiet


def _parameters(func):
    return list(inspect.signature(func).parameters)


def _run_source():
    """Marker: the kernel's own source, run by Python, is its fallback."""


_RUN_SOURCE = _run_source


def _python_version(py_func):
    """``py_func`` with the kernels it calls replaced by their Python versions.

    Only for kernels whose every operation is on NumPy scalars and arrays of
    the data's dtype, or on integers that cannot overflow: NumPy then rounds as
    numba does.
    """
    namespace = dict(py_func.__globals__)
    for name in py_func.__code__.co_names:
        value = namespace.get(name)
        if isinstance(value, Kernel) and value.py_func is not py_func:
            entry = _resolve(value)
            namespace[name] = value.py_func if entry is None else entry.func
    return types.FunctionType(
        py_func.__code__,
        namespace,
        py_func.__name__,
        py_func.__defaults__,
        py_func.__closure__,
    )


def _sequential_sum(initial, terms, dtype):
    """``((initial + terms[0]) + terms[1]) + ...`` along axis 0, in ``dtype``.

    The running sum of a loop ``acc += term``: each step rounded to ``dtype``.
    """
    stacked = np.empty((terms.shape[0] + 1, *terms.shape[1:]), dtype=dtype)
    stacked[0] = initial
    stacked[1:] = terms
    return np.add.accumulate(stacked, axis=0, dtype=dtype)[-1]


def _safe_runs(start, length, source):
    """Split the run ``dest[start + i] = f(dest[source + i])`` into chunks.

    A loop over a run reads values it has just written when the source
    overlaps the destination; a chunk no longer than their distance reads only
    values written before it, so a vectorized chunk gives the loop's result.
    """
    step = start - source
    if step <= 0 or step >= length:
        return [(start, length, source)]
    return [
        (start + offset, min(step, length - offset), source + offset)
        for offset in range(0, length, step)
    ]


# -- polynomial feature map ---------------------------------------------------


@functools.lru_cache(maxsize=32)
def _product_runs(parent_bytes, factor_bytes):
    """Runs ``terms[j:j+L] = terms[p:p+L] * factors[f]`` of a plan, in order."""
    parent = np.frombuffer(parent_bytes, dtype=np.int64)
    factor = np.frombuffer(factor_bytes, dtype=np.int64)
    runs = []
    j = 0
    n_terms = parent.shape[0]
    while j < n_terms:
        f, p = int(factor[j]), int(parent[j])
        end = j + 1
        if f < 0:
            runs.append(("one", j, 1, 0, 0))
        elif p < 0:
            while (
                end < n_terms
                and parent[end] < 0
                and factor[end] == f + (end - j)
                and factor[end] >= 0
            ):
                end += 1
            runs.append(("copy", j, end - j, 0, f))
        else:
            while (
                end < n_terms
                and factor[end] == f
                and parent[end] == p + (end - j)
                and parent[end] >= 0
            ):
                end += 1
            for start, length, source in _safe_runs(j, end - j, p):
                runs.append(("product", start, length, source, f))
        j = end
    return tuple(runs)


def _univariate(X, shift, scale, basis, max_power):
    """The factors of every row: ``univariate_block`` on all rows at once."""
    n_samples, n_features = X.shape
    stride = max_power + 1
    factors = np.empty((n_features * stride, n_samples), dtype=X.dtype)
    by_feature = factors.reshape(n_features, stride, n_samples)
    if basis == _MONOMIAL:
        by_feature[:, 0] = X.T
        return factors
    # numba: (x - shift) * scale in the arrays' dtype; an integer times it, and
    # everything after, in float64.
    t = ((X - shift) * scale).T
    by_feature[:, 0] = 1
    if max_power >= 1:
        by_feature[:, 1] = t
    t = t.astype(np.float64)
    for p in range(1, max_power):
        current = by_feature[:, p].astype(np.float64)
        previous = by_feature[:, p - 1].astype(np.float64)
        if basis == _LEGENDRE:
            value = (float(2 * p + 1) * t * current - float(p) * previous) / float(
                p + 1
            )
        else:
            value = 2.0 * t * current - previous
        by_feature[:, p + 1] = value
    return factors


def _products(factors, parent, factor, n_rows, terms):
    runs = _product_runs(
        np.ascontiguousarray(parent, dtype=np.int64).tobytes(),
        np.ascontiguousarray(factor, dtype=np.int64).tobytes(),
    )
    for kind, start, length, source, f in runs:
        if kind == "one":
            terms[start, :n_rows] = 1
        elif kind == "copy":
            terms[start : start + length, :n_rows] = factors[f : f + length, :n_rows]
        else:
            np.multiply(
                terms[source : source + length, :n_rows],
                factors[f, :n_rows],
                out=terms[start : start + length, :n_rows],
            )


def _small_dense_map(X, parent, *args):
    return X.shape[0] * parent.shape[0] <= _SMALL_ELEMENTS


@_register(_POLYNOMIAL_MODULES, _small_dense_map)
def polynomial_features(
    X, parent, factor, keep, shift, scale, basis, max_power, c_order, out
):
    n_samples = X.shape[0]
    factors = _univariate(X, shift, scale, basis, max_power)
    terms = np.empty((parent.shape[0], n_samples), dtype=X.dtype)
    _products(factors, parent, factor, n_samples, terms)
    out[...] = terms[keep].T


def _small_rows(X, seg_dest, seg_parent, seg_length, seg_factor, out):
    return out.size <= _SMALL_ELEMENTS


@_register(_POLYNOMIAL_MODULES, _small_rows)
def monomial_rows(X, seg_dest, seg_parent, seg_length, seg_factor, out):
    segments = zip(
        seg_dest.tolist(), seg_parent.tolist(), seg_length.tolist(),
        seg_factor.tolist(), strict=True,
    )  # fmt: skip
    for d, p, length, f in segments:
        if f < 0:
            out[:, d] = 1
        elif p < 0:
            out[:, d : d + length] = X[:, f : f + length]
        else:
            x_f = X[:, f : f + 1]
            for start, size, source in _safe_runs(d, length, p):
                np.multiply(
                    out[:, source : source + size],
                    x_f,
                    out=out[:, start : start + size],
                )


def _small_lengths(indptr, *args):
    return indptr.shape[0] <= _SMALL_ELEMENTS


@_register(_POLYNOMIAL_MODULES, _small_lengths)
def csr_row_lengths(indptr, min_degree, max_degree, interaction_only, include_bias):
    m = np.diff(indptr).astype(np.int64)
    total = np.zeros_like(m)
    count = np.ones_like(m)
    for k in range(1, max_degree + 1):
        if interaction_only:
            count = count * (m - k + 1) // k
        else:
            count = count * (m + k - 1) // k
        if k >= min_degree:
            total += count
    if include_bias:
        total += 1
    return total


def _small_expansion(
    data,
    indices,
    indptr,
    n_features,
    min_degree,
    max_degree,
    interaction_only,
    include_bias,
    block_offsets,
    binom,
    out_data,
    out_indices,
    out_indptr,
):
    return out_data.shape[0] + indptr.shape[0] <= _SMALL_STEPS


def _any_rank(previous, c, r, n_features, interaction_only, binom):
    return True


# Integer bookkeeping on small counts, and products of NumPy scalars of the
# data's dtype: run by Python, the kernel itself gives numba's results.
for _module in _POLYNOMIAL_MODULES:
    _REGISTRY[f"{_module}.expand_csr"] = Fallback(_RUN_SOURCE, _small_expansion)
    _REGISTRY[f"{_module}.rank_step"] = Fallback(_RUN_SOURCE, _any_rank)


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


def _sequential_dot(coef, row):
    """``s = 0.0; s += coef_j * x_j``: products in the data's dtype, sum in float64."""
    return float(_sequential_sum(0.0, (coef * row).astype(np.float64), np.float64))


def _small_epoch(X, y, sample_weight, order, *args):
    # a Python loop over the samples: a few milliseconds at most
    return order.shape[0] * (X.shape[1] + 1) <= _SMALL_STEPS


@_register("sknonlin._perceptron_kernels", _small_epoch)
def binary_epoch_dense(
    X,
    y,
    sample_weight,
    order,
    prefetch,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
    unit_roundoff,
    underflow,
):
    # The kernel decides each mistake with a reordered sum only where its
    # sign is certain to be the sequential sum's: the sequential sum alone
    # takes the same decisions.
    if X.dtype == np.float64 and coef.dtype == np.float64:
        return _binary_epoch_float64(
            X, y, sample_weight, order, coef, intercept, fit_intercept, average,
            avg_coef, avg_intercept, t,
        )  # fmt: skip
    mistakes = 0
    intercept, avg_intercept, t = float(intercept), float(avg_intercept), float(t)
    for i in order.tolist():
        row = X[i]
        p = _sequential_dot(coef, row) + intercept
        y_i, s_i = y[i], sample_weight[i]
        # y_i * p in float64, as numba promotes it
        if float(y_i) * p <= 0.0 and s_i > 0.0:
            c = y_i * s_i
            update = row * c
            coef += update
            if fit_intercept:
                intercept += float(c)
            if average:
                avg_coef += t * update.astype(np.float64)
                if fit_intercept:
                    avg_intercept += t * float(c)
            mistakes += 1
        t += 1.0
    return intercept, avg_intercept, t, mistakes


def _argmax_first(scores):
    best = 0
    for k in range(1, len(scores)):
        if scores[k] > scores[best]:
            best = k
    return best


@_register("sknonlin._perceptron_kernels", _small_epoch)
def multiclass_epoch_dense(
    X,
    y,
    sample_weight,
    order,
    prefetch,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
):
    if X.dtype == np.float64 and coef.dtype == np.float64:
        return _multiclass_epoch_float64(
            X, y, sample_weight, order, coef, intercept, fit_intercept, average,
            avg_coef, avg_intercept, t,
        )  # fmt: skip
    mistakes = 0
    t = float(t)
    for i in order.tolist():
        row = X[i]
        # scores_k += coef_jk * x_j, feature by feature, in float64
        products = (coef * row[:, None]).astype(np.float64)
        scores = _sequential_sum(0.0, products, np.float64) + intercept
        y_hat = _argmax_first(scores.tolist())
        y_i = int(y[i])
        s = sample_weight[i]
        if y_hat != y_i and s > 0.0:
            step = row * s
            coef[:, y_hat] -= step
            coef[:, y_i] += step
            if average:
                weighted = t * step.astype(np.float64)
                avg_coef[:, y_hat] -= weighted
                avg_coef[:, y_i] += weighted
            if fit_intercept:
                intercept[y_hat] -= float(s)
                intercept[y_i] += float(s)
                if average:
                    avg_intercept[y_hat] -= t * float(s)
                    avg_intercept[y_i] += t * float(s)
            mistakes += 1
        t += 1.0
    return t, mistakes


# With float64 data every operation of the perceptron kernels is a float64
# one, which Python floats do the same way: plain Python on lists is then the
# fastest no-compile epoch.


def _binary_epoch_float64(
    X, y, sample_weight, order, coef, intercept, fit_intercept, average,
    avg_coef, avg_intercept, t,
):  # fmt: skip
    rows, labels, weights = X.tolist(), y.tolist(), sample_weight.tolist()
    w = coef.tolist()
    u = avg_coef.tolist() if average else None
    intercept, avg_intercept, t = float(intercept), float(avg_intercept), float(t)
    mistakes = 0
    for i in order.tolist():
        x = rows[i]
        s = 0.0
        for w_j, x_j in zip(w, x, strict=True):
            s += w_j * x_j
        p = s + intercept
        if labels[i] * p <= 0.0 and weights[i] > 0.0:
            c = labels[i] * weights[i]
            for j, x_j in enumerate(x):
                w[j] += x_j * c
            if fit_intercept:
                intercept += c
            if average:
                for j, x_j in enumerate(x):
                    u[j] += t * (x_j * c)
                if fit_intercept:
                    avg_intercept += t * c
            mistakes += 1
        t += 1.0
    coef[:] = w
    if average:
        avg_coef[:] = u
    return intercept, avg_intercept, t, mistakes


def _multiclass_epoch_float64(
    X, y, sample_weight, order, coef, intercept, fit_intercept, average,
    avg_coef, avg_intercept, t,
):  # fmt: skip
    rows, labels, weights = X.tolist(), y.tolist(), sample_weight.tolist()
    w = coef.tolist()
    u = avg_coef.tolist() if average else None
    b = intercept.tolist()
    v = avg_intercept.tolist() if average else None
    n_classes = len(b)
    t = float(t)
    mistakes = 0
    for i in order.tolist():
        x = rows[i]
        scores = [0.0] * n_classes
        for w_j, x_j in zip(w, x, strict=True):
            for k in range(n_classes):
                scores[k] += w_j[k] * x_j
        for k in range(n_classes):
            scores[k] += b[k]
        y_hat = _argmax_first(scores)
        y_i = labels[i]
        s = weights[i]
        if y_hat != y_i and s > 0.0:
            for j, x_j in enumerate(x):
                step = x_j * s
                w[j][y_hat] -= step
                w[j][y_i] += step
                if average:
                    u[j][y_hat] -= t * step
                    u[j][y_i] += t * step
            if fit_intercept:
                b[y_hat] -= s
                b[y_i] += s
                if average:
                    v[y_hat] -= t * s
                    v[y_i] += t * s
            mistakes += 1
        t += 1.0
    coef[...] = w
    intercept[...] = b
    if average:
        avg_coef[...] = u
        avg_intercept[...] = v
    return t, mistakes
