"""Fitted estimators survive pickle, joblib and skops with identical predictions."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)


def _regression():
    return make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)


def _multi_output():
    X, y = make_regression(
        n_samples=120, n_features=4, n_targets=2, noise=1.0, random_state=0
    )
    return X, y


def _binary():
    X, y = load_digits(n_class=2, return_X_y=True)
    return X, np.where(y == 1, "one", "zero")


def _digits():
    return load_digits(return_X_y=True)


def _features():
    X, _ = _regression()
    return X, None


# (id, estimator, data); each estimator fitted with its main options
CASES = [
    ("poly-monomial", PolynomialFeatureMap(degree=3), _features),
    ("poly-legendre", PolynomialFeatureMap(degree=5, basis="legendre"), _features),
    (
        "poly-chebyshev-interaction",
        PolynomialFeatureMap(degree=(2, 3), basis="chebyshev", interaction_only=True),
        _features,
    ),
    (
        "two-layer-adam",
        TwoLayerReLURegressor(n_hidden=8, max_iter=20, random_state=0),
        _regression,
    ),
    (
        "two-layer-lbfgs-tanh",
        TwoLayerReLURegressor(
            n_hidden=8, solver="lbfgs", activation="tanh", max_iter=30, random_state=0
        ),
        _regression,
    ),
    (
        "two-layer-multi-output",
        TwoLayerReLURegressor(n_hidden=8, solver="sgd", max_iter=10, random_state=0),
        _multi_output,
    ),
    ("perceptron", Perceptron(random_state=0), _binary),
    ("perceptron-averaged", Perceptron(average=True, random_state=0), _binary),
    (
        "multiclass-averaged",
        MulticlassPerceptron(average=True, max_iter=5, random_state=0),
        _digits,
    ),
    ("multiclass", MulticlassPerceptron(max_iter=5, random_state=0), _digits),
]


def _outputs(estimator, X):
    if hasattr(estimator, "transform"):
        return [estimator.transform(X)]
    outputs = [estimator.predict(X)]
    if hasattr(estimator, "decision_function"):
        outputs.append(estimator.decision_function(X))
    return outputs


def _fitted(estimator, make_data):
    X, y = make_data()
    with warnings.catch_warnings():
        # short fits on purpose: convergence is not what is tested here
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, X


@pytest.mark.parametrize(
    "case_id, estimator, make_data", CASES, ids=[c[0] for c in CASES]
)
def test_pickle_and_joblib_round_trips(case_id, estimator, make_data, tmp_path):
    estimator, X = _fitted(estimator, make_data)
    expected = _outputs(estimator, X)

    restored = pickle.loads(pickle.dumps(estimator))
    for before, after in zip(expected, _outputs(restored, X), strict=True):
        assert_array_equal(before, after)

    path = tmp_path / "model.joblib"
    joblib.dump(estimator, path)
    for before, after in zip(expected, _outputs(joblib.load(path), X), strict=True):
        assert_array_equal(before, after)


@pytest.mark.parametrize(
    "case_id, estimator, make_data", CASES, ids=[c[0] for c in CASES]
)
def test_skops_round_trip_trusts_only_package_types(
    case_id, estimator, make_data, tmp_path
):
    sio = pytest.importorskip("skops.io")
    estimator, X = _fitted(estimator, make_data)
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    # the documented list: the package's own estimator class, nothing else
    assert untrusted == [f"{type(estimator).__module__}.{type(estimator).__name__}"]
    restored = sio.load(path, trusted=untrusted)
    for before, after in zip(
        _outputs(estimator, X), _outputs(restored, X), strict=True
    ):
        assert_array_equal(before, after)
