"""Numba kernels for the perceptron: one training epoch, dense or CSR.

Every kernel visits the samples in the given ``order`` and applies the
perceptron rule to each one in turn. They work in place on already validated
arrays: the weights have the dtype of ``X``, the intercepts and the averaging
accumulators are float64.

Scores are sums of products computed in the dtype of ``X`` and accumulated in
float64, feature by feature, in the order the features are stored; the
intercept is added last. The binary kernels decide the sign of that sum to the
bit while adding the products in a faster, reordered way most of the time (see
``_binary_margin_dense``).

Averaging is lazy: with ``t`` the number of steps taken before the current
sample, an update ``Δ`` of the weights is also added, scaled by ``t``, to an
accumulator ``U``. After ``T`` steps the average of the weights over the steps
is ``w - U / T``.
"""

import numpy as np
from numba import njit

# Terms summed per pass of the unrolled loop in the reordered dot products.
_UNROLL = 4


@njit(cache=True)
def _dot_sequential_dense(coef, X, i):
    """``coef · X[i]`` added feature by feature, left to right."""
    s = 0.0
    for j in range(X.shape[1]):
        s += coef[j] * X[i, j]
    return s


@njit(cache=True)
def _dot_sequential_csr(coef, data, indices, start, end):
    """``coef · x`` over the stored entries ``start:end``, left to right."""
    s = 0.0
    for k in range(start, end):
        s += coef[indices[k]] * data[k]
    return s


@njit(cache=True)
def _dot_and_abs_dense(coef, X, i):
    """``coef · X[i]`` and ``Σ |coef_j X[i, j]|``, with reordered additions."""
    d = X.shape[1]
    s0 = s1 = s2 = s3 = 0.0
    a0 = a1 = a2 = a3 = 0.0
    j = 0
    while j + _UNROLL <= d:
        p0 = coef[j] * X[i, j]
        p1 = coef[j + 1] * X[i, j + 1]
        p2 = coef[j + 2] * X[i, j + 2]
        p3 = coef[j + 3] * X[i, j + 3]
        s0 += p0
        s1 += p1
        s2 += p2
        s3 += p3
        a0 += abs(p0)
        a1 += abs(p1)
        a2 += abs(p2)
        a3 += abs(p3)
        j += _UNROLL
    while j < d:
        p0 = coef[j] * X[i, j]
        s0 += p0
        a0 += abs(p0)
        j += 1
    return (s0 + s1) + (s2 + s3), (a0 + a1) + (a2 + a3)


@njit(cache=True)
def _dot_and_abs_csr(coef, data, indices, start, end):
    """``coef · x`` and ``Σ |coef_j x_j|`` over ``start:end``, reordered."""
    s0 = s1 = s2 = s3 = 0.0
    a0 = a1 = a2 = a3 = 0.0
    k = start
    while k + _UNROLL <= end:
        p0 = coef[indices[k]] * data[k]
        p1 = coef[indices[k + 1]] * data[k + 1]
        p2 = coef[indices[k + 2]] * data[k + 2]
        p3 = coef[indices[k + 3]] * data[k + 3]
        s0 += p0
        s1 += p1
        s2 += p2
        s3 += p3
        a0 += abs(p0)
        a1 += abs(p1)
        a2 += abs(p2)
        a3 += abs(p3)
        k += _UNROLL
    while k < end:
        p0 = coef[indices[k]] * data[k]
        s0 += p0
        a0 += abs(p0)
        k += 1
    return (s0 + s1) + (s2 + s3), (a0 + a1) + (a2 + a3)


@njit(cache=True)
def _error_bound(abs_sum, n_terms, unit_roundoff, underflow):
    """Bound, with a safety factor of 2, on the gap between two float64 sums.

    Any two orders of adding ``n_terms`` products (each rounded to the dtype
    of ``X``, with unit roundoff ``unit_roundoff`` and absolute error at most
    ``underflow`` when it underflows) differ by at most half of this value.
    """
    n = n_terms + 1.0
    return 4.0 * (unit_roundoff + n * 2.0**-53) * abs_sum + 4.0 * n * underflow


@njit(cache=True)
def _binary_margin_dense(coef, intercept, X, i, unit_roundoff, underflow):
    """``coef · X[i] + intercept``, with the sign of the sequential sum.

    The sum is first computed with reordered additions, which run several
    times faster than one long chain. When it is farther from zero than the
    rounding error of either order can reach, its sign is the sign of the
    sequential sum; otherwise the sequential sum is computed. The returned
    value may differ in its last bits, never in its sign.
    """
    s, abs_sum = _dot_and_abs_dense(coef, X, i)
    p = s + intercept
    if not (abs(p) > _error_bound(abs_sum, X.shape[1], unit_roundoff, underflow)):
        p = _dot_sequential_dense(coef, X, i) + intercept
    return p


@njit(cache=True)
def _binary_margin_csr(
    coef, intercept, data, indices, start, end, unit_roundoff, underflow
):
    """CSR version of ``_binary_margin_dense``."""
    s, abs_sum = _dot_and_abs_csr(coef, data, indices, start, end)
    p = s + intercept
    if not (abs(p) > _error_bound(abs_sum, end - start, unit_roundoff, underflow)):
        p = _dot_sequential_csr(coef, data, indices, start, end) + intercept
    return p


