"""Numba kernels for the polynomial feature map.

Every output column is a product: the column of a lower-degree term (its
*parent*) times one *factor* of the current row. For the monomial basis the
factor is one input feature, ``x_f``; for an orthogonal basis it is a
univariate polynomial of one feature, ``P_p(t_f)``. Computing a row therefore
takes one multiplication per output value, and the output is written once, in
its final memory layout.

The terms of one degree come in *segments*: the terms of degree ``m`` whose
smallest feature is ``f`` are ``x_f`` times a contiguous run of terms of degree
``m - 1``, so ``terms[d : d + L] = terms[p : p + L] * x_f``. The kernels walk
these segments from a table of the columns where each degree's blocks start,
``starts[m, g]`` (see :func:`degree_starts`), which takes O(n_features ·
max_degree) memory whatever the width of the output.

Terms are numbered by their column in the full map (bias, then degrees
``1..max_degree``). With ``degree=(min_degree, max_degree)`` the terms of the
degrees below ``min_degree`` are still needed as parents; they are written to
a small *scratch* buffer instead of the output.

The kernels work on validated arrays; the estimator in ``_polynomial.py``
checks the sizes and allocates the output and the buffers.
"""

import numpy as np
from numba import njit

MONOMIAL, LEGENDRE, CHEBYSHEV = 0, 1, 2


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def degree_starts(n_features, max_degree, interaction_only, n_bias):
    """``starts[m, g]``: first column of the degree-``m`` terms whose smallest
    feature is ``g`` or more; ``starts[m, n_features]`` ends degree ``m``.

    Within a degree, the terms whose smallest feature is ``f`` are ``x_f``
    times the terms of the degree below whose smallest feature is ``f`` or
    more (more than ``f`` for ``interaction_only``), in their order: the
    column order of scikit-learn's ``PolynomialFeatures``. Row 0 is unused.
    """
    starts = np.zeros((max_degree + 1, n_features + 1), dtype=np.int64)
    for g in range(n_features + 1):
        starts[min(max_degree, 1), g] = n_bias + g
    for m in range(2, max_degree + 1):
        column = starts[m - 1, n_features]
        for f in range(n_features):
            starts[m, f] = column
            first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
            column += starts[m - 1, n_features] - first
        starts[m, n_features] = column
    return starts


@njit(cache=True, nogil=True)
def _locate(column, n_bias, first_kept):
    """Where term ``column`` of the full map lives: (in ``out``?, its column)."""
    if column < n_bias:
        return True, column
    if column < first_kept:
        return False, column - n_bias
    return True, column - first_kept + n_bias


@njit(cache=True, nogil=True)
def _copies(target, d_row, d, length, factors, factor, step, r_lo, r_hi):
    """``target[d_row + r, d + t] = factors[factor + t * step, r]``; 1 if no factor."""
    for t in range(length):
        for r in range(r_lo, r_hi):
            if factor < 0:
                target[d_row + r, d + t] = 1
            else:
                target[d_row + r, d + t] = factors[factor + t * step, r]


@njit(cache=True, nogil=True)
def _products(target, d_row, d, source, p_row, p, length, factors, factor, r_lo, r_hi):
    """``target[d_row + r, d + t] = source[p_row + r, p + t] * factors[factor, r]``."""
    if r_hi - r_lo == 1:
        # one row: a run of neighbouring values (contiguous in C order)
        x = factors[factor, r_lo]
        for t in range(length):
            target[d_row + r_lo, d + t] = source[p_row + r_lo, p + t] * x
    else:
        for t in range(length):
            for r in range(r_lo, r_hi):
                target[d_row + r, d + t] = source[p_row + r, p + t] * factors[factor, r]


@njit(cache=True, nogil=True)
def segment(
    factors, dest, parent, length, factor, step, layout, start, r_lo, r_hi, out, scratch
):
    """Terms ``dest .. dest + length`` of rows ``r_lo:r_hi`` of the block.

    ``terms[dest + t] = terms[parent + t] * factors[factor]``, or
    ``factors[factor + t * step]`` without parent (``parent < 0``); a negative
    ``factor`` is the bias, 1. ``layout`` is ``(n_bias, first_kept)``: terms
    of the columns ``n_bias .. first_kept`` go to ``scratch``, whose rows are
    the block's rows; the others to ``out``, whose row ``start + r`` is the
    block's row ``r``.
    """
    to_out, d = _locate(dest, layout[0], layout[1])
    d_row = start if to_out else 0
    if parent < 0:
        if to_out:
            _copies(out, d_row, d, length, factors, factor, step, r_lo, r_hi)
        else:
            _copies(scratch, d_row, d, length, factors, factor, step, r_lo, r_hi)
        return
    from_out, p = _locate(parent, layout[0], layout[1])
    p_row = start if from_out else 0
    # out and scratch may differ in numba layout: one call per pairing
    if to_out and from_out:
        _products(out, d_row, d, out, p_row, p, length, factors, factor, r_lo, r_hi)
    elif to_out:
        _products(out, d_row, d, scratch, p_row, p, length, factors, factor, r_lo, r_hi)
    elif from_out:
        _products(scratch, d_row, d, out, p_row, p, length, factors, factor, r_lo, r_hi)
    else:
        _products(
            scratch, d_row, d, scratch, p_row, p, length, factors, factor, r_lo, r_hi
        )


