"""Numba kernels for the polynomial feature map.

Every output column is a product: the column of a lower-degree term (its
*parent*) times one *factor* of the current row. For the monomial basis the
factor is one input feature, ``x_f``; for an orthogonal basis it is a
univariate polynomial of one feature, ``P_p(t_f)``. Computing a row therefore
takes one multiplication per output value, and the output is written once.

The kernels work on validated arrays; the estimator in ``_polynomial.py``
builds the parent/factor tables and allocates the output.
"""

import numpy as np

from sknonlin._jit import njit

MONOMIAL, LEGENDRE, CHEBYSHEV = 0, 1, 2

# Rows per block: a block of terms, stored term by term, stays in cache.
BLOCK_ROWS = 64


@njit(cache=True)
def univariate_block(X, start, stop, shift, scale, basis, max_power, out):
    """Factors of rows ``start:stop``: ``out[f * (max_power + 1) + p, r]``.

    For the monomial basis the factors are the features themselves
    (``max_power`` is then 0 and ``out[f, r] = x_f``). Otherwise they are the
    univariate polynomials ``P_0 .. P_max_power`` of ``t_f = (x_f - shift_f)
    * scale_f``, the feature mapped to [-1, 1], by the three-term recurrence
    of the basis.
    """
    stride = max_power + 1
    for f in range(X.shape[1]):
        base = f * stride
        for r in range(stop - start):
            if basis == MONOMIAL:
                out[base, r] = X[start + r, f]
                continue
            t = (X[start + r, f] - shift[f]) * scale[f]
            out[base, r] = 1
            if max_power >= 1:
                out[base + 1, r] = t
            for p in range(1, max_power):
                if basis == LEGENDRE:
                    # (p + 1) P_{p+1} = (2p + 1) t P_p - p P_{p-1}
                    out[base + p + 1, r] = (
                        (2 * p + 1) * t * out[base + p, r] - p * out[base + p - 1, r]
                    ) / (p + 1)
                else:
                    # T_{p+1} = 2 t T_p - T_{p-1}
                    out[base + p + 1, r] = (
                        2 * t * out[base + p, r] - out[base + p - 1, r]
                    )


@njit(cache=True)
def product_block(factors, parent, factor, n_rows, terms):
    """Terms of a block of rows: ``terms[j] = terms[parent[j]] * factors[factor[j]]``.

    Each term is a contiguous run over the block's rows, so the products
    vectorise. A negative ``parent`` means "no parent" (degree-one terms); a
    negative ``factor`` marks the bias term, whose value is 1.
    """
    for j in range(parent.shape[0]):
        f, p = factor[j], parent[j]
        if f < 0:
            terms[j, :n_rows] = 1
        elif p < 0:
            terms[j, :n_rows] = factors[f, :n_rows]
        else:
            for r in range(n_rows):
                terms[j, r] = terms[p, r] * factors[f, r]


@njit(cache=True)
def polynomial_features(
    X, parent, factor, keep, shift, scale, basis, max_power, c_order, out
):
    """The feature map of dense ``X`` into ``out``, written once.

    Rows are processed in blocks: the block's terms are computed term by term
    in a small buffer, then its ``keep`` columns are copied to ``out``, row by
    row for C order or column by column for F order.
    """
    n_samples = X.shape[0]
    n_factors = X.shape[1] * (max_power + 1)
    factors = np.empty((n_factors, BLOCK_ROWS), dtype=X.dtype)
    terms = np.empty((parent.shape[0], BLOCK_ROWS), dtype=X.dtype)
    for start in range(0, n_samples, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_samples)
        n_rows = stop - start
        univariate_block(X, start, stop, shift, scale, basis, max_power, factors)
        product_block(factors, parent, factor, n_rows, terms)
        if c_order and keep.shape[0] == parent.shape[0]:
            for r in range(n_rows):
                for k in range(keep.shape[0]):
                    out[start + r, k] = terms[k, r]
        elif c_order:
            for r in range(n_rows):
                for k in range(keep.shape[0]):
                    out[start + r, k] = terms[keep[k], r]
        else:
            for k in range(keep.shape[0]):
                for r in range(n_rows):
                    out[start + r, k] = terms[keep[k], r]


@njit(cache=True)
def count_terms(m, min_degree, max_degree, interaction_only):
    """Count the terms of degree ``min_degree..max_degree`` of ``m`` features."""
    total = 0
    count = 1  # terms of degree 0
    for k in range(1, max_degree + 1):
        if interaction_only:
            count = count * (m - k + 1) // k  # C(m, k)
        else:
            count = count * (m + k - 1) // k  # C(m + k - 1, k)
        if k >= min_degree:
            total += count
    return total


@njit(cache=True)
def csr_row_lengths(indptr, min_degree, max_degree, interaction_only, include_bias):
    """Exact number of stored values of each output row, for CSR input."""
    n_samples = indptr.shape[0] - 1
    lengths = np.empty(n_samples, dtype=np.int64)
    for i in range(n_samples):
        m = indptr[i + 1] - indptr[i]
        lengths[i] = count_terms(m, min_degree, max_degree, interaction_only)
        if include_bias:
            lengths[i] += 1
    return lengths


@njit(cache=True)
def rank_step(previous, c, r, n_features, interaction_only, binom):
    """How many terms of a degree precede those whose next index is ``c``.

    Terms are ranked lexicographically (the dense map's column order). At a
    level with ``r`` indices still to follow, each smaller index ``v`` in
    ``[previous, c)`` skips the C(n - v + r - 1, r) terms starting with it
    (C(n - v - 1, r) for interaction_only); by the hockey-stick identity the
    sum is a difference of two entries of ``binom[m, r] = C(m, r)``.
    """
    if interaction_only:
        return binom[n_features - previous, r + 1] - binom[n_features - c, r + 1]
    return binom[n_features - previous + r, r + 1] - binom[n_features - c + r, r + 1]


@njit(cache=True)
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
    """
    pos = np.empty(max_degree, dtype=np.int64)
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


@njit(cache=True)
def monomial_rows(X, seg_dest, seg_parent, seg_length, seg_factor, out):
    """Monomial feature map of dense ``X`` straight into C-ordered ``out``.

    Within a degree, the terms that share their smallest feature ``x_f`` are
    ``x_f`` times a contiguous run of terms of the degree below, so each row
    is a short list of segments ``row[d : d + L] = row[p : p + L] * x_f``.
    A negative parent copies ``x[f : f + L]`` (degree one); a negative factor
    writes the bias 1.
    """
    for i in range(X.shape[0]):
        for s in range(seg_dest.shape[0]):
            d, p, length, f = seg_dest[s], seg_parent[s], seg_length[s], seg_factor[s]
            if f < 0:
                out[i, d] = 1
            elif p < 0:
                out[i, d : d + length] = X[i, f : f + length]
            else:
                # slices of one row: disjoint, so the loop vectorises
                source = out[i, p : p + length]
                target = out[i, d : d + length]
                x_f = X[i, f]
                for t in range(length):
                    target[t] = source[t] * x_f
