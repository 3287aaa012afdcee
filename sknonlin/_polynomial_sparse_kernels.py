"""Numba kernels for the polynomial feature map of CSR input.

Only products of stored values are computed: the terms of a row are
enumerated over its stored columns, and each term's output column is its
rank in the dense map's column order. Ranks are sums of binomial
coefficients computed on the fly, so nothing is sized by the number of
input features.

The kernels work on validated arrays: a canonical CSR structure (sorted,
unique column indices in ``[0, n_features)``) and an output allocated from
the exact per-row counts of ``_polynomial_sparse.py``.
"""

import numpy as np

from sknonlin._jit import njit


@njit(cache=True, nogil=True)
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@njit(cache=True, nogil=True)
def binomial(n, k):
    """C(n, k) in int64, exact whenever the result fits in int64.

    Built up as C(n - k + i, i) for i = 1..k (with k <= n - k); each step
    divides by ``gcd(C, i)`` before multiplying, so no intermediate value
    exceeds the result.
    """
    if k < 0 or k > n:
        return 0
    k = min(k, n - k)
    result = 1
    for i in range(1, k + 1):
        g = _gcd(result, i)
        result = (result // g) * ((n - k + i) // (i // g))
    return result


@njit(cache=True, nogil=True)
def rank_step(previous, c, r, n_features, interaction_only, binom):
    """How many terms of a degree precede those whose next index is ``c``.

    Terms are ranked lexicographically (the dense map's column order). At a
    level with ``r`` indices still to follow, each smaller index ``v`` in
    ``[previous, c)`` skips the C(n - v + r - 1, r) terms starting with it
    (C(n - v - 1, r) for interaction_only); by the hockey-stick identity the
    sum is a difference of two binomials. Both count terms of the output
    (those with a given prefix), so they fit in int64 whenever the number
    of output features does. They are read from ``binom[m, j] = C(m, j)``
    when that table is given (not empty), else computed.
    """
    if interaction_only:
        high, low = n_features - previous, n_features - c
    else:
        high, low = n_features - previous + r, n_features - c + r
    if binom.shape[0] > 0:
        return binom[high, r + 1] - binom[low, r + 1]
    return _computed_step(high, low, r + 1)


# a separate call keeps the table lookups of the hot loop small and fast
@njit(cache=True, nogil=True, inline="never")
def _computed_step(high, low, j):
    """C(high, j) - C(low, j), computed."""
    return binomial(high, j) - binomial(low, j)


@njit(cache=True, nogil=True)
def expand_csr(
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
    """Feature map of a CSR matrix, visiting only products of stored values.

    The terms of degree k of a row are enumerated over its stored columns in
    lexicographic order, so the output's column indices come out sorted:
    the first k - 1 positions run like an odometer, each with its partial
    product and partial rank, and the last position is a tight inner loop.
    ``out_indptr`` holds the exact number of terms of each row; ``binom`` is
    a table of binomials with ``n_features + max_degree`` rows, or empty.
    The four index arrays share one dtype, so that numba compiles one
    version per dtype of data and of indices, not per combination.
    """
    pos = np.empty(max(max_degree, 1), dtype=np.int64)
    rank = np.zeros(max_degree + 1, dtype=np.int64)
    partial = np.empty(max_degree + 1, dtype=data.dtype)
    strict = 1 if interaction_only else 0
    for i in range(indptr.shape[0] - 1):
        start, stop = indptr[i], indptr[i + 1]
        m = stop - start
        w = out_indptr[i]
        if include_bias:
            out_data[w] = 1
            out_indices[w] = 0
            w += 1
        for k in range(max(min_degree, 1), max_degree + 1):
            if m == 0 or (interaction_only and k > m):
                continue
            last = k - 1
            for t in range(last):
                pos[t] = t * strict
            partial[0] = 1
            level = 0
            while True:
                # refresh the prefix from the level that moved
                previous = 0 if level == 0 else indices[start + pos[level - 1]] + strict
                for t in range(level, last):
                    c = indices[start + pos[t]]
                    partial[t + 1] = partial[t] * data[start + pos[t]]
                    rank[t + 1] = rank[t] + rank_step(
                        previous, c, last - t, n_features, interaction_only, binom
                    )
                    previous = c + strict
                # the last index: one term per remaining stored value
                base = block_offsets[k] + rank[last] - previous
                first = pos[last - 1] + strict if last > 0 else 0
                for q in range(start + first, stop):
                    out_data[w] = partial[last] * data[q]
                    out_indices[w] = base + indices[q]
                    w += 1
                # advance the odometer over the prefix
                t = last - 1
                while t >= 0 and pos[t] >= (m - (k - t) if interaction_only else m - 1):
                    t -= 1
                if t < 0:
                    break
                pos[t] += 1
                for u in range(t + 1, last):
                    pos[u] = pos[u - 1] + strict
                level = t