@njit(cache=True, nogil=True)
def monomial_terms(
    factors, starts, interaction_only, layout, start, r_lo, r_hi, out, scratch
):
    """All terms of rows ``r_lo:r_hi`` of the block, monomial basis.

    ``x_f`` times the run of terms of degree ``m - 1`` that starts at its
    smallest feature ``f`` (``f + 1`` for ``interaction_only``): the same
    multiplications as ``PolynomialFeatures``, so the values agree to the bit.
    """
    max_degree = starts.shape[0] - 1
    n_features = starts.shape[1] - 1
    if layout[0] == 1:
        segment(factors, 0, -1, 1, -1, 0, layout, start, r_lo, r_hi, out, scratch)
    if max_degree >= 1:
        segment(
            factors,
            layout[0],
            -1,
            n_features,
            0,
            1,
            layout,
            start,
            r_lo,
            r_hi,
            out,
            scratch,
        )
    for m in range(2, max_degree + 1):
        end = starts[m - 1, n_features]
        for f in range(n_features):
            first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
            if end > first:
                segment(
                    factors,
                    starts[m, f],
                    first,
                    end - first,
                    f,
                    0,
                    layout,
                    start,
                    r_lo,
                    r_hi,
                    out,
                    scratch,
                )


@njit(cache=True, nogil=True)
def orthogonal_terms(
    factors, starts, interaction_only, layout, start, r_lo, r_hi, out, scratch
):
    """All terms of rows ``r_lo:r_hi`` of the block, orthogonal basis.

    A term whose smallest feature ``f`` appears ``L`` times is
    ``P_L(t_f)`` times the term without those ``L`` factors (``rest``), a
    term of degree ``m - L`` whose smallest feature is more than ``f``; for a
    given ``L`` those come in a contiguous run, in decreasing ``L``.
    """
    max_degree = starts.shape[0] - 1
    n_features = starts.shape[1] - 1
    stride = max_degree + 1
    if layout[0] == 1:
        segment(factors, 0, -1, 1, -1, 0, layout, start, r_lo, r_hi, out, scratch)
    if max_degree >= 1:
        segment(
            factors,
            layout[0],
            -1,
            n_features,
            1,
            stride,
            layout,
            start,
            r_lo,
            r_hi,
            out,
            scratch,
        )
    for m in range(2, max_degree + 1):
        for f in range(n_features):
            column = starts[m, f]
            for lead in range(m, 0, -1):
                if interaction_only and lead > 1:
                    continue
                if lead == m:
                    segment(
                        factors,
                        column,
                        -1,
                        1,
                        f * stride + m,
                        0,
                        layout,
                        start,
                        r_lo,
                        r_hi,
                        out,
                        scratch,
                    )
                    column += 1
                    continue
                first = starts[m - lead, f + 1]
                length = starts[m - lead, n_features] - first
                if length > 0:
                    segment(
                        factors,
                        column,
                        first,
                        length,
                        f * stride + lead,
                        0,
                        layout,
                        start,
                        r_lo,
                        r_hi,
                        out,
                        scratch,
                    )
                    column += length


@njit(cache=True, nogil=True)
def polynomial_features(
    X,
    row_start,
    row_stop,
    starts,
    interaction_only,
    layout,
    shift,
    scale,
    basis,
    by_row,
    factors,
    scratch,
    out,
):
    """The feature map of rows ``row_start:row_stop`` of dense ``X`` into ``out``.

    Rows are processed in blocks of ``factors.shape[1]`` rows, sized by the
    caller so that the block's part of ``out`` stays in cache. With
    ``by_row`` each row's segments are written in turn (long runs that
    vectorise along a C-ordered row); otherwise each segment is written for
    all the block's rows in turn (vectorises along the rows in F order, and
    breaks the chain of dependent products of a single feature in C order).
    """
    block_rows = factors.shape[1]
    max_power = 0 if basis == MONOMIAL else starts.shape[0] - 1
    for start in range(row_start, row_stop, block_rows):
        stop = min(start + block_rows, row_stop)
        univariate_block(X, start, stop, shift, scale, basis, max_power, factors)
        n_rows = stop - start
        for i in range(n_rows if by_row else 1):
            r_lo, r_hi = (i, i + 1) if by_row else (0, n_rows)
            if basis == MONOMIAL:
                monomial_terms(
                    factors,
                    starts,
                    interaction_only,
                    layout,
                    start,
                    r_lo,
                    r_hi,
                    out,
                    scratch,
                )
            else:
                orthogonal_terms(
                    factors,
                    starts,
                    interaction_only,
                    layout,
                    start,
                    r_lo,
                    r_hi,
                    out,
                    scratch,
                )


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
