"""The polynomial feature map of sparse (CSR or CSC) input.

Only products of stored values are computed, and every count and table is
sized by the stored values, never by the number of input features: a
matrix with billions of columns and a handful of stored values takes a
handful of bytes. Counts that can exceed int64 are computed with Python
integers, so an output too large to allocate is refused before anything is
allocated or any kernel runs.
"""

import math

import numpy as np
from scipy import sparse

from sknonlin import _polynomial_sparse_kernels as kernels
from sknonlin._sparse import check_compressed_structure

_INT32_MAX = np.iinfo(np.int32).max
_INTP_MAX = np.iinfo(np.intp).max
# below this many stored values, computing binomials costs less than a table
_TABLE_MIN_NNZ = 512


def count_terms(m, min_degree, max_degree, interaction_only, include_bias):
    """Number of output terms of a row with ``m`` stored values (exact int)."""
    total = int(include_bias)
    for k in range(max(min_degree, 1), max_degree + 1):
        total += math.comb(m, k) if interaction_only else math.comb(m + k - 1, k)
    return total


def block_offsets(n_features, min_degree, max_degree, interaction_only, include_bias):
    """First output column of each degree's block, and the output width.

    Returns a list ``offsets`` of Python ints, ``offsets[k]`` for degree
    ``k`` in ``max(min_degree, 1)..max_degree`` (0 elsewhere), and the total
    number of output columns.
    """
    offsets = [0] * (max_degree + 1)
    column = int(include_bias)
    for k in range(max(min_degree, 1), max_degree + 1):
        offsets[k] = column
        if interaction_only:
            column += math.comb(n_features, k)
        else:
            column += math.comb(n_features + k - 1, k)
    return offsets, column


def canonical_csr(X):
    """``X`` (CSR, valid structure) with sorted, unique column indices.

    The check costs O(nnz) and does not trust the matrix's cached flags; a
    copy is made only when duplicates or unsorted indices are found.
    """
    nnz = int(X.indptr[-1])
    indices = X.indices[:nnz]
    increasing = indices[1:] > indices[:-1]
    # the first stored value of a row may be smaller than the last of the row before
    row_starts = X.indptr[1:-1]
    row_starts = row_starts[(row_starts > 0) & (row_starts < nnz)]
    increasing[row_starts - 1] = True
    if increasing.all():
        return X
    Y = sparse.csr_matrix(
        (X.data[:nnz].copy(), indices.copy(), X.indptr.copy()), shape=X.shape
    )
    Y.has_sorted_indices = False
    Y.has_canonical_format = False
    Y.sum_duplicates()
    return Y


def output_index_dtype(
    X,
    n_output_features,
    nnz,
    *,
    min_degree,
    max_degree,
    interaction_only,
    include_bias,
    sparray_output,
):
    """The index dtype ``PolynomialFeatures`` gives the same output.

    int64 wherever an index, a count or a dimension exceeds int32. Below
    that, scikit-learn's output keeps int64 indices only when int64-indexed
    input flows into it through sparse arrays (a sparse matrix downcasts
    indices that fit): degrees up to 3 stack the bias (a sparse array), the
    input itself and the expansions of each degree in CSR; higher degrees
    build CSC columns from the input.
    """
    n_samples, n_features = X.shape
    if max(n_samples, n_output_features, nnz) > _INT32_MAX:
        return np.dtype(np.int64)
    input_sparray = isinstance(X, sparse.sparray)
    wide_input = X.indptr.dtype == np.int64 or X.indices.dtype == np.int64
    csc = X.format == "csc"
    if max_degree >= 4:
        # columns computed from the input, beside the bias
        wide = wide_input and input_sparray and n_output_features > include_bias
        wide = wide and (csc or sparray_output)
        return np.dtype(np.int64 if wide else np.int32)
    # a CSC input is stacked as X.tocsr(), which a sparse matrix downcasts
    wide = wide_input and (input_sparray or not csc)
    if not (wide and min_degree <= 1 <= max_degree):
        return np.dtype(np.int32)
    expansions = sum(
        1
        for k in range(max(min_degree, 2), max_degree + 1)
        if not interaction_only or k <= n_features
    )
    n_blocks = int(include_bias) + 1 + expansions
    # two blocks or more are joined in the first one's container
    if n_blocks >= 2:
        wide = include_bias or input_sparray
    any_sparray = include_bias or input_sparray or (expansions > 0 and sparray_output)
    wide = wide and any_sparray and (not csc or sparray_output)
    return np.dtype(np.int64 if wide else np.int32)


