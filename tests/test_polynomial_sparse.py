"""Tests of the polynomial feature map on sparse (CSR/CSC) input."""

import contextlib
import itertools
import math
import threading
import tracemalloc
from unittest import mock

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.preprocessing import PolynomialFeatures

from sknonlin import (
    PolynomialFeatureMap,
    _jit,
    _polynomial,
    _polynomial_sparse,
    _polynomial_sparse_kernels,
)

CONTAINERS = ["csr_matrix", "csr_array", "csc_matrix", "csc_array"]
# rank every input with a binomial table, however small
ALWAYS_TABLE = (_polynomial_sparse, "_TABLE_MIN_NNZ", 0)
NO_TABLE = (
    _polynomial_sparse,
    "binomial_table",
    lambda *args: np.zeros((0, 0), dtype=np.int64),
)


def _assert_same_sparse(actual, expected):
    """Same API type, format, shape, index dtype, structure and values (bits)."""
    assert type(actual) is type(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    assert actual.indices.dtype == expected.indices.dtype
    assert actual.indptr.dtype == expected.indptr.dtype
    expected = expected.copy()
    expected.sort_indices()
    assert_array_equal(actual.indptr, expected.indptr)
    assert_array_equal(actual.indices, expected.indices)
    assert_array_equal(actual.data, expected.data)


# -- counts that overflow int64 ----------------------------------------------

# Row lengths of a 20 x 678 CSR whose degree-8 output rows hold C(m + 8, 8)
# values each: their sum is 2**64 + 2,312,897, so a count in int64 wraps to
# a few million and passes any memory check.
WRAPPING_ROW_LENGTHS = [673, 650, 666, 654, 660, 655, 648, 651, 647, 649]
WRAPPING_ROW_LENGTHS += [675, 659, 663, 672, 677, 647, 643, 650, 643, 669]


def _csr_with_row_lengths(lengths, n_features, seed=0):
    rng = np.random.default_rng(seed)
    indices = np.concatenate(
        [np.sort(rng.choice(n_features, m, replace=False)) for m in lengths]
    )
    indptr = np.r_[0, np.cumsum(lengths)]
    data = rng.uniform(0.5, 1.5, size=indptr[-1])
    return sparse.csr_matrix((data, indices, indptr), shape=(len(lengths), n_features))


def test_output_count_beyond_int64_is_refused_with_exact_bytes(monkeypatch):
    X = _csr_with_row_lengths(WRAPPING_ROW_LENGTHS, 678)
    nnz = sum(math.comb(m + 8, 8) for m in WRAPPING_ROW_LENGTHS)
    # the case is one where int64 arithmetic would wrap to a small count
    assert 0 < nnz % 2**64 < 2**22
    # int64 indices: 8 bytes of value and 8 of index per stored value
    n_bytes = nnz * 16 + 21 * 8
    assert n_bytes == 295_147_905_179_389_832_376
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: 2**30)
    transformer = PolynomialFeatureMap(degree=8).fit(X)
    n_output = math.comb(678 + 8, 8)
    with pytest.raises(ValueError) as info:
        transformer.transform(X)
    message = str(info.value)
    assert f"The output of shape (20, {n_output}) would take 262144.0 PiB" in message
    assert "more than the 1.0 GiB of memory available" in message


def test_output_count_beyond_int64_is_refused_when_memory_is_unknown(monkeypatch):
    X = _csr_with_row_lengths(WRAPPING_ROW_LENGTHS, 678)
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: None)
    with pytest.raises(ValueError, match="stored values, more than an array can"):
        PolynomialFeatureMap(degree=8).fit_transform(X)


@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("degree", [(0, 3), (2, 5), (8, 8), (0, 0)])
def test_row_lengths_are_exact(interaction_only, degree):
    indptr = np.r_[0, np.cumsum([0, 3, 700, 3, 12, 0, 1])]
    lengths, total = _polynomial_sparse.row_lengths(
        indptr, *degree, interaction_only, include_bias=True
    )
    expected = []
    for m in np.diff(indptr):
        count = 1
        for k in range(max(degree[0], 1), degree[1] + 1):
            # k stored values out of m, with or without repetition
            count += (
                math.comb(int(m), k) if interaction_only else math.comb(m + k - 1, k)
            )
        expected.append(count)
    assert total == sum(expected)
    assert_array_equal(lengths, expected)


