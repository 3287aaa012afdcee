"""ONNX export: onnxruntime on the converted graphs agrees with the estimators.

Each fitted estimator (alone, and in pipelines with scikit-learn steps) is
converted with ``skl2onnx.to_onnx`` and run with onnxruntime. Its outputs must
equal ``transform``/``predict``/``decision_function`` within a few roundings of
the input's dtype, relative to the largest magnitude of each output column,
and its labels must be the same except where the scores tie.
"""

import functools
import importlib
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
sknonlin_onnx = importlib.import_module("sknonlin.onnx")

DTYPES = [np.float32, np.float64]
BASES = ["monomial", "legendre", "chebyshev"]
# Roundings of the dtype allowed between onnxruntime and the estimator,
# relative to the scale of each output column.
ROUNDINGS = 32

X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_CANCER, Y_CANCER = load_breast_cancer(return_X_y=True)
X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)


def run(model, X, **kwargs):
    """Convert ``model`` for inputs like ``X`` and run the graph on ``X``."""
    onx = skl2onnx.to_onnx(model, X[:1], **kwargs)
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def deviation(actual, expected):
    """Largest ``|actual - expected|`` over its column's largest ``|expected|``."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    expected = expected.reshape(expected.shape[0], -1)
    actual = actual.reshape(expected.shape)
    scale = np.abs(expected).max(axis=0)
    scale[scale == 0] = 1
    return float((np.abs(actual - expected) / scale).max(initial=0))


def assert_close(actual, expected, dtype):
    """Within ``ROUNDINGS`` roundings of ``dtype`` relative to each column's scale."""
    assert actual.dtype == dtype
    assert actual.shape[0] == expected.shape[0]
    assert actual.size == expected.size
    assert deviation(actual, expected) <= ROUNDINGS * np.finfo(dtype).eps


def assert_same_labels(labels, classifier, X, dtype):
    """Labels equal ``predict`` except where the best two scores tie to rounding."""
    expected = classifier.predict(X)
    scores = classifier.decision_function(X)
    if scores.ndim == 1:
        margin = np.abs(scores)
    else:
        best_two = np.sort(scores, axis=1)[:, -2:]
        margin = best_two[:, 1] - best_two[:, 0]
    tie = margin <= ROUNDINGS * np.finfo(dtype).eps * np.abs(scores).max()
    differ = labels != expected
    assert not np.any(differ & ~tie)


# -- PolynomialFeatureMap ----------------------------------------------------

