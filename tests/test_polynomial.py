"""Tests for PolynomialFeatureMap."""

import gc
import itertools
import pickle
import threading
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.polynomial import chebyshev, legendre
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sknonlin import PolynomialFeatureMap, _polynomial


def naive_feature_map(X, min_degree, max_degree, interaction_only, include_bias):
    """Plain-Python oracle: one product per term, terms in lexicographic order."""
    n_features = X.shape[1]
    combos = (
        itertools.combinations
        if interaction_only
        else (itertools.combinations_with_replacement)
    )
    terms = [()] if include_bias else []
    for k in range(max(min_degree, 1), max_degree + 1):
        terms.extend(combos(range(n_features), k))
    rows = []
    for x in X.tolist():
        row = []
        for term in terms:
            value = 1.0
            for f in term:
                value *= x[f]
            row.append(value)
        rows.append(row)
    return np.array(rows).reshape(X.shape[0], len(terms))


# -- the lecture's examples, built by hand ----------------------------------


def test_one_feature_is_powers_of_x():
    x = np.array([[-2.0], [0.5], [3.0]])
    expected = np.hstack([np.ones_like(x), x, x**2, x**3])
    assert_array_equal(PolynomialFeatureMap(degree=3).fit_transform(x), expected)


def test_two_features_degree_two():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    x1, x2 = X[:, :1], X[:, 1:]
    expected = np.hstack([np.ones_like(x1), x1, x2, x1**2, x1 * x2, x2**2])
    out = PolynomialFeatureMap(degree=2).fit_transform(X)
    assert_array_equal(out, expected)
    assert out.shape[1] == 6


def test_xor_becomes_linearly_solvable():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    linear = LinearRegression().fit(X, y)
    # the best linear fit of XOR is the constant 1/2
    assert_allclose(linear.predict(X), 0.5, atol=1e-12)
    phi = PolynomialFeatureMap(degree=2, include_bias=False)
    model = make_pipeline(phi, LinearRegression()).fit(X, y)
    assert_allclose(model.predict(X), y, atol=1e-10)


@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("degree", [1, 2, 3, (2, 3), (0, 2), (3, 3)])
def test_matches_plain_python_oracle(degree, interaction_only, include_bias):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 4))
    lo, hi = (0, degree) if isinstance(degree, int) else degree
    expected = naive_feature_map(X, lo, hi, interaction_only, include_bias)
    transformer = PolynomialFeatureMap(
        degree=degree, interaction_only=interaction_only, include_bias=include_bias
    )
    assert_allclose(transformer.fit_transform(X), expected, rtol=1e-14)


# -- a drop-in replacement for PolynomialFeatures ----------------------------

DEGREES = [0, 1, 2, 3, 4, (0, 0), (0, 2), (1, 3), (2, 3), (3, 3), (2, 4)]


def _both(**params):
    return PolynomialFeatures(**params), PolynomialFeatureMap(**params)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_equals_polynomial_features(
    degree, include_bias, interaction_only, order, dtype
):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4)).astype(dtype)
    params = dict(
        degree=degree,
        include_bias=include_bias,
        interaction_only=interaction_only,
        order=order,
    )
    theirs, ours = _both(**params)
    try:
        expected = theirs.fit_transform(X)
    except ValueError as exc:
        with pytest.raises(ValueError, match="degree"):
            ours.fit(X)
        assert "degree" in str(exc)
        return
    out = ours.fit_transform(X)
    # same products in the same order: equal to the bit
    assert_array_equal(out, expected)
    assert out.dtype == expected.dtype == dtype
    assert out.flags[f"{order}_CONTIGUOUS"]
    assert ours.n_output_features_ == theirs.n_output_features_
    assert_array_equal(ours.powers_, theirs.powers_)
    assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    names = ["a", "b", "c", "d"]
    assert_array_equal(
        ours.get_feature_names_out(names), theirs.get_feature_names_out(names)
    )


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("degree", [2, 3, 4, 6, (2, 5)])
def test_one_feature_without_bias_is_powers_of_x(degree, order):
    x = np.array([[2.0], [3.0], [-0.5]])
    lo, hi = (1, degree) if isinstance(degree, int) else degree
    expected = np.hstack([x**p for p in range(max(lo, 1), hi + 1)])
    out = PolynomialFeatureMap(
        degree=degree, include_bias=False, order=order
    ).fit_transform(x)
    assert_array_equal(out, expected)


@st.composite
def _degrees(draw):
    if draw(st.booleans()):
        return draw(st.integers(0, 6))
    low, high = sorted(draw(st.lists(st.integers(0, 6), min_size=2, max_size=2)))
    return (low, high)


@st.composite
def _dense_inputs(draw):
    # one feature is a corner worth drawing often
    n_features = draw(st.one_of(st.just(1), st.integers(1, 6)))
    n_samples = draw(st.integers(1, 8))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    width = 64 if dtype == np.float64 else 32
    values = st.floats(-100, 100, width=width, allow_subnormal=False)
    return draw(arrays(dtype, (n_samples, n_features), elements=values))


