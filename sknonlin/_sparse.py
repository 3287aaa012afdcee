"""Checks on compressed sparse input, run before any kernel reads it.

A numba kernel trusts the ``indptr``/``indices`` arrays it is given; a matrix
built by hand can hold any values there. These checks cost O(nnz) and turn a
corrupted structure into a clear ``ValueError`` instead of an out-of-bounds
read or write.
"""

import numpy as np
from scipy import sparse


def _signed_index_array(array, name, fmt):
    """``array`` as a signed integer array (a copy only when needed)."""
    array = np.asarray(array)
    if array.ndim != 1:
        raise ValueError(
            f"The {fmt.upper()} {name} array must be 1-D, got {array.ndim}-D."
        )
    if array.dtype.kind == "i":
        return array
    if array.dtype.kind == "u":
        if array.size and int(array.max()) > np.iinfo(np.int64).max:
            raise ValueError(
                f"The {fmt.upper()} {name} array holds values too large for int64."
            )
        return array.astype(np.int64)
    raise ValueError(
        f"The {fmt.upper()} {name} array must hold integers, got dtype {array.dtype}."
    )


def check_compressed_structure(X):
    """Validate the structure of a CSR or CSC matrix; return a safe view of it.

    Checks that ``indptr`` has one entry per major row plus one, starts at 0,
    never decreases and ends at most at the number of stored values, and that
    every minor index lies in ``[0, n_minor)``. Unsigned index arrays are
    converted to int64. The caller's matrix is never modified: when an index
    array must be converted, a new matrix sharing ``data`` is returned.

    Parameters
    ----------
    X : sparse matrix or array in CSR or CSC format
        The matrix to check.

    Returns
    -------
    X : sparse matrix or array
        ``X`` itself, or a new container over the same ``data`` with signed
        index arrays.

    Raises
    ------
    ValueError
        If the structure is inconsistent, naming what is wrong.
    """
    if not sparse.issparse(X) or X.format not in ("csr", "csc"):
        return X
    fmt = X.format
    n_major, n_minor = X.shape if fmt == "csr" else X.shape[::-1]
    indptr = _signed_index_array(X.indptr, "indptr", fmt)
    indices = _signed_index_array(X.indices, "indices", fmt)
    data = np.asarray(X.data)
    if data.ndim != 1:
        raise ValueError(f"The {fmt.upper()} data array must be 1-D.")
    if indptr.shape[0] != n_major + 1:
        raise ValueError(
            f"The {fmt.upper()} indptr array has {indptr.shape[0]} entries; a "
            f"matrix of shape {X.shape} needs {n_major + 1}."
        )
    if indptr[0] != 0:
        raise ValueError(
            f"The {fmt.upper()} indptr array must start at 0, got {int(indptr[0])}."
        )
    if n_major and np.any(indptr[1:] < indptr[:-1]):
        raise ValueError(f"The {fmt.upper()} indptr array must be non-decreasing.")
    nnz = int(indptr[-1])
    if nnz > indices.shape[0] or nnz > data.shape[0]:
        raise ValueError(
            f"The {fmt.upper()} indptr array ends at {nnz}, past the "
            f"{min(indices.shape[0], data.shape[0])} stored values."
        )
    stored = indices[:nnz]
    # Read as unsigned, a negative index is larger than any valid one: one
    # pass over the indices finds both kinds of index out of range.
    unsigned = stored.view(stored.dtype.str.replace("i", "u"))
    if nnz and int(unsigned.max()) >= n_minor:
        axis = "column" if fmt == "csr" else "row"
        raise ValueError(
            f"The {fmt.upper()} matrix has {axis} indices outside [0, {n_minor})."
        )
    if indptr is X.indptr and indices is X.indices:
        return X
    safe = X.__class__((data, indices, indptr), shape=X.shape, copy=False)
    return safe
