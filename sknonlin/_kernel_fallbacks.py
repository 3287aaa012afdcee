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
    for columns, parents, factors in _row_plan(starts, interaction_only):
        np.multiply(rows[:, parents], x[:, factors], out=rows[:, columns])


# The plans of small maps, kept: building one costs more than using it on a
# few rows. A plan is kept up to this many terms, and this many plans at most
# (a few hundred KiB in all).
_KEPT_PLAN_TERMS = 1024
_KEPT_PLANS = 16
_kept_plans = {}


def _row_plan(starts, interaction_only):
    """Per degree from 2 on: its columns, and the parent column and factor of
    each of its terms.

    The runs ``x_f * (terms of the degree below from column first_f on)`` of a
    degree lie side by side, in the order of ``f``, so one product computes
    each degree's terms, with the kernel's multiplications.
    """
    key = (starts.shape, starts.tobytes(), bool(interaction_only))
    plan = _kept_plans.get(key)
    if plan is not None:
        return plan
    max_degree, n_features = starts.shape[0] - 1, starts.shape[1] - 1
    plan = []
    for m in range(2, max_degree + 1):
        firsts = starts[m - 1, 1:] if interaction_only else starts[m - 1, :-1]
        lengths = starts[m - 1, n_features] - firsts
        start, stop = int(starts[m, 0]), int(starts[m, n_features])
        if stop == start:
            continue
        run_starts = np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths)
        parents = np.arange(stop - start) + run_starts
        factors = np.repeat(np.arange(n_features), lengths)
        plan.append((slice(start, stop), parents, factors))
    if int(starts[-1, -1]) <= _KEPT_PLAN_TERMS:
        if len(_kept_plans) >= _KEPT_PLANS:
            _kept_plans.clear()
        _kept_plans[key] = plan
    return plan


# -- polynomial feature map of sparse input -------------------------------------

# ``expand_csr`` builds each term of degree k of a row from its prefix of
# degree k - 1 (the odometer's partial product): the fallback builds all the
# terms of a degree at once from all those of the degree below, row by row
# and in the same order, so each value is the same chain of products. Ranks
# are integer sums: computed in wrapping int64 as the kernel's, from exact
# binomials reduced modulo 2**64, they give the kernel's column indices.
_UINT64_MASK = (1 << 64) - 1
# NumPy calls per degree (a few microseconds each).
_CALLS_PER_DEGREE = 30


def _small_expand(
    data, indices, indptr, n_features, min_degree, max_degree, interaction_only,
    include_bias, block_offsets, binom, out_data, out_indices, out_indptr,
):  # fmt: skip
    if data.dtype != out_data.dtype:
        return False
    depth = max(max_degree, 1)
    # each term's column indices are kept, up to depth of them, and the
    # prefixes below min_degree are at most as many as its terms
    work = out_data.shape[0] * depth * max(min_degree, 1)
    n_stored = int(indptr[-1]) if indptr.shape[0] else 0
    binomials = 0 if binom.shape[0] else (2 * n_stored + 1) * (depth - 1)
    return (
        work <= _SMALL_ELEMENTS
        and binomials <= _SMALL_STEPS
        and depth * _CALLS_PER_DEGREE <= _SMALL_CALLS
    )


def _binomial_counts(values, n_features, max_degree, interaction_only, binom):
    """The kernel's binomials as a function ``counts(r, v)`` of arrays ``v``.

    ``counts(r, v)`` is C(n - v + r, r + 1), or C(n - v, r + 1) for
    interaction_only, in int64 modulo 2**64, for ``v`` among ``values``:
    read from ``binom`` where the kernel reads it, else computed exactly.
    """
    if binom.shape[0]:

        def counts(r, v):
            return binom[n_features - v + (0 if interaction_only else r), r + 1]

        return counts
    known = np.unique(values)
    table = np.zeros((max(max_degree, 1), known.shape[0]), dtype=np.uint64)
    for r in range(1, max_degree):
        extra = 0 if interaction_only else r
        table[r] = [
            math.comb(n_features - v + extra, r + 1) & _UINT64_MASK
            for v in known.tolist()
        ]
    table = table.view(np.int64)

    def counts(r, v):
        return table[r, np.searchsorted(known, v)]

    return counts