def test_row_lengths_report_a_total_too_large_to_index():
    indptr = np.r_[0, np.cumsum(WRAPPING_ROW_LENGTHS)]
    lengths, total = _polynomial_sparse.row_lengths(indptr, 0, 8, False, True)
    assert lengths is None
    assert total == sum(math.comb(m + 8, 8) for m in WRAPPING_ROW_LENGTHS)


@pytest.mark.parametrize("n", [0, 1, 7, 60, 67, 68, 3_037_000_500, 2**40])
def test_binomial_kernel_is_exact_while_the_result_fits(n):
    for k in range(0, 12):
        expected = math.comb(n, k)
        if expected <= np.iinfo(np.int64).max:
            assert _polynomial_sparse_kernels.binomial(n, k) == expected


# -- corrupted structure -----------------------------------------------------


def _with_arrays(X, data, indices, indptr):
    """A container of X's class and shape holding arbitrary (possibly bad) arrays."""
    Y = X.__class__(X.shape, dtype=X.dtype)
    Y.data, Y.indices, Y.indptr = data, indices, indptr
    return Y


def _swap_middle(p):
    p = p.copy()
    middle = len(p) // 2
    p[middle], p[middle + 1] = p[middle + 1] + 1, p[middle]
    return p


CORRUPTIONS = {
    "index too large": (
        lambda d, i, p: (d, np.where(i == i.max(), 99, i), p),
        "indices outside",
    ),
    "negative index": (lambda d, i, p: (d, -1 - i, p), "indices outside"),
    "indptr not at 0": (lambda d, i, p: (d, i, np.r_[1, p[1:]]), "must start at 0"),
    "decreasing indptr": (lambda d, i, p: (d, i, _swap_middle(p)), "non-decreasing"),
    "indptr past the end": (
        lambda d, i, p: (d, i, np.r_[p[:-1], p[-1] + 3]),
        "past the",
    ),
    "uint64 index too large": (
        lambda d, i, p: (
            d,
            np.where(i == i.max(), np.uint64(2**63 + 1), i.astype(np.uint64)),
            p,
        ),
        "too large for int64",
    ),
}


@pytest.fixture(params=CONTAINERS)
def X(request):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(6, 5)) * (rng.random((6, 5)) < 0.5)
    return getattr(sparse, request.param)(dense)


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
@pytest.mark.parametrize("method", ["fit", "transform"])
def test_corrupted_structure_raises_before_any_kernel(X, corruption, method):
    corrupt, match = CORRUPTIONS[corruption]
    Y = _with_arrays(X, *corrupt(X.data, X.indices.copy(), X.indptr.copy()))
    transformer = PolynomialFeatureMap(degree=3)
    with pytest.raises(ValueError, match=match):
        if method == "fit":
            transformer.fit(Y)
        else:
            transformer.fit(X).transform(Y)


def test_failed_fit_on_corrupted_structure_leaves_the_transformer_as_it_was(X):
    transformer = PolynomialFeatureMap(degree=2).fit(X[:, :3])
    before = dict(vars(transformer))
    corrupt, _ = CORRUPTIONS["index too large"]
    Y = _with_arrays(X, *corrupt(X.data, X.indices.copy(), X.indptr.copy()))
    with pytest.raises(ValueError, match="indices outside"):
        transformer.fit(Y)
    assert vars(transformer).keys() == before.keys()
    assert transformer.n_features_in_ == 3


def test_valid_uint64_indices_give_the_same_output(X):
    Y = _with_arrays(X, X.data, X.indices.astype(np.uint64), X.indptr.astype(np.uint64))
    expected = PolynomialFeatureMap(degree=3).fit_transform(X)
    actual = PolynomialFeatureMap(degree=3).fit_transform(Y)
    assert_array_equal(actual.toarray(), expected.toarray())
    assert Y.indices.dtype == np.uint64  # the caller's matrix is untouched


@pytest.mark.parametrize("degree", [2, 3, 4, (2, 5)])
def test_explicit_zeros_are_stored_as_polynomial_features_stores_them(degree):
    # stored zeros, and products that underflow to zero
    data = np.array([0.0, 2.0, 3.0, 1e-200, 0.0, 1e-200])
    X = sparse.csr_matrix((data, [0, 1, 2, 0, 1, 2], [0, 3, 6]), shape=(2, 3))
    expected = PolynomialFeatures(degree=degree).fit_transform(X)
    _assert_same_sparse(PolynomialFeatureMap(degree=degree).fit_transform(X), expected)