@settings(max_examples=300, deadline=None)
@given(
    X=_dense_inputs(),
    degree=_degrees(),
    interaction_only=st.booleans(),
    include_bias=st.booleans(),
    order=st.sampled_from(["C", "F"]),
)
def test_property_dense_equals_polynomial_features(
    X, degree, interaction_only, include_bias, order
):
    params = dict(
        degree=degree,
        interaction_only=interaction_only,
        include_bias=include_bias,
        order=order,
    )
    theirs, ours = _both(**params)
    try:
        expected = theirs.fit_transform(X)
    except ValueError:
        with pytest.raises(ValueError):
            ours.fit(X)
        return
    out = ours.fit_transform(X)
    assert_array_equal(out, expected, strict=True)
    assert out.flags[f"{order}_CONTIGUOUS"]
    assert ours.n_output_features_ == theirs.n_output_features_
    if theirs.n_output_features_ == 0:
        # scikit-learn cannot stack zero rows of powers
        assert ours.powers_.shape == (0, X.shape[1])
        assert ours.get_feature_names_out().shape == (0,)
        return
    assert_array_equal(ours.powers_, theirs.powers_)
    assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5, (2, 3), (0, 2), (4, 4)])
@pytest.mark.parametrize(
    "container",
    [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.csc_array],
)
def test_sparse_equals_polynomial_features(
    container, degree, include_bias, interaction_only
):
    X = sparse.random(40, 6, density=0.4, random_state=3, format="lil")
    X[0] = 0  # an empty row
    X = container(X)
    theirs, ours = _both(
        degree=degree, include_bias=include_bias, interaction_only=interaction_only
    )
    expected = theirs.fit_transform(X)
    out = ours.fit_transform(X)
    assert type(out) is type(expected)
    assert out.format == expected.format == X.format
    # products of three or more factors may be rounded in another order than
    # in the dense map: equal up to the last bit
    assert_allclose(out.toarray(), expected.toarray(), rtol=1e-14, atol=0)
    assert_allclose(out.toarray(), ours.fit_transform(X.toarray()), rtol=1e-14, atol=0)


def test_sparse_output_is_canonical_csr():
    X = sparse.random(50, 30, density=0.2, format="csr", random_state=0)
    out = PolynomialFeatureMap(degree=3).fit_transform(X)
    out.check_format(full_check=True)
    assert out.has_sorted_indices
    assert out.nnz == np.count_nonzero(out.toarray())


def test_sparse_input_with_duplicates_and_unsorted_indices():
    data = np.array([1.0, 2.0, 3.0, 4.0])
    indices = np.array([2, 0, 2, 1])  # column 2 twice, unsorted
    indptr = np.array([0, 3, 4])
    X = sparse.csr_matrix((data, indices, indptr), shape=(2, 3))
    snapshot = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    out = PolynomialFeatureMap(degree=2).fit_transform(X)
    assert_array_equal(
        out.toarray(), PolynomialFeatureMap(degree=2).fit_transform(X.toarray())
    )
    for before, after in zip(snapshot, (X.data, X.indices, X.indptr), strict=True):
        assert_array_equal(before, after)


@pytest.mark.parametrize("n_features", [1, 2, 5, 13])
@pytest.mark.parametrize("degree", [0, 1, 2, 3, (1, 2), (2, 4)])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
def test_count_output_features(n_features, degree, interaction_only, include_bias):
    X = np.ones((2, n_features))
    params = dict(
        degree=degree, interaction_only=interaction_only, include_bias=include_bias
    )
    try:
        fitted = PolynomialFeatures(**params).fit(X)
    except ValueError:
        with pytest.raises(ValueError):
            PolynomialFeatureMap.count_output_features(n_features, **params)
        return
    count = PolynomialFeatureMap.count_output_features(n_features, **params)
    assert count == fitted.n_output_features_
    assert isinstance(count, int)


def test_count_output_features_by_hand():
    assert PolynomialFeatureMap.count_output_features(2, degree=2) == 6
    assert PolynomialFeatureMap.count_output_features(1, degree=37) == 38
    # C(100 + 3, 3)
    assert PolynomialFeatureMap.count_output_features(100, degree=3) == 176_851
    with pytest.raises(ValueError, match="n_features"):
        PolynomialFeatureMap.count_output_features(-1)


# -- orthogonal bases -------------------------------------------------------


@pytest.mark.parametrize(
    "basis, vander",
    [("legendre", legendre.legvander), ("chebyshev", chebyshev.chebvander)],
)
def test_orthogonal_basis_one_feature(basis, vander):
    x = np.linspace(2.0, 6.0, 9).reshape(-1, 1)
    t = (x[:, 0] - 4.0) / 2.0  # the training range mapped to [-1, 1]
    out = PolynomialFeatureMap(degree=6, basis=basis).fit_transform(x)
    assert_allclose(out, vander(t, 6), atol=1e-13)


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("degree", [3, (2, 3)])
def test_orthogonal_basis_products(basis, interaction_only, degree):
    rng = np.random.default_rng(2)
    X = rng.uniform(-3, 5, size=(20, 3))
    transformer = PolynomialFeatureMap(
        degree=degree, basis=basis, interaction_only=interaction_only
    ).fit(X)
    out = transformer.transform(X)
    t = (X - X.min(0)) / (X.max(0) - X.min(0)) * 2 - 1
    vander = legendre.legvander if basis == "legendre" else chebyshev.chebvander
    univariate = vander(t, 3)  # (n_samples, n_features, 4)
    expected = np.ones((X.shape[0], transformer.n_output_features_))
    for j, powers in enumerate(transformer.powers_):
        for f, p in enumerate(powers):
            expected[:, j] *= univariate[:, f, p]
    assert_allclose(out, expected, atol=1e-12)
    symbol = "P" if basis == "legendre" else "T"
    names = transformer.get_feature_names_out()
    assert names[0] == "1"
    assert all(symbol in name for name in names[1:])