def _expand(parents, limits, strict):
    """The terms one factor longer, in order: each term's children.

    A term whose last factor is at position ``p`` has one child for each
    position from ``p + strict`` up to its limit. Returns the parent of each
    child and the position of the child's new factor.
    """
    starts = parents + strict
    n_children = np.maximum(limits - starts, 0)
    parent = np.repeat(np.arange(parents.shape[0]), n_children)
    first = np.cumsum(n_children) - n_children
    position = np.arange(parent.shape[0]) + (starts - first)[parent]
    return parent, position


def _term_columns(columns, offset, strict, counts):
    """Output column of each term from its input columns (one term a row)."""
    k = columns.shape[1]
    previous = np.zeros_like(columns)
    previous[:, 1:] = columns[:, :-1] + strict
    rank = np.zeros(columns.shape[0], dtype=np.int64)
    for t in range(k - 1):
        r = k - 1 - t
        rank += counts(r, previous[:, t]) - counts(r, columns[:, t])
    return offset + rank - previous[:, k - 1] + columns[:, k - 1]


@_register("sknonlin._polynomial_sparse_kernels", _small_expand)
def expand_csr(
    data, indices, indptr, n_features, min_degree, max_degree, interaction_only,
    include_bias, block_offsets, binom, out_data, out_indices, out_indptr,
):  # fmt: skip
    n_rows = indptr.shape[0] - 1
    if n_rows <= 0:
        return
    strict = 1 if interaction_only else 0
    row_starts = indptr[:-1].astype(np.int64)
    row_ends = indptr[1:].astype(np.int64)
    written = out_indptr[:n_rows].astype(np.int64)
    if include_bias:
        out_data[written] = 1
        out_indices[written] = 0
        written += 1
    lowest = max(min_degree, 1)
    stored = indices[: int(indptr[-1])].astype(np.int64)
    counts = None
    if max_degree >= 2:
        counts = _binomial_counts(
            np.concatenate([[0], stored, stored + strict]),
            n_features, max_degree, interaction_only, binom,
        )  # fmt: skip
    # the terms of degree k: row, position of the last factor, the columns
    # of all the factors, value
    rows = np.arange(n_rows)
    last = row_starts - strict
    columns = np.zeros((n_rows, 0), dtype=np.int64)
    values = np.ones(n_rows, dtype=data.dtype)
    for k in range(1, max_degree + 1):
        # below the lowest degree, only prefixes of a term of that degree
        limits = row_ends[rows] - max(lowest - k, 0) * strict
        parent, last = _expand(last, limits, strict)
        rows = rows[parent]
        columns = np.concatenate([columns[parent], stored[last, None]], axis=1)
        values = values[parent] * data[last]
        if k < lowest:
            continue
        n_terms = np.bincount(rows, minlength=n_rows)
        # each row's terms of degree k follow those it has written so far
        at = (written - (np.cumsum(n_terms) - n_terms))[rows] + np.arange(rows.size)
        out_data[at] = values
        out_indices[at] = _term_columns(columns, int(block_offsets[k]), strict, counts)
        written += n_terms


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


def _scores(w, cols, x, b, rnd):
    """Each class's score, added over the row's values ``x`` (of features
    ``cols``) in their order, then its intercept."""
    n_classes = len(b)
    scores = [0.0] * n_classes
    for j, x_j in zip(cols, x, strict=True):
        products = rnd([w_jk * x_j for w_jk in w[j]])
        for k in range(n_classes):
            scores[k] += products[k]
    return [scores[k] + b[k] for k in range(n_classes)]


def _multiclass_epoch(
    row, rnd, y, sample_weight, eta0, order, coef, intercept, fit_intercept,
    average, avg_coef, avg_intercept, t,
):  # fmt: skip
    """The multiclass epoch of both kernels; ``row(i)`` gives the features and
    values of row ``i`` (every feature of a dense row, the stored ones of a
    sparse row, in stored order)."""
    labels, weights = y.tolist(), sample_weight.tolist()
    w, b = coef.tolist(), intercept.tolist()
    acc = avg_coef.tolist() if average else None
    acc_b = avg_intercept.tolist() if average else None
    eta0, t = float(eta0), float(t)
    mistakes, loss, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        cols, x = row(i)
        scores = _scores(w, cols, x, b, rnd)
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