def row_lengths(indptr, min_degree, max_degree, interaction_only, include_bias):
    """Exact number of output terms of each row, and their exact sum.

    The counts are computed with Python integers once per distinct row
    length, so no count wraps around. Returns ``(lengths, total)``;
    ``lengths`` is None when ``total`` does not fit in an int64 array.
    """
    stored = np.diff(indptr)
    frequency = np.bincount(stored) if stored.size else np.zeros(0, dtype=np.intp)
    present = np.flatnonzero(frequency)
    counts = {
        int(m): count_terms(
            int(m), min_degree, max_degree, interaction_only, include_bias
        )
        for m in present
    }
    total = sum(counts[int(m)] * int(frequency[m]) for m in present)
    if total > _INTP_MAX:
        return None, total
    table = np.zeros(frequency.shape[0], dtype=np.int64)
    for m, count in counts.items():
        table[m] = count
    return table[stored], total


def binomial_table(n_features, nnz, max_degree):
    """``table[m, j] = C(m, j)`` for ``m <= n_features + max_degree``, or empty.

    The table makes ranking faster, but is sized by the number of features:
    it is built only where it is no larger than the input's stored values
    (a few bytes per stored value), so memory follows the stored values,
    and only for inputs large enough to repay building it.
    Entries beyond int64 wrap around, but the kernel reads only entries that
    count output terms, which fit.
    """
    n_rows = n_features + max_degree + 1
    too_wide = n_rows * (max_degree + 1) > 2 * nnz + 1024
    if max_degree < 2 or nnz < _TABLE_MIN_NNZ or too_wide:
        return np.zeros((0, 0), dtype=np.int64)
    table = np.zeros((n_rows, max_degree + 1), dtype=np.int64)
    table[:, 0] = 1
    for j in range(1, max_degree + 1):
        # C(m, j) = sum over i < m of C(i, j - 1)
        np.cumsum(table[:-1, j - 1], out=table[1:, j])
    return table


def _could_overflow(values, max_degree, dtype):
    """Whether a product of ``max_degree`` stored values can overflow."""
    if values.size == 0:
        return False
    largest = float(np.abs(values).max())
    if largest <= 1:
        return False
    return max_degree * np.log(largest) >= np.log(np.finfo(dtype).max)


