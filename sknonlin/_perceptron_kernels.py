"""Numba kernels for the perceptron: one training epoch, dense or CSR.

Every kernel visits the samples in the given ``order`` and applies the
perceptron rule to each one in turn. They work in place on already validated
arrays: the weights have the dtype of ``X``, the intercepts and the averaging
accumulators are float64.

Scores are sums of products computed in the dtype of ``X`` and accumulated in
float64, feature by feature, in the order the features are stored; the
intercept is added last. The binary kernels decide the sign of that sum to the
bit while adding the products in a faster, reordered way most of the time (see
``_sign_is_certain``).

A mistake moves the weights by a step ``u`` computed in float64 (the step
size times the sample's weight, and its sign for the binary perceptron). Each
weight becomes ``w_j + x_j u`` computed in float64 from ``u`` rounded to the
dtype of the weights, then rounded once to that dtype: for float32 data this is
how scikit-learn's SGD rounds, so the binary perceptron keeps its bits. The
intercepts take ``u`` itself. A score that is not finite stops the epoch and is
reported to the caller, which refuses the fit.

The epochs take ``prefetch=True`` when ``order`` is shuffled: rows are then
fetched into cache a few samples ahead (see ``_PREFETCH_AHEAD``). With
``prefetch=False`` the sparse epochs fetch the weights ahead instead (see
``_COEF_AHEAD``).

Averaging is lazy: with ``t`` the number of steps taken before the current
sample, an update ``Δ`` of the weights is also added, scaled by ``t``, to an
accumulator ``U``. After ``T`` steps the average of the weights over the steps
is ``w - U / T``.
"""

import numpy as np

from sknonlin._jit import LazyIntrinsic, njit

# Terms summed per pass of the unrolled loop in the reordered dot products.
_UNROLL = 4

# Shuffled samples sit at random places in memory: without prefetching, the
# loop would wait on main memory at each sample. With ``prefetch``, samples are
# visited in blocks and, before each block, the rows of the samples
# ``_PREFETCH_AHEAD`` positions further are fetched into cache. A block holds
# as many rows as fit in about ``_PREFETCH_LINES`` cache lines, so that the
# requests in flight stay within what the CPU tracks at once. (Prefetching in
# the outer loop only keeps the per-sample loop as fast as without it.)
_PREFETCH_AHEAD = 8
_PREFETCH_LINES = 16

# Rows visited in stored order read their weights at scattered places: when
# the weights outgrow the cache, each read would wait on memory. The sparse
# epochs then prefetch the weight of the stored value this many positions
# ahead (far enough to arrive in time, near enough to stay in cache).
_COEF_AHEAD = 48

# Array elements between two prefetches: a 64-byte cache line of float64 (a
# constant step keeps the loop cheap; smaller dtypes are fetched twice).
_PREFETCH_STEP = 8

# Unit roundoff of float64, and the scale of 53 random bits to [0, 1). Kept as
# constants: written ``2.0**-53`` inside a kernel, numba calls ``pow`` each time.
_F64_UNIT_ROUNDOFF = 2.0**-53
_RANDOM_53_BITS_SCALE = 2.0**-53

# Compiled code only: defined with numba's extension API, imported on need.
_prefetch = LazyIntrinsic("sknonlin._intrinsics", "prefetch")