@_register("sknonlin._perceptron_kernels", _small_sparse_epoch)
def multiclass_epoch_csr(
    data, indices, indptr, y, sample_weight, eta0, order, prefetch, coef, intercept,
    fit_intercept, average, avg_coef, avg_intercept, t,
):  # fmt: skip
    return _multiclass_epoch(
        _rows(data, indices, indptr), _rounding(data.dtype), y, sample_weight,
        eta0, order, coef, intercept, fit_intercept, average, avg_coef,
        avg_intercept, t,
    )  # fmt: skip


@_register("sknonlin._perceptron_kernels", _small_perceptron_epoch)
def multiclass_epoch_dense(
    X, y, sample_weight, eta0, order, prefetch, coef, intercept, fit_intercept,
    average, avg_coef, avg_intercept, t,
):  # fmt: skip
    rows, cols = X.tolist(), range(X.shape[1])
    return _multiclass_epoch(
        lambda i: (cols, rows[i]), _rounding(X.dtype), y, sample_weight, eta0,
        order, coef, intercept, fit_intercept, average, avg_coef, avg_intercept, t,
    )  # fmt: skip


# -- tanh and logistic activations -----------------------------------------------

# The compiled kernels call the C math library: ``tanh`` and ``exp`` on float64,
# ``tanhf`` and ``expf`` on float32, found among the process's symbols. Python's
# ``math.tanh`` and ``math.exp`` call the same float64 functions; the float32
# ones are reached through ctypes. NumPy's ``np.tanh`` and ``np.exp`` are its
# own vectorized versions, which round differently, so they are not used. These
# fallbacks serve only where the library is surely the one the kernels call:
# on Linux, and without Intel's SVML, with which numba vectorizes such loops
# with functions of its own.

# Each value costs a call of a C function from Python: some 50 ns for float64
# (``math``), four times as much for float32 (ctypes). A call is small up to
# this many float64 values (a fraction of a millisecond), or a quarter as many
# float32 ones: a minibatch of a fit with a hundred hidden units compiles.
_SMALL_TRANSCENDENTAL = 5_000


@functools.cache
def _c_math():
    """``(tanhf, expf)`` of the C math library, or None where the fallbacks of
    the kernels that call the library must not serve."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux") or _svml_possible():
        return None
    try:
        # the symbols of the process, called without releasing the GIL (quicker)
        process = ctypes.PyDLL(None)
        functions = process.tanhf, process.expf
    except (OSError, AttributeError):
        return None
    for function in functions:
        function.restype = ctypes.c_float
        function.argtypes = [ctypes.c_float]
    return functions


def _svml_possible():
    """Whether numba uses, or may use, Intel's SVML for the math functions."""
    import ctypes
    import os
    import sys

    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "config"):
        return bool(getattr(numba.config, "USING_SVML", True))
    if os.environ.get("NUMBA_DISABLE_INTEL_SVML", "0") not in ("", "0"):
        return False
    # numba enables SVML when it can load this library
    try:
        ctypes.CDLL("libsvml.so")
    except OSError:
        return False
    return True


def _small_transcendental(H, b, *D):
    from sknonlin import _jit

    floats = (np.float32, np.float64)
    cost = H.size * (1 if np.result_type(H, b) == np.float64 else 4)
    # These fallbacks are the slowest: once the process has spent half of the
    # time allowed in fallbacks, they give way to their compiled kernels, so
    # that the cheap fallbacks keep serving.
    spent = _jit._fallback_seconds[0] > _jit._COMPILE_AFTER_S / 2
    return (
        all(a.dtype in floats for a in (H, b, *D))
        and cost <= _SMALL_TRANSCENDENTAL
        and not spent
        and _c_math() is not None
    )


def _elementwise(h, name):
    """``name`` (``"tanh"`` or ``"exp"``) of each value of ``h``, by the C library,
    in the dtype of ``h``."""
    if h.dtype == np.float64:
        function = math.tanh if name == "tanh" else math.exp
    else:
        tanhf, expf = _c_math()
        function = tanhf if name == "tanh" else expf
    values = np.fromiter(map(function, h.ravel().tolist()), h.dtype, h.size)
    return values.reshape(h.shape)


