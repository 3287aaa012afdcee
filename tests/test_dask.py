"""Scaling out with dask: grid search on a cluster, out-of-core training."""

import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")


def _grid_search():
    pipe = make_pipeline(
        StandardScaler(),
        PolynomialFeatureMap(),
        TwoLayerReLURegressor(solver="lbfgs", max_iter=50, random_state=0),
    )
    grid = {
        "polynomialfeaturemap__degree": [1, 2],
        "twolayerreluregressor__n_hidden": [4, 16],
    }
    return GridSearchCV(
        pipe, grid, cv=KFold(3, shuffle=True, random_state=0), n_jobs=-1
    )


def test_grid_search_on_a_local_cluster_equals_serial():
    X, y = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        # 50 lbfgs iterations per fit keep the search fast; some fits stop
        # at max_iter, which is not what is tested
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = _grid_search().set_params(n_jobs=None).fit(X, y)
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            with joblib.parallel_config(backend="dask"):
                on_cluster = _grid_search().fit(X, y)
            # the work ran on the two worker processes
            assert len(client.scheduler_info()["workers"]) == 2
    assert_allclose(
        on_cluster.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert on_cluster.best_params_ == serial.best_params_


def _blocks(X, y, n_blocks):
    size = -(-X.shape[0] // n_blocks)
    return da.from_array(X, chunks=(size, X.shape[1])), da.from_array(y, chunks=size)


@pytest.mark.parametrize("estimator_class", [Perceptron, MulticlassPerceptron])
def test_incremental_perceptrons_equal_partial_fit_per_block(estimator_class):
    X, y = load_digits(return_X_y=True)
    if estimator_class is Perceptron:
        y = (y >= 5).astype(int)
    classes = np.unique(y)
    X_dask, y_dask = _blocks(X, y, 4)
    model = dask_ml_wrappers.Incremental(
        estimator_class(random_state=0), scoring="accuracy", shuffle_blocks=False
    )
    model.fit(X_dask, y_dask, classes=classes)

    expected = estimator_class(random_state=0)
    for X_block, y_block in zip(
        X_dask.to_delayed().ravel(), y_dask.to_delayed().ravel(), strict=True
    ):
        expected.partial_fit(X_block.compute(), y_block.compute(), classes=classes)
    assert_array_equal(model.estimator_.coef_, expected.coef_)
    assert_array_equal(model.estimator_.intercept_, expected.intercept_)
    assert model.score(X_dask, y_dask) == pytest.approx(expected.score(X, y))


def test_incremental_two_layer_regressor_with_scoring():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_dask, y_dask = _blocks(X, y, 4)
    regressor = TwoLayerReLURegressor(n_hidden=16, solver="adam", random_state=0)
    # dask-ml's own "r2" fails on dask arrays of unknown chunk sizes: see the
    # "Scaling out" page for what works
    model = dask_ml_wrappers.Incremental(
        regressor, scoring="neg_mean_squared_error", shuffle_blocks=False
    ).fit(X_dask, y_dask)

    expected = TwoLayerReLURegressor(n_hidden=16, solver="adam", random_state=0)
    for X_block, y_block in zip(
        X_dask.to_delayed().ravel(), y_dask.to_delayed().ravel(), strict=True
    ):
        expected.partial_fit(X_block.compute(), y_block.compute())
    assert_allclose(model.estimator_.W1_, expected.W1_, rtol=1e-12)
    assert_allclose(model.predict(X_dask).compute(), expected.predict(X), rtol=1e-10)
    expected_mse = np.mean((expected.predict(X) - y) ** 2)
    assert model.score(X_dask, y_dask) == pytest.approx(-expected_mse)


def test_parallel_post_fit_transform_and_predict():
    X, y = load_diabetes(return_X_y=True)
    X_dask = da.from_array(X, chunks=(100, X.shape[1]))

    poly = dask_ml_wrappers.ParallelPostFit(PolynomialFeatureMap(degree=2)).fit(X)
    lazy = poly.transform(X_dask)
    assert isinstance(lazy, da.Array)
    expected = PolynomialFeatureMap(degree=2).fit_transform(X)
    assert_array_equal(lazy.compute(), expected)
    # the documented way to keep the right shape lazily
    fitted = poly.estimator
    mapped = X_dask.map_blocks(
        fitted.transform,
        chunks=(X_dask.chunks[0], (fitted.n_output_features_,)),
        dtype=X_dask.dtype,
    )
    assert mapped.shape == expected.shape
    assert_array_equal(mapped.compute(), expected)

    regressor = TwoLayerReLURegressor(n_hidden=8, max_iter=20, random_state=0)
    # twenty epochs, stopped by max_iter: the warning is expected
    with pytest.warns(ConvergenceWarning, match="max_iter=20"):
        model = dask_ml_wrappers.ParallelPostFit(regressor).fit(X, y)
    assert_array_equal(model.predict(X_dask).compute(), model.estimator.predict(X))
