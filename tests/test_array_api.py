"""Array API inputs (array-api-strict here; PyTorch and CuPy where installed)."""

import numpy as np
import pytest
import sklearn
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils._array_api import yield_namespace_device_dtype_combinations
from sklearn.utils._testing import _array_api_for_tests
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_input_and_values,
)

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
)
from sknonlin import _polynomial_array_api as poly_array_api

xps = pytest.importorskip("array_api_strict")

DISPATCH = {"array_api_dispatch": True}


def to_numpy(array):
    """A NumPy copy of an array of any namespace and device."""
    if hasattr(array, "cpu"):  # torch
        array = array.cpu()
    if hasattr(array, "get"):  # cupy
        return array.get()
    return np.array(np.from_dlpack(array), copy=True)


def namespace_name(array):
    return type(array).__module__.split(".")[0]


@pytest.fixture
def strict_device():
    # array-api-strict's second device: results must stay there
    return xps.Device("device1")


# --------------------------------------------------------------------- the map


POLY_PARAMS = [
    {"degree": 3},
    {"degree": (2, 3)},
    {"degree": (2, 3), "include_bias": False},
    {"degree": 1, "include_bias": False},
    {"degree": 0},
    {"degree": 4, "interaction_only": True},
    {"degree": (3, 4), "interaction_only": True, "include_bias": False},
    {"degree": 3, "order": "F"},
    {"degree": (2, 3), "order": "F"},
    {"degree": (2, 3), "order": "F", "include_bias": False},
]


@pytest.mark.parametrize("basis", ["monomial", "legendre", "chebyshev"])
@pytest.mark.parametrize("params", POLY_PARAMS, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_map_equals_numpy_path_bit_for_bit(basis, params, dtype, strict_device):
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(40, 3)).astype(dtype)
    # outside the training range too, where the orthogonal factors exceed 1
    X = (1.5 * rng.normal(size=(70, 3))).astype(dtype)
    expected = PolynomialFeatureMap(basis=basis, **params).fit(X_train).transform(X)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis=basis, **params)
        est.fit(xps.asarray(X_train, device=strict_device))
        out = est.transform(xps.asarray(X, device=strict_device))
    assert namespace_name(out) == "array_api_strict"
    assert out.device == strict_device
    assert out.dtype == (xps.float64 if dtype == np.float64 else xps.float32)
    result = to_numpy(out)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected, strict=True)


def test_map_hand_built_one_feature():
    x = np.array([[-2.0], [0.5], [3.0]])
    expected = np.hstack([np.ones_like(x), x, x**2, x**3])
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=3).fit_transform(xps.asarray(x))
    np.testing.assert_array_equal(to_numpy(out), expected)


def test_map_hand_built_legendre_two_features():
    # the training range of each feature is [-1, 1], so t = x
    X = np.array([[-1.0, 1.0], [1.0, -1.0], [0.5, 0.25]])
    t0, t1 = X[:, :1], X[:, 1:]

    def p2(t):
        return (3 * t**2 - 1) / 2

    expected = np.hstack(
        [np.ones_like(t0), t0, t1, p2(t0), t0 * t1, p2(t1)],
    )
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=2, basis="legendre").fit_transform(
            xps.asarray(X)
        )
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(
    "params",
    [{"degree": 3}, {"degree": (2, 3), "include_bias": False}, {"degree": 2}],
    ids=str,
)
def test_map_equals_scikit_learn_array_api(params):
    # scikit-learn's PolynomialFeatures with dispatch on is the reference
    X = xps.asarray(np.random.default_rng(1).normal(size=(25, 4)))
    with sklearn.config_context(**DISPATCH):
        expected = PolynomialFeatures(**params).fit_transform(X)
        out = PolynomialFeatureMap(**params).fit_transform(X)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(expected))


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_range_map_lives_in_the_namespace(basis, strict_device):
    X = np.array([[0.0, -3.0], [2.0, 5.0], [1.0, 1.0]], dtype=np.float32)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis=basis).fit(
            xps.asarray(X, device=strict_device)
        )
    for name, expected in (("data_min_", [0.0, -3.0]), ("data_max_", [2.0, 5.0])):
        value = getattr(est, name)
        assert namespace_name(value) == "array_api_strict"
        assert value.device == strict_device
        assert value.dtype == xps.float32
        np.testing.assert_array_equal(to_numpy(value), expected)


def test_numpy_input_takes_the_compiled_path(monkeypatch):
    X = np.random.default_rng(2).normal(size=(30, 3))
    expected = PolynomialFeatureMap(degree=3, basis="legendre").fit(X).transform(X)

    def fail(*args, **kwargs):
        raise AssertionError("NumPy input reached the array API path")

    monkeypatch.setattr(poly_array_api, "transform", fail)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(degree=3, basis="legendre").fit(X)
        out = est.transform(X)
    assert isinstance(out, np.ndarray)
    assert isinstance(est.data_min_, np.ndarray)
    np.testing.assert_array_equal(out, expected, strict=True)