def _sigmoid_values(h):
    """``_sigmoid`` of each value of ``h``, in float64 as the kernel returns it."""
    # exp of -h where h >= 0, else of h (NaN included): never of a positive
    # value, so math.exp cannot overflow
    nonnegative = h >= 0
    e = _elementwise(np.where(nonnegative, -h, h), "exp")
    # 1 + e: an integer and a float32 add in float64
    e = e.astype(np.float64)
    denominator = 1.0 + e
    return np.where(nonnegative, 1.0 / denominator, e / denominator)


@_register("sknonlin._activations", _small_transcendental)
def tanh(H, b):
    H[...] = _elementwise(H + b, "tanh")
    return H


@_register("sknonlin._activations", _small_transcendental)
def tanh_with_derivative(H, b, D):
    a = _elementwise(H + b, "tanh")
    H[...] = a
    # a * a in the dtype of a; 1 minus it in float64 (an integer literal and a
    # float32 add in float64)
    D[...] = 1.0 - (a * a).astype(np.float64)
    return H


@_register("sknonlin._activations", _small_transcendental)
def logistic(H, b):
    H[...] = _sigmoid_values(H + b)
    return H


@_register("sknonlin._activations", _small_transcendental)
def logistic_with_derivative(H, b, D):
    a = _sigmoid_values(H + b)
    H[...] = a
    D[...] = a * (1.0 - a)
    return H


# -- penalized perceptron epochs --------------------------------------------------


def _scalar_rounding(dtype):
    """Round a Python float to ``dtype`` (float32 or float64)."""
    if dtype != np.float32:
        return float
    buffer = array.array("f", [0.0])

    def round_to_float32(value):
        buffer[0] = value
        return buffer[0]

    return round_to_float32


# The weights are ``wscale`` times ``coef``; the fallbacks keep ``coef`` (and
# ``q``, ``before``, ``avg_coef``) as flat lists in the order of
# ``coef.reshape(-1)``: feature by feature, the classes of a feature side by
# side. A dense row holds every feature, so what the kernels do to "the
# weights of the row's features" they do to all of them, in that order.


def _small_penalized_epoch(
    data, indices, indptr, dense, n_features, y, sample_weight, eta0, order, coef,
    intercept, fit_intercept, average, avg_coef, avg_intercept, t, track_loss,
    params, apply_l2, apply_l1, scale, l1_total, q, before,
):  # fmt: skip
    # Dense rows only. The kernels' float64 state must be float64 here too:
    # the fallbacks round only what is stored in the dtype of the weights.
    dtype = coef.dtype
    state64 = (params, scale, l1_total, before, avg_coef, intercept, avg_intercept)
    steps = order.shape[0] * (n_features + 1) * coef.shape[1]
    return (
        dense
        and n_features >= 1
        and dtype in (np.float32, np.float64)
        and data.dtype == dtype
        and q.dtype == dtype
        and all(np.asarray(a).dtype == np.float64 for a in state64)
        and steps <= _SMALL_STEPS
    )


def _small_binary_penalized_epoch(*args):
    # the intercepts are scalars (an array would be updated in place)
    intercepts = args[10], args[14]
    return _small_penalized_epoch(*args) and not any(
        isinstance(b, np.ndarray) for b in intercepts
    )


def _small_multiclass_penalized_epoch(*args):
    intercepts = args[10], args[14]
    return _small_penalized_epoch(*args) and all(
        isinstance(b, np.ndarray) and b.ndim == 1 for b in intercepts
    )