def test_unsorted_indices_with_a_false_canonical_flag():
    # rows with unsorted and duplicate columns, flagged as canonical
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    indices = np.array([2, 0, 1, 1, 0])
    indptr = np.array([0, 2, 5])
    X = sparse.csr_matrix((data, indices, indptr), shape=(2, 3))
    dense = X.toarray()
    X.has_canonical_format = True
    out = PolynomialFeatureMap(degree=2).fit_transform(X)
    expected = PolynomialFeatures(degree=2).fit_transform(dense)
    assert_array_equal(out.toarray(), expected)
    assert out.has_canonical_format
    assert_array_equal(X.indices, indices)  # the caller's matrix is untouched


# -- huge column counts ------------------------------------------------------


@pytest.mark.requires_sklearn(
    "1.9",
    reason="the oracle returns the sparse container type sparse_interface asks for",
)
@pytest.mark.parametrize("n_features", [3_037_000_499, 3_037_000_500])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("degree", [2, (2, 2)])
@pytest.mark.parametrize("container", ["csr_matrix", "csr_array"])
def test_huge_column_count_matches_polynomial_features(
    n_features, interaction_only, include_bias, degree, container
):
    rows = np.array([0, 0, 2, 2, 2])
    cols = np.array([0, n_features - 2, 5, n_features - 3, n_features - 1])
    values = np.array([1.5, 2.0, 3.0, -1.0, 0.5])
    X = getattr(sparse, container)((values, (rows, cols)), shape=(4, n_features))
    params = dict(
        degree=degree, interaction_only=interaction_only, include_bias=include_bias
    )
    transformer = PolynomialFeatureMap(**params)
    tracemalloc.start()
    try:
        out = transformer.fit_transform(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # memory follows the stored values, not the 3e9 columns
    assert peak < 2**20
    n = n_features
    n_degree_2 = n * (n - 1) // 2 if interaction_only else n * (n + 1) // 2
    n_lower = include_bias + (n if degree == 2 else 0)
    assert transformer.n_output_features_ == n_lower + n_degree_2
    assert out.indices.dtype == np.int64
    _assert_same_sparse(out, PolynomialFeatures(**params).fit_transform(X))


def test_huge_column_count_terms_by_hand():
    n = 3_037_000_500
    X = sparse.csr_array(([2.0, 3.0], ([0, 0], [n - 2, n - 1])), shape=(1, n))
    out = PolynomialFeatureMap(degree=2).fit_transform(X)

    def column(i, j):
        # bias, n linear terms, then (i, j) with i <= j in lexicographic order
        return 1 + n + i * n - i * (i - 1) // 2 + (j - i)

    expected = {
        0: 1.0,
        1 + n - 2: 2.0,
        1 + n - 1: 3.0,
        column(n - 2, n - 2): 4.0,
        column(n - 2, n - 1): 6.0,
        column(n - 1, n - 1): 9.0,
    }
    assert column(n - 1, n - 1) == out.shape[1] - 1
    assert out.indices.tolist() == list(expected)
    assert out.data.tolist() == list(expected.values())


def test_csc_output_counts_one_pointer_per_output_column(monkeypatch):
    n = 100_000
    X = sparse.csc_matrix(([2.0, 3.0], ([0, 0], [1, n - 1])), shape=(1, n))
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: 2**30)
    transformer = PolynomialFeatureMap(degree=2).fit(X)
    n_output = (n + 1) * (n + 2) // 2
    # int64 indices; the CSR result (6 values) and its CSC conversion coexist
    csr_bytes = 6 * (8 + 8) + 2 * 8
    n_bytes = csr_bytes + (csr_bytes - 2 * 8) + (n_output + 1) * 8
    expected = f"would take {_polynomial._format_bytes(n_bytes)}, more than the 1.0 GiB"
    assert expected.startswith("would take 37.3 GiB")
    with pytest.raises(ValueError, match=expected.replace(".", r"\.")):
        transformer.transform(X)
    # the same data in CSR needs a few bytes
    assert transformer.transform(X.tocsr()).nnz == 6


# -- agreement with PolynomialFeatures ---------------------------------------


