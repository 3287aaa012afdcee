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

import array
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


# -- polynomial feature map ---------------------------------------------------

# Every value of the map is computed from values of the same row only, each by
# the same operations as in the kernels: the fallbacks below compute a run of
# terms for all the rows of a block at once. The runs a kernel reads are of a
# lower degree than those it writes, so a run never reads what it writes.
_MONOMIAL = 0
_LEGENDRE = 1
# NumPy calls a fallback may make (a few microseconds each).
_SMALL_CALLS = 5_000


def _small_starts(n_features, max_degree, interaction_only, n_bias):
    return (max_degree + 1) * (n_features + 1) <= _SMALL_ELEMENTS


@_register("sknonlin._polynomial_kernels", _small_starts)
def degree_starts(n_features, max_degree, interaction_only, n_bias):
    starts = np.zeros((max_degree + 1, n_features + 1), dtype=np.int64)
    starts[min(max_degree, 1)] = n_bias + np.arange(n_features + 1)
    for m in range(2, max_degree + 1):
        column = int(starts[m - 1, n_features])
        for f in range(n_features):
            starts[m, f] = column
            first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
            column += int(starts[m - 1, n_features] - first)
        starts[m, n_features] = column
    return starts


def _univariate(X, start, stop, shift, scale, basis, max_power, out):
    """``univariate_block`` on rows ``start:stop`` at once."""
    n_rows, n_features = stop - start, X.shape[1]
    stride = max_power + 1
    end = n_features * stride

    def power(p):
        # P_p of every feature: rows p, p + stride, ... of ``out`` (a view)
        return out[p:end:stride, :n_rows]

    if basis == _MONOMIAL:
        power(0)[...] = X[start:stop].T
        return
    # (x - shift) * scale in the arrays' dtype; an integer times it, and
    # everything after, in float64, rounded when stored
    t = ((X[start:stop] - shift) * scale).T
    power(0)[...] = 1
    if max_power >= 1:
        power(1)[...] = t
    t = t.astype(np.float64)
    for p in range(1, max_power):
        current = power(p).astype(np.float64)
        previous = power(p - 1).astype(np.float64)
        if basis == _LEGENDRE:
            value = (float(2 * p + 1) * t * current - float(p) * previous) / float(
                p + 1
            )
        else:
            value = 2.0 * t * current - previous
        power(p + 1)[...] = value


def _run(terms, target, source, length, factor, rows):
    """``terms[target + t, rows] = terms[source + t, rows] * factor``, t < length."""
    if length > 0:
        np.multiply(
            terms[source : source + length, rows],
            factor,
            out=terms[target : target + length, rows],
        )


def _monomial_block(factors, starts, interaction_only, n_bias, offset, n_rows, terms):
    max_degree, n_features = starts.shape[0] - 1, starts.shape[1] - 1
    rows = slice(offset, offset + n_rows)
    if n_bias:
        terms[0, rows] = 1
    if max_degree >= 1:
        terms[n_bias : n_bias + n_features, rows] = factors[:n_features, :n_rows]
    for m in range(2, max_degree + 1):
        end = int(starts[m - 1, n_features])
        for f in range(n_features):
            first = int(starts[m - 1, f + 1] if interaction_only else starts[m - 1, f])
            x = factors[f, :n_rows]
            _run(terms, int(starts[m, f]), first, end - first, x, rows)


def _orthogonal_block(factors, starts, interaction_only, n_bias, offset, n_rows,
                      terms):  # fmt: skip
    max_degree, n_features = starts.shape[0] - 1, starts.shape[1] - 1
    stride = max_degree + 1
    rows = slice(offset, offset + n_rows)
    if n_bias:
        terms[0, rows] = 1
    if max_degree >= 1:
        terms[n_bias : n_bias + n_features, rows] = factors[1::stride, :n_rows][
            :n_features
        ]
    for m in range(2, max_degree + 1):
        for f in range(n_features):
            column = int(starts[m, f])
            if not interaction_only:
                terms[column, rows] = factors[f * stride + m, :n_rows]
                column += 1
            for lead in range(1 if interaction_only else m - 1, 0, -1):
                first = int(starts[m - lead, f + 1])
                length = int(starts[m - lead, n_features]) - first
                x = factors[f * stride + lead, :n_rows]
                _run(terms, column, first, length, x, rows)
                column += length