@pytest.mark.parametrize("order", ["C", "F"])
def test_orthogonal_basis_order(order):
    X = np.random.default_rng(0).normal(size=(300, 3))
    c_out = PolynomialFeatureMap(degree=3, basis="legendre").fit_transform(X)
    out = PolynomialFeatureMap(degree=3, basis="legendre", order=order).fit_transform(X)
    assert out.flags[f"{order}_CONTIGUOUS"]
    assert_array_equal(out, c_out)


def test_legendre_degree_37_is_well_conditioned():
    x = np.linspace(0, 10, 500).reshape(-1, 1)
    monomial = PolynomialFeatureMap(degree=37).fit_transform(x)
    orthogonal = PolynomialFeatureMap(degree=37, basis="legendre").fit_transform(x)
    cond_monomial = np.linalg.cond(monomial)
    cond_legendre = np.linalg.cond(orthogonal)
    assert cond_legendre < 1e6
    assert cond_monomial > 1e10 * cond_legendre


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_degree_37_ridge_fits_sine(basis):
    x = np.linspace(0, 10, 500).reshape(-1, 1)
    model = make_pipeline(
        PolynomialFeatureMap(degree=37, basis=basis), Ridge(alpha=1e-8)
    ).fit(x, np.sin(x[:, 0]))
    grid = np.linspace(0, 10, 2001).reshape(-1, 1)
    assert np.max(np.abs(model.predict(grid) - np.sin(grid[:, 0]))) < 1e-3


def test_orthogonal_basis_constant_feature():
    X = np.array([[1.0, 3.0], [2.0, 3.0], [4.0, 3.0]])
    out = PolynomialFeatureMap(degree=2, basis="legendre").fit_transform(X)
    assert np.isfinite(out).all()
    # a constant feature maps to t = 0: P1(0) = 0, P2(0) = -1/2
    names = list(
        PolynomialFeatureMap(degree=2, basis="legendre").fit(X).get_feature_names_out()
    )
    assert_allclose(out[:, names.index("P1(x1)")], 0.0)
    assert_allclose(out[:, names.index("P2(x1)")], -0.5)


def test_orthogonal_basis_rejects_sparse_input():
    X = sparse.random(10, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="needs dense input"):
        PolynomialFeatureMap(basis="legendre").fit(X)
    fitted = PolynomialFeatureMap(basis="chebyshev").fit(X.toarray())
    with pytest.raises(ValueError, match="needs dense input"):
        fitted.transform(X)


# -- dtypes and containers ----------------------------------------------------


@pytest.mark.parametrize("basis", ["monomial", "legendre"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype, basis):
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(dtype)
    assert PolynomialFeatureMap(basis=basis).fit_transform(X).dtype == dtype
    Xs = sparse.csr_matrix(X)
    assert PolynomialFeatureMap().fit_transform(Xs).dtype == dtype


def test_integer_input_becomes_float64():
    X = np.arange(6).reshape(3, 2)
    out = PolynomialFeatureMap().fit_transform(X)
    assert out.dtype == np.float64
    assert_array_equal(out, PolynomialFeatures().fit_transform(X))


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_set_output(library):
    lib = pytest.importorskip(library)
    X = lib.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, -1.0, 2.0]})
    transformer = PolynomialFeatureMap(degree=2).set_output(transform=library)
    out = transformer.fit_transform(X)
    assert isinstance(out, lib.DataFrame)
    assert list(out.columns) == ["1", "a", "b", "a^2", "a b", "b^2"]
    assert_array_equal(
        np.asarray(out), PolynomialFeatures().fit_transform(np.asarray(X))
    )


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_rejects_non_finite_input(value):
    X = np.array([[1.0, value], [2.0, 3.0]])
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        PolynomialFeatureMap().fit(X)
    fitted = PolynomialFeatureMap().fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        fitted.transform(X)


def test_rejects_non_numeric_input():
    X = np.array([["a", "b"], ["c", "d"]], dtype=object)
    with pytest.raises(ValueError, match=r"could not convert|numeric"):
        PolynomialFeatureMap().fit(X)


def test_rejects_wrong_number_of_features():
    fitted = PolynomialFeatureMap().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="3 features, but PolynomialFeatureMap"):
        fitted.transform(np.ones((3, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"degree": -1}, "degree"),
        ({"degree": 2.5}, "degree"),
        ({"basis": "hermite"}, "basis"),
        ({"order": "K"}, "order"),
    ],
)
def test_rejects_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        PolynomialFeatureMap(**params).fit(np.ones((2, 2)))