def transform_sparse(
    X,
    *,
    min_degree,
    max_degree,
    interaction_only,
    include_bias,
    n_output_features,
    sparray_output,
    check_fits,
):
    """Polynomial features of sparse ``X``, in ``X``'s format (CSR or CSC).

    Parameters
    ----------
    X : sparse matrix or array in CSR or CSC format
        Validated data (float dtype, finite values). Its structure is
        checked here, before any kernel reads it.

    min_degree, max_degree : int
        The range of total degrees of the non-bias terms.

    interaction_only : bool
        Only products of distinct features.

    include_bias : bool
        Whether the first column is the constant 1.

    n_output_features : int
        The number of output columns; must match the parameters.

    sparray_output : bool
        Whether to return a sparse array (else a sparse matrix); it also
        decides the index dtype, as it does in scikit-learn.

    check_fits : callable
        ``check_fits(shape, n_bytes)`` raises a ``ValueError`` when an output
        of ``n_bytes`` bytes cannot be allocated.

    Returns
    -------
    XP : sparse matrix or array of shape (n_samples, n_output_features)
        The transformed data in ``X``'s format (a sparse array if
        ``sparray_output``), with sorted indices.

    overflow : bool
        Whether some output value overflowed to infinity.
    """
    X = check_compressed_structure(X)
    X_in, csc = X, X.format == "csc"
    X = canonical_csr(X.tocsr() if csc else X)
    n_samples, n_features = X.shape
    offsets, width = block_offsets(
        n_features, min_degree, max_degree, interaction_only, include_bias
    )
    if width != n_output_features:
        raise ValueError(
            f"The map has {width} output features for {n_features} input "
            f"features, not the {n_output_features} it was fitted with."
        )
    lengths, nnz = row_lengths(
        X.indptr, min_degree, max_degree, interaction_only, include_bias
    )
    index_dtype = output_index_dtype(
        X_in,
        n_output_features,
        nnz,
        min_degree=min_degree,
        max_degree=max_degree,
        interaction_only=interaction_only,
        include_bias=include_bias,
        sparray_output=sparray_output,
    )
    index_size = index_dtype.itemsize
    n_bytes = nnz * (X.dtype.itemsize + index_size) + (n_samples + 1) * index_size
    if csc:
        # the CSR result and its CSC conversion coexist
        n_bytes += n_bytes - (n_samples + 1) * index_size
        n_bytes += (n_output_features + 1) * index_size
    shape = (n_samples, n_output_features)
    check_fits(shape, n_bytes)
    if lengths is None or n_bytes > _INTP_MAX:
        raise ValueError(
            f"The output of shape {shape} would have {nnz} stored values, "
            "more than an array can index."
        )
    in_data, in_indices, in_indptr = _kernel_csr(X, index_dtype)
    indptr = np.zeros(n_samples + 1, dtype=in_indices.dtype)
    np.cumsum(lengths, out=indptr[1:])
    data = np.empty(nnz, dtype=X.dtype)
    indices = np.empty(nnz, dtype=in_indices.dtype)
    kernels.expand_csr(
        in_data,
        in_indices,
        in_indptr,
        n_features,
        min_degree,
        max_degree,
        bool(interaction_only),
        bool(include_bias),
        np.asarray(offsets, dtype=np.int64),
        binomial_table(n_features, in_data.shape[0], max_degree),
        data,
        indices,
        indptr,
    )
    indices = indices.astype(index_dtype, copy=False)
    indptr = indptr.astype(index_dtype, copy=False)
    overflow = _could_overflow(in_data, max_degree, X.dtype)
    overflow = overflow and not np.isfinite(data).all()
    if max_degree >= 4:
        # scikit-learn multiplies sparse columns there, which drops products
        # equal to zero (of stored zeros, or underflows); below, it keeps them
        data, indices, indptr = _drop_zero_products(
            data, indices, indptr, offsets[max(min_degree, 2)]
        )
    XP = _output_container(data, indices, indptr, shape, csc, sparray_output)
    return XP, overflow


def _kernel_csr(X, index_dtype):
    """The arrays of CSR ``X`` for the kernel, with indices of one dtype.

    numba compiles the kernel once for each combination of the types of its
    arguments, writeable or read-only included. The input's index arrays and
    the output's are all given the output's index dtype (int32 or int64),
    int64 where an input index or count exceeds int32, and the input's
    arrays are passed as read-only views, so two dtypes of data times two of
    indices make all the combinations. An index array is copied only when
    its dtype differs from the output's; ``data`` only when it is strided.
    """
    nnz = int(X.indptr[-1])
    if max(nnz, X.shape[1] - 1) > _INT32_MAX:
        index_dtype = np.dtype(np.int64)
    arrays = (
        np.ascontiguousarray(X.data[:nnz]),
        np.ascontiguousarray(X.indices[:nnz], dtype=index_dtype),
        np.ascontiguousarray(X.indptr, dtype=index_dtype),
    )
    views = tuple(array.view() for array in arrays)
    for view in views:
        view.flags.writeable = False
    return views


def _drop_zero_products(data, indices, indptr, first_product):
    """Remove stored zeros from the columns ``>= first_product`` (CSR arrays)."""
    drop = (data == 0) & (indices >= first_product)
    if not drop.any():
        return data, indices, indptr
    kept = np.zeros(data.shape[0] + 1, dtype=indptr.dtype)
    np.cumsum(~drop, out=kept[1:])
    return data[~drop], indices[~drop], kept[indptr]


def _output_container(data, indices, indptr, shape, csc, sparray_output):
    """The CSR arrays as a CSR or CSC matrix or array, keeping their dtype."""
    # a sparse array keeps int64 indices that fit int32; a matrix built from
    # arrays would downcast them, one converted from a sparse array does not
    direct = sparray_output or indices.dtype == np.int32
    if direct and not sparray_output:
        XP = sparse.csr_matrix((data, indices, indptr), shape=shape)
    else:
        XP = sparse.csr_array((data, indices, indptr), shape=shape)
    XP.has_sorted_indices = True
    XP.has_canonical_format = True
    if csc:
        XP = XP.tocsc()
    if not direct:
        XP = sparse.csc_matrix(XP) if csc else sparse.csr_matrix(XP)
    return XP