def _small_features(
    X, row_start, row_stop, starts, interaction_only, n_bias, first_kept, shift,
    scale, basis, factors, terms, in_place, out,
):  # fmt: skip
    dtype = X.dtype
    if not all(a.dtype == dtype for a in (shift, scale, factors, terms, out)):
        return False
    n_rows = row_stop - row_start
    n_blocks = -(-n_rows // max(factors.shape[1], 1))
    calls = n_blocks * starts.shape[0] ** 2 * starts.shape[1]
    return n_rows * terms.shape[0] <= _SMALL_ELEMENTS and calls <= _SMALL_CALLS


@_register("sknonlin._polynomial_kernels", _small_features)
def polynomial_features(
    X, row_start, row_stop, starts, interaction_only, n_bias, first_kept, shift,
    scale, basis, factors, terms, in_place, out,
):  # fmt: skip
    block_rows = factors.shape[1]
    max_power = 0 if basis == _MONOMIAL else starts.shape[0] - 1
    n_out = out.shape[1]
    block = _monomial_block if basis == _MONOMIAL else _orthogonal_block
    for start in range(row_start, row_stop, block_rows):
        stop = min(start + block_rows, row_stop)
        n_rows = stop - start
        _univariate(X, start, stop, shift, scale, basis, max_power, factors)
        offset = start if in_place else 0
        block(factors, starts, interaction_only, n_bias, offset, n_rows, terms)
        if not in_place:
            out[start:stop, :n_bias] = terms[:n_bias, :n_rows].T
            kept = terms[first_kept : first_kept + n_out - n_bias, :n_rows]
            out[start:stop, n_bias:] = kept.T


def _small_rows(X, row_start, row_stop, starts, interaction_only, n_bias, out):
    calls = starts.shape[0] * starts.shape[1]
    return (
        X.dtype == out.dtype
        and (row_stop - row_start) * out.shape[1] <= _SMALL_ELEMENTS
        and calls <= _SMALL_CALLS
    )


@_register("sknonlin._polynomial_kernels", _small_rows)
def monomial_rows(X, row_start, row_stop, starts, interaction_only, n_bias, out):
    max_degree, n_features = starts.shape[0] - 1, starts.shape[1] - 1
    rows = out[row_start:row_stop]
    x = X[row_start:row_stop]
    if n_bias:
        rows[:, 0] = 1
    if max_degree >= 1:
        rows[:, n_bias : n_bias + n_features] = x[:, :n_features]
    # the runs along the rows: the columns of the transposed rows
    columns = rows.T
    for m in range(2, max_degree + 1):
        end = int(starts[m - 1, n_features])
        for f in range(n_features):
            first = int(starts[m - 1, f + 1] if interaction_only else starts[m - 1, f])
            _run(columns, int(starts[m, f]), first, end - first, x[:, f],
                 slice(None))  # fmt: skip


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


# The epochs run on Python floats, which are float64: the weights, the data
# and the products are read exactly. Where the kernel computes or stores in
# float32, the value is rounded to float32 through ``array("f")`` (a C cast,
# round to nearest like numba's). A product of two float32 is exact in
# float64, so rounding it once gives the float32 product.


def _rounding(dtype):
    """Round a list of Python floats to ``dtype`` (float32 or float64)."""
    if dtype == np.float32:
        return lambda values: array.array("f", values).tolist()
    return lambda values: values


def _small_perceptron_epoch(X, y, sample_weight, eta0, order, prefetch, coef, *args):
    # one Python loop over the samples: a few milliseconds at most
    same_dtype = X.dtype == coef.dtype and X.dtype in (np.float32, np.float64)
    return same_dtype and order.shape[0] * (X.shape[1] + 1) <= _SMALL_STEPS


def _dot_and_abs(products):
    """``_dot_and_abs_dense``: four interleaved sums of the products, and of
    their absolute values."""
    s = [0.0, 0.0, 0.0, 0.0]
    a = [0.0, 0.0, 0.0, 0.0]
    d = len(products)
    tail = d - d % 4
    for j in range(tail):
        s[j % 4] += products[j]
        a[j % 4] += abs(products[j])
    for j in range(tail, d):
        s[0] += products[j]
        a[0] += abs(products[j])
    return (s[0] + s[1]) + (s[2] + s[3]), (a[0] + a[1]) + (a[2] + a[3])


def _sequential(products):
    s = 0.0
    for p in products:
        s += p
    return s


def _sign_is_certain(margin, abs_sum, n_terms, unit_roundoff, underflow):
    n = n_terms + 1.0
    err = (unit_roundoff + n * 2.0**-53) * abs_sum + n * underflow
    return abs(margin) > 4.0 * err


@_register("sknonlin._perceptron_kernels", _small_perceptron_epoch)
def binary_epoch_dense(
    X, y, sample_weight, eta0, order, prefetch, coef, intercept, fit_intercept,
    average, avg_coef, avg_intercept, t, track_loss, unit_roundoff, underflow,
):  # fmt: skip
    rnd = _rounding(X.dtype)
    rows, labels, weights = X.tolist(), y.tolist(), sample_weight.tolist()
    w = coef.tolist()
    acc = avg_coef.tolist() if average else None
    intercept, avg_intercept, t = float(intercept), float(avg_intercept), float(t)
    eta0 = float(eta0)
    n_features = X.shape[1]
    mistakes, loss, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        x = rows[i]
        products = rnd([w_j * x_j for w_j, x_j in zip(w, x, strict=True)])
        s, abs_sum = _dot_and_abs(products)
        p = s + intercept
        sequential = False
        if not _sign_is_certain(p, abs_sum, n_features, unit_roundoff, underflow):
            p = _sequential(products) + intercept
            sequential = True
        if not math.isfinite(p):
            bad = pos
            break
        z = p * labels[i]
        if z <= 0.0:
            if track_loss:
                if not sequential:
                    z = (_sequential(products) + intercept) * labels[i]
                loss += 0.0 - z
            u = (eta0 * labels[i]) * weights[i]
            if u != 0.0:
                c = rnd([u])[0]
                w = rnd([w_j + x_j * c for w_j, x_j in zip(w, x, strict=True)])
                if fit_intercept:
                    intercept += u
                if average:
                    acc = [a_j + t * (x_j * c) for a_j, x_j in zip(acc, x, strict=True)]
                    if fit_intercept:
                        avg_intercept += t * u
                mistakes += 1
        t += 1.0
    coef[:] = w
    if average:
        avg_coef[:] = acc
    return intercept, avg_intercept, t, mistakes, loss, bad


def _small_sparse_epoch(data, indices, indptr, y, sample_weight, eta0, order,
                        prefetch, coef, *args):  # fmt: skip
    # one Python step per visited row and per stored value
    same_dtype = data.dtype == coef.dtype and data.dtype in (np.float32, np.float64)
    steps = order.shape[0] + indptr.shape[0] + int(indptr[-1])
    return same_dtype and steps <= _SMALL_STEPS


def _rows(data, indices, indptr):
    """A function giving a row's stored column indices and values (as lists)."""
    cols, vals, bounds = indices.tolist(), data.tolist(), indptr.tolist()

    def row(i):
        start, end = bounds[i], bounds[i + 1]
        return cols[start:end], vals[start:end]

    return row


@_register("sknonlin._perceptron_kernels", _small_sparse_epoch)
def binary_epoch_csr(
    data, indices, indptr, y, sample_weight, eta0, order, prefetch, coef, intercept,
    fit_intercept, average, avg_coef, avg_intercept, t, track_loss, unit_roundoff,
    underflow,
):  # fmt: skip
    # binary_epoch_dense on the stored values of each row, in stored order; a
    # column stored twice in a row is updated twice, one rounding each time.
    rnd = _rounding(data.dtype)
    row = _rows(data, indices, indptr)
    labels, weights = y.tolist(), sample_weight.tolist()
    w = coef.tolist()
    acc = avg_coef.tolist() if average else None
    intercept, avg_intercept, t = float(intercept), float(avg_intercept), float(t)
    eta0 = float(eta0)
    mistakes, loss, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        cols, x = row(i)
        products = rnd([w[j] * x_j for j, x_j in zip(cols, x, strict=True)])
        s, abs_sum = _dot_and_abs(products)
        p = s + intercept
        sequential = False
        if not _sign_is_certain(p, abs_sum, len(cols), unit_roundoff, underflow):
            p = _sequential(products) + intercept
            sequential = True
        if not math.isfinite(p):
            bad = pos
            break
        z = p * labels[i]
        if z <= 0.0:
            if track_loss:
                if not sequential:
                    z = (_sequential(products) + intercept) * labels[i]
                loss += 0.0 - z
            u = (eta0 * labels[i]) * weights[i]
            if u != 0.0:
                c = rnd([u])[0]
                for j, x_j in zip(cols, x, strict=True):
                    w[j] = rnd([w[j] + x_j * c])[0]
                if fit_intercept:
                    intercept += u
                if average:
                    for j, x_j in zip(cols, x, strict=True):
                        acc[j] += t * (x_j * c)
                    if fit_intercept:
                        avg_intercept += t * u
                mistakes += 1
        t += 1.0
    coef[:] = w
    if average:
        avg_coef[:] = acc
    return intercept, avg_intercept, t, mistakes, loss, bad


def _argmax_first(scores):
    best = 0
    for k in range(1, len(scores)):
        if scores[k] > scores[best]:
            best = k
    return best


def _scores(w, x, b, rnd):
    """Each class's score, added feature by feature, then its intercept."""
    n_classes = len(b)
    scores = [0.0] * n_classes
    for w_j, x_j in zip(w, x, strict=True):
        products = rnd([w_jk * x_j for w_jk in w_j])
        for k in range(n_classes):
            scores[k] += products[k]
    return [scores[k] + b[k] for k in range(n_classes)]


def _sparse_scores(w, cols, x, b, rnd):
    """``_scores`` over the stored values of a row, in stored order."""
    n_classes = len(b)
    scores = [0.0] * n_classes
    for j, x_j in zip(cols, x, strict=True):
        products = rnd([w_jk * x_j for w_jk in w[j]])
        for k in range(n_classes):
            scores[k] += products[k]
    return [scores[k] + b[k] for k in range(n_classes)]


@_register("sknonlin._perceptron_kernels", _small_sparse_epoch)
def multiclass_epoch_csr(
    data, indices, indptr, y, sample_weight, eta0, order, prefetch, coef, intercept,
    fit_intercept, average, avg_coef, avg_intercept, t,
):  # fmt: skip
    rnd = _rounding(data.dtype)
    row = _rows(data, indices, indptr)
    labels, weights = y.tolist(), sample_weight.tolist()
    w, b = coef.tolist(), intercept.tolist()
    acc = avg_coef.tolist() if average else None
    acc_b = avg_intercept.tolist() if average else None
    eta0, t = float(eta0), float(t)
    mistakes, loss, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        cols, x = row(i)
        scores = _sparse_scores(w, cols, x, b, rnd)
        if not all(map(math.isfinite, scores)):
            bad = pos
            break
        y_hat, y_i = _argmax_first(scores), labels[i]
        if y_hat != y_i:
            loss += scores[y_hat] - scores[y_i]
            u = eta0 * weights[i]
            if u != 0.0:
                c = rnd([u])[0]
                for j, x_j in zip(cols, x, strict=True):
                    w_j = w[j]
                    w_j[y_hat], w_j[y_i] = rnd(
                        [w_j[y_hat] - x_j * c, w_j[y_i] + x_j * c]
                    )
                    if average:
                        acc[j][y_hat] -= t * (x_j * c)
                        acc[j][y_i] += t * (x_j * c)
                if fit_intercept:
                    b[y_hat] -= u
                    b[y_i] += u
                    if average:
                        acc_b[y_hat] -= t * u
                        acc_b[y_i] += t * u
                mistakes += 1
        t += 1.0
    coef[...] = w
    intercept[...] = b
    if average:
        avg_coef[...] = acc
        avg_intercept[...] = acc_b
    return t, mistakes, loss, bad


@_register("sknonlin._perceptron_kernels", _small_perceptron_epoch)
def multiclass_epoch_dense(
    X, y, sample_weight, eta0, order, prefetch, coef, intercept, fit_intercept,
    average, avg_coef, avg_intercept, t,
):  # fmt: skip
    rnd = _rounding(X.dtype)
    rows, labels, weights = X.tolist(), y.tolist(), sample_weight.tolist()
    w, b = coef.tolist(), intercept.tolist()
    acc = avg_coef.tolist() if average else None
    acc_b = avg_intercept.tolist() if average else None
    eta0, t = float(eta0), float(t)
    mistakes, loss, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        x = rows[i]
        scores = _scores(w, x, b, rnd)
        if not all(map(math.isfinite, scores)):
            bad = pos
            break
        y_hat, y_i = _argmax_first(scores), labels[i]
        if y_hat != y_i:
            loss += scores[y_hat] - scores[y_i]
            u = eta0 * weights[i]
            if u != 0.0:
                c = rnd([u])[0]
                for j, x_j in enumerate(x):
                    w_j = w[j]
                    w_j[y_hat], w_j[y_i] = rnd(
                        [w_j[y_hat] - x_j * c, w_j[y_i] + x_j * c]
                    )
                    if average:
                        acc[j][y_hat] -= t * (x_j * c)
                        acc[j][y_i] += t * (x_j * c)
                if fit_intercept:
                    b[y_hat] -= u
                    b[y_i] += u
                    if average:
                        acc_b[y_hat] -= t * u
                        acc_b[y_i] += t * u
                mistakes += 1
        t += 1.0
    coef[...] = w
    intercept[...] = b
    if average:
        avg_coef[...] = acc
        avg_intercept[...] = acc_b
    return t, mistakes, loss, bad
