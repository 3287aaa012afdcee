"""Numba kernels for the polynomial feature map.

Every output column is a product: the column of a lower-degree term (its
*parent*) times one *factor* of the current row. For the monomial basis the
factor is one input feature, ``x_f``; for an orthogonal basis it is a
univariate polynomial of one feature, ``P_p(t_f)``. Computing a row therefore
takes one multiplication per output value, and the output is written once, in
its final memory layout.

The terms of one degree come in runs: the terms of degree ``m`` whose
smallest feature is ``f`` are ``x_f`` times a contiguous run of terms of
degree ``m - 1``, so ``terms[d : d + L] = terms[p : p + L] * x_f``. The
kernels walk these runs from a table of the columns where each degree's
blocks start, ``starts[m, g]`` (see :func:`degree_starts`), which takes
O(n_features · max_degree) memory whatever the width of the output.

The kernels work on validated arrays; the estimator in ``_polynomial.py``
checks the sizes and allocates the output and the buffers.
"""

import numpy as np

from sknonlin._jit import njit

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
def monomial_block(factors, starts, interaction_only, n_bias, offset, n_rows, terms):
    """Terms of a block of rows, monomial basis: ``terms[j, offset + r]``.

    The terms of degree ``m`` whose smallest feature is ``f`` are ``x_f``
    times the run of terms of degree ``m - 1`` from ``starts[m - 1, f]``
    (``f + 1`` for ``interaction_only``) to the end of that degree: the same
    multiplications as ``PolynomialFeatures``, so the values agree to the
    bit. The terms are computed term by term, each a contiguous run over the
    block's rows.
    """
    max_degree = starts.shape[0] - 1
    n_features = starts.shape[1] - 1
    rows = slice(offset, offset + n_rows)
    if n_bias:
        terms[0, rows] = 1
    if max_degree >= 1:
        for f in range(n_features):
            terms[n_bias + f, rows] = factors[f, :n_rows]
    for m in range(2, max_degree + 1):
        end = starts[m - 1, n_features]
        for f in range(n_features):
            first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
            x = factors[f]
            for t in range(end - first):
                target = terms[starts[m, f] + t, rows]
                source = terms[first + t, rows]
                for r in range(n_rows):
                    target[r] = source[r] * x[r]


@njit(cache=True, nogil=True)
def orthogonal_block(factors, starts, interaction_only, n_bias, offset, n_rows, terms):
    """Terms of a block of rows, orthogonal basis: ``terms[j, offset + r]``.

    A term whose smallest feature ``f`` appears ``L`` times is ``P_L(t_f)``
    (``factors[f * (max_degree + 1) + L]``) times the term without those
    ``L`` factors, a term of degree ``m - L`` whose smallest feature is more
    than ``f``. Within the terms of degree ``m`` and smallest feature ``f``
    these come in runs of decreasing ``L``, each run ``P_L(t_f)`` times the
    contiguous run of terms of degree ``m - L`` from ``starts[m - L, f + 1]``.
    """
    max_degree = starts.shape[0] - 1
    n_features = starts.shape[1] - 1
    stride = max_degree + 1
    rows = slice(offset, offset + n_rows)
    if n_bias:
        terms[0, rows] = 1
    if max_degree >= 1:
        for f in range(n_features):
            terms[n_bias + f, rows] = factors[f * stride + 1, :n_rows]
    for m in range(2, max_degree + 1):
        for f in range(n_features):
            column = starts[m, f]
            if not interaction_only:
                # x_f^m alone: the rest is the constant 1
                terms[column, rows] = factors[f * stride + m, :n_rows]
                column += 1
            for lead in range(1 if interaction_only else m - 1, 0, -1):
                first = starts[m - lead, f + 1]
                x = factors[f * stride + lead]
                for t in range(starts[m - lead, n_features] - first):
                    target = terms[column + t, rows]
                    source = terms[first + t, rows]
                    for r in range(n_rows):
                        target[r] = source[r] * x[r]
                column += starts[m - lead, n_features] - first


@njit(cache=True, nogil=True)
def polynomial_features(
    X,
    row_start,
    row_stop,
    starts,
    interaction_only,
    n_bias,
    first_kept,
    shift,
    scale,
    basis,
    factors,
    terms,
    in_place,
    out,
):
    """The feature map of rows ``row_start:row_stop`` of dense ``X`` into ``out``.

    Rows are processed in blocks of ``factors.shape[1]`` rows, sized by the
    caller so that a block stays in cache, term by term. With ``in_place``,
    ``terms`` is ``out.T`` (an output of all degrees, in either order): each
    term is written once, straight into its output column. Otherwise ``terms`` is a
    buffer of the block's terms of the full map, whose output columns (the
    bias and the terms from column ``first_kept`` on) are then copied to
    ``out``, column by column in F order, row by row in C order.
    """
    block_rows = factors.shape[1]
    max_power = 0 if basis == MONOMIAL else starts.shape[0] - 1
    n_out = out.shape[1]
    c_order = out.strides[1] == out.itemsize
    for start in range(row_start, row_stop, block_rows):
        stop = min(start + block_rows, row_stop)
        n_rows = stop - start
        univariate_block(X, start, stop, shift, scale, basis, max_power, factors)
        offset = start if in_place else 0
        if basis == MONOMIAL:
            monomial_block(
                factors, starts, interaction_only, n_bias, offset, n_rows, terms
            )
        else:
            orthogonal_block(
                factors, starts, interaction_only, n_bias, offset, n_rows, terms
            )
        if in_place:
            continue
        skip = first_kept - n_bias
        if c_order:
            for r in range(n_rows):
                for k in range(n_out):
                    j = k if k < n_bias else k + skip
                    out[start + r, k] = terms[j, r]
        else:
            for k in range(n_out):
                j = k if k < n_bias else k + skip
                for r in range(n_rows):
                    out[start + r, k] = terms[j, r]


@njit(cache=True, nogil=True)
def monomial_rows(X, row_start, row_stop, starts, interaction_only, n_bias, out):
    """Monomial map of rows ``row_start:row_stop`` straight into C-ordered ``out``.

    For maps of all degrees ``0..max_degree`` whose runs ``x_f * (terms of
    degree m - 1)`` are long: each row is written in place, run by run,
    ``row[d : d + L] = row[p : p + L] * x_f``; the runs vectorise.
    """
    max_degree = starts.shape[0] - 1
    n_features = starts.shape[1] - 1
    for i in range(row_start, row_stop):
        row = out[i]
        x = X[i]
        if n_bias:
            row[0] = 1
        if max_degree >= 1:
            for f in range(n_features):
                row[n_bias + f] = x[f]
        for m in range(2, max_degree + 1):
            end = starts[m - 1, n_features]
            for f in range(n_features):
                first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
                length = end - first
                # slices of one row, disjoint: the loop vectorises
                source = row[first : first + length]
                target = row[starts[m, f] : starts[m, f] + length]
                x_f = x[f]
                for t in range(length):
                    target[t] = source[t] * x_f