POLY_OPTIONS = [
    {"degree": degree, "interaction_only": interaction_only, "include_bias": bias}
    for degree in (1, 2, 3, (2, 3), (0, 2), (3, 3))
    for interaction_only in (False, True)
    for bias in (True, False)
] + [{"degree": 0}, {"degree": (0, 0)}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("params", POLY_OPTIONS, ids=str)
def test_polynomial_feature_map_equals_transform(params, basis, dtype):
    X = X_DIABETES.astype(dtype)
    poly = PolynomialFeatureMap(basis=basis, **params).fit(X)
    (features,) = run(poly, X)
    expected = poly.transform(X)
    assert features.shape == expected.shape
    assert_close(features, expected, dtype)
    if basis == "monomial":
        # The graph makes the same products as PolynomialFeatures, to the bit.
        reference = PolynomialFeatures(**params).fit_transform(X)
        assert_array_equal(features, reference)


@pytest.mark.parametrize("basis", BASES)
def test_polynomial_feature_map_order_f(basis):
    # Memory order does not exist in ONNX tensors; the values are the same.
    X = X_DIABETES[:50]
    poly = PolynomialFeatureMap(degree=3, order="F", basis=basis).fit(X)
    assert_close(run(poly, X)[0], poly.transform(X), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("include_bias", [True, False])
def test_polynomial_feature_map_one_feature(include_bias, dtype):
    X = X_DIABETES[:, [2]].astype(dtype)
    poly = PolynomialFeatureMap(degree=6, include_bias=include_bias).fit(X)
    reference = PolynomialFeatures(degree=6, include_bias=include_bias)
    assert_array_equal(run(poly, X)[0], reference.fit_transform(X))


def test_polynomial_feature_map_by_hand():
    x = np.array([[0.0, 1.0], [2.0, 3.0], [-1.0, 0.5]])
    (features,) = run(PolynomialFeatureMap(degree=2).fit(x), x)
    x0, x1 = x[:, :1], x[:, 1:]
    expected = np.hstack([np.ones_like(x0), x0, x1, x0**2, x0 * x1, x1**2])
    assert_allclose(features, expected, rtol=0, atol=0)


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_orthogonal_bases_by_hand(basis):
    # One feature on [-1, 3]: t = (x - 1) / 2. A constant second feature
    # maps to t = 0.
    x = np.array([[-1.0, 5.0], [0.0, 5.0], [2.5, 5.0], [3.0, 5.0]])
    poly = PolynomialFeatureMap(degree=3, basis=basis).fit(x)
    (features,) = run(poly, x)
    t = (x[:, 0] - 1) / 2
    if basis == "legendre":
        expected = [(3 * t**2 - 1) / 2, (5 * t**3 - 3 * t) / 2]
    else:
        expected = [2 * t**2 - 1, 4 * t**3 - 3 * t]
    # columns of x0 alone: 1, t, P2(t), P3(t) at the powers (0,0) .. (3,0)
    powers = poly.powers_.tolist()
    pure = [powers.index([p, 0]) for p in range(4)]
    assert_allclose(
        features[:, pure], np.column_stack([np.ones(4), t, *expected]), atol=1e-15
    )
    # every term with a power of the constant feature is P_p(0) times the rest
    p_at_zero = {0: 1.0, 1: 0.0, 2: -0.5 if basis == "legendre" else -1.0, 3: 0.0}
    for j, (p0, p1) in enumerate(powers):
        if p1:
            assert_allclose(
                features[:, j], features[:, powers.index([p0, 0])] * p_at_zero[p1]
            )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_degree_37_fit(basis, dtype):
    # A univariate polynomial fit of degree 37, the lecture's example.
    X = X_DIABETES[:, [2]].astype(dtype)
    model = make_pipeline(
        PolynomialFeatureMap(degree=37, basis=basis), Ridge(alpha=1e-3)
    ).fit(X, Y_DIABETES)
    poly = model[0]
    assert_close(run(poly, X)[0], poly.transform(X), dtype)
    (predictions,) = run(model, X)
    assert_close(predictions, model.predict(X), dtype)


@pytest.mark.parametrize("fit_dtype", DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_scaler_polynomial_ridge_pipeline(dtype, fit_dtype):
    model = make_pipeline(StandardScaler(), PolynomialFeatureMap(degree=3), Ridge())
    model.fit(X_DIABETES.astype(fit_dtype), Y_DIABETES)
    X = X_DIABETES.astype(dtype)
    (predictions,) = run(model, X)
    assert predictions.shape == (X.shape[0], 1)
    assert_close(predictions, model.predict(X), dtype)


# -- TwoLayerReLURegressor ---------------------------------------------------


@functools.cache
def fitted_network(activation, dtype, n_outputs):
    X = StandardScaler().fit_transform(X_DIABETES).astype(dtype)
    y = Y_DIABETES if n_outputs == 1 else np.c_[Y_DIABETES, np.sqrt(Y_DIABETES)]
    net = TwoLayerReLURegressor(
        n_hidden=16, activation=activation, solver="lbfgs", max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        # A few iterations give weights of every sign; convergence is not
        # what is tested here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return net.fit(X, y), X


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_two_layer_regressor_equals_predict(activation, n_outputs, dtype):
    net, X = fitted_network(activation, dtype, n_outputs)
    (predictions,) = run(net, X)
    assert predictions.shape == (X.shape[0], n_outputs)
    expected = net.predict(X)
    # predictions are in the target's units (its mean is about 152)
    assert abs(predictions[:, 0].mean() - Y_DIABETES.mean()) < 0.2 * Y_DIABETES.std()
    assert_close(predictions, expected, dtype)


def test_two_layer_regressor_float32_input_of_float64_fit():
    net, X = fitted_network("relu", np.float64, 1)
    X32 = X.astype(np.float32)
    (predictions,) = run(net, X32)
    assert_close(predictions, net.predict(X32).astype(np.float32), np.float32)


# -- Perceptron and MulticlassPerceptron -------------------------------------


def fit_quietly(classifier, X, y):
    """Fit with a fixed shuffle; classifiers may be the last step of a pipeline."""
    estimator = classifier[-1] if hasattr(classifier, "steps") else classifier
    estimator.set_params(random_state=0)
    with warnings.catch_warnings():
        # The data sets are not linearly separable: the fit stops at max_iter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier.fit(X, y)


def check_classifier(classifier, X, dtype):
    labels, scores = run(classifier, X)
    assert_close(scores, classifier.decision_function(X), dtype)
    assert scores.shape == classifier.decision_function(X).shape
    assert_same_labels(labels, classifier, X, dtype)
    return labels


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("names", [None, ["malignant", "benign"]])
def test_perceptron(names, average, dtype):
    X = StandardScaler().fit_transform(X_CANCER).astype(dtype)
    y = Y_CANCER if names is None else np.asarray(names)[Y_CANCER]
    clf = fit_quietly(Perceptron(average=average, max_iter=20), X, y)
    labels = check_classifier(clf, X, dtype)
    assert set(labels) == set(clf.classes_)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("names", [None, ["setosa", "versicolor", "virginica"]])
def test_multiclass_perceptron(names, average, dtype):
    X = X_IRIS.astype(dtype)
    y = Y_IRIS if names is None else np.asarray(names)[Y_IRIS]
    clf = fit_quietly(MulticlassPerceptron(average=average, max_iter=20), X, y)
    labels = check_classifier(clf, X, dtype)
    assert set(labels) == set(clf.classes_)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multiclass_perceptron_on_digits_same_labels(dtype):
    # Integer pixels and unit updates keep every score an exact integer in
    # both dtypes, so the labels must agree everywhere, ties included.
    X = X_DIGITS.astype(dtype)
    clf = fit_quietly(MulticlassPerceptron(max_iter=5), X, Y_DIGITS)
    labels, scores = run(clf, X)
    assert_array_equal(scores, clf.decision_function(X))
    assert_array_equal(labels, clf.predict(X))


@pytest.mark.parametrize(
    "labels", [[0.0, 2.0], [False, True], ["no", "yes"], [-7, 3]], ids=str
)
@pytest.mark.parametrize("average", [False, True])
def test_two_class_multiclass_perceptron(labels, average):
    X = StandardScaler().fit_transform(X_CANCER)
    y = np.asarray(labels)[Y_CANCER]
    clf = fit_quietly(MulticlassPerceptron(average=average, max_iter=20), X, y)
    predicted = check_classifier(clf, X, np.float64)
    assert predicted.shape == (X.shape[0],)
    assert predicted.dtype.kind == (
        "O" if isinstance(labels[0], str) else np.asarray(labels).dtype.kind
    )


@pytest.mark.parametrize(
    "classifier, y",
    [
        (Perceptron(fit_intercept=False), Y_CANCER),
        (MulticlassPerceptron(fit_intercept=False), Y_CANCER),
        (MulticlassPerceptron(fit_intercept=False), Y_IRIS),
    ],
    ids=["binary", "multiclass-2", "multiclass-3"],
)
def test_exact_ties_go_to_the_first_class(classifier, y):
    X = X_CANCER if y is Y_CANCER else X_IRIS
    clf = fit_quietly(classifier, X, np.array(["b", "c", "a"])[y])
    # Without an intercept, a zero sample scores 0 for every class.
    zero = np.zeros((2, X.shape[1]))
    labels, _ = run(clf, zero)
    assert_array_equal(labels, clf.predict(zero))
    assert_array_equal(labels, [clf.classes_[0]] * 2)


def test_classifier_pipeline_with_strings():
    y = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
    model = make_pipeline(
        StandardScaler(), PolynomialFeatureMap(degree=2), MulticlassPerceptron()
    )
    fit_quietly(model, X_IRIS, y)
    for zipmap in (True, False):
        onx = skl2onnx.to_onnx(model, X_IRIS[:1], options={"zipmap": zipmap})
        assert [output.name for output in onx.graph.output] == ["label", "scores"]
    labels, scores = run(model, X_IRIS)
    assert_close(scores, model.decision_function(X_IRIS), np.float64)
    assert_same_labels(labels, model, X_IRIS, np.float64)


# -- column transformers and other inputs ------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_column_transformer(dtype):
    columns = ColumnTransformer(
        [
            ("poly", PolynomialFeatureMap(degree=3, basis="legendre"), [0, 2, 3]),
            ("scale", StandardScaler(), [1, 4, 5, 6, 7, 8, 9]),
        ]
    )
    net = TwoLayerReLURegressor(solver="lbfgs", max_iter=30, random_state=0)
    X = X_DIABETES.astype(dtype)
    model = make_pipeline(columns, StandardScaler(), net)
    with warnings.catch_warnings():
        # convergence is not what is tested here
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y_DIABETES)
    (predictions,) = run(model, X)
    assert_close(predictions, model.predict(X), dtype)


def test_column_transformer_with_classifier():
    columns = ColumnTransformer(
        [
            ("poly", PolynomialFeatureMap(degree=2), [0, 1]),
            ("keep", "passthrough", [2, 3]),
        ]
    )
    model = make_pipeline(columns, Perceptron(max_iter=20))
    fit_quietly(model, X_IRIS, np.where(Y_IRIS == 1, "versicolor", "other"))
    labels, scores = run(model, X_IRIS)
    assert_close(scores, model.decision_function(X_IRIS), np.float64)
    assert_same_labels(labels, model, X_IRIS, np.float64)


def test_data_frame_input():
    # skl2onnx makes one input per column of a data frame.
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_DIABETES[:, :4], columns=["age", "sex", "bmi", "bp"])
    poly = PolynomialFeatureMap(degree=2, basis="chebyshev").fit(frame)
    onx = skl2onnx.to_onnx(poly, frame[:1])
    session = ort.InferenceSession(onx.SerializeToString())
    (features,) = session.run(None, {c: frame[[c]].to_numpy() for c in frame})
    assert_close(features, poly.transform(frame), np.float64)


def test_integer_input_computes_in_float64():
    X = np.round(X_DIABETES * 100).astype(np.int64)
    poly = PolynomialFeatureMap(degree=2).fit(X)
    (features,) = run(poly, X)
    assert_array_equal(features, poly.transform(X))
    assert features.dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES)
def test_oldest_opset(dtype):
    X = X_IRIS.astype(dtype)
    models = [
        PolynomialFeatureMap(degree=3, basis="legendre").fit(X),
        fitted_network("tanh", dtype, 1)[0],
        fit_quietly(Perceptron(), X, Y_IRIS == 1),
        fit_quietly(MulticlassPerceptron(), X, Y_IRIS),
    ]
    inputs = [X, fitted_network("tanh", dtype, 1)[1], X, X]
    for model, data in zip(models, inputs, strict=True):
        onx = skl2onnx.to_onnx(model, data[:1], target_opset=sknonlin_onnx.MIN_OPSET)
        assert {o.domain: o.version for o in onx.opset_import}[""] == 13
        outputs = run(model, data, target_opset=sknonlin_onnx.MIN_OPSET)
        for old, new in zip(outputs, run(model, data), strict=True):
            assert_array_equal(old, new)


def test_discovery_does_not_import_the_converters():
    # all_estimators imports every module of the package; the converters need
    # the optional extra and register themselves, so it leaves them alone.
    code = (
        "import sys; from sknonlin.utils import all_estimators; all_estimators(); "
        "assert 'skl2onnx' not in sys.modules and 'sknonlin.onnx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_conversion_leaves_the_estimator_unchanged():
    clf = fit_quietly(MulticlassPerceptron(average=True), X_IRIS, Y_IRIS)
    before = pickle.dumps(clf)
    run(clf, X_IRIS)
    sknonlin_onnx.register_converters()  # registering again is harmless
    run(clf, X_IRIS)
    assert pickle.dumps(clf) == before


# -- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        PolynomialFeatureMap(),
        TwoLayerReLURegressor(),
        Perceptron(),
        MulticlassPerceptron(),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_unfitted_estimator_is_refused(estimator):
    scaler = StandardScaler().fit(X_IRIS)
    with pytest.raises(ValueError, match="is not fitted yet"):
        skl2onnx.to_onnx(estimator, X_IRIS[:1])
    with pytest.raises(ValueError, match="is not fitted yet"):
        skl2onnx.to_onnx(make_pipeline(scaler, estimator), X_IRIS[:1])


def test_opset_too_old_is_refused():
    poly = PolynomialFeatureMap().fit(X_IRIS)
    with pytest.raises(ValueError, match="target_opset >= 13, got target_opset=12"):
        skl2onnx.to_onnx(poly, X_IRIS[:1], target_opset=12)


def test_wrong_number_of_features_is_refused():
    poly = PolynomialFeatureMap().fit(X_IRIS)
    with pytest.raises(ValueError, match="has 3 features, but PolynomialFeatureMap"):
        skl2onnx.to_onnx(poly, X_IRIS[:1, :3])


def test_string_input_is_refused():
    from skl2onnx.common.data_types import StringTensorType

    poly = PolynomialFeatureMap().fit(X_IRIS)
    with pytest.raises(ValueError, match="float, double or integer input"):
        skl2onnx.to_onnx(poly, initial_types=[("X", StringTensorType([None, 4]))])


@pytest.mark.parametrize(
    "change",
    [
        {"include_bias": False},
        {"basis": "legendre"},
        {"degree": 3},
        {"interaction_only": True},
    ],
)
def test_parameters_changed_after_fit_export_what_transform_does(change):
    poly = PolynomialFeatureMap(degree=2).fit(X_IRIS)
    expected = poly.transform(X_IRIS)
    poly.set_params(**change)
    (got,) = run(poly, X_IRIS)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_zipmap_columns_is_refused():
    clf = fit_quietly(MulticlassPerceptron(), X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="zipmap"):
        skl2onnx.to_onnx(clf, X_IRIS[:1], options={"zipmap": "columns"})


def test_labels_beyond_int64_are_refused():
    labels = np.array([1, 2, 2**63 + 5], dtype=np.uint64)
    clf = fit_quietly(MulticlassPerceptron(), X_IRIS, labels[Y_IRIS])
    with pytest.raises(ValueError, match="cannot be held in an ONNX tensor"):
        skl2onnx.to_onnx(clf, X_IRIS[:1])
