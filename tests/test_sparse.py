"""Tests of the structure checks run on sparse input before any kernel."""

import numpy as np
import pytest
from scipy import sparse

from sknonlin._sparse import check_compressed_structure


def _with_arrays(X, data, indices, indptr):
    """A matrix of X's class and shape holding arbitrary (possibly bad) arrays."""
    Y = X.__class__(X.shape, dtype=X.dtype)
    Y.data, Y.indices, Y.indptr = data, indices, indptr
    return Y


@pytest.fixture(params=["csr_matrix", "csr_array", "csc_matrix", "csc_array"])
def X(request):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(6, 5)) * (rng.random((6, 5)) < 0.5)
    return getattr(sparse, request.param)(dense)


def test_valid_matrix_is_returned_as_is(X):
    assert check_compressed_structure(X) is X


@pytest.mark.parametrize(
    "corrupt, match",
    [
        (lambda d, i, p: (d, i, np.r_[1, p[1:]]), "must start at 0"),
        (lambda d, i, p: (d, i, p[:-1]), "entries; a matrix of shape"),
        (lambda d, i, p: (d, i, np.r_[p[:-1], p[-1] + 3]), "past the"),
        (lambda d, i, p: (d, np.where(i == i.max(), 99, i), p), "indices outside"),
        (lambda d, i, p: (d, -1 - i, p), "indices outside"),
        (lambda d, i, p: (d, i.astype(float), p), "must hold integers"),
    ],
)
def test_corrupted_structure_raises(X, corrupt, match):
    Y = _with_arrays(X, *corrupt(X.data, X.indices, X.indptr))
    with pytest.raises(ValueError, match=match):
        check_compressed_structure(Y)


def test_decreasing_indptr_raises(X):
    indptr = X.indptr.copy()
    middle = len(indptr) // 2
    indptr[middle], indptr[middle + 1] = indptr[middle + 1] + 1, indptr[middle]
    Y = _with_arrays(X, X.data, X.indices, indptr)
    with pytest.raises(ValueError, match="non-decreasing"):
        check_compressed_structure(Y)


def test_unsigned_indices_become_signed_without_touching_input(X):
    Y = _with_arrays(X, X.data, X.indices.astype(np.uint64), X.indptr.astype(np.uint64))
    Z = check_compressed_structure(Y)
    assert Y.indices.dtype == np.uint64 and Y.indptr.dtype == np.uint64
    assert Z.indices.dtype.kind == "i" and Z.indptr.dtype.kind == "i"
    assert type(Z) is type(X)
    np.testing.assert_array_equal(Z.toarray(), X.toarray())


@pytest.mark.parametrize("dtype", ["<i2", ">i2", "<i4", ">i4", "<i8", ">i8"])
@pytest.mark.parametrize("bad", [-1, -(2**15), "n_minor"])
def test_out_of_range_index_of_any_width_and_byte_order_raises(X, dtype, bad):
    n_minor = X.shape[1] if X.format == "csr" else X.shape[0]
    indices = X.indices.astype(dtype)
    Y = _with_arrays(X, X.data, indices.copy(), X.indptr)
    assert check_compressed_structure(Y).indices.dtype == np.dtype(dtype)
    indices[len(indices) // 2] = n_minor if bad == "n_minor" else bad
    Y = _with_arrays(X, X.data, indices, X.indptr)
    with pytest.raises(ValueError, match="indices outside"):
        check_compressed_structure(Y)


def test_values_stored_past_indptr_are_not_checked(X):
    # Only the first indptr[-1] indices are read by the kernels.
    indices = np.r_[X.indices, -5, 10**6].astype(X.indices.dtype)
    data = np.r_[X.data, 1.0, 2.0]
    Y = _with_arrays(X, data, indices, X.indptr)
    assert check_compressed_structure(Y) is Y