# scikit-learn's messages, as a user catching its errors would match them
INVALID_DEGREES = [
    (
        {"degree": (3, 2)},
        r"degree=\(min_degree, max_degree\) must be non-negative integers that "
        r"fulfil min_degree <= max_degree, got \(3, 2\)\.",
    ),
    (
        {"degree": (-1, 2)},
        r"degree=\(min_degree, max_degree\) must be non-negative integers",
    ),
    (
        {"degree": (1, 2.5)},
        r"degree=\(min_degree, max_degree\) must be non-negative integers",
    ),
    (
        {"degree": (1, 2, 3)},
        r"degree must be a non-negative int or tuple \(min_degree, max_degree\), "
        r"got \(1, 2, 3\)\.",
    ),
    (
        {"degree": (4,)},
        r"degree must be a non-negative int or tuple \(min_degree, max_degree\)",
    ),
    (
        {"degree": 0, "include_bias": False},
        "Setting degree to zero and include_bias to False would result in an "
        "empty output array.",
    ),
    (
        {"degree": (0, 0), "include_bias": False},
        "Setting both min_degree and max_degree to zero and include_bias to "
        "False would result in an empty output array.",
    ),
]


@pytest.mark.parametrize("params, match", INVALID_DEGREES)
def test_rejects_invalid_degree_with_scikit_learn_messages(params, match):
    with pytest.raises(ValueError, match=match):
        PolynomialFeatureMap(**params).fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match=match):
        PolynomialFeatures(**params).fit(np.ones((2, 2)))


def _error_message(make, X):
    with pytest.raises(ValueError) as info:
        make().fit(X)
    return str(info.value)


@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize(
    "degree, n_features",
    [((1, 2, 3), 2), (0, 2), ((0, 0), 2), ((2, 1), 2), (20, 1000), ((5, 40), 300)],
)
def test_same_error_messages_as_polynomial_features(
    degree, n_features, include_bias, interaction_only
):
    X = np.ones((2, n_features))
    params = dict(
        degree=degree, include_bias=include_bias, interaction_only=interaction_only
    )
    if degree in (0, (0, 0)) and include_bias:
        # a valid map: only the bias
        assert PolynomialFeatureMap(**params).fit(X).n_output_features_ == 1
        return
    theirs = _error_message(lambda: PolynomialFeatures(**params), X)
    assert _error_message(lambda: PolynomialFeatureMap(**params), X) == theirs


@pytest.mark.parametrize(
    "degree",
    [-1, -3, (-1, 2), (1, -2), (-3, -1), 2.5, (1.0, 2), "2", None, (1, 2, 3)],
)
@pytest.mark.parametrize("include_bias", [False, True])
def test_count_output_features_rejects_invalid_degrees(degree, include_bias):
    with pytest.raises(ValueError, match="degree"):
        PolynomialFeatureMap.count_output_features(
            2, degree=degree, include_bias=include_bias
        )


def test_refuses_output_that_cannot_fit_in_memory():
    X = np.zeros((20_000, 200))
    transformer = PolynomialFeatureMap(degree=5).fit(X)
    with pytest.raises(ValueError, match=r"\(20000, 2872408791\)") as info:
        transformer.transform(X)
    message = str(info.value)
    assert "would take 418.0 TiB" in message
    assert "sparse input" in message and "interaction_only" in message


def test_sparse_output_is_estimated_from_its_non_zeros(monkeypatch):
    X = sparse.random(2_000, 500, density=0.002, format="csr", random_state=0)
    # the dense output would take 2000 x 125751 x 8 bytes, about 2 GB
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: 100 * 2**20)
    out = PolynomialFeatureMap(degree=2).fit_transform(X)
    assert out.shape == (2_000, 125_751)
    with pytest.raises(ValueError, match=r"\(2000, 125751\).*more than the 100.0 MiB"):
        PolynomialFeatureMap(degree=2).fit_transform(X.toarray())
    # a sparse output too large for memory is refused as well
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: 1000)
    with pytest.raises(ValueError, match="lower degree"):
        PolynomialFeatureMap(degree=2).fit_transform(X)