@contextlib.contextmanager
def _expand_on(path):
    """Run the sparse kernel compiled, or on its no-compile fallback."""
    kernel = _polynomial_sparse_kernels.expand_csr
    with contextlib.ExitStack() as stack:
        if path == "compiled":
            stack.enter_context(mock.patch.object(kernel, "_ready", kernel.compiled))
        else:
            # however long the process has already run on fallbacks
            stack.enter_context(mock.patch.object(_jit, "_fallback_seconds", [-1e9]))
            stack.enter_context(mock.patch.object(kernel, "_ready", None))
            stack.enter_context(mock.patch.object(kernel, "_scheduled", True))
        yield


@st.composite
def _sparse_case(draw):
    n_samples = draw(st.integers(1, 6))
    n_features = draw(st.integers(1, 5))
    density = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0.5, 2.0, size=(n_samples, n_features))
    sign = rng.choice([-1.0, 1.0], size=(n_samples, n_features))
    mask = rng.random((n_samples, n_features)) < density
    dense = (magnitude * sign * mask).astype(dtype)
    container = draw(st.sampled_from(CONTAINERS))
    X = getattr(sparse, container)(dense)
    if draw(st.booleans()):
        # explicitly stored zeros
        X.data[rng.random(X.nnz) < 0.3] = 0
    if draw(st.booleans()):
        # int64 indices where scipy would choose int32
        Y = X.__class__(X.shape, dtype=X.dtype)
        Y.data, Y.indices, Y.indptr = (
            X.data,
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
        )
        X = Y
    include_bias = draw(st.booleans())
    lowest = 0 if include_bias else 1
    if draw(st.booleans()):
        degree = draw(st.integers(lowest, 4))
    else:
        max_degree = draw(st.integers(lowest, 4))
        degree = (draw(st.integers(0, max_degree)), max_degree)
    params = dict(
        degree=degree,
        interaction_only=draw(st.booleans()),
        include_bias=include_bias,
    )
    interface = draw(st.sampled_from(["spmatrix", "sparray"]))
    return X, params, interface, draw(st.booleans())


@pytest.mark.requires_sklearn(
    "1.9",
    reason="the oracle returns the sparse container type sparse_interface asks for",
)
@pytest.mark.parametrize("path", ["fallback", "compiled"])
@settings(max_examples=150, deadline=None)
@given(_sparse_case())
def test_sparse_output_equals_polynomial_features(path, case):
    X, params, interface, computed_binomials = case
    with contextlib.ExitStack() as stack:
        stack.enter_context(sklearn.config_context(sparse_interface=interface))
        if not computed_binomials:
            stack.enter_context(mock.patch.object(*ALWAYS_TABLE))
        stack.enter_context(_expand_on(path))
        reference = PolynomialFeatures(**params).fit(X)
        transformer = PolynomialFeatureMap(**params).fit(X)
        actual = transformer.transform(X)
        # the fallback served the call: nothing was compiled meanwhile
        assert _polynomial_sparse_kernels.expand_csr.is_ready == (path == "compiled")
        assert actual.format == X.format
        assert isinstance(actual, sparse.sparray) == (interface == "sparray")
        if reference.n_output_features_ == 0:
            # PolynomialFeatures fails to stack zero sparse blocks
            assert actual.shape == (X.shape[0], 0) and actual.nnz == 0
            return
        expected = reference.transform(X)
    _assert_same_sparse(actual, expected)


@pytest.mark.parametrize("interaction_only", [False, True])
def test_ranks_from_the_table_and_computed_agree(interaction_only):
    X = sparse.random(150, 12, density=0.4, format="csr", random_state=0)
    assert _polynomial_sparse.binomial_table(12, X.nnz, 5).shape == (18, 6)
    params = dict(degree=(1, 5), interaction_only=interaction_only)
    with_table = PolynomialFeatureMap(**params).fit_transform(X)
    with mock.patch.object(*NO_TABLE):
        computed = PolynomialFeatureMap(**params).fit_transform(X)
    _assert_same_sparse(computed, with_table)
    _assert_same_sparse(with_table, PolynomialFeatures(**params).fit_transform(X))


def test_binomial_table_is_not_built_for_wide_input():
    # a table over 10**6 features for 10 stored values would dwarf the input
    assert _polynomial_sparse.binomial_table(10**6, 10, 2).size == 0
    # nor for inputs too small to repay it
    assert _polynomial_sparse.binomial_table(10, 100, 2).size == 0
    table = _polynomial_sparse.binomial_table(100, 1000, 3)
    for m in (0, 5, 103):
        for j in range(4):
            assert table[m, j] == math.comb(m, j)