class _PenalizedWeights:
    """The weights ``wscale v``, the L1 bookkeeping and the averaging buffers
    of a penalized epoch, as Python floats."""

    def __init__(self, coef, scale, l1_total, q, before, avg_coef, average):
        self.rnd = _rounding(coef.dtype)
        self.round = _scalar_rounding(coef.dtype)
        self.n_classes = coef.shape[1]
        self.v = coef.reshape(-1).tolist()
        self.q = q.reshape(-1).tolist()
        self.wscale, self.sq_norm, self.l1_norm = scale.tolist()
        self.l1_total = float(l1_total[0])
        self.before = before.reshape(-1).tolist() if average else None
        self.acc = avg_coef.reshape(-1).tolist() if average else None

    def write(self, coef, scale, l1_total, q, before, avg_coef):
        coef[...] = np.reshape(self.v, coef.shape)
        q[...] = np.reshape(self.q, q.shape)
        scale[:] = [self.wscale, self.sq_norm, self.l1_norm]
        l1_total[0] = self.l1_total
        if self.acc is not None:
            before[...] = np.reshape(self.before, before.shape)
            avg_coef[...] = np.reshape(self.acc, avg_coef.shape)

    def products(self, x):
        """``v_jk x_j`` in the dtype of the weights, in the order of ``v``;
        ``x`` holds each ``x_j`` once per class."""
        return self.rnd([v * x_j for v, x_j in zip(self.v, x, strict=True)])

    def penalty_of_norms(self, alpha, l1_ratio):
        """``_penalty_of_norms``: from the norms kept, rounded as the kernel does."""
        norm = self.round(math.sqrt(self.sq_norm))
        l1 = self.round(self.l1_norm)
        return alpha * ((1.0 - l1_ratio) * 0.5 * (norm * norm) + l1_ratio * l1)

    def penalty_of_weights(self, alpha, l1_ratio):
        """``_penalty_of_weights``: from the weights themselves."""
        weights = [v * self.wscale for v in self.v]
        sq = _sequential([w * w for w in weights])
        l1 = _sequential([abs(w) for w in weights])
        return alpha * ((1.0 - l1_ratio) * 0.5 * sq + l1_ratio * l1)

    def snapshot(self):
        self.before = [v * self.wscale for v in self.v]

    def shrink(self, factor, reset):
        f = self.round(factor)
        self.wscale = self.wscale * f
        self.sq_norm = self.sq_norm * self.round(f * f)
        self.l1_norm = self.l1_norm * abs(f)
        if self.wscale < reset:
            w = self.round(self.wscale)
            self.v = self.rnd([v * w for v in self.v])
            self.wscale = 1.0

    def step_over_scale(self, u):
        """``_step_over_scale``: ``wscale`` and ``u / wscale`` in the weights' dtype."""
        wscale = self.round(self.wscale)
        return wscale, self.round(self.round(u) / wscale)

    def truncate(self, l1_step):
        """``_truncate_row`` on a dense row: every weight, in order."""
        self.l1_total += l1_step
        total, wscale = self.l1_total, self.wscale
        # Each weight moves towards zero by what it lacks, never past it (the
        # kernel's max(0, d), min(0, d)); a zero (or NaN) weight is kept.
        truncated = self.rnd(
            [
                (d if (d := z - (total + q) / wscale) > 0.0 else 0.0)
                if wscale * z > 0.0
                else (d if (d := z + (total - q) / wscale) < 0.0 else 0.0)
                if wscale * z < 0.0
                else z
                for z, q in zip(self.v, self.q, strict=True)
            ]
        )  # fmt: skip
        self.q = self.rnd(
            [q + wscale * (v - z) for q, v, z in zip(self.q, truncated, self.v,
                                                      strict=True)]
        )  # fmt: skip
        self.v = truncated

    def accumulate_average(self, t):
        wscale = self.wscale
        self.acc = [
            a + t * (v * wscale - b)
            for a, v, b in zip(self.acc, self.v, self.before, strict=True)
        ]