def test_transform_in_another_namespace_is_refused():
    X = np.random.default_rng(3).normal(size=(10, 2))
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap().fit(xps.asarray(X))
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.transform(X)
    with pytest.raises(ValueError, match="array_api_dispatch=True"):
        est.transform(X)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap().fit(X)
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.transform(xps.asarray(X))


def test_refit_on_numpy_forgets_the_namespace():
    X = np.random.default_rng(4).normal(size=(10, 2))
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis="chebyshev").fit(xps.asarray(X))
        est.fit(X)
        out = est.transform(X)
    assert isinstance(est.data_min_, np.ndarray)
    np.testing.assert_array_equal(
        out, PolynomialFeatureMap(basis="chebyshev").fit(X).transform(X)
    )


def test_map_errors_on_array_api_input():
    X = xps.asarray(np.ones((5, 2)))
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match="min_degree <= max_degree"):
            PolynomialFeatureMap(degree=(3, 1)).fit(X)
        est = PolynomialFeatureMap().fit(X)
        with pytest.raises(ValueError, match="features"):
            est.transform(xps.asarray(np.ones((5, 3))))
        bad = np.ones((5, 2))
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            est.transform(xps.asarray(bad))


def test_failed_fit_leaves_the_estimator_as_it_was():
    X = np.array([[0.0, 1.0], [2.0, 4.0]])
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis="legendre").fit(xps.asarray(X))
        before = dict(vars(est))
        bad = np.ones((3, 5))
        bad[1, 1] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            est.fit(xps.asarray(bad))
    assert vars(est).keys() == before.keys()
    for name, value in before.items():
        assert vars(est)[name] is value


def test_input_is_not_modified():
    X_np = np.random.default_rng(5).normal(size=(12, 3))
    X = xps.asarray(X_np, copy=True)
    with sklearn.config_context(**DISPATCH):
        PolynomialFeatureMap(degree=3, basis="legendre").fit(X).transform(X)
    np.testing.assert_array_equal(to_numpy(X), X_np)


def test_overflow_warns_like_the_numpy_path():
    X = np.array([[1e20, 1.0], [2.0, 3.0]], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflowed"):
        PolynomialFeatureMap(degree=3).fit_transform(X)
    with sklearn.config_context(**DISPATCH):
        with pytest.warns(RuntimeWarning, match="overflowed"):
            PolynomialFeatureMap(degree=3).fit_transform(xps.asarray(X))


def _poly_estimators():
    for basis in ("monomial", "legendre"):
        yield PolynomialFeatureMap(degree=3, basis=basis)
    yield PolynomialFeatureMap(degree=(2, 3), include_bias=False, order="F")


@pytest.mark.parametrize(
    "array_namespace, device_name, dtype_name",
    list(yield_namespace_device_dtype_combinations()),
)
@pytest.mark.parametrize(
    "check", [check_array_api_input, check_array_api_input_and_values]
)
@pytest.mark.parametrize("estimator", list(_poly_estimators()), ids=repr)
def test_scikit_learn_array_api_checks(
    estimator, check, array_namespace, device_name, dtype_name
):
    check(
        type(estimator).__name__,
        estimator,
        array_namespace=array_namespace,
        device_name=device_name,
        dtype_name=dtype_name,
    )


@pytest.mark.parametrize("device_name", ["cpu", "cuda"])
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
def test_map_on_torch(device_name, basis):
    xp, device = _array_api_for_tests("torch", device_name, "float32")
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    expected = PolynomialFeatureMap(degree=4, basis=basis).fit(X).transform(X)
    X_xp = xp.asarray(X, device=device)
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=4, basis=basis).fit_transform(X_xp)
    assert out.device == X_xp.device
    np.testing.assert_array_equal(to_numpy(out), expected, strict=True)


# ------------------------------------------------------------ the perceptrons


@pytest.mark.parametrize("Estimator", [Perceptron, MulticlassPerceptron])
def test_perceptrons_refuse_array_api_input(Estimator):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)  # separable: the fits converge
    with sklearn.config_context(**DISPATCH):
        est = Estimator()
        with pytest.raises(ValueError, match="does not support array API inputs"):
            est.fit(xps.asarray(X), y)
        assert not hasattr(est, "coef_")
        with pytest.raises(ValueError, match="y is a array_api_strict array"):
            est.fit(X, xps.asarray(y))
        with pytest.raises(ValueError, match="sample_weight is a array_api_strict"):
            est.fit(X, y, sample_weight=xps.asarray(np.ones(20)))
        with pytest.raises(ValueError, match="does not support array API inputs"):
            est.partial_fit(xps.asarray(X), y, classes=[0, 1])
        est.fit(X, y)  # NumPy input still works with dispatch on
        for method in (est.predict, est.decision_function):
            with pytest.raises(ValueError, match="does not support array API"):
                method(xps.asarray(X))
        with pytest.raises(ValueError, match="does not support array API"):
            est.score(xps.asarray(X), y)
        np.testing.assert_array_equal(est.predict(X), Estimator().fit(X, y).predict(X))