@njit(cache=True)
def binary_epoch_dense(
    X,
    y,
    sample_weight,
    order,
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
    """One epoch of the binary perceptron on dense ``X``.

    For each sample ``i`` in ``order``: if ``y_i (w · x_i + b) > 0`` keep the
    weights, otherwise ``w += s_i y_i x_i`` and ``b += s_i y_i``, with ``y_i``
    in {-1, +1} and ``s_i`` the sample weight.

    Returns the intercept, the averaged-intercept accumulator, the step count
    after the epoch and the number of mistakes (updates made).
    """
    mistakes = 0
    for i in order:
        p = _binary_margin_dense(coef, intercept, X, i, unit_roundoff, underflow)
        if y[i] * p <= 0.0 and sample_weight[i] > 0.0:
            c = y[i] * sample_weight[i]
            for j in range(X.shape[1]):
                coef[j] += X[i, j] * c
            if fit_intercept:
                intercept += c
            if average:
                for j in range(X.shape[1]):
                    avg_coef[j] += t * (X[i, j] * c)
                if fit_intercept:
                    avg_intercept += t * c
            mistakes += 1
        t += 1.0
    return intercept, avg_intercept, t, mistakes


@njit(cache=True)
def binary_epoch_csr(
    data,
    indices,
    indptr,
    y,
    sample_weight,
    order,
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
    """One epoch of the binary perceptron on CSR ``X``.

    Same rule and return values as ``binary_epoch_dense``; only the stored
    entries of each row are read and updated.
    """
    mistakes = 0
    for i in order:
        start = indptr[i]
        end = indptr[i + 1]
        p = _binary_margin_csr(
            coef, intercept, data, indices, start, end, unit_roundoff, underflow
        )
        if y[i] * p <= 0.0 and sample_weight[i] > 0.0:
            c = y[i] * sample_weight[i]
            for k in range(start, end):
                coef[indices[k]] += data[k] * c
            if fit_intercept:
                intercept += c
            if average:
                for k in range(start, end):
                    avg_coef[indices[k]] += t * (data[k] * c)
                if fit_intercept:
                    avg_intercept += t * c
            mistakes += 1
        t += 1.0
    return intercept, avg_intercept, t, mistakes


@njit(cache=True)
def _argmax_first(scores):
    """Index of the largest score; ties go to the lowest index."""
    best = 0
    for k in range(1, scores.shape[0]):
        if scores[k] > scores[best]:
            best = k
    return best


@njit(cache=True)
def multiclass_epoch_dense(
    X,
    y,
    sample_weight,
    order,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
):
    """One epoch of the multiclass perceptron on dense ``X``.

    ``coef`` has shape (n_features, n_classes): column ``k`` is ``w_k``. For
    each sample ``i`` in ``order``: ``ŷ = argmax_k w_k · x_i + b_k`` (ties to
    the lowest ``k``); if ``ŷ != y_i``, ``w_ŷ -= s_i x_i`` and
    ``w_{y_i} += s_i x_i`` (and the same for ``b``), ``s_i`` the sample weight.

    Each score is added feature by feature, left to right; the loop over the
    classes is innermost so that the classes' sums advance side by side.

    Returns the step count after the epoch and the number of mistakes.
    """
    n_features = X.shape[1]
    n_classes = coef.shape[1]
    scores = np.empty(n_classes, dtype=np.float64)
    mistakes = 0
    for i in order:
        scores[:] = 0.0
        for j in range(n_features):
            x_ij = X[i, j]
            for k in range(n_classes):
                scores[k] += coef[j, k] * x_ij
        for k in range(n_classes):
            scores[k] += intercept[k]
        y_hat = _argmax_first(scores)
        y_i = y[i]
        if y_hat != y_i and sample_weight[i] > 0.0:
            s = sample_weight[i]
            for j in range(n_features):
                step = X[i, j] * s
                coef[j, y_hat] -= step
                coef[j, y_i] += step
            if fit_intercept:
                intercept[y_hat] -= s
                intercept[y_i] += s
            if average:
                for j in range(n_features):
                    step = X[i, j] * s
                    avg_coef[j, y_hat] -= t * step
                    avg_coef[j, y_i] += t * step
                if fit_intercept:
                    avg_intercept[y_hat] -= t * s
                    avg_intercept[y_i] += t * s
            mistakes += 1
        t += 1.0
    return t, mistakes


@njit(cache=True)
def multiclass_epoch_csr(
    data,
    indices,
    indptr,
    y,
    sample_weight,
    order,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
):
    """One epoch of the multiclass perceptron on CSR ``X``.

    Same rule and return values as ``multiclass_epoch_dense``; only the stored
    entries of each row are read and updated.
    """
    n_classes = coef.shape[1]
    scores = np.empty(n_classes, dtype=np.float64)
    mistakes = 0
    for i in order:
        start = indptr[i]
        end = indptr[i + 1]
        scores[:] = 0.0
        for p in range(start, end):
            j = indices[p]
            x_ij = data[p]
            for k in range(n_classes):
                scores[k] += coef[j, k] * x_ij
        for k in range(n_classes):
            scores[k] += intercept[k]
        y_hat = _argmax_first(scores)
        y_i = y[i]
        if y_hat != y_i and sample_weight[i] > 0.0:
            s = sample_weight[i]
            for p in range(start, end):
                step = data[p] * s
                coef[indices[p], y_hat] -= step
                coef[indices[p], y_i] += step
            if fit_intercept:
                intercept[y_hat] -= s
                intercept[y_i] += s
            if average:
                for p in range(start, end):
                    step = data[p] * s
                    avg_coef[indices[p], y_hat] -= t * step
                    avg_coef[indices[p], y_i] += t * step
                if fit_intercept:
                    avg_intercept[y_hat] -= t * s
                    avg_intercept[y_i] += t * s
            mistakes += 1
        t += 1.0
    return t, mistakes