@_register("sknonlin._perceptron_kernels", _small_binary_penalized_epoch)
def binary_penalized_epoch(
    data, indices, indptr, dense, n_features, y, sample_weight, eta0, order, coef,
    intercept, fit_intercept, average, avg_coef, avg_intercept, t, track_loss,
    params, apply_l2, apply_l1, scale, l1_total, q, before,
):  # fmt: skip
    state = _PenalizedWeights(coef, scale, l1_total, q, before, avg_coef, average)
    shrink, l1_step, alpha, l1_ratio, reset = params.tolist()
    rows = data.reshape(-1, n_features).tolist()
    labels, weights = y.tolist(), sample_weight.tolist()
    intercept, avg_intercept, t = float(intercept), float(avg_intercept), float(t)
    eta0 = float(eta0)
    mistakes, objective, bad = 0, 0.0, -1
    for pos, i in enumerate(order.tolist()):
        x = rows[i]
        # the dot product rounded to the dtype of the weights, then b added
        p = state.round(_sequential(state.products(x)) * state.wscale) + intercept
        if not math.isfinite(p):
            bad = pos
            break
        z = p * labels[i]
        if track_loss:
            if z <= 0.0:
                objective += 0.0 - z
            objective += state.penalty_of_norms(alpha, l1_ratio)
        u = (eta0 * labels[i]) * weights[i] if z <= 0.0 else 0.0
        if average:
            state.snapshot()
        if apply_l2:
            state.shrink(shrink, reset)
        if u != 0.0:
            wscale, c = state.step_over_scale(u)
            moved = [v + x_j * c for v, x_j in zip(state.v, x, strict=True)]
            state.v = state.rnd(moved)
            sq = _sequential(state.rnd([v * v for v in state.v]))
            l1 = _sequential([abs(v) for v in state.v])
            state.sq_norm = sq * state.round(wscale * wscale)
            state.l1_norm = l1 * wscale
            if fit_intercept:
                intercept += u
            mistakes += 1
        if apply_l1:
            state.truncate(l1_step)
        if average:
            state.accumulate_average(t)
            if fit_intercept:
                avg_intercept += t * u
        t += 1.0
    state.write(coef, scale, l1_total, q, before, avg_coef)
    return intercept, avg_intercept, t, mistakes, objective, bad


@_register("sknonlin._perceptron_kernels", _small_multiclass_penalized_epoch)
def multiclass_penalized_epoch(
    data, indices, indptr, dense, n_features, y, sample_weight, eta0, order, coef,
    intercept, fit_intercept, average, avg_coef, avg_intercept, t, track_loss,
    params, apply_l2, apply_l1, scale, l1_total, q, before,
):  # fmt: skip
    state = _PenalizedWeights(coef, scale, l1_total, q, before, avg_coef, average)
    shrink, l1_step, alpha, l1_ratio, reset = params.tolist()
    n_classes = coef.shape[1]
    rows = data.reshape(-1, n_features).tolist()
    labels, weights = y.tolist(), sample_weight.tolist()
    b = intercept.tolist()
    acc_b = avg_intercept.tolist() if average else None
    eta0, t = float(eta0), float(t)
    mistakes, objective, bad = 0, 0.0, -1
    # each x_j once per class, as the weights are laid out
    repeated = [[x_j for x_j in row for _ in b] for row in rows]
    for pos, i in enumerate(order.tolist()):
        x = rows[i]
        products = state.products(repeated[i])
        scores = [
            _sequential(products[k::n_classes]) * state.wscale + b[k]
            for k in range(n_classes)
        ]
        if not all(map(math.isfinite, scores)):
            bad = pos
            break
        y_hat, y_i = _argmax_first(scores), labels[i]
        if track_loss:
            objective += scores[y_hat] - scores[y_i]
            objective += state.penalty_of_weights(alpha, l1_ratio)
        u = eta0 * weights[i] if y_hat != y_i else 0.0
        if average:
            state.snapshot()
        if apply_l2:
            state.shrink(shrink, reset)
        if u != 0.0:
            _, step = state.step_over_scale(u)
            v = state.v
            for j, x_j in enumerate(x):
                lost, won = j * n_classes + y_hat, j * n_classes + y_i
                v[lost], v[won] = state.rnd([v[lost] - x_j * step, v[won] + x_j * step])
            if fit_intercept:
                b[y_hat] -= u
                b[y_i] += u
            mistakes += 1
        if apply_l1:
            state.truncate(l1_step)
        if average:
            state.accumulate_average(t)
            if fit_intercept and u != 0.0:
                acc_b[y_hat] -= t * u
                acc_b[y_i] += t * u
        t += 1.0
    state.write(coef, scale, l1_total, q, before, avg_coef)
    intercept[...] = b
    if average:
        avg_intercept[...] = acc_b
    return t, mistakes, objective, bad
