"""The estimators as citizens of the scikit-learn ecosystem.

Metadata routing, callbacks and verbose progress, output containers and
feature names through pipelines, and links from the HTML representation.
"""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)
from sknonlin.utils import all_estimators

_CALLBACKS = "callbacks (set_callbacks, ProgressBar, ScoringMonitor)"

# -- metadata routing ----------------------------------------------------------


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _weights(n_samples):
    return np.random.default_rng(0).uniform(0.1, 3.0, size=n_samples)


def _weighted_pipeline(degree=2):
    regressor = TwoLayerReLURegressor(
        n_hidden=8, solver="lbfgs", max_iter=40, random_state=0
    )
    return make_pipeline(
        StandardScaler().set_fit_request(sample_weight=False),
        PolynomialFeatureMap(degree=degree),
        regressor.set_fit_request(sample_weight=True).set_score_request(
            sample_weight=True
        ),
    )


@pytest.mark.requires_sklearn(
    "1.8", reason="a grid search routes sample_weight to Pipeline.score"
)
def test_sample_weight_is_routed_through_pipeline_and_grid_search(routing):
    X, y = load_diabetes(return_X_y=True)
    sample_weight = _weights(X.shape[0])
    search = GridSearchCV(
        _weighted_pipeline(),
        {"polynomialfeaturemap__degree": [1, 2]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings():
        # short lbfgs fits keep the test fast; routing is tested, not convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y, sample_weight=sample_weight)
        degree = search.best_params_["polynomialfeaturemap__degree"]
        # the refit saw the weights: it equals a direct weighted fit
        direct = _weighted_pipeline(degree).fit(X, y, sample_weight=sample_weight)
        unweighted = _weighted_pipeline(degree).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert_allclose(search.best_estimator_[-1].W1_, direct[-1].W1_)
    assert not np.allclose(unweighted[-1].W1_, direct[-1].W1_)


@pytest.mark.parametrize("estimator_class", [Perceptron, MulticlassPerceptron])
def test_sample_weight_is_routed_to_the_perceptrons(routing, estimator_class):
    X, y = load_digits(n_class=3, return_X_y=True)
    if estimator_class is Perceptron:
        y = (y == 2).astype(int)
    sample_weight = _weights(X.shape[0])
    classifier = estimator_class(random_state=0).set_fit_request(sample_weight=True)
    scaler = StandardScaler().set_fit_request(sample_weight=False)
    pipe = make_pipeline(scaler, classifier).fit(X, y, sample_weight=sample_weight)
    direct = estimator_class(random_state=0).fit(
        StandardScaler().fit_transform(X), y, sample_weight=sample_weight
    )
    assert_array_equal(pipe[-1].coef_, direct.coef_)


def test_unrequested_sample_weight_is_an_error(routing):
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(PolynomialFeatureMap(), TwoLayerReLURegressor())
    with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
        pipe.fit(X, y, sample_weight=_weights(X.shape[0]))


# -- progress ------------------------------------------------------------------


def _iterative_cases():
    X_reg, y_reg = load_diabetes(return_X_y=True)
    X_reg = StandardScaler().fit_transform(X_reg)
    X_clf, y_clf = load_digits(n_class=3, return_X_y=True)
    return [
        (TwoLayerReLURegressor(n_hidden=8, max_iter=5, random_state=0), X_reg, y_reg),
        (
            TwoLayerReLURegressor(n_hidden=8, solver="gd", max_iter=5, random_state=0),
            X_reg,
            y_reg,
        ),
        (Perceptron(max_iter=3, random_state=0), X_clf, (y_clf == 2).astype(int)),
        (MulticlassPerceptron(max_iter=3, random_state=0), X_clf, y_clf),
    ]


@pytest.mark.parametrize(
    "estimator, X, y", _iterative_cases(), ids=lambda v: type(v).__name__
)
def test_verbose_prints_one_line_per_epoch(estimator, X, y, capsys):
    with warnings.catch_warnings():
        # a few epochs to count, stopped by max_iter on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_params(verbose=1).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if line.startswith("Epoch")]
    assert len(lines) == estimator.n_iter_
    word = "loss" if isinstance(estimator, TwoLayerReLURegressor) else "mistakes"
    assert word in lines[-1]


@pytest.mark.requires_sklearn("1.9", reason=_CALLBACKS)
@pytest.mark.parametrize(
    "estimator, X, y", _iterative_cases(), ids=lambda v: type(v).__name__
)
def test_scoring_monitor_sees_every_epoch(estimator, X, y):
    from sklearn.callback import ScoringMonitor

    scoring = "r2" if isinstance(estimator, TwoLayerReLURegressor) else "accuracy"
    monitor = ScoringMonitor(scoring=scoring)
    with warnings.catch_warnings():
        # a few epochs to score, stopped by max_iter on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    assert len(rows) == estimator.n_iter_
    assert [row["task_name"] for row in rows][-1] == f"epoch {estimator.n_iter_}"
    # the last epoch's score is the fitted estimator's score
    assert rows[-1][scoring] == pytest.approx(estimator.score(X, y), rel=1e-6)


@pytest.mark.requires_sklearn("1.9", reason=_CALLBACKS)
def test_progress_bar_runs_through_a_fit():
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    regressor = TwoLayerReLURegressor(n_hidden=8, max_iter=5, random_state=0)
    # five epochs, stopped by max_iter: the warning is expected
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        regressor.set_callbacks(ProgressBar()).fit(X, y)
    plain = TwoLayerReLURegressor(n_hidden=8, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        plain.fit(X, y)
    # watching a fit does not change it
    assert_array_equal(regressor.W1_, plain.W1_)


# -- output containers and names -------------------------------------------------


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_set_output_through_a_pipeline(library):
    lib = pytest.importorskip(library)
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X = X.iloc[:, :3]
    features = make_pipeline(StandardScaler(), PolynomialFeatureMap(degree=2))
    features.set_output(transform=library)
    out = features.fit_transform(X)
    assert isinstance(out, lib.DataFrame)
    names = list(features.get_feature_names_out())
    assert list(out.columns) == names
    assert names[:4] == ["1", "age", "sex", "bmi"]
    assert "age bmi" in names and "bmi^2" in names

    model = make_pipeline(
        StandardScaler(),
        PolynomialFeatureMap(degree=2),
        TwoLayerReLURegressor(n_hidden=4, solver="lbfgs", max_iter=20, random_state=0),
    ).set_output(transform=library)
    with warnings.catch_warnings():
        # a short fit: the output containers are tested, not convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert list(model[:-1].get_feature_names_out()) == names
    assert model.predict(X).shape == (X.shape[0],)


# -- notebooks -----------------------------------------------------------------


@pytest.mark.parametrize("name, estimator_class", all_estimators())
def test_html_repr_links_to_the_api_page(name, estimator_class):
    estimator = estimator_class()
    link = estimator._get_doc_link()
    assert link.endswith(f"sknonlin.{name}.html")
    assert link in estimator._repr_html_()


@pytest.mark.requires_sklearn("1.9", reason=_CALLBACKS)
def test_progress_bar_propagates_from_a_grid_search(capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def search():
        regressor = TwoLayerReLURegressor(max_iter=3, random_state=0)
        return GridSearchCV(regressor, {"n_hidden": [4, 8]}, cv=2)

    with warnings.catch_warnings():
        # three epochs per fit keep the search fast; convergence is not tested
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = search().fit(X, y)
        capsys.readouterr()
        watched = search().set_callbacks(ProgressBar()).fit(X, y)
    # the bar reached the networks fitted inside the search
    assert "TwoLayerReLURegressor" in capsys.readouterr().out
    assert_array_equal(
        watched.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