# -- kernels -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel",
    ["binomial", "rank_step", "expand_csr", "_gcd", "_computed_step"],
    ids=str,
)
def test_sparse_kernels_release_the_gil_and_are_cached(kernel):
    # the package's lazy kernel stands for a numba dispatcher, built on need
    dispatcher = getattr(_polynomial_sparse_kernels, kernel).compiled
    assert dispatcher.targetoptions.get("nogil") is True
    assert not dispatcher.targetoptions.get("fastmath")
    # cache=True gives the dispatcher an on-disk cache instead of a NullCache
    assert type(dispatcher._cache).__name__ == "FunctionCache"


def _with_index_dtypes(X, indices_dtype, indptr_dtype):
    Y = X.__class__(X.shape, dtype=X.dtype)
    Y.data = X.data
    Y.indices = X.indices.astype(indices_dtype)
    Y.indptr = X.indptr.astype(indptr_dtype)
    return Y


@pytest.mark.requires_sklearn(
    "1.9",
    reason="the oracle returns the sparse container type sparse_interface asks for",
)
def test_every_combination_of_types_compiles_at_most_four_kernels():
    import numba

    # numba compiles a kernel once for each combination of argument types; a
    # dispatcher of its own (over the same on-disk cache) counts them
    counted = numba.njit(cache=True, nogil=True)(
        _polynomial_sparse_kernels.expand_csr.py_func
    )
    dense = sparse.random(9, 5, density=0.5, random_state=0).toarray()
    dense[1, :] = 0.0
    index_dtypes = [np.int32, np.int64]
    combinations = itertools.product(
        [np.float32, np.float64], index_dtypes, index_dtypes, CONTAINERS,
        ["spmatrix", "sparray"], [2, (0, 4)], [ALWAYS_TABLE, NO_TABLE],
    )  # fmt: skip
    output_index_dtypes = set()
    with mock.patch.object(_polynomial_sparse_kernels, "expand_csr", counted):
        for dtype, indices, indptr, container, interface, degree, table in combinations:
            X = getattr(sparse, container)(dense.astype(dtype))
            X = _with_index_dtypes(X, indices, indptr)
            with sklearn.config_context(sparse_interface=interface):
                with mock.patch.object(*table):
                    actual = PolynomialFeatureMap(degree=degree).fit_transform(X)
                # scikit-learn needs one index dtype; either array in int64
                # makes the output's int64 as both would
                wide = np.int64 if np.int64 in (indices, indptr) else np.int32
                oracle = _with_index_dtypes(X, wide, wide)
                expected = PolynomialFeatures(degree=degree).fit_transform(oracle)
            _assert_same_sparse(actual, expected)
            output_index_dtypes.add(actual.indices.dtype)
        # read-only and strided arrays
        X = sparse.csr_matrix(dense)
        X.data = np.repeat(X.data, 2)[::2]
        for array in (X.data, X.indices, X.indptr):
            array.setflags(write=False)
        actual = PolynomialFeatureMap(degree=2).fit_transform(X)
        # scikit-learn's expansion takes writeable buffers only
        expected = PolynomialFeatures(degree=2).fit_transform(X.copy())
        _assert_same_sparse(actual, expected)
        # beyond int32 column indices, and an int32 output of int64 indices
        for n_features, degree in [(3_037_000_500, 2), (2**31 + 5, 0)]:
            X = sparse.csr_matrix(([1.5, -2.0], ([0, 1], [0, n_features - 1])),
                                  shape=(2, n_features))  # fmt: skip
            actual = PolynomialFeatureMap(degree=degree).fit_transform(X)
            expected = PolynomialFeatures(degree=degree).fit_transform(X)
            _assert_same_sparse(actual, expected)
    assert output_index_dtypes == {np.dtype(np.int32), np.dtype(np.int64)}
    # the data's dtype times the output's index dtype
    assert len(counted.signatures) <= 4


def test_concurrent_sparse_transforms_equal_sequential_ones():
    X = sparse.random(300, 40, density=0.1, format="csr", random_state=0)
    transformer = PolynomialFeatureMap(degree=3).fit(X)
    blocks = [X[i::4] for i in range(4)]
    expected = [transformer.transform(block) for block in blocks]
    results = [None] * 4

    def work(i):
        results[i] = transformer.transform(blocks[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for actual, wanted in zip(results, expected, strict=True):
        _assert_same_sparse(actual, wanted)