@njit(cache=True, nogil=True, inline="always")
def _block_size(row_length):
    """Samples per block for rows of ``row_length`` stored values."""
    lines_per_row = max(1, (row_length + _PREFETCH_STEP - 1) // _PREFETCH_STEP)
    return max(1, _PREFETCH_LINES // lines_per_row)


@njit(cache=True, nogil=True, inline="always")
def _prefetch_dense_rows(X, order, start, stop):
    """Prefetch the rows of the samples ``order[start:stop]``."""
    for pos in range(start, min(stop, order.shape[0])):
        for j in range(0, X.shape[1], _PREFETCH_STEP):
            _prefetch(X, (order[pos], j))


@njit(cache=True, nogil=True, inline="always")
def _prefetch_csr_rows(data, indices, indptr, order, start, stop):
    """Prefetch the stored values and indices of the rows ``order[start:stop]``."""
    for pos in range(start, min(stop, order.shape[0])):
        i = order[pos]
        for k in range(indptr[i], indptr[i + 1], _PREFETCH_STEP):
            _prefetch(data, k)
            _prefetch(indices, k)


@njit(cache=True, nogil=True, inline="always")
def _splitmix64(state):
    """Next state and output of the SplitMix64 generator."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def shuffled_order(n_samples, seed):
    """A random permutation of ``0 … n_samples - 1``, determined by ``seed``.

    Fisher-Yates shuffle of the indices, driven by SplitMix64: several times
    faster than NumPy's shuffle, which would otherwise cost more than an
    epoch on low-dimensional data.
    """
    order = np.arange(n_samples)
    state = np.uint64(seed)
    for i in range(n_samples - 1, 0, -1):
        state, z = _splitmix64(state)
        # 53 random bits scaled to 0 … i.
        j = int((z >> np.uint64(11)) * _RANDOM_53_BITS_SCALE * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


@njit(cache=True, nogil=True, inline="always")
def _column(index):
    """A stored column index as an unsigned integer.

    Indices were checked to lie in ``[0, n_features)`` before any kernel
    runs; unsigned, they index without numba's test for negative indices,
    which costs a tenth of a sparse epoch.
    """
    return np.uint64(index)


@njit(cache=True, nogil=True, inline="always")
def _dot_sequential_dense(coef, X, i):
    """``coef · X[i]`` added feature by feature, left to right."""
    s = 0.0
    for j in range(X.shape[1]):
        s += coef[j] * X[i, j]
    return s


@njit(cache=True, nogil=True, inline="always")
def _row_span(indptr, i):
    """Positions ``start, end`` of the stored values of row ``i``, unsigned.

    ``indptr`` was checked to start at 0, never decrease and end within the
    stored values before any kernel runs. Unsigned positions index ``data``
    and ``indices`` without numba's test for negative indices, which costs a
    fifth of a sparse epoch.
    """
    return np.uint64(indptr[i]), np.uint64(indptr[i + 1])


@njit(cache=True, nogil=True, inline="always")
def _last_stored(indptr):
    """Position of the last stored value (unused when there is none)."""
    return np.uint64(indptr[indptr.shape[0] - 1]) - np.uint64(1)


@njit(cache=True, nogil=True, inline="always")
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


@njit(cache=True, nogil=True, inline="always")
def _dot_sequential_csr(coef, data, indices, start, end):
    """``coef · x`` over the stored values ``start:end``, left to right."""
    s = 0.0
    for k in range(start, end):
        s += coef[_column(indices[k])] * data[k]
    return s


@njit(cache=True, nogil=True, inline="always")
def _dot_and_abs_csr(coef, data, indices, start, end, ahead, last):
    """``coef · x`` and ``Σ |coef_j x_j|`` over ``start:end``, reordered.

    ``start`` and ``end`` are unsigned (see ``_row_span``). With ``ahead >
    0``, every fourth step also prefetches the weight of the stored value
    ``ahead`` positions further on (at most ``last``): of this row or, when
    the rows are visited in order, of the next ones. One prefetch per pass
    of the unrolled loop measured faster than one per stored value.
    """
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    s0 = s1 = s2 = s3 = 0.0
    a0 = a1 = a2 = a3 = 0.0
    k = start
    while k + four <= end:
        if ahead > 0:
            _prefetch(coef, _column(indices[min(k + ahead, last)]))
        p0 = coef[_column(indices[k])] * data[k]
        p1 = coef[_column(indices[k + one])] * data[k + one]
        p2 = coef[_column(indices[k + two])] * data[k + two]
        p3 = coef[_column(indices[k + three])] * data[k + three]
        s0 += p0
        s1 += p1
        s2 += p2
        s3 += p3
        a0 += abs(p0)
        a1 += abs(p1)
        a2 += abs(p2)
        a3 += abs(p3)
        k += four
    while k < end:
        p0 = coef[_column(indices[k])] * data[k]
        s0 += p0
        a0 += abs(p0)
        k += one
    return (s0 + s1) + (s2 + s3), (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True, inline="always")
def _sign_is_certain(margin, abs_sum, n_terms, unit_roundoff, underflow):
    """Whether a reordered margin has the sign of the sequential one.

    ``margin`` is a sum of ``n_terms`` products plus the intercept, the
    products added in some order; ``abs_sum`` is the sum of their absolute
    values. Each product is rounded to the dtype of ``X`` (unit roundoff
    ``unit_roundoff``, absolute error at most ``underflow`` if it underflows)
    and added in float64, so any order of addition is within
    ``err = (unit_roundoff + (n_terms + 1) 2⁻⁵³) abs_sum + (n_terms + 1)
    underflow`` of the exact sum. When ``|margin|`` exceeds ``4 err`` (a
    safety factor of 2 over the ``2 err`` two orders can differ by), every
    order of addition gives a margin of the same strict sign.
    """
    n = n_terms + 1.0
    err = (unit_roundoff + n * _F64_UNIT_ROUNDOFF) * abs_sum + n * underflow
    return abs(margin) > 4.0 * err


@njit(cache=True, nogil=True, inline="always")
def _weight_update(eta0, y_i, weight):
    """The step ``eta0 y_i s_i`` of a mistake, in float64."""
    return (eta0 * y_i) * weight


@njit(cache=True, nogil=True)
def binary_epoch_dense(
    X,
    y,
    sample_weight,
    eta0,
    order,
    prefetch,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
    track_loss,
    unit_roundoff,
    underflow,
):
    """One epoch of the binary perceptron on dense ``X``.

    For each sample ``i`` in ``order``: if ``y_i (w · x_i + b) > 0`` keep the
    weights, otherwise ``w += u x_i`` and ``b += u`` with ``u = eta0 y_i s_i``,
    ``y_i`` in {-1, +1} and ``s_i`` the sample weight. ``u`` is computed in
    float64; ``w`` takes ``u`` rounded to its dtype, each new ``w_j`` is
    computed in float64 and rounded once; ``b`` (float64) takes ``u``.

    The margin is first added in a reordered, faster way; only when its sign
    could differ from that of the sequential sum is the sequential sum
    computed, so that every decision is the sequential one. With
    ``track_loss``, the loss ``max(0, -y_i p_i)`` of the sequential margins is
    summed too.

    Returns the intercept, the averaged-intercept accumulator, the step count
    after the epoch, the number of mistakes (updates made), the summed loss and
    the position in ``order`` of a sample whose margin is not finite (-1 if
    none; the epoch stops there).
    """
    n_samples = order.shape[0]
    n_features = X.shape[1]
    mistakes = 0
    loss = 0.0
    step = np.empty(1, dtype=coef.dtype)
    block_size = _block_size(X.shape[1])
    for block in range(0, n_samples, block_size):
        if prefetch:
            ahead = block + _PREFETCH_AHEAD
            _prefetch_dense_rows(X, order, ahead, ahead + block_size)
        for pos in range(block, min(block + block_size, n_samples)):
            i = order[pos]
            s, abs_sum = _dot_and_abs_dense(coef, X, i)
            p = s + intercept
            sequential = False
            if not _sign_is_certain(p, abs_sum, n_features, unit_roundoff, underflow):
                p = _dot_sequential_dense(coef, X, i) + intercept
                sequential = True
            if not np.isfinite(p):
                return intercept, avg_intercept, t, mistakes, loss, pos
            z = p * y[i]
            if z <= 0.0:
                if track_loss:
                    if not sequential:
                        z = (_dot_sequential_dense(coef, X, i) + intercept) * y[i]
                    loss += 0.0 - z
                u = _weight_update(eta0, y[i], sample_weight[i])
                if u != 0.0:
                    step[0] = u
                    c = np.float64(step[0])
                    for j in range(n_features):
                        coef[j] = coef[j] + np.float64(X[i, j]) * c
                    if fit_intercept:
                        intercept += u
                    if average:
                        for j in range(n_features):
                            avg_coef[j] += t * (np.float64(X[i, j]) * c)
                        if fit_intercept:
                            avg_intercept += t * u
                    mistakes += 1
            t += 1.0
    return intercept, avg_intercept, t, mistakes, loss, -1


@njit(cache=True, nogil=True)
def binary_epoch_csr(
    data,
    indices,
    indptr,
    y,
    sample_weight,
    eta0,
    order,
    prefetch,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
    track_loss,
    unit_roundoff,
    underflow,
):
    """One epoch of the binary perceptron on CSR ``X``.

    Same rule and return values as ``binary_epoch_dense``; only the stored
    entries of each row are read and updated.
    """
    n_samples = order.shape[0]
    mistakes = 0
    loss = 0.0
    step = np.empty(1, dtype=coef.dtype)
    # Rows visited in order: prefetch the weights of the values stored ahead.
    ahead = np.uint64(0 if prefetch else _COEF_AHEAD)
    last = _last_stored(indptr)
    block_size = _block_size(data.shape[0] // max(1, n_samples))
    for block in range(0, n_samples, block_size):
        if prefetch:
            pos_ahead = block + _PREFETCH_AHEAD
            _prefetch_csr_rows(
                data, indices, indptr, order, pos_ahead, pos_ahead + block_size
            )
        for pos in range(block, min(block + block_size, n_samples)):
            i = order[pos]
            start, end = _row_span(indptr, i)
            s, abs_sum = _dot_and_abs_csr(coef, data, indices, start, end, ahead, last)
            p = s + intercept
            sequential = False
            if not _sign_is_certain(p, abs_sum, end - start, unit_roundoff, underflow):
                p = _dot_sequential_csr(coef, data, indices, start, end) + intercept
                sequential = True
            if not np.isfinite(p):
                return intercept, avg_intercept, t, mistakes, loss, pos
            z = p * y[i]
            if z <= 0.0:
                if track_loss:
                    if not sequential:
                        p = _dot_sequential_csr(coef, data, indices, start, end)
                        z = (p + intercept) * y[i]
                    loss += 0.0 - z
                u = _weight_update(eta0, y[i], sample_weight[i])
                if u != 0.0:
                    step[0] = u
                    c = np.float64(step[0])
                    for k in range(start, end):
                        j = _column(indices[k])
                        coef[j] = coef[j] + np.float64(data[k]) * c
                    if fit_intercept:
                        intercept += u
                    if average:
                        for k in range(start, end):
                            avg_coef[_column(indices[k])] += t * (
                                np.float64(data[k]) * c
                            )
                        if fit_intercept:
                            avg_intercept += t * u
                    mistakes += 1
            t += 1.0
    return intercept, avg_intercept, t, mistakes, loss, -1


@njit(cache=True, nogil=True, inline="always")
def _argmax_first(scores):
    """Index of the largest score; ties go to the lowest index."""
    best = 0
    for k in range(1, scores.shape[0]):
        if scores[k] > scores[best]:
            best = k
    return best


@njit(cache=True, nogil=True, inline="always")
def _all_finite(scores):
    for k in range(scores.shape[0]):
        if not np.isfinite(scores[k]):
            return False
    return True


@njit(cache=True, nogil=True)
def multiclass_epoch_dense(
    X,
    y,
    sample_weight,
    eta0,
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
    """One epoch of the multiclass perceptron on dense ``X``.

    ``coef`` has shape (n_features, n_classes): column ``k`` is ``w_k``. For
    each sample ``i`` in ``order``: ``ŷ = argmax_k w_k · x_i + b_k`` (ties to
    the lowest ``k``); if ``ŷ != y_i``, ``w_ŷ -= u x_i`` and
    ``w_{y_i} += u x_i`` (and the same for ``b``), with ``u = eta0 s_i``,
    ``s_i`` the sample weight; the rounding is that of ``binary_epoch_dense``.

    Each score is added feature by feature, left to right; the loop over the
    classes is innermost so that the classes' sums advance side by side.

    Returns the step count after the epoch, the number of mistakes, the summed
    loss ``max_k (w_k · x_i + b_k) - (w_{y_i} · x_i + b_{y_i})`` and the
    position in ``order`` of a sample with a non-finite score (-1 if none; the
    epoch stops there).
    """
    n_samples = order.shape[0]
    n_features = X.shape[1]
    n_classes = coef.shape[1]
    scores = np.empty(n_classes, dtype=np.float64)
    step = np.empty(1, dtype=coef.dtype)
    mistakes = 0
    loss = 0.0
    block_size = _block_size(X.shape[1])
    for block in range(0, n_samples, block_size):
        if prefetch:
            ahead = block + _PREFETCH_AHEAD
            _prefetch_dense_rows(X, order, ahead, ahead + block_size)
        for pos in range(block, min(block + block_size, n_samples)):
            i = order[pos]
            scores[:] = 0.0
            for j in range(n_features):
                x_ij = X[i, j]
                for k in range(n_classes):
                    scores[k] += coef[j, k] * x_ij
            for k in range(n_classes):
                scores[k] += intercept[k]
            if not _all_finite(scores):
                return t, mistakes, loss, pos
            y_hat = _argmax_first(scores)
            y_i = y[i]
            if y_hat != y_i:
                loss += scores[y_hat] - scores[y_i]
                u = eta0 * np.float64(sample_weight[i])
                if u != 0.0:
                    step[0] = u
                    c = np.float64(step[0])
                    for j in range(n_features):
                        x_ij = np.float64(X[i, j])
                        coef[j, y_hat] = coef[j, y_hat] - x_ij * c
                        coef[j, y_i] = coef[j, y_i] + x_ij * c
                        if average:
                            avg_coef[j, y_hat] -= t * (x_ij * c)
                            avg_coef[j, y_i] += t * (x_ij * c)
                    if fit_intercept:
                        intercept[y_hat] -= u
                        intercept[y_i] += u
                        if average:
                            avg_intercept[y_hat] -= t * u
                            avg_intercept[y_i] += t * u
                    mistakes += 1
            t += 1.0
    return t, mistakes, loss, -1


@njit(cache=True, nogil=True)
def multiclass_epoch_csr(
    data,
    indices,
    indptr,
    y,
    sample_weight,
    eta0,
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
    """One epoch of the multiclass perceptron on CSR ``X``.

    Same rule and return values as ``multiclass_epoch_dense``; only the stored
    entries of each row are read and updated.
    """
    n_samples = order.shape[0]
    n_classes = coef.shape[1]
    scores = np.empty(n_classes, dtype=np.float64)
    step = np.empty(1, dtype=coef.dtype)
    mistakes = 0
    loss = 0.0
    # As in binary_epoch_csr: prefetch weights ahead when rows are in order.
    ahead = np.uint64(0 if prefetch else _COEF_AHEAD)
    last = _last_stored(indptr)
    block_size = _block_size(data.shape[0] // max(1, n_samples))
    for block in range(0, n_samples, block_size):
        if prefetch:
            pos_ahead = block + _PREFETCH_AHEAD
            _prefetch_csr_rows(
                data, indices, indptr, order, pos_ahead, pos_ahead + block_size
            )
        for pos in range(block, min(block + block_size, n_samples)):
            i = order[pos]
            start, end = _row_span(indptr, i)
            scores[:] = 0.0
            for p in range(start, end):
                if ahead > 0:
                    _prefetch(coef, (_column(indices[min(p + ahead, last)]), 0))
                j = _column(indices[p])
                x_ij = data[p]
                for k in range(n_classes):
                    scores[k] += coef[j, k] * x_ij
            for k in range(n_classes):
                scores[k] += intercept[k]
            if not _all_finite(scores):
                return t, mistakes, loss, pos
            y_hat = _argmax_first(scores)
            y_i = y[i]
            if y_hat != y_i:
                loss += scores[y_hat] - scores[y_i]
                u = eta0 * np.float64(sample_weight[i])
                if u != 0.0:
                    step[0] = u
                    c = np.float64(step[0])
                    for p in range(start, end):
                        j = _column(indices[p])
                        x_ij = np.float64(data[p])
                        coef[j, y_hat] = coef[j, y_hat] - x_ij * c
                        coef[j, y_i] = coef[j, y_i] + x_ij * c
                        if average:
                            avg_coef[j, y_hat] -= t * (x_ij * c)
                            avg_coef[j, y_i] += t * (x_ij * c)
                    if fit_intercept:
                        intercept[y_hat] -= u
                        intercept[y_i] += u
                        if average:
                            avg_intercept[y_hat] -= t * u
                            avg_intercept[y_i] += t * u
                    mistakes += 1
            t += 1.0
    return t, mistakes, loss, -1


# -- penalized epochs ----------------------------------------------------------
#
# With a penalty the weights are kept, as in scikit-learn's SGD, as a scale
# ``wscale`` (``scale[0]``, float64) times the stored array ``coef``: the L2
# shrink of every sample is then one multiplication. When ``wscale`` falls
# below ``params[_RESET]`` it is folded into ``coef``. ``scale[1]`` and
# ``scale[2]`` keep the squared L2 norm and the L1 norm of the weights as
# scikit-learn's SGD updates them, for the objective of the stopping rule.
# Where scikit-learn rounds a value to the dtype of the weights, so do the
# kernels, through a one-element buffer ``rounded`` of that dtype. The L1
# penalty is the cumulative truncated gradient of Tsuruoka, Tsujii and
# Ananiadou (2009): ``l1_total[0]`` is the total L1 penalty so far, ``q``
# what each weight has received of it.

# Positions in the ``params`` array of the penalized kernels.
_SHRINK, _L1_STEP, _ALPHA, _L1_RATIO, _RESET = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def _row_bounds(indptr, i, n_features, dense):
    """Positions of row ``i`` in the flat data (row-major if ``dense``).

    Unsigned, as ``_row_span`` gives them: they index ``data`` and
    ``indices`` without numba's test for negative indices.
    """
    if dense:
        return np.uint64(i * n_features), np.uint64((i + 1) * n_features)
    return _row_span(indptr, i)


@njit(cache=True, nogil=True, inline="always")
def _feature_of(indices, k, start, dense):
    """Column of the stored value ``k`` of a row starting at ``start``."""
    if dense:
        return np.uint64(k - start)
    return _column(indices[k])


@njit(cache=True, nogil=True, inline="always")
def _shrink(coef, scale, factor, reset, rounded):
    """``w ← factor w``: scale ``wscale`` (fold it into ``coef`` when tiny)."""
    rounded[0] = factor
    f = rounded[0]
    scale[0] = scale[0] * np.float64(f)
    scale[1] = scale[1] * (f * f)
    scale[2] = scale[2] * abs(np.float64(f))
    if scale[0] < reset:
        rounded[0] = scale[0]
        w = rounded[0]
        flat = coef.reshape(-1)
        for j in range(flat.shape[0]):
            flat[j] = flat[j] * w
        scale[0] = 1.0


@njit(cache=True, nogil=True, inline="always")
def _truncate(coef, q, j, k, u, wscale):
    """Apply to ``coef[j, k]`` the part of the total L1 penalty ``u`` it lacks."""
    z = np.float64(coef[j, k])
    if wscale * z > 0.0:
        coef[j, k] = max(0.0, coef[j, k] - (u + q[j, k]) / wscale)
    elif wscale * z < 0.0:
        coef[j, k] = min(0.0, coef[j, k] + (u - q[j, k]) / wscale)
    q[j, k] = q[j, k] + wscale * (coef[j, k] - z)


@njit(cache=True, nogil=True, inline="always")
def _snapshot(coef, scale, out):
    """``out ← wscale coef`` in float64 (the weights before a step)."""
    w = scale[0]
    for j in range(coef.shape[0]):
        for k in range(coef.shape[1]):
            out[j, k] = np.float64(coef[j, k]) * w


@njit(cache=True, nogil=True, inline="always")
def _accumulate_average(coef, scale, before, avg_coef, t):
    """Add ``t Δ`` to the averaging accumulator, ``Δ`` the step's change."""
    w = scale[0]
    for j in range(coef.shape[0]):
        for k in range(coef.shape[1]):
            avg_coef[j, k] += t * (np.float64(coef[j, k]) * w - before[j, k])


@njit(cache=True, nogil=True, inline="always")
def _penalty_of_norms(scale, alpha, l1_ratio, rounded):
    """``alpha ((1 - l1_ratio) ||w||² / 2 + l1_ratio ||w||₁)`` from ``scale``."""
    rounded[0] = np.sqrt(scale[1])
    norm = np.float64(rounded[0])
    rounded[0] = scale[2]
    return alpha * (
        (1.0 - l1_ratio) * 0.5 * norm**2 + l1_ratio * np.float64(rounded[0])
    )


@njit(cache=True, nogil=True, inline="always")
def _step_over_scale(u, scale, rounded):
    """``(wscale, u / wscale)``, both rounded as the weights' dtype rounds them."""
    rounded[0] = scale[0]
    wscale = rounded[0]
    rounded[0] = u
    return wscale, np.float64(rounded[0] / wscale)


@njit(cache=True, nogil=True, inline="always")
def _binary_penalized_update(data, indices, start, end, dense, coef, scale, c):
    """``v += x_i c`` on the row's features; the norms of ``wscale v`` kept."""
    sq = 0.0
    l1 = 0.0
    for k in range(start, end):
        j = _feature_of(indices, k, start, dense)
        coef[j, 0] = coef[j, 0] + np.float64(data[k]) * c
        sq += coef[j, 0] * coef[j, 0]
        l1 += abs(np.float64(coef[j, 0]))
    return sq, l1


@njit(cache=True, nogil=True, inline="always")
def _truncate_row(indices, start, end, dense, coef, q, total, wscale):
    """The cumulative L1 truncation of the weights of the row's features."""
    for k in range(start, end):
        j = _feature_of(indices, k, start, dense)
        for c in range(coef.shape[1]):
            _truncate(coef, q, j, c, total, wscale)


@njit(cache=True, nogil=True)
def binary_penalized_epoch(
    data,
    indices,
    indptr,
    dense,
    n_features,
    y,
    sample_weight,
    eta0,
    order,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
    track_loss,
    params,
    apply_l2,
    apply_l1,
    scale,
    l1_total,
    q,
    before,
):
    """One epoch of the binary perceptron with an L2, L1 or elastic-net penalty.

    Stochastic gradient descent on ``max(0, -y p)`` with constant step
    ``eta0``, in scikit-learn's order. For each sample ``i`` in ``order``:
    the margin ``p = wscale (v · x_i) + b`` (rounded to the dtype of the
    weights, then ``b`` added); with ``apply_l2`` the shrink
    ``wscale ← wscale · params[_SHRINK]``; on a mistake (``y_i p <= 0``)
    ``v += x_i (u / wscale)`` and ``b += u``, ``u = eta0 y_i s_i``; with
    ``apply_l1`` the total L1 penalty grows by ``params[_L1_STEP]`` and
    each weight of the row's features is truncated towards zero by what it
    lacks of it, never past zero. The intercept is not penalized.

    ``coef`` has shape (n_features, 1); ``data`` is the flat, row-major
    ``X`` when ``dense``, else the CSR ``data`` with ``indices`` and
    ``indptr``. ``before`` is a buffer of ``coef``'s shape, used with
    ``average``.

    Returns the intercept, the averaged-intercept accumulator, the step
    count, the number of mistakes, the summed objective (with
    ``track_loss``: the loss of each sample plus the penalty of the weights
    it met) and the position of a sample with a margin that is not finite
    (-1 if none; the epoch stops there).
    """
    n_samples = order.shape[0]
    mistakes = 0
    objective = 0.0
    rounded = np.empty(1, dtype=coef.dtype)
    alpha = params[_ALPHA]
    l1_ratio = params[_L1_RATIO]
    for pos in range(n_samples):
        i = order[pos]
        start, end = _row_bounds(indptr, i, n_features, dense)
        s = 0.0
        for k in range(start, end):
            s += coef[_feature_of(indices, k, start, dense), 0] * data[k]
        # scikit-learn rounds the dot product to the dtype of the weights.
        rounded[0] = s * scale[0]
        p = np.float64(rounded[0]) + intercept
        if not np.isfinite(p):
            return intercept, avg_intercept, t, mistakes, objective, pos
        z = p * y[i]
        if track_loss:
            if z <= 0.0:
                objective += 0.0 - z
            objective += _penalty_of_norms(scale, alpha, l1_ratio, rounded)
        u = 0.0
        if z <= 0.0:
            u = _weight_update(eta0, y[i], sample_weight[i])
        if average:
            _snapshot(coef, scale, before)
        if apply_l2:
            _shrink(coef, scale, params[_SHRINK], params[_RESET], rounded)
        if u != 0.0:
            wscale, c = _step_over_scale(u, scale, rounded)
            sq, l1 = _binary_penalized_update(
                data, indices, start, end, dense, coef, scale, c
            )
            scale[1] = sq * (wscale * wscale)
            scale[2] = l1 * wscale
            if fit_intercept:
                intercept += u
            mistakes += 1
        if apply_l1:
            l1_total[0] += params[_L1_STEP]
            _truncate_row(indices, start, end, dense, coef, q, l1_total[0], scale[0])
        if average:
            _accumulate_average(coef, scale, before, avg_coef, t)
            if fit_intercept:
                avg_intercept += t * u
        t += 1.0
    return intercept, avg_intercept, t, mistakes, objective, -1


@njit(cache=True, nogil=True, inline="always")
def _penalized_scores(data, indices, start, end, dense, coef, scale, intercept, scores):
    """``s_k = wscale (v_k · x_i) + b_k`` in float64, into ``scores``."""
    scores[:] = 0.0
    for k in range(start, end):
        j = _feature_of(indices, k, start, dense)
        x_ij = data[k]
        for c in range(scores.shape[0]):
            scores[c] += coef[j, c] * x_ij
    wscale = scale[0]
    for c in range(scores.shape[0]):
        scores[c] = scores[c] * wscale + intercept[c]


@njit(cache=True, nogil=True, inline="always")
def _penalty_of_weights(coef, wscale, alpha, l1_ratio):
    """``alpha ((1 - l1_ratio) ||W||² / 2 + l1_ratio ||W||₁)``, ``W = wscale V``."""
    sq = 0.0
    l1 = 0.0
    for j in range(coef.shape[0]):
        for c in range(coef.shape[1]):
            w = np.float64(coef[j, c]) * wscale
            sq += w * w
            l1 += abs(w)
    return alpha * ((1.0 - l1_ratio) * 0.5 * sq + l1_ratio * l1)


@njit(cache=True, nogil=True, inline="always")
def _multiclass_penalized_update(
    data, indices, start, end, dense, coef, y_hat, y_i, step
):
    """``v_ŷ -= x_i step`` and ``v_{y_i} += x_i step`` on the row's features."""
    for k in range(start, end):
        j = _feature_of(indices, k, start, dense)
        x_ij = np.float64(data[k])
        coef[j, y_hat] = coef[j, y_hat] - x_ij * step
        coef[j, y_i] = coef[j, y_i] + x_ij * step


@njit(cache=True, nogil=True)
def multiclass_penalized_epoch(
    data,
    indices,
    indptr,
    dense,
    n_features,
    y,
    sample_weight,
    eta0,
    order,
    coef,
    intercept,
    fit_intercept,
    average,
    avg_coef,
    avg_intercept,
    t,
    track_loss,
    params,
    apply_l2,
    apply_l1,
    scale,
    l1_total,
    q,
    before,
):
    """One epoch of the multiclass perceptron with a penalty.

    The weights are ``wscale V``, ``V`` = ``coef`` of shape (n_features,
    n_classes). For each sample ``i`` in ``order``: the scores
    ``s_k = wscale (v_k · x_i) + b_k`` in float64 and ``ŷ`` their argmax
    (ties to the lowest ``k``); with ``apply_l2`` the shrink of every weight
    by ``params[_SHRINK]``; if ``ŷ != y_i``, ``v_ŷ -= x_i (u / wscale)`` and
    ``v_{y_i} += x_i (u / wscale)`` (and ``b`` moves by ``u``),
    ``u = eta0 s_i``; with ``apply_l1`` the cumulative truncated L1 penalty
    of ``binary_penalized_epoch`` on the weights of the row's features, in
    every class. The intercepts are not penalized.

    Returns the step count, the number of mistakes, the summed objective
    (with ``track_loss``: the loss ``max_k s_k - s_{y_i}`` of each sample plus
    the penalty ``alpha ((1 - l1_ratio) ||W||² / 2 + l1_ratio ||W||₁)`` of the
    weights it met) and the position of a sample with a score that is not
    finite (-1 if none; the epoch stops there).
    """
    n_samples = order.shape[0]
    n_classes = coef.shape[1]
    scores = np.empty(n_classes, dtype=np.float64)
    rounded = np.empty(1, dtype=coef.dtype)
    mistakes = 0
    objective = 0.0
    alpha = params[_ALPHA]
    l1_ratio = params[_L1_RATIO]
    for pos in range(n_samples):
        i = order[pos]
        start, end = _row_bounds(indptr, i, n_features, dense)
        _penalized_scores(
            data, indices, start, end, dense, coef, scale, intercept, scores
        )
        if not _all_finite(scores):
            return t, mistakes, objective, pos
        y_hat = _argmax_first(scores)
        y_i = y[i]
        if track_loss:
            objective += scores[y_hat] - scores[y_i]
            objective += _penalty_of_weights(coef, scale[0], alpha, l1_ratio)
        u = 0.0
        if y_hat != y_i:
            u = eta0 * np.float64(sample_weight[i])
        if average:
            _snapshot(coef, scale, before)
        if apply_l2:
            _shrink(coef, scale, params[_SHRINK], params[_RESET], rounded)
        if u != 0.0:
            _, step = _step_over_scale(u, scale, rounded)
            _multiclass_penalized_update(
                data, indices, start, end, dense, coef, y_hat, y_i, step
            )
            if fit_intercept:
                intercept[y_hat] -= u
                intercept[y_i] += u
            mistakes += 1
        if apply_l1:
            l1_total[0] += params[_L1_STEP]
            _truncate_row(indices, start, end, dense, coef, q, l1_total[0], scale[0])
        if average:
            _accumulate_average(coef, scale, before, avg_coef, t)
            if fit_intercept and u != 0.0:
                avg_intercept[y_hat] -= t * u
                avg_intercept[y_i] += t * u
        t += 1.0
    return t, mistakes, objective, -1