@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("n_rows", [2, 2000])
def test_overflow_warns_and_suggests_legendre(as_sparse, sign, n_rows):
    # the largest magnitude may be a negative value; a small output is
    # scanned, a large one first bounded (30,000 values here)
    X = np.tile([[1.5, 2.0], [3.0, sign * 1e90]], (n_rows // 2, 1))
    X = sparse.csr_matrix(X) if as_sparse else X
    with pytest.warns(RuntimeWarning, match="basis='legendre'"):
        PolynomialFeatureMap(degree=4).fit_transform(X)


def test_no_overflow_warning_for_ordinary_data():
    X = np.random.default_rng(0).normal(scale=50, size=(100, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PolynomialFeatureMap(degree=6).fit_transform(X)
        PolynomialFeatureMap(degree=6, basis="legendre").fit_transform(X)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_caller_data_is_not_modified(as_sparse):
    X = np.random.default_rng(0).normal(size=(20, 3))
    X = sparse.csr_matrix(X) if as_sparse else X
    before = X.copy()
    PolynomialFeatureMap(degree=3).fit_transform(X)
    if as_sparse:
        assert_array_equal(X.toarray(), before.toarray())
    else:
        assert_array_equal(X, before)
        PolynomialFeatureMap(degree=3, basis="legendre").fit_transform(X)
        assert_array_equal(X, before)


# -- composition -------------------------------------------------------------


def test_grid_search_over_degree_matches_polynomial_features():
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    grid = {"poly__degree": [1, 2, 3]}

    def search(transformer):
        pipe = make_pipeline(StandardScaler(), transformer, Ridge(alpha=10.0))
        pipe.steps[1] = ("poly", transformer)
        return GridSearchCV(pipe, grid, cv=cv).fit(X, y)

    ours = search(PolynomialFeatureMap())
    theirs = search(PolynomialFeatures())
    assert_allclose(
        ours.cv_results_["mean_test_score"],
        theirs.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ > 0.4


# -- fitted state ----------------------------------------------------------------


@pytest.mark.parametrize(
    "param, value",
    [
        ("include_bias", False),
        ("interaction_only", True),
        ("basis", "chebyshev"),
        ("degree", 4),
        ("degree", (2, 3)),
        ("order", "F"),
    ],
)
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
def test_transform_uses_the_fitted_parameters(param, value, basis):
    X = np.random.default_rng(0).uniform(-2, 3, size=(20, 3))
    fitted = PolynomialFeatureMap(degree=3, basis=basis).fit(X)
    expected = fitted.transform(X)
    names = fitted.get_feature_names_out()
    fitted.set_params(**{param: value})
    out = fitted.transform(X)
    # set_params after fit changes nothing until the next fit
    assert_array_equal(out, expected)
    assert out.flags["C_CONTIGUOUS"]
    assert_array_equal(fitted.get_feature_names_out(), names)
    assert fitted.n_output_features_ == expected.shape[1]
    refitted = fitted.fit(X).transform(X)
    fresh = PolynomialFeatureMap(degree=3, basis=basis).set_params(**{param: value})
    assert_array_equal(refitted, fresh.fit_transform(X))


@pytest.mark.parametrize(
    "param, value",
    [("include_bias", False), ("interaction_only", True), ("degree", (2, 3))],
)
@pytest.mark.parametrize("container", ["csr_matrix", "csc_array"])
def test_sparse_transform_uses_the_fitted_parameters(param, value, container):
    rng = np.random.default_rng(0)
    X = getattr(sparse, container)(
        rng.uniform(-2, 3, (20, 4)) * (rng.random((20, 4)) < 0.5)
    )
    fitted = PolynomialFeatureMap(degree=3).fit(X)
    expected = fitted.transform(X).toarray()
    fitted.set_params(**{param: value})
    assert_array_equal(fitted.transform(X).toarray(), expected)


def _fitted_state(estimator):
    return {
        key: value.copy() if isinstance(value, np.ndarray) else value
        for key, value in vars(estimator).items()
    }


def _assert_same_state(state, estimator):
    assert state.keys() == vars(estimator).keys()
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(vars(estimator)[key], value, strict=True)
        else:
            assert vars(estimator)[key] == value, key


def _raise_keyboard_interrupt(*args, **kwargs):
    raise KeyboardInterrupt


FIT_FAILURES = ["degree", "too many outputs", "nan", "interrupt"]


def _failing_fit(failure, estimator, monkeypatch, make_frame):
    """Make ``estimator.fit`` fail in the way named ``failure``; return its X."""
    if failure == "degree":
        estimator.set_params(degree=(3, 1))
        return make_frame(np.ones((3, 4)))
    if failure == "too many outputs":
        estimator.set_params(degree=10)
        return make_frame(np.ones((2, 1000)))
    if failure == "nan":
        return make_frame(np.array([[1.0, np.nan, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]]))
    # inside fit, after the input has been validated
    monkeypatch.setattr(_polynomial, "_parse_degree", _raise_keyboard_interrupt)
    return make_frame(np.ones((3, 4)))


@pytest.mark.parametrize("failure", FIT_FAILURES)
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
@pytest.mark.parametrize("as_frame", [False, True])
def test_failed_fit_leaves_the_fitted_estimator_as_it_was(
    failure, basis, as_frame, monkeypatch
):
    if as_frame:
        pd = pytest.importorskip("pandas")

        def make_frame(X):
            return pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])

    else:

        def make_frame(X):
            return X

    X = np.random.default_rng(0).normal(size=(10, 3))
    estimator = PolynomialFeatureMap(degree=2, basis=basis).fit(make_frame(X))
    state, expected = _fitted_state(estimator), estimator.transform(make_frame(X))
    params = estimator.get_params()
    X_bad = _failing_fit(failure, estimator, monkeypatch, make_frame)
    with pytest.raises((ValueError, KeyboardInterrupt)):
        estimator.fit(X_bad)
    monkeypatch.undo()
    estimator.set_params(**params)
    _assert_same_state(state, estimator)
    assert_array_equal(estimator.transform(make_frame(X)), expected)


@pytest.mark.parametrize("failure", FIT_FAILURES)
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(failure, monkeypatch):
    estimator = PolynomialFeatureMap(degree=2)
    X_bad = _failing_fit(failure, estimator, monkeypatch, lambda X: X)
    state = _fitted_state(estimator)
    with pytest.raises((ValueError, KeyboardInterrupt)):
        estimator.fit(X_bad)
    _assert_same_state(state, estimator)
    with pytest.raises(NotFittedError):
        estimator.transform(np.ones((2, 4)))


def test_refit_with_another_basis_drops_the_learned_range():
    X = np.random.default_rng(0).normal(size=(10, 2))
    estimator = PolynomialFeatureMap(basis="legendre").fit(X)
    assert hasattr(estimator, "data_min_")
    estimator.set_params(basis="monomial").fit(X)
    assert not hasattr(estimator, "data_min_")
    assert not hasattr(estimator, "data_max_")


# -- memory ------------------------------------------------------------------


def test_transform_bytes_count_buffers_and_table():
    n_bytes = _polynomial._dense_transform_bytes(
        n_samples=1,
        n_outputs=10,
        n_buffered=4,
        n_factors=3,
        block_rows=2,
        n_workers=2,
        starts_shape=(3, 4),
        itemsize=8,
    )
    # output 1 x 10, two workers with 2 rows of 4 terms and 3 factors,
    # a 3 x 4 int64 table
    assert n_bytes == 10 * 8 + 2 * 2 * (4 + 3) * 8 + 3 * 4 * 8


@pytest.mark.parametrize(
    "n_samples, row_width, itemsize, expected",
    [
        (1_000_000, 9_000_000, 8, 1),  # one row wider than the block budget
        (1_000_000, 10, 8, 256),  # narrow rows: the row cap
        (3, 10, 8, 3),  # never more rows than the input
        (1_000_000, 1024, 8, 32),  # 256 KiB / (1024 * 8 bytes)
        (1_000_000, 1024, 4, 64),
    ],
)
def test_block_rows_adapt_to_the_width(n_samples, row_width, itemsize, expected):
    assert _polynomial._block_rows(n_samples, row_width, itemsize) == expected
    # blocks written in place in F order buffer only their factors, with a
    # larger budget, and write at most 2 MiB per output column
    in_place = _polynomial._block_rows(n_samples, row_width, itemsize, True)
    assert expected <= in_place <= n_samples
    assert in_place * row_width * itemsize <= 1024 * 1024 or in_place == 1
    assert in_place * itemsize <= 2 * 1024 * 1024
    if row_width * itemsize > 1024 * 1024:
        assert in_place == 1


@pytest.mark.parametrize(
    "n_samples, n_factors, itemsize, expected",
    [
        (1_000_000, 1, 8, 131_072),  # one factor: 1 MiB of factors
        (1_000_000, 1, 4, 262_144),
        (1_000_000, 10, 8, 13_107),  # ten factors
        (1_000_000, 0, 8, 262_144),  # no factor: a 2 MiB stretch per column
        (1_000, 1, 8, 1_000),
    ],
)
def test_in_place_blocks_write_long_stretches(n_samples, n_factors, itemsize, expected):
    assert _polynomial._block_rows(n_samples, n_factors, itemsize, True) == expected


def test_in_place_blocks_leave_work_for_every_thread(monkeypatch):
    seen = []
    real = _polynomial._run_in_row_chunks

    def spy(rows, n_samples, block_rows, n_workers):
        seen.append((block_rows, n_workers))
        return real(rows, n_samples, block_rows, n_workers)

    monkeypatch.setattr(_polynomial, "_run_in_row_chunks", spy)
    monkeypatch.setattr(_polynomial, "_effective_n_threads", lambda: 2)
    X = np.random.default_rng(0).uniform(-1, 1, size=(300_001, 1))
    transformer = PolynomialFeatureMap(degree=3, order="F").fit(X)
    expected = PolynomialFeatures(degree=3, order="F").fit_transform(X)
    assert_array_equal(transformer.transform(X), expected)
    # 300,001 rows would fit in three blocks; four give each of the two
    # threads two
    assert seen == [(75_001, 2)]


@pytest.mark.parametrize(
    "params",
    [
        dict(degree=(3_000_000, 6_000_000), basis="legendre", order="F"),
        dict(degree=(3_000_000, 6_000_000), order="F"),
        dict(degree=6_000_000, basis="chebyshev"),
    ],
)
def test_guard_counts_the_working_buffers_of_a_wide_row(params, monkeypatch):
    X = np.array([[0.5]])
    transformer = PolynomialFeatureMap(**params).fit(np.array([[0.0], [1.0]]))
    output_bytes = transformer.n_output_features_ * 8
    # the output alone would fit; its buffers and tables would not
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: output_bytes + 1024)
    with pytest.raises(ValueError, match=rf"\(1, {transformer.n_output_features_}\)"):
        transformer.transform(X)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
def test_guard_admits_exactly_what_the_transform_needs(order, basis, monkeypatch):
    X = np.random.default_rng(0).uniform(size=(5, 2))
    transformer = PolynomialFeatureMap(degree=(3, 60), basis=basis, order=order)
    transformer.fit(X)
    expected = transformer.transform(X)
    counted = []
    real_check = _polynomial._check_output_fits

    def record(shape, n_bytes, hint):
        counted.append(n_bytes)
        return real_check(shape, n_bytes, hint)

    monkeypatch.setattr(_polynomial, "_check_output_fits", record)
    transformer.transform(X)
    (n_bytes,) = counted
    assert n_bytes > expected.nbytes
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: n_bytes)
    assert_array_equal(transformer.transform(X), expected)
    monkeypatch.setattr(_polynomial, "_available_memory", lambda: n_bytes - 1)
    with pytest.raises(ValueError, match="memory available"):
        transformer.transform(X)


def test_no_module_level_cache_of_expansion_plans():
    caches = [
        name
        for name, value in vars(_polynomial).items()
        if callable(value) and hasattr(value, "cache_info")
    ]
    assert caches == []


def test_transform_keeps_nothing_alive_after_its_output_is_deleted():
    X = np.random.default_rng(0).normal(size=(2, 100))
    # compile (or load) the kernels before measuring
    PolynomialFeatureMap(degree=3).fit_transform(X[:, :3])
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        transformer = PolynomialFeatureMap(degree=3).fit(X)
        out = transformer.transform(X)
        assert out.shape == (2, 176_851)
        del out
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # the fitted transformer holds a few numbers, not a per-term plan
    assert held < 256 * 1024
    assert len(pickle.dumps(transformer)) < 2048
    restored = pickle.loads(pickle.dumps(transformer))
    assert_array_equal(restored.transform(X), transformer.transform(X))


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
@pytest.mark.parametrize("dtype, top", [(np.float64, 1e308), (np.float32, 3e38)])
def test_orthogonal_basis_on_a_range_wider_than_the_largest_float(basis, dtype, top):
    t = np.array([-1.0, 1.0, 0.0, 0.5, -0.25])
    ordinary = np.array([2.0, 4.0, 3.0, 3.5, 2.75])  # maps to the same t
    X = np.column_stack([t * top, ordinary]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transformer = PolynomialFeatureMap(degree=4, basis=basis).fit(X)
        out = transformer.transform(X)
    assert np.isfinite(out).all()
    vander = legendre.legvander if basis == "legendre" else chebyshev.chebvander
    univariate = vander(t, 4)
    expected = np.ones((len(t), transformer.n_output_features_))
    for j, powers in enumerate(transformer.powers_):
        for p in powers:
            expected[:, j] *= univariate[:, p]
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    assert_allclose(out, expected, rtol=rtol, atol=rtol)


def test_orthogonal_basis_refuses_a_range_too_small_to_invert():
    X = np.array([[0.0, 1.0], [1e-310, 2.0]])
    with pytest.raises(ValueError, match=r"cannot map features \[0\] to \[-1, 1\]"):
        PolynomialFeatureMap(basis="legendre").fit(X)


# -- threads -----------------------------------------------------------------

DENSE_KERNELS = [
    "univariate_block",
    "degree_starts",
    "monomial_block",
    "orthogonal_block",
    "polynomial_features",
    "monomial_rows",
]


@pytest.mark.parametrize("name", DENSE_KERNELS)
def test_dense_kernels_release_the_gil(name):
    kernel = getattr(_polynomial.kernels, name)
    assert kernel.targetoptions.get("nogil") is True
    assert not kernel.targetoptions.get("fastmath", False)


def test_concurrent_transforms_equal_sequential_ones():
    rng = np.random.default_rng(0)
    jobs = []
    for seed, (basis, order, degree, dtype) in enumerate(
        itertools.product(
            ["monomial", "legendre"],
            ["C", "F"],
            [3, (2, 4)],
            [np.float64, np.float32],
        )
    ):
        X = rng.uniform(-1, 1, size=(500 + seed, 4)).astype(dtype)
        transformer = PolynomialFeatureMap(degree=degree, basis=basis, order=order)
        jobs.append((transformer.fit(X), X))
    expected = [transformer.transform(X) for transformer, X in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        # every job several times, interleaved across the threads
        futures = [pool.submit(transformer.transform, X) for transformer, X in jobs * 3]
        results = [future.result() for future in futures]
    for out, want in zip(results, expected * 3, strict=True):
        assert_array_equal(out, want, strict=True)
        assert out.flags.c_contiguous == want.flags.c_contiguous


def _record_kernel_calls(monkeypatch):
    """Record (thread, first row, end row) of each dense kernel call."""
    calls = []
    for name in ("polynomial_features", "monomial_rows"):
        kernel = getattr(_polynomial.kernels, name)

        def recording(X, row_start, row_stop, *args, _kernel=kernel):
            calls.append((threading.get_ident(), row_start, row_stop))
            return _kernel(X, row_start, row_stop, *args)

        monkeypatch.setattr(_polynomial.kernels, name, recording)
    return calls


@pytest.mark.parametrize(
    "params, shape",
    [
        (dict(degree=3), (3000, 10)),  # C, row by row
        (dict(degree=37), (20_000, 1)),  # C, in place, term by term
        (dict(degree=(2, 4)), (5000, 6)),  # C, through a buffer
        (dict(degree=37, order="F"), (20_000, 1)),  # F, in place
        (dict(degree=(2, 4), order="F"), (5000, 6)),  # F, through a buffer
        (dict(degree=5, basis="legendre"), (5000, 4)),
        (dict(degree=5, basis="chebyshev", order="F"), (5000, 4)),
    ],
)
def test_parallel_row_chunks_give_the_same_bits(params, shape, monkeypatch):
    X = np.random.default_rng(0).uniform(-1.5, 1.5, size=shape)
    transformer = PolynomialFeatureMap(**params).fit(X)
    monkeypatch.setattr(_polynomial, "_effective_n_threads", lambda: 1)
    calls = _record_kernel_calls(monkeypatch)
    sequential = transformer.transform(X)
    assert calls == [(threading.get_ident(), 0, shape[0])]
    monkeypatch.setattr(_polynomial, "_effective_n_threads", lambda: 3)
    calls.clear()
    parallel = transformer.transform(X)
    # three chunks of whole blocks that tile the rows: the calling thread
    # takes the first, other threads the others
    assert len(calls) == 3
    bounds = sorted((start, stop) for _, start, stop in calls)
    assert [b[0] for b in bounds] == [0] + [b[1] for b in bounds[:-1]]
    assert bounds[-1][1] == shape[0]
    threads = {start: thread for thread, start, _ in calls}
    assert threads.pop(0) == threading.get_ident()
    assert threading.get_ident() not in threads.values()
    assert_array_equal(parallel, sequential, strict=True)
    assert parallel.flags.f_contiguous == sequential.flags.f_contiguous
    if params.get("basis", "monomial") == "monomial":
        expected = PolynomialFeatures(**params).fit_transform(X)
        assert_array_equal(parallel, expected, strict=True)


def test_thread_count_follows_numba_and_threadpoolctl_limits(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X = np.random.default_rng(0).uniform(size=(20_000, 1))
    transformer = PolynomialFeatureMap(degree=37, order="F").fit(X)
    with threadpoolctl.threadpool_limits(limits=1):
        assert _polynomial._effective_n_threads() == 1
        calls = _record_kernel_calls(monkeypatch)
        limited = transformer.transform(X)
        assert calls == [(threading.get_ident(), 0, X.shape[0])]
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert _polynomial._effective_n_threads() == 1
    finally:
        numba.set_num_threads(previous)
    assert _polynomial._effective_n_threads() <= previous
    assert_array_equal(transformer.transform(X), limited, strict=True)


def test_small_tables_of_degree_starts_are_kept_within_bounds(monkeypatch):
    monkeypatch.setattr(_polynomial, "_kept_starts", {})
    kept = _polynomial._kept_starts
    for n_features in range(1, 40):
        starts = _polynomial._degree_starts(n_features, 3, False, 1)
        expected = _polynomial.kernels.degree_starts.py_func(n_features, 3, False, 1)
        assert_array_equal(starts, expected, strict=True)
        assert len(kept) <= _polynomial._KEPT_STARTS_TABLES
    assert all(t.size <= _polynomial._KEPT_STARTS_ENTRIES for t in kept.values())
    # a large table is built each time, never kept
    kept.clear()
    _polynomial._degree_starts(60, 4, False, 1)  # 5 x 61 entries
    assert kept == {}
    # a kept table is the one used again
    first = _polynomial._degree_starts(5, 2, True, 0)
    assert _polynomial._degree_starts(5, 2, True, 0) is first


def test_the_plans_of_small_maps_are_kept_within_bounds(monkeypatch):
    from sknonlin import _kernel_fallbacks

    monkeypatch.setattr(_kernel_fallbacks, "_kept_plans", {})
    kept = _kernel_fallbacks._kept_plans
    for n_features in range(1, 30):
        starts = _polynomial.kernels.degree_starts.py_func(n_features, 3, False, 1)
        plan = _kernel_fallbacks._row_plan(starts, False)
        assert len(kept) <= _kernel_fallbacks._KEPT_PLANS
        # every term of degree 2 and 3, once, in order
        columns = np.concatenate([np.arange(c.start, c.stop) for c, _, _ in plan])
        assert_array_equal(columns, np.arange(1 + n_features, starts[-1, -1]))
    assert all(
        sum(p.size + f.size for _, p, f in plan)
        <= 2 * _kernel_fallbacks._KEPT_PLAN_TERMS
        for plan in kept.values()
    )
    # the same table under another shape is another plan
    starts = _polynomial.kernels.degree_starts.py_func(2, 2, False, 1)
    plan = _kernel_fallbacks._row_plan(starts, False)
    assert _kernel_fallbacks._row_plan(starts, False) is plan
    assert _kernel_fallbacks._row_plan(starts.reshape(1, -1), False) is not plan
