"""Tests of Perceptron and MulticlassPerceptron."""

import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Perceptron as SklearnPerceptron
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from sknonlin import MulticlassPerceptron, Perceptron, PolynomialFeatureMap
from sknonlin import _perceptron as _perceptron_module
from sknonlin._callbacks import CALLBACKS_AVAILABLE
from sknonlin._perceptron_kernels import (
    binary_epoch_csr,
    binary_epoch_dense,
    shuffled_order,
)

ESTIMATORS = [Perceptron, MulticlassPerceptron]


def _quiet_fit(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def _linear_data(n_samples=200, n_features=5, n_classes=2, noise=0.0, seed=0):
    """Labels from a random linear model, a fraction ``noise`` of them flipped."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    scores = X @ rng.randn(n_features, n_classes) + rng.randn(n_classes)
    y = np.argmax(scores, axis=1)
    flip = rng.rand(n_samples) < noise
    y[flip] = rng.randint(0, n_classes, size=flip.sum())
    return X, y


# -- plain-Python transcriptions of the algorithms --------------------------------


def _python_binary_perceptron(X, y, sample_weight, n_epochs, fit_intercept):
    """The binary perceptron, one sample at a time, in Python floats."""
    n_samples, n_features = len(X), len(X[0])
    w = [0.0] * n_features
    b = 0.0
    for _ in range(n_epochs):
        for i in range(n_samples):
            s = 0.0
            for j in range(n_features):
                s += w[j] * X[i][j]
            if y[i] * (s + b) <= 0.0 and sample_weight[i] > 0:
                c = y[i] * sample_weight[i]
                for j in range(n_features):
                    w[j] += X[i][j] * c
                if fit_intercept:
                    b += c
    return w, b


def _python_multiclass_perceptron(X, y, sample_weight, n_classes, n_epochs,
                                  fit_intercept, average=False):  # fmt: skip
    """The multiclass perceptron in Python floats; optionally its plain average.

    The average is the naive one: a copy of the weights after every step,
    summed and divided by the number of steps.
    """
    n_samples, n_features = len(X), len(X[0])
    W = [[0.0] * n_features for _ in range(n_classes)]
    b = [0.0] * n_classes
    W_sum = [[0.0] * n_features for _ in range(n_classes)]
    b_sum = [0.0] * n_classes
    for _ in range(n_epochs):
        for i in range(n_samples):
            scores = []
            for k in range(n_classes):
                s = 0.0
                for j in range(n_features):
                    s += W[k][j] * X[i][j]
                scores.append(s + b[k])
            y_hat = 0
            for k in range(1, n_classes):
                if scores[k] > scores[y_hat]:
                    y_hat = k
            if y_hat != y[i] and sample_weight[i] > 0:
                for j in range(n_features):
                    step = X[i][j] * sample_weight[i]
                    W[y_hat][j] -= step
                    W[y[i]][j] += step
                if fit_intercept:
                    b[y_hat] -= sample_weight[i]
                    b[y[i]] += sample_weight[i]
            for k in range(n_classes):
                for j in range(n_features):
                    W_sum[k][j] += W[k][j]
                b_sum[k] += b[k]
    if average:
        T = n_epochs * n_samples
        return [[v / T for v in row] for row in W_sum], [v / T for v in b_sum]
    return W, b


def _python_averaged_binary(X, y, n_epochs, fit_intercept):
    """Naive averaged binary perceptron: the mean of a copy after every step."""
    n_samples, n_features = X.shape
    w = np.zeros(n_features)
    b = 0.0
    w_sum = np.zeros(n_features)
    b_sum = 0.0
    for _ in range(n_epochs):
        for i in range(n_samples):
            if y[i] * (float(w @ X[i]) + b) <= 0.0:
                w = w + y[i] * X[i]
                if fit_intercept:
                    b += y[i]
            w_sum = w_sum + w
            b_sum += b
    T = n_epochs * n_samples
    return w_sum / T, b_sum / T


# -- hand-built cases --------------------------------------------------------------


def test_binary_updates_by_hand():
    # classes_ = ["no", "yes"], so "yes" is +1.
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    y = np.array(["yes", "no", "no"])
    clf = Perceptron(shuffle=False)
    clf.partial_fit(X, y, classes=["no", "yes"])
    # Sample 1: margin 0 is a mistake, w = (1, 2), b = 1.
    # Sample 2: margin 2 - 2 + 1 = 1 has the wrong sign, w = (-1, 3), b = 0.
    # Sample 3: margin 1 - 3 = -2 is right for "no".
    np.testing.assert_array_equal(clf.coef_, [[-1.0, 3.0]])
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    assert clf.mistakes_ == [2]
    assert clf.t_ == 3
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.coef_, [[-1.0, 3.0]])
    assert clf.mistakes_ == [2, 0]
    assert clf.n_iter_ == 2


def test_binary_updates_by_hand_without_intercept():
    X = np.array([[1.0, 1.0], [1.0, -2.0], [-1.0, 0.0]])
    y = np.array([1, 1, 0])
    clf = Perceptron(shuffle=False, fit_intercept=False, max_iter=3)
    _quiet_fit(clf, X, y)
    # Epoch 1: w = (1, 1); (1, -2): -1, mistake, w = (2, -1); (-1, 0): -2, right.
    # Epoch 2: (1, 1): 1 right; (1, -2): 4 right; (-1, 0): -2 right: clean.
    np.testing.assert_array_equal(clf.coef_, [[2.0, -1.0]])
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    assert clf.mistakes_ == [2, 0]


def test_multiclass_updates_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    y = np.array(["a", "b", "c"])
    clf = MulticlassPerceptron(shuffle=False, fit_intercept=False)
    clf.partial_fit(X, y, classes=["a", "b", "c"])
    # Sample 1: all scores 0, the tie goes to "a": right, no update.
    # Sample 2: tie to "a", wrong: w_a = (0, -1), w_b = (0, 1).
    # Sample 3: scores (1, -1, 0) pick "a": w_a = (1, 0), w_c = (-1, -1).
    np.testing.assert_array_equal(clf.coef_, [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    assert clf.mistakes_ == [2]
    clf.partial_fit(X, y)
    assert clf.mistakes_ == [2, 0]
    assert clf.predict([[2.0, 0.5], [-3.0, -1.0]]).tolist() == ["a", "c"]


def test_multiclass_intercept_updates_by_hand():
    X = np.array([[1.0], [2.0]])
    y = np.array([1, 0])
    clf = MulticlassPerceptron(shuffle=False)
    clf.partial_fit(X, y, classes=[0, 1])
    # Sample 1: tie to class 0, wrong: w_0 = -1, b_0 = -1, w_1 = 1, b_1 = 1.
    # Sample 2: scores (-3, 3) pick 1, wrong: w_0 = 1, b_0 = 0, w_1 = -1, b_1 = 0.
    np.testing.assert_array_equal(clf.coef_, [[1.0], [-1.0]])
    np.testing.assert_array_equal(clf.intercept_, [0.0, 0.0])


def test_zero_margin_is_a_mistake_and_predicts_first_class():
    clf = Perceptron(shuffle=False)
    # With w = 0 the margin is 0: a mistake even for the sample of classes_[0].
    clf.partial_fit([[2.0, 0.0]], ["left"], classes=["left", "right"])
    np.testing.assert_array_equal(clf.coef_, [[-2.0, 0.0]])
    np.testing.assert_array_equal(clf.intercept_, [-1.0])
    # A sample with margin exactly 0 is given classes_[0].
    assert clf.decision_function([[-0.5, 3.0]]).tolist() == [0.0]
    assert clf.predict([[-0.5, 3.0]]).tolist() == ["left"]


def test_multiclass_two_classes_is_one_dimensional_with_ties_to_first():
    clf = MulticlassPerceptron(shuffle=False)
    # A tie at w = 0 predicts class 0, which is right: no update.
    clf.partial_fit([[1.0, 2.0]], [0], classes=[0, 1])
    assert clf.mistakes_ == [0]
    scores = clf.decision_function([[3.0, -1.0]])
    assert scores.shape == (1,)
    assert scores.tolist() == [0.0]
    assert clf.predict([[3.0, -1.0]]).tolist() == [0]
    X, y = _linear_data(n_samples=60, seed=3)
    _quiet_fit(clf, X, y)
    full = X @ clf.coef_.T + clf.intercept_
    np.testing.assert_allclose(clf.decision_function(X), full[:, 1] - full[:, 0])
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(full, axis=1)])


# -- exactness -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("noise", [0.0, 0.2])
@pytest.mark.parametrize("integer_features", [False, True])
def test_perceptron_matches_sklearn_to_the_bit(
    dtype, fit_intercept, noise, integer_features
):
    X, y = _linear_data(n_samples=300, n_features=13, noise=noise, seed=1)
    if integer_features:
        # Small integers make exact ties (margin 0) frequent.
        X = np.round(2 * X)
    X = X.astype(dtype)
    labels = np.array(["neg", "pos"])[y]
    for max_iter in (1, 7):
        ours = _quiet_fit(
            Perceptron(shuffle=False, fit_intercept=fit_intercept, max_iter=max_iter),
            X,
            labels,
        )
        theirs = _quiet_fit(
            SklearnPerceptron(
                shuffle=False,
                tol=None,
                eta0=1.0,
                penalty=None,
                fit_intercept=fit_intercept,
                max_iter=max_iter,
            ),
            X,
            labels,
        )
        assert ours.coef_.dtype == dtype
        np.testing.assert_array_equal(ours.coef_, theirs.coef_)
        np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)


def test_perceptron_matches_sklearn_with_sample_weight():
    X, y = _linear_data(n_samples=200, n_features=8, noise=0.1, seed=2)
    sample_weight = np.random.RandomState(0).uniform(0.0, 3.0, size=len(y))
    sample_weight[::7] = 0.0
    ours = _quiet_fit(
        Perceptron(shuffle=False, max_iter=5), X, y, sample_weight=sample_weight
    )
    theirs = _quiet_fit(
        SklearnPerceptron(shuffle=False, tol=None, eta0=1.0, penalty=None, max_iter=5),
        X,
        y,
        sample_weight=sample_weight,
    )
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_perceptron_matches_python_transcription(container, fit_intercept):
    X, y = _linear_data(n_samples=80, n_features=6, noise=0.15, seed=4)
    X[np.abs(X) < 0.5] = 0.0  # some zeros for the sparse container
    sample_weight = np.random.RandomState(1).choice([0.0, 0.5, 1.0, 2.5], len(y))
    clf = _quiet_fit(
        Perceptron(shuffle=False, max_iter=4, fit_intercept=fit_intercept),
        container(X),
        y,
        sample_weight=sample_weight,
    )
    w, b = _python_binary_perceptron(
        X.tolist(), (2 * y - 1).tolist(), sample_weight.tolist(), 4, fit_intercept
    )
    np.testing.assert_array_equal(clf.coef_, [w])
    np.testing.assert_array_equal(clf.intercept_, [b])


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_matches_python_transcription(container, fit_intercept, weighted):
    X, y = _linear_data(n_samples=90, n_features=5, n_classes=4, noise=0.1, seed=5)
    X[np.abs(X) < 0.4] = 0.0
    if weighted:
        sample_weight = np.random.RandomState(2).choice([0.0, 0.25, 1.0, 3.0], len(y))
    else:
        sample_weight = np.ones(len(y))
    clf = _quiet_fit(
        MulticlassPerceptron(shuffle=False, max_iter=5, fit_intercept=fit_intercept),
        container(X),
        y,
        sample_weight=sample_weight if weighted else None,
    )
    W, b = _python_multiclass_perceptron(
        X.tolist(), y.tolist(), sample_weight.tolist(), 4, 5, fit_intercept
    )
    np.testing.assert_array_equal(clf.coef_, W)
    np.testing.assert_array_equal(clf.intercept_, b)


def test_multiclass_integer_ties_match_python_transcription():
    rng = np.random.RandomState(6)
    X = rng.randint(-2, 3, size=(60, 4)).astype(float)
    y = rng.randint(0, 3, size=60)
    clf = _quiet_fit(MulticlassPerceptron(shuffle=False, max_iter=6), X, y)
    W, b = _python_multiclass_perceptron(
        X.tolist(), y.tolist(), [1.0] * 60, 3, clf.n_iter_, True
    )
    np.testing.assert_array_equal(clf.coef_, W)
    np.testing.assert_array_equal(clf.intercept_, b)


def _one_step(coef, x, y, sparse=False):
    """Run a binary kernel on one sample; return the mistake count."""
    head = (np.array([x]),)
    if sparse:
        # every value stored, zeros too, so that all eight terms are added
        indices = np.arange(len(x), dtype=np.int32)
        head = (np.array(x, dtype=float), indices, np.array([0, len(x)], np.int32))
    kernel = binary_epoch_csr if sparse else binary_epoch_dense
    *_, mistakes, _, bad = kernel(
        *head, np.array([y]), np.ones(1), 1.0, np.zeros(1, dtype=np.intp),
        False, coef, 0.0, True, False, np.zeros(1), 0.0, 0.0, False, 2.0**-53,
        2.0**-1075,
    )  # fmt: skip
    assert bad == -1
    return mistakes


@pytest.mark.parametrize("sparse", [False, True])
def test_fast_margin_keeps_the_sign_of_the_sequential_sum(sparse):
    # Added left to right, the 1 is absorbed by 1e17 and the margin is 0: a
    # mistake. Added in the kernel's reordered way, 1e17 cancels first and the
    # margin would be 1: no mistake.
    coef = np.array([1e17, 1.0, 0.0, 0.0, -1e17, 0.0, 0.0, 0.0])
    assert _one_step(coef, np.ones(8), 1.0, sparse) == 1
    np.testing.assert_array_equal(coef, [1e17 + 1, 2.0, 1, 1, -1e17 + 1, 1, 1, 1])
    # Far from a tie, the reordered sum decides: margin 28 is right for +1 ...
    assert _one_step(np.arange(8.0), np.ones(8), 1.0, sparse) == 0
    # ... and wrong for -1.
    assert _one_step(np.arange(8.0), np.ones(8), -1.0, sparse) == 1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shuffle", [True, False])
def test_sparse_and_dense_give_the_same_bits(Estimator, dtype, shuffle):
    # Rows in order take the sparse kernels' path that prefetches weights.
    n_classes = 2 if Estimator is Perceptron else 3
    X, y = _linear_data(n_samples=120, n_features=10, n_classes=n_classes, seed=7)
    X[np.abs(X) < 0.8] = 0.0
    X = X.astype(dtype)
    params = dict(shuffle=shuffle, random_state=0, max_iter=5)
    dense = _quiet_fit(Estimator(**params), X, y)
    sparse = _quiet_fit(Estimator(**params), sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.coef_, sparse.coef_)
    np.testing.assert_array_equal(dense.intercept_, sparse.intercept_)
    assert dense.mistakes_ == sparse.mistakes_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("in_order", [True, False])
@pytest.mark.parametrize("average", [False, True])
def test_sparse_epoch_equals_dense_epoch_with_its_loss(dtype, in_order, average):
    # Every output of the sparse epoch, the summed loss included, is the
    # dense epoch's to the bit, epoch after epoch; in order the sparse epoch
    # prefetches weights far ahead, across rows.
    rng = np.random.default_rng(9)
    X = rng.standard_normal((70, 130)) * np.exp(rng.uniform(-3, 3, (70, 130)))
    X[rng.random(X.shape) < 0.7] = 0.0
    X[5] = 0.0  # an empty row
    X = X.astype(dtype)
    y = rng.choice([-1.0, 1.0], 70).astype(dtype)
    sample_weight = rng.choice([0.0, 0.5, 1.0, 3.0], 70).astype(dtype)
    Xs = sp.csr_matrix(X)
    rounding = (
        float(np.finfo(dtype).eps) / 2,
        float(np.finfo(dtype).smallest_subnormal) / 2,
    )
    state = {}
    for name in ("dense", "csr"):
        state[name] = [np.zeros(130, dtype=dtype), 0.0, np.zeros(130), 0.0, 0.0]
    for _ in range(4):
        order = np.arange(70) if in_order else rng.permutation(70)
        results = {}
        for name, head, tail in (
            ("dense", (X,), (True, *rounding)),
            ("csr", (Xs.data, Xs.indices, Xs.indptr), (True, *rounding)),
        ):
            coef, intercept, avg_coef, avg_intercept, t = state[name]
            out = (binary_epoch_dense if name == "dense" else binary_epoch_csr)(
                *head, y, sample_weight, 0.75, order, not in_order, coef,
                intercept, True, average, avg_coef, avg_intercept, t, *tail,
            )  # fmt: skip
            state[name][1], state[name][3], state[name][4] = out[0], out[1], out[2]
            results[name] = out
        assert results["dense"][3] > 0  # mistakes, with a loss to sum
        assert results["dense"][5] == -1
        for a, b in zip(results["dense"], results["csr"], strict=True):
            assert np.float64(a).tobytes() == np.float64(b).tobytes(), (a, b)
        for a, b in zip(state["dense"], state["csr"], strict=True):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shuffle", [False, True])
def test_sparse_and_dense_stop_alike_on_the_loss(dtype, shuffle):
    # The tol rule reads the summed loss of each epoch: the sparse kernel's
    # must be the dense kernel's to the bit, or the two stop apart.
    X, y = _linear_data(n_samples=150, n_features=12, noise=0.3, seed=8)
    X[np.abs(X) < 0.6] = 0.0
    X = X.astype(dtype)
    params = dict(shuffle=shuffle, random_state=3, max_iter=60, tol=1e-4,
                  n_iter_no_change=3)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dense = Perceptron(**params).fit(X, y)
        sparse = Perceptron(**params).fit(sp.csr_matrix(X), y)
    assert 3 < dense.n_iter_ < 60
    assert sparse.n_iter_ == dense.n_iter_
    assert sparse.mistakes_ == dense.mistakes_
    np.testing.assert_array_equal(sparse.coef_, dense.coef_)
    np.testing.assert_array_equal(sparse.intercept_, dense.intercept_)


# -- averaged perceptron ----------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_averaged_binary_matches_naive_average(fit_intercept, container):
    X, y = _linear_data(n_samples=70, n_features=4, noise=0.2, seed=8)
    clf = Perceptron(
        shuffle=False, average=True, max_iter=3, fit_intercept=fit_intercept
    )
    _quiet_fit(clf, container(X), y)
    w, b = _python_averaged_binary(X, 2.0 * y - 1.0, clf.n_iter_, fit_intercept)
    np.testing.assert_allclose(clf.coef_, [w], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, [b], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_averaged_multiclass_matches_naive_average(fit_intercept, container):
    X, y = _linear_data(n_samples=70, n_features=4, n_classes=3, noise=0.2, seed=9)
    clf = MulticlassPerceptron(shuffle=False, average=True, fit_intercept=fit_intercept)
    # Two partial fits: the average runs over the steps of both.
    clf.partial_fit(container(X), y, classes=[0, 1, 2])
    clf.partial_fit(container(X), y)
    W, b = _python_multiclass_perceptron(
        X.tolist(), y.tolist(), [1.0] * 70, 3, 2, fit_intercept, average=True
    )
    assert clf.t_ == 140
    np.testing.assert_allclose(clf.coef_, W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, b, rtol=1e-12, atol=1e-12)


def test_average_false_and_true_learn_the_same_path():
    X, y = _linear_data(n_samples=100, n_classes=3, noise=0.2, seed=10)
    plain = _quiet_fit(MulticlassPerceptron(random_state=0, max_iter=4), X, y)
    averaged = _quiet_fit(
        MulticlassPerceptron(random_state=0, max_iter=4, average=True), X, y
    )
    assert plain.mistakes_ == averaged.mistakes_
    assert not np.array_equal(plain.coef_, averaged.coef_)


# -- training loop ----------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_stops_after_a_clean_epoch(Estimator):
    n_classes = 2 if Estimator is Perceptron else 3
    X, y = _linear_data(n_samples=100, n_classes=n_classes, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = Estimator(max_iter=1000, random_state=0).fit(X, y)
    assert clf.mistakes_[-1] == 0
    assert all(m > 0 for m in clf.mistakes_[:-1])
    assert clf.n_iter_ == len(clf.mistakes_) < 1000
    assert clf.t_ == clf.n_iter_ * len(y)
    assert clf.score(X, y) == 1.0


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_convergence_warning_states_the_last_mistake_count(Estimator):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 0, 1, 1])  # XOR: not linearly separable
    clf = Estimator(max_iter=5, shuffle=False)
    with pytest.warns(ConvergenceWarning, match=r"still made \d+ mistakes") as record:
        clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert f"still made {clf.mistakes_[-1]} mistakes" in str(record[0].message)
    assert clf.mistakes_[-1] > 0


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_xor_is_separable_after_a_degree_2_map(Estimator):
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    y = np.array(["same", "same", "different", "different"])
    with pytest.warns(ConvergenceWarning):
        raw = Estimator(max_iter=50, random_state=0).fit(X, y)
    assert raw.score(X, y) < 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        pipe = make_pipeline(
            PolynomialFeatureMap(degree=2), Estimator(random_state=0)
        ).fit(X, y)
    assert pipe.score(X, y) == 1.0
    assert pipe[-1].mistakes_[-1] == 0


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_is_one_epoch_of_fit(Estimator):
    X, y = _linear_data(n_samples=80, n_classes=3, noise=0.3, seed=12)
    if Estimator is Perceptron:
        y = y % 2
    params = dict(random_state=3, average=True)
    one = _quiet_fit(Estimator(max_iter=1, **params), X, y)
    two = _quiet_fit(Estimator(max_iter=2, **params), X, y)
    inc = Estimator(**params).partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(inc.coef_, one.coef_)
    np.testing.assert_array_equal(inc.intercept_, one.intercept_)
    inc.partial_fit(X, y)
    assert two.n_iter_ == 2
    np.testing.assert_array_equal(inc.coef_, two.coef_)
    np.testing.assert_array_equal(inc.intercept_, two.intercept_)
    assert inc.mistakes_ == two.mistakes_
    assert inc.n_iter_ == 2
    assert inc.t_ == 2 * len(y)


def test_partial_fit_accepts_classes_absent_from_a_batch():
    X, y = _linear_data(n_samples=60, n_classes=3, seed=13)
    clf = MulticlassPerceptron(shuffle=False)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.coef_.shape == (3, 5)
    clf.partial_fit(X, y, classes=[2, 1, 0])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_continues_training(Estimator):
    X, y = _linear_data(n_samples=80, noise=0.3, seed=14)
    two = _quiet_fit(Estimator(shuffle=False, max_iter=2), X, y)
    warm = _quiet_fit(Estimator(shuffle=False, max_iter=1, warm_start=True), X, y)
    _quiet_fit(warm, X, y)
    np.testing.assert_array_equal(warm.coef_, two.coef_)
    np.testing.assert_array_equal(warm.intercept_, two.intercept_)
    assert warm.mistakes_ == two.mistakes_
    cold = _quiet_fit(Estimator(shuffle=False, max_iter=1), X, y)
    first = cold.coef_.copy()
    _quiet_fit(cold, X, y)
    np.testing.assert_array_equal(cold.coef_, first)
    assert cold.n_iter_ == 1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_random_state_reproducible(Estimator):
    X, y = _linear_data(n_samples=100, noise=0.2, seed=15)
    a = _quiet_fit(Estimator(random_state=7, max_iter=3), X, y)
    b = _quiet_fit(Estimator(random_state=7, max_iter=3), X, y)
    c = _quiet_fit(Estimator(random_state=8, max_iter=3), X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert not np.array_equal(a.coef_, c.coef_)
    # Refitting the same estimator repeats the same bits.
    np.testing.assert_array_equal(_quiet_fit(a, X, y).coef_, b.coef_)


def test_shuffled_order_is_a_reproducible_permutation():
    a = shuffled_order(1000, 123)
    np.testing.assert_array_equal(np.sort(a), np.arange(1000))
    np.testing.assert_array_equal(a, shuffled_order(1000, 123))
    assert not np.array_equal(a, shuffled_order(1000, 124))
    assert not np.array_equal(a, np.arange(1000))
    # Every position receives every index about equally often.
    counts = np.zeros((4, 4))
    for seed in range(4000):
        counts[np.arange(4), shuffled_order(4, seed)] += 1
    np.testing.assert_allclose(counts / 4000, 0.25, atol=0.03)


def test_sample_weight_scales_the_update():
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1, 0])
    clf = Perceptron(shuffle=False).partial_fit(
        X, y, classes=[0, 1], sample_weight=[0.5, 2.0]
    )
    # Sample 1: margin 0, w = 0.5 (1, 2), b = 0.5.
    # Sample 2: margin 1.5 - 1 + 0.5 = 1 is wrong: w -= 2 (3, -1), b -= 2.
    np.testing.assert_array_equal(clf.coef_, [[-5.5, 3.0]])
    np.testing.assert_array_equal(clf.intercept_, [-1.5])


def test_zero_weight_samples_do_not_update():
    X, y = _linear_data(n_samples=60, noise=0.3, seed=16)
    sample_weight = np.ones(60)
    sample_weight[30:] = 0.0
    weighted = _quiet_fit(
        MulticlassPerceptron(shuffle=False, max_iter=3),
        X,
        y,
        sample_weight=sample_weight,
    )
    # A zero-weight sample changes nothing, so dropping those at the end of
    # the order gives the same weights; they count no mistakes either.
    subset = _quiet_fit(MulticlassPerceptron(shuffle=False, max_iter=3), X[:30], y[:30])
    np.testing.assert_array_equal(weighted.coef_, subset.coef_)
    assert weighted.mistakes_ == subset.mistakes_


def test_verbose_prints_mistakes(capsys):
    X, y = _linear_data(n_samples=40, seed=17)
    Perceptron(verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 1, mistakes = " in out
    assert out.rstrip().endswith("mistakes = 0")


# -- input handling ---------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_float32_stays_float32(Estimator, container):
    X, y = _linear_data(n_samples=50, seed=18)
    X32 = container(X.astype(np.float32))
    clf = _quiet_fit(Estimator(random_state=0), X32, y)
    assert clf.coef_.dtype == np.float32
    assert clf.intercept_.dtype == np.float32
    assert clf.decision_function(X32).dtype == np.float32
    # A float64 model keeps the dtype of what it scores, too.
    clf64 = _quiet_fit(Estimator(random_state=0), X, y)
    assert clf64.decision_function(X32).dtype == np.float32
    assert clf64.decision_function(X).dtype == np.float64


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_callers_arrays_are_not_modified(Estimator, container):
    X, y = _linear_data(n_samples=50, noise=0.2, seed=19)
    X = container(X)
    y = np.array(["u", "v"])[y]
    sample_weight = np.linspace(0.5, 2.0, 50)
    copies = [X.copy(), y.copy(), sample_weight.copy()]
    clf = _quiet_fit(Estimator(max_iter=3), X, y, sample_weight=sample_weight)
    clf.partial_fit(X, y, sample_weight=sample_weight)
    clf.predict(X)
    for before, after in zip(copies, [X, y, sample_weight], strict=True):
        if sp.issparse(before):
            before, after = before.toarray(), after.toarray()
        np.testing.assert_array_equal(before, after)


def test_fortran_ordered_input_gives_the_same_weights():
    X, y = _linear_data(n_samples=50, n_classes=3, noise=0.2, seed=20)
    c = _quiet_fit(MulticlassPerceptron(shuffle=False, max_iter=3), X, y)
    f = _quiet_fit(
        MulticlassPerceptron(shuffle=False, max_iter=3), np.asfortranarray(X), y
    )
    np.testing.assert_array_equal(c.coef_, f.coef_)


def test_perceptron_rejects_more_than_two_classes():
    X, y = _linear_data(n_samples=30, n_classes=3, seed=21)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        Perceptron().fit(X, y)
    with pytest.raises(ValueError, match="use MulticlassPerceptron"):
        Perceptron().partial_fit(X, y, classes=[0, 1, 2])
    assert Perceptron().__sklearn_tags__().classifier_tags.multi_class is False
    assert MulticlassPerceptron().__sklearn_tags__().classifier_tags.multi_class


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_errors(Estimator):
    X, y = _linear_data(n_samples=30, seed=22)
    with pytest.raises(ValueError, match="only 1 class"):
        Estimator().fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        Estimator().partial_fit(X, y)
    clf = Estimator().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes_"):
        clf.partial_fit(X, np.where(y == 1, 5, 0))
    with pytest.raises(ValueError, match="differs from the classes_"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="X has 4 features"):
        clf.partial_fit(X[:, :4], y)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        Estimator().fit(X, y, sample_weight=-np.ones(30))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Estimator().fit(np.full((30, 5), np.nan), y)
    with pytest.raises(ValueError, match="Unknown label type"):
        Estimator().fit(X, np.linspace(0, 1, 30))
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        Estimator(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="too large for the dtype of X"):
        Estimator(shuffle=False).fit(
            [[10.0], [-10.0]], [1, 0], sample_weight=[1e308, 1.0]
        )


def test_string_labels_and_decision_sign():
    X, y = _linear_data(n_samples=80, seed=23)
    labels = np.array(["cat", "dog"])[y]
    clf = Perceptron(random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog"])
    scores = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), np.where(scores > 0, "dog", "cat"))


@pytest.mark.parametrize(
    "names",
    [
        np.array([7, -3, 12]),
        np.array([2.0, -0.0, 1e9]),
        np.array(["b", "a", "c"]),
        np.array(["b", "a", "c"], dtype=object),
    ],
)
def test_labels_of_any_kind_train_as_their_sorted_positions(names):
    # Each label trains as its position among the sorted classes, whatever
    # the labels are; the predictions give the labels back.
    X, y = _linear_data(n_samples=90, n_features=4, n_classes=3, seed=24)
    labels = names[y]
    order = np.argsort(names)
    position = np.empty(3, dtype=int)
    position[order] = np.arange(3)
    ours = _quiet_fit(MulticlassPerceptron(random_state=0), X, labels)
    reference = _quiet_fit(MulticlassPerceptron(random_state=0), X, position[y])
    np.testing.assert_array_equal(ours.classes_, names[order])
    np.testing.assert_array_equal(ours.coef_, reference.coef_)
    np.testing.assert_array_equal(ours.predict(X), names[order][reference.predict(X)])
    # -0.0 and 0.0 are one class
    if names.dtype == float:
        signed = np.where(labels == -0.0, 0.0, labels)
        signed[::2] = labels[::2]
        again = _quiet_fit(MulticlassPerceptron(random_state=0), X, signed)
        assert again.classes_.size == 3
        np.testing.assert_array_equal(again.coef_, reference.coef_)


def test_averaged_multiclass_beats_sklearn_on_digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    ours = MulticlassPerceptron(average=True, random_state=0)
    ours = _quiet_fit(ours, X_train, y_train)
    theirs = SklearnPerceptron(random_state=0).fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test)


# -- scikit-learn's options, as scikit-learn's Perceptron has them -----------------


def _sklearn_perceptron(**params):
    return SklearnPerceptron(penalty=None, shuffle=False, **params)


_OPTION_CASES = [
    {"eta0": 0.3},
    {"eta0": 7.0, "fit_intercept": False},
    {"tol": 1e-3, "n_iter_no_change": 2},
    {"tol": 0.0, "n_iter_no_change": 1, "eta0": 0.1},
    {"early_stopping": True, "validation_fraction": 0.2, "random_state": 0},
    {"early_stopping": True, "tol": 1e-3, "n_iter_no_change": 2, "random_state": 3},
    {"class_weight": "balanced"},
    {"class_weight": {"neg": 0.3, "pos": 2.7}, "eta0": 0.7},
    {
        "early_stopping": True,
        "tol": 0.0,
        "n_iter_no_change": 1,
        "class_weight": {"neg": 0.05, "pos": 3.0},
        "random_state": 5,
    },
    {"coef_init": True, "eta0": 0.45},
    {"coef_init": True, "class_weight": "balanced", "tol": 1e-4},
]


@pytest.mark.parametrize("options", _OPTION_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_perceptron_matches_sklearn_across_options(options, dtype, weighted):
    X, y = _linear_data(n_samples=150, n_features=7, noise=0.25, seed=30)
    X = X.astype(dtype)
    labels = np.array(["neg", "pos"])[y]
    rng = np.random.RandomState(31)
    sample_weight = rng.uniform(0.0, 4.0, size=len(y)) if weighted else None
    params = dict(options)
    fit_params = {"sample_weight": sample_weight}
    if params.pop("coef_init", False):
        fit_params["coef_init"] = rng.randn(1, 7)
        fit_params["intercept_init"] = rng.randn(1)
    params.setdefault("tol", None)
    params.setdefault("eta0", 1.0)
    ours = _quiet_fit(Perceptron(shuffle=False, max_iter=25, **params), X, labels,
                      **fit_params)  # fmt: skip
    theirs = _quiet_fit(_sklearn_perceptron(max_iter=25, **params), X, labels,
                        **fit_params)  # fmt: skip
    assert ours.coef_.dtype == dtype
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    # scikit-learn keeps a float64 intercept_ for float32 data; ours is that
    # same number rounded to the dtype of X.
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_.astype(dtype))
    if ours.mistakes_[-1] > 0:
        # Neither stopped on an epoch without mistakes: the same epochs ran.
        assert ours.n_iter_ == theirs.n_iter_


def test_float32_updates_with_any_sample_weight_match_sklearn():
    # Sample weights float32 cannot represent, and features whose products
    # with them are inexact in float32: each update must round as
    # scikit-learn's does (product and sum in float64, rounded once).
    for seed in range(40):
        rng = np.random.RandomState(seed)
        n_samples, n_features = rng.randint(5, 60), rng.randint(1, 9)
        X = (rng.randn(n_samples, n_features) * 10 ** rng.uniform(-3, 3)).astype(
            np.float32
        )
        y = rng.randint(0, 2, n_samples)
        y[:2] = [0, 1]
        sample_weight = rng.uniform(0, 1, n_samples) * 10 ** rng.uniform(-4, 4)
        eta0 = float(rng.choice([1.0, 0.1, 3.7]))
        ours = _quiet_fit(
            Perceptron(shuffle=False, max_iter=4, eta0=eta0),
            X,
            y,
            sample_weight=sample_weight,
        )
        theirs = _quiet_fit(
            _sklearn_perceptron(tol=None, eta0=eta0, max_iter=4),
            X,
            y,
            sample_weight=sample_weight,
        )
        np.testing.assert_array_equal(ours.coef_, theirs.coef_, err_msg=f"{seed=}")
        np.testing.assert_array_equal(
            ours.intercept_, theirs.intercept_.astype(np.float32)
        )


def test_eta0_only_scales_weights_from_zero():
    X, y = _linear_data(n_samples=80, noise=0.2, seed=32)
    one = _quiet_fit(Perceptron(shuffle=False, max_iter=6), X, y)
    quarter = _quiet_fit(Perceptron(shuffle=False, max_iter=6, eta0=0.25), X, y)
    # A power of 2 scales every iterate exactly, so every decision is the same.
    np.testing.assert_array_equal(quarter.coef_, 0.25 * one.coef_)
    np.testing.assert_array_equal(quarter.intercept_, 0.25 * one.intercept_)
    assert quarter.mistakes_ == one.mistakes_


def test_default_stops_only_on_a_clean_epoch():
    # tol=None by default: the lecture's algorithm runs until an epoch without
    # mistakes or max_iter, whatever the loss does.
    X, y = _linear_data(n_samples=100, noise=0.3, seed=33)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf = Perceptron(shuffle=False, max_iter=40).fit(X, y)
    assert clf.n_iter_ == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = Perceptron(shuffle=False, max_iter=40, tol=1e-3).fit(X, y)
    assert stopped.n_iter_ < 40


# a transcription of the algorithm in one piece, as the lecture writes it
def _python_multiclass_with_options(X, y, sample_weight, n_classes, *, max_iter,  # noqa: C901
                                    eta0=1.0, tol=None, n_iter_no_change=5,
                                    class_weight=None, W0=None, b0=None,
                                    validation=None):  # fmt: skip
    """The multiclass perceptron with scikit-learn's options, in Python floats.

    Each mistake moves the weights by ``eta0 * class_weight[y] * s``. With
    ``tol``, training stops after ``n_iter_no_change`` epochs whose mean loss
    ``max_k score_k - score_y`` did not drop by more than ``tol`` below the best
    so far, or, with ``validation`` (indices held out of training), whose
    weighted validation accuracy did not rise by ``tol`` above the best.
    Training also stops after an epoch without mistakes.
    """
    n_samples, n_features = len(X), len(X[0])
    W = [list(row) for row in W0] if W0 is not None else [
        [0.0] * n_features for _ in range(n_classes)
    ]  # fmt: skip
    b = list(b0) if b0 is not None else [0.0] * n_classes
    cw = class_weight or [1.0] * n_classes
    held_out = set(validation or [])
    train = [i for i in range(n_samples) if i not in held_out]

    def scores_of(i):
        out = []
        for k in range(n_classes):
            s = 0.0
            for j in range(n_features):
                s += W[k][j] * X[i][j]
            out.append(s + b[k])
        return out

    def argmax(scores):
        best = 0
        for k in range(1, n_classes):
            if scores[k] > scores[best]:
                best = k
        return best

    best_loss, best_score, count, epochs = float("inf"), -float("inf"), 0, 0
    for _ in range(max_iter):
        epochs += 1
        mistakes, loss = 0, 0.0
        for i in train:
            scores = scores_of(i)
            y_hat = argmax(scores)
            if y_hat != y[i]:
                loss += scores[y_hat] - scores[y[i]]
                u = eta0 * (cw[y[i]] * sample_weight[i])
                if u != 0.0:
                    mistakes += 1
                    for j in range(n_features):
                        W[y_hat][j] -= X[i][j] * u
                        W[y[i]][j] += X[i][j] * u
                    b[y_hat] -= u
                    b[y[i]] += u
        if mistakes == 0:
            break
        if tol is None:
            continue
        if held_out:
            right = sum(
                sample_weight[i] for i in held_out if argmax(scores_of(i)) == y[i]
            )
            score = right / sum(sample_weight[i] for i in held_out)
            count = count + 1 if score < best_score + tol else 0
            best_score = max(best_score, score)
        else:
            mean = loss / len(train)
            count = count + 1 if mean > best_loss - tol else 0
            best_loss = min(best_loss, mean)
        if count >= n_iter_no_change:
            break
    return W, b, epochs


@pytest.mark.parametrize(
    "options",
    [
        {"eta0": 0.3},
        {"tol": 1e-3, "n_iter_no_change": 2},
        {"tol": 0.0, "n_iter_no_change": 1, "eta0": 2.5},
        {"class_weight": {0: 0.5, 1: 2.0, 2: 1.25}},
        {"class_weight": "balanced", "eta0": 0.8},
        {"init": True, "eta0": 0.6},
        {
            "early_stopping": True,
            "tol": 1e-3,
            "n_iter_no_change": 2,
            "validation_fraction": 0.25,
            "random_state": 4,
        },
    ],
    ids=str,
)
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_options_match_python_transcription(options, weighted):
    X, y = _linear_data(n_samples=120, n_features=4, n_classes=3, noise=0.3, seed=34)
    rng = np.random.RandomState(35)
    sample_weight = rng.uniform(0.1, 3.0, len(y)) if weighted else np.ones(len(y))
    params = dict(options)
    fit_params = {}
    oracle = {}
    if params.pop("init", False):
        fit_params = {"coef_init": rng.randn(3, 4), "intercept_init": rng.randn(3)}
        oracle = {"W0": fit_params["coef_init"].tolist(),
                  "b0": fit_params["intercept_init"].tolist()}  # fmt: skip
    clf = _quiet_fit(
        MulticlassPerceptron(shuffle=False, max_iter=30, **params),
        X, y, sample_weight=sample_weight if weighted else None, **fit_params,
    )  # fmt: skip
    class_weight = params.get("class_weight")
    if class_weight == "balanced":
        class_weight = (len(y) / (3 * np.bincount(y))).tolist()
    elif class_weight is not None:
        class_weight = [class_weight[k] for k in range(3)]
    validation = None
    if params.get("early_stopping"):
        split = StratifiedShuffleSplit(test_size=0.25, random_state=4)
        validation = next(split.split(np.zeros((len(y), 1)), y))[1].tolist()
    W, b, epochs = _python_multiclass_with_options(
        X.tolist(), y.tolist(), sample_weight.tolist(), 3, max_iter=30,
        eta0=params.get("eta0", 1.0), tol=params.get("tol"),
        n_iter_no_change=params.get("n_iter_no_change", 5),
        class_weight=class_weight, validation=validation, **oracle,
    )  # fmt: skip
    np.testing.assert_array_equal(clf.coef_, W)
    np.testing.assert_array_equal(clf.intercept_, b)
    assert clf.n_iter_ == epochs


def test_early_stopping_holds_out_the_validation_samples():
    X, y = _linear_data(n_samples=100, noise=0.3, seed=36)
    clf = _quiet_fit(
        Perceptron(early_stopping=True, validation_fraction=0.2, random_state=0),
        X,
        y,
    )
    # Only the 80 training samples are visited in each epoch.
    assert clf.t_ == 80 * clf.n_iter_
    with pytest.raises(ValueError, match="early_stopping should be False"):
        Perceptron(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    # The split is scikit-learn's: stratified, drawn with random_state.
    split = StratifiedShuffleSplit(test_size=0.2, random_state=0)
    validation = next(split.split(np.zeros((100, 1)), y))[1]
    sample_weight = np.ones(100)
    sample_weight[validation] = 0.0
    with pytest.raises(ValueError, match="sample weights of the validation set"):
        Perceptron(early_stopping=True, validation_fraction=0.2, random_state=0).fit(
            X, y, sample_weight=sample_weight
        )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_class_weight_and_init_errors(Estimator):
    X, y = _linear_data(n_samples=40, seed=37)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        Estimator(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"coef_init has shape \(3,\)"):
        Estimator().fit(X, y, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match=r"intercept_init has shape \(5,\)"):
        Estimator().fit(X, y, intercept_init=np.zeros(5))
    with pytest.raises(ValueError, match="must be finite"):
        Estimator().fit(X, y, intercept_init=np.full(2 - (Estimator is Perceptron),
                                                     np.inf))  # fmt: skip
    with pytest.raises(InvalidParameterError, match="'eta0' parameter"):
        Estimator(eta0=0.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'class_weight' parameter"):
        Estimator(class_weight="even").fit(X, y)


def test_class_weight_multiplies_sample_weight():
    X, y = _linear_data(n_samples=90, noise=0.2, seed=38)
    sample_weight = np.random.RandomState(39).uniform(0.5, 2.0, 90)
    class_weight = {0: 0.25, 1: 4.0}
    weighted = _quiet_fit(
        Perceptron(shuffle=False, max_iter=5, class_weight=class_weight), X, y,
        sample_weight=sample_weight,
    )  # fmt: skip
    combined = sample_weight * np.where(y == 1, 4.0, 0.25)
    direct = _quiet_fit(
        Perceptron(shuffle=False, max_iter=5), X, y, sample_weight=combined
    )
    np.testing.assert_array_equal(weighted.coef_, direct.coef_)
    np.testing.assert_array_equal(weighted.intercept_, direct.intercept_)


# -- silent overflow, corrupted sparse input -------------------------------------


def _huge_data(container):
    # Products of 1e200 by weights of 1e200 overflow to +-inf; their sum is NaN.
    X = np.array([[1e200, 1e200], [1e200, -1e200], [-1e200, 1e200]])
    return container(X), np.array([1, 0, 0])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_non_finite_margin_is_an_error(Estimator, container):
    X, y = _huge_data(container)
    with pytest.raises(ValueError, match=r"margin of sample \d is not finite"):
        Estimator(shuffle=False).fit(X, y)
    with pytest.raises(ValueError, match="not finite"):
        Estimator(shuffle=False).partial_fit(X, y, classes=[0, 1])


def _corrupt(X, how):
    X = X.copy()
    if how == "index out of range":
        X.indices[1] = X.shape[1] if X.format == "csr" else X.shape[0]
    elif how == "negative index":
        X.indices[0] = -1
    elif how == "decreasing indptr":
        X.indptr[2] = X.indptr[1] - 1
    elif how == "indptr not from 0":
        X.indptr[0] = 1
    elif how == "uint64 index too large":
        X.indices = X.indices.astype(np.uint64)
        X.indices[0] = np.uint64(2**63 + 5)
    return X


_CORRUPTIONS = [
    "index out of range",
    "negative index",
    "decreasing indptr",
    "indptr not from 0",
    "uint64 index too large",
]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array]
)
@pytest.mark.parametrize("how", _CORRUPTIONS)
def test_corrupted_sparse_structure_is_refused(Estimator, container, how):
    X, y = _linear_data(n_samples=20, seed=40)
    X[np.abs(X) < 0.3] = 0.0
    bad = _corrupt(container(X), how)
    pattern = "(indices|indptr|int64)"
    with pytest.raises(ValueError, match=pattern):
        Estimator().fit(bad, y)
    with pytest.raises(ValueError, match=pattern):
        Estimator().partial_fit(bad, y, classes=[0, 1])
    clf = Estimator(random_state=0, max_iter=1000).fit(X, y)
    before = clf.coef_.copy()
    with pytest.raises(ValueError, match=pattern):
        clf.partial_fit(bad, y)
    np.testing.assert_array_equal(clf.coef_, before)
    with pytest.raises(ValueError, match=pattern):
        clf.predict(bad)
    with pytest.raises(ValueError, match=pattern):
        clf.decision_function(bad)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_uint64_sparse_indices_are_accepted(Estimator):
    X, y = _linear_data(n_samples=30, seed=41)
    X[np.abs(X) < 0.3] = 0.0
    X_csr = sp.csr_matrix(X)
    wide = X_csr.copy()
    wide.indices = wide.indices.astype(np.uint64)
    wide.indptr = wide.indptr.astype(np.uint64)
    a = Estimator(random_state=0, max_iter=1000).fit(X_csr, y)
    b = Estimator(random_state=0, max_iter=1000).fit(wide, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.decision_function(X_csr), b.decision_function(wide))


# -- labels --------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_none_among_the_labels_is_refused(Estimator):
    X = np.array([[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="classes contains None"):
        Estimator().partial_fit(X[:2], ["a", "b"], classes=["a", "b", None])
    with pytest.raises(ValueError, match="y contains None"):
        Estimator().fit(X, np.array([None, "a", "b"], dtype=object))
    with pytest.raises(ValueError, match="y contains None"):
        Estimator().partial_fit(X, np.array(["a", None, "b"], dtype=object),
                                classes=["a", "b"])  # fmt: skip


# -- failure atomicity -----------------------------------------------------------

# What scikit-learn keeps on the estimator for its callbacks, not fitted state.
_CALLBACK_KEYS = {
    "_skl_callbacks",
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_parent_callback_ctx",
}


def _state_of(estimator):
    """Every attribute of the estimator but its callbacks, as bytes."""
    return {
        key: pickle.dumps(value)
        for key, value in vars(estimator).items()
        if key not in _CALLBACK_KEYS
    }


class _InterruptAtFirstEpochEnd:
    """A callback that interrupts the fit when its first epoch ends."""

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.parent is not None:
            raise KeyboardInterrupt

    def teardown(self, estimator, context):
        pass


def _callbacks(with_interrupt):
    if not CALLBACKS_AVAILABLE:
        return []
    from sklearn.callback import ScoringMonitor

    callbacks = [ScoringMonitor(scoring="accuracy")]
    try:
        from sklearn.callback import ProgressBar

        callbacks.append(ProgressBar())  # runs a non-daemon thread during a fit
    except ImportError:  # rich is not installed
        pass
    if with_interrupt:
        callbacks.append(_InterruptAtFirstEpochEnd())
    return callbacks


def _interrupting_kernel(kernel, fail_at_call):
    calls = []

    def wrapper(*args):
        calls.append(1)
        if len(calls) == fail_at_call:
            raise KeyboardInterrupt
        return kernel(*args)

    return wrapper


_FAILURES = [
    "overflow",
    "late bad input",
    "interrupt in kernel",
    pytest.param(
        "interrupt in callback",
        marks=pytest.mark.requires_sklearn("1.9", reason="callbacks exist from 1.9"),
    ),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "fitted"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("failure", _FAILURES)
@pytest.mark.parametrize("penalty", [None, "elasticnet"])
def test_a_failed_call_leaves_the_estimator_as_it_was(
    Estimator, fitted, method, failure, penalty, monkeypatch
):
    X, y = _linear_data(n_samples=60, noise=0.3, seed=50)
    params = dict(max_iter=5, random_state=0, average=True, penalty=penalty)

    def make():
        est = Estimator(**params)
        if CALLBACKS_AVAILABLE:
            est.set_callbacks(*_callbacks(failure == "interrupt in callback"))
        if fitted:
            # The fitted state comes from other data: a failure must not mix
            # the new classes or features with the old weights.
            X_old = np.hstack([X, X[:, :1]]) if method == "fit" else X
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.set_callbacks(*_callbacks(False)) if CALLBACKS_AVAILABLE else None
                est.fit(X_old, np.where(y == 1, 7, 3) if method == "fit" else y)
                if CALLBACKS_AVAILABLE:
                    est.set_callbacks(*_callbacks(failure == "interrupt in callback"))
        return est

    est, twin = make(), make()
    before = _state_of(est)
    X_new, y_new, kwargs = X, y, {}
    if failure == "overflow":
        X_new = X * 1e200
    elif failure == "late bad input":
        est.set_params(class_weight={0: 1.0, 5: 2.0})  # 5 is not a class
    elif failure == "interrupt in kernel":
        name = {
            (Perceptron, None): "binary_epoch_dense",
            (MulticlassPerceptron, None): "multiclass_epoch_dense",
            (Perceptron, "elasticnet"): "binary_penalized_epoch",
            (MulticlassPerceptron, "elasticnet"): "multiclass_penalized_epoch",
        }[Estimator, penalty]
        kernel = getattr(_perceptron_module, name)
        fail_at = 2 if method == "fit" else 1  # after a finished epoch in fit
        monkeypatch.setattr(
            _perceptron_module, name, _interrupting_kernel(kernel, fail_at)
        )
    if method == "partial_fit" and not fitted:
        kwargs["classes"] = [0, 1]
    expected = KeyboardInterrupt if failure.startswith("interrupt") else ValueError
    threads_before = set(threading.enumerate())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(expected):
            getattr(est, method)(X_new, y_new, **kwargs)
    if failure == "late bad input":
        est.set_params(class_weight=None)
    assert _state_of(est) == before
    if not fitted:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
    # No thread started for the fit (a progress bar's) outlives it.
    assert [
        t for t in threading.enumerate() if not t.daemon and t not in threads_before
    ] == []
    # The estimator goes on as if the failed call had never happened.
    monkeypatch.undo()
    for e in (est, twin):
        if CALLBACKS_AVAILABLE:
            e.set_callbacks(*_callbacks(False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            getattr(e, method)(X, y, **kwargs)
    np.testing.assert_array_equal(est.coef_, twin.coef_)
    np.testing.assert_array_equal(est.intercept_, twin.intercept_)
    assert est.mistakes_ == twin.mistakes_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("average", [False, True])
def test_fitted_arrays_share_no_memory_with_the_training_state(Estimator, average):
    X, y = _linear_data(n_samples=60, noise=0.3, seed=51)
    clf = Estimator(shuffle=False, average=average)
    clf.partial_fit(X, y, classes=[0, 1])
    coef, intercept = clf.coef_, clf.intercept_
    kept = coef.copy(), intercept.copy()
    for internal in (clf._coef, clf._intercept):
        assert not np.shares_memory(coef, internal)
        assert not np.shares_memory(intercept, internal)
    clf.partial_fit(X, y)
    # The next call trains on its own arrays: what the user held is unchanged.
    np.testing.assert_array_equal(coef, kept[0])
    np.testing.assert_array_equal(intercept, kept[1])
    assert not np.array_equal(clf.coef_, kept[0])


# -- threads -----------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_concurrent_predictions_equal_sequential_ones(Estimator, container):
    n_classes = 2 if Estimator is Perceptron else 4
    X, y = _linear_data(n_samples=400, n_features=8, n_classes=n_classes, seed=52)
    X[np.abs(X) < 0.3] = 0.0
    X = container(X)
    clf = _quiet_fit(Estimator(random_state=0, max_iter=20), X, y)
    chunks = [X[i : i + 50] for i in range(0, 400, 50)] * 4
    expected = [(clf.predict(c), clf.decision_function(c)) for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda c: (clf.predict(c), clf.decision_function(c)), chunks)
        )
    for (p, d), (p_seq, d_seq) in zip(results, expected, strict=True):
        np.testing.assert_array_equal(p, p_seq)
        np.testing.assert_array_equal(d, d_seq)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_concurrent_fits_equal_sequential_ones(Estimator):
    # The kernels release the GIL; fits in threads touch no shared state.
    # Separable data, so that every fit converges: warning filters are not
    # thread-safe, so no fit here may warn.
    X, y = _linear_data(n_samples=300, n_features=6, seed=53)

    def fit(seed):
        return Estimator(random_state=seed, max_iter=1000).fit(X, y).coef_

    seeds = list(range(8))
    expected = [fit(s) for s in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(fit, seeds))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# -- penalty, alpha, l1_ratio ----------------------------------------------------


# a transcription of the algorithm in one piece, step by step as it runs
def _python_penalized_perceptron(rows, y, sample_weight, params, n_classes):  # noqa: C901
    """SGD with a penalty, one sample at a time, in Python floats.

    ``rows[i]`` lists the ``(feature, value)`` pairs of sample ``i``: every
    feature for dense data, the stored ones for CSR (the L1 penalty reaches
    only those). ``n_classes=1`` is the binary perceptron (``y`` in {-1, +1});
    otherwise the multiclass one (``y`` class indices). Returns the weights
    ``W`` (n_features x columns), the intercepts and their averages over the
    steps.
    """
    n_features = params["n_features"]
    penalty, alpha, eta = params["penalty"], params["alpha"], params["eta0"]
    l1_ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, params["l1_ratio"])
    n_cols = max(n_classes, 1)
    W = [[0.0] * n_cols for _ in range(n_features)]
    b = [0.0] * n_cols
    W_sum = [[0.0] * n_cols for _ in range(n_features)]
    b_sum = [0.0] * n_cols
    total_l1 = 0.0
    received = [[0.0] * n_cols for _ in range(n_features)]
    steps = 0
    for _ in range(params["max_iter"]):
        for i, row in enumerate(rows):
            scores = [b[k] + sum(W[j][k] * x for j, x in row) for k in range(n_cols)]
            moves = []  # (column, signed step)
            if n_classes == 1:
                if y[i] * scores[0] <= 0.0:
                    moves = [(0, eta * y[i] * sample_weight[i])]
            else:
                y_hat = max(range(n_cols), key=lambda k: (scores[k], -k))
                if y_hat != y[i]:
                    step = eta * sample_weight[i]
                    moves = [(y_hat, -step), (y[i], step)]
            if penalty in ("l2", "elasticnet"):
                factor = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
                W = [[w * factor for w in weights] for weights in W]
            for k, step in moves:
                for j, x in row:
                    W[j][k] += x * step
                if params["fit_intercept"]:
                    b[k] += step
            if penalty in ("l1", "elasticnet"):
                total_l1 += l1_ratio * eta * alpha
                for j, _ in row:
                    for k in range(n_cols):
                        old = W[j][k]
                        if old > 0.0:
                            W[j][k] = max(0.0, old - (total_l1 + received[j][k]))
                        elif old < 0.0:
                            W[j][k] = min(0.0, old + (total_l1 - received[j][k]))
                        received[j][k] += W[j][k] - old
            steps += 1
            for j in range(n_features):
                for k in range(n_cols):
                    W_sum[j][k] += W[j][k]
            for k in range(n_cols):
                b_sum[k] += b[k]
    W_avg = np.array(W_sum) / steps
    return np.array(W), np.array(b), W_avg, np.array(b_sum) / steps


def _rows(X):
    if sp.issparse(X):
        X = X.tocsr()
        rows = []
        for i in range(X.shape[0]):
            stored = slice(X.indptr[i], X.indptr[i + 1])
            rows.append(
                list(zip(X.indices[stored].tolist(), X.data[stored].tolist(),
                         strict=True))
            )  # fmt: skip
        return rows
    return [list(enumerate(row)) for row in X.tolist()]


_PENALTIES = ["l2", "l1", "elasticnet"]

_PENALTY_CASES = [
    {"alpha": 1e-4},
    {"alpha": 0.02, "l1_ratio": 0.4, "eta0": 0.5},
    # The weights' scale falls below the threshold where it is folded in.
    {"alpha": 0.6, "l1_ratio": 0.05},
    # A shrink factor of zero: the weights restart from zero at each sample.
    {"alpha": 3.0, "l1_ratio": 0.0},
    pytest.param(
        {"alpha": 0.01, "tol": 1e-3, "n_iter_no_change": 2},
        marks=pytest.mark.requires_sklearn(
            "1.9", reason="the stopping rule of scikit-learn 1.9 with a penalty"
        ),
        id=str({"alpha": 0.01, "tol": 1e-3, "n_iter_no_change": 2}),
    ),
    {"alpha": 0.001, "class_weight": {"neg": 0.4, "pos": 2.0}, "eta0": 0.7},
    {"alpha": 0.01, "coef_init": True, "fit_intercept": False},
]


@pytest.mark.parametrize("penalty", _PENALTIES)
@pytest.mark.parametrize("options", _PENALTY_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_penalized_perceptron_matches_sklearn_to_the_bit(
    penalty, options, dtype, weighted
):
    X, y = _linear_data(n_samples=120, n_features=6, noise=0.2, seed=60)
    X = X.astype(dtype)
    labels = np.array(["neg", "pos"])[y]
    rng = np.random.RandomState(61)
    params = {"penalty": penalty, "tol": None, "eta0": 1.0, **options}
    fit_params = {"sample_weight": rng.uniform(0, 3, len(y)) if weighted else None}
    if params.pop("coef_init", False):
        fit_params["coef_init"] = rng.randn(1, 6)
        fit_params["intercept_init"] = rng.randn(1)
    ours = _quiet_fit(Perceptron(shuffle=False, max_iter=15, **params), X, labels,
                      **fit_params)  # fmt: skip
    theirs = _quiet_fit(
        SklearnPerceptron(shuffle=False, max_iter=15, **params), X, labels,
        **fit_params,
    )  # fmt: skip
    assert ours.coef_.dtype == dtype
    assert np.all(np.isfinite(ours.coef_))
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_.astype(dtype))
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("penalty", _PENALTIES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array])
def test_penalized_perceptron_on_csr_matches_sklearn(penalty, dtype, container):
    # scikit-learn damps the intercept's updates on sparse data; without an
    # intercept the two agree to the bit, the L1 penalty reaching only the
    # stored features of each sample in both.
    X, y = _linear_data(n_samples=100, n_features=8, noise=0.2, seed=62)
    X[np.abs(X) < 0.7] = 0.0
    X_csr = container(X.astype(dtype))
    weights = np.random.RandomState(63).uniform(0, 2, len(y))
    params = dict(penalty=penalty, alpha=0.01, l1_ratio=0.3, max_iter=10,
                  fit_intercept=False, tol=None, shuffle=False)  # fmt: skip
    ours = Perceptron(**params).fit(X_csr, y, sample_weight=weights)
    theirs = SklearnPerceptron(**params).fit(X_csr, y, sample_weight=weights)
    assert ours.coef_.dtype == dtype
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_penalized_perceptron_csr_equals_dense_without_zeros(penalty):
    X, y = _linear_data(n_samples=90, n_features=5, noise=0.2, seed=64)
    params = dict(penalty=penalty, alpha=0.05, max_iter=8, shuffle=False)
    dense = Perceptron(**params).fit(X, y)
    csr = Perceptron(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.coef_, csr.coef_)
    np.testing.assert_array_equal(dense.intercept_, csr.intercept_)


def test_penalized_partial_fit_matches_sklearn():
    # Each call is one epoch from the weights reached so far, as in
    # scikit-learn: its penalty bookkeeping starts afresh.
    X, y = _linear_data(n_samples=80, n_features=5, noise=0.2, seed=65)
    for dtype in (np.float64, np.float32):
        params = dict(penalty="elasticnet", alpha=0.05, l1_ratio=0.5, shuffle=False)
        ours, theirs = Perceptron(**params), SklearnPerceptron(**params)
        for _ in range(4):
            ours.partial_fit(X.astype(dtype), y, classes=[0, 1])
            theirs.partial_fit(X.astype(dtype), y, classes=[0, 1])
        np.testing.assert_array_equal(ours.coef_, theirs.coef_)
        np.testing.assert_array_equal(ours.intercept_, theirs.intercept_.astype(dtype))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("penalty", _PENALTIES)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("average", [False, True])
def test_penalized_perceptrons_match_python_transcription(
    Estimator, penalty, container, average
):
    n_classes = 2 if Estimator is Perceptron else 3
    X, y = _linear_data(n_samples=50, n_features=4, n_classes=n_classes,
                        noise=0.2, seed=66)  # fmt: skip
    X[np.abs(X) < 0.4] = 0.0
    sample_weight = np.random.RandomState(67).choice([0.0, 0.5, 1.0, 2.0], len(y))
    params = dict(penalty=penalty, alpha=0.03, l1_ratio=0.4, eta0=0.8,
                  max_iter=6, fit_intercept=True)  # fmt: skip
    est = Estimator(shuffle=False, average=average, **params)
    est.fit(container(X), y, sample_weight=sample_weight)
    y_oracle = np.where(y == 1, 1.0, -1.0) if n_classes == 2 else y
    W, b, W_avg, b_avg = _python_penalized_perceptron(
        _rows(container(X)), y_oracle.tolist(), sample_weight.tolist(),
        {**params, "n_features": 4}, 1 if n_classes == 2 else n_classes,
    )  # fmt: skip
    if average:
        W, b = W_avg, b_avg
    np.testing.assert_allclose(est.coef_, W.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_elasticnet_bounds_are_l1_and_l2(Estimator):
    X, y = _linear_data(n_samples=100, n_features=5, n_classes=3, seed=68)
    if Estimator is Perceptron:
        y = (y == 0).astype(int)
    params = dict(alpha=0.01, max_iter=10, random_state=0)
    for penalty, l1_ratio in (("l1", 1.0), ("l2", 0.0)):
        mixed = Estimator(penalty="elasticnet", l1_ratio=l1_ratio, **params)
        mixed.fit(X, y)
        # penalty="l1" and "l2" ignore l1_ratio, as in scikit-learn.
        for ignored in (0.7, None):
            alone = Estimator(penalty=penalty, l1_ratio=ignored, **params)
            alone.fit(X, y)
            np.testing.assert_array_equal(alone.coef_, mixed.coef_)
    l1 = Estimator(penalty="elasticnet", l1_ratio=0.0, **params).fit(X, y)
    l2 = Estimator(penalty="elasticnet", l1_ratio=0.9, **params).fit(X, y)
    assert not np.array_equal(l1.coef_, l2.coef_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_l1_penalty_zeroes_irrelevant_features(Estimator):
    rng = np.random.RandomState(69)
    X = rng.randn(300, 10)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)  # features 2 … 9 are noise
    est = Estimator(penalty="l1", alpha=0.005, max_iter=30, random_state=0)
    est.fit(X, y)
    assert np.all(est.coef_[:, 2:] == 0.0)
    assert np.all(est.coef_[:, :2] != 0.0)
    unpenalized = _quiet_fit(Estimator(max_iter=30, random_state=0), X, y)
    assert np.count_nonzero(unpenalized.coef_[:, 2:]) > 0


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_penalty_runs_max_iter_epochs_without_tol(Estimator):
    # Separable data: without a penalty the first epoch with no mistake
    # stops training; with one, every sample shrinks the weights, so as in
    # scikit-learn only tol stops it, and without tol no warning is due.
    X, y = _linear_data(n_samples=60, n_features=3, seed=70)
    plain = Estimator(max_iter=50, shuffle=False).fit(X, y)
    assert plain.n_iter_ < 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = Estimator(penalty="l2", max_iter=50, shuffle=False).fit(X, y)
    assert est.n_iter_ == 50


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_penalty_with_tol_warns_when_max_iter_is_reached(Estimator):
    X, y = _linear_data(n_samples=80, n_features=4, noise=0.3, seed=71)
    est = Estimator(penalty="l1", tol=0.0, n_iter_no_change=50, max_iter=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs ran before"):
        est.fit(X, y)
    assert est.n_iter_ == 3
    # A loose tol stops it.
    est = Estimator(penalty="l1", tol=10.0, n_iter_no_change=2, max_iter=50)
    est.fit(X, y)
    assert est.n_iter_ == 3


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"penalty": "l3"}, "penalty"),
        ({"penalty": "l2", "alpha": -1.0}, "alpha"),
        ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio"),
        ({"penalty": "elasticnet", "l1_ratio": None}, "l1_ratio must be set"),
    ],
)
def test_penalty_parameters_are_validated(Estimator, params, match):
    X, y = _linear_data(n_samples=20, seed=72)
    with pytest.raises(ValueError, match=match):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_penalized_fit_does_not_modify_the_inputs(Estimator):
    X, y = _linear_data(n_samples=40, seed=73)
    coef_init = np.ones((1 if Estimator is Perceptron else 2, X.shape[1]))
    copies = X.copy(), y.copy(), coef_init.copy()
    est = Estimator(penalty="elasticnet", alpha=0.1, max_iter=5)
    est.fit(X, y, coef_init=coef_init)
    for passed, original in zip((X, y, coef_init), copies, strict=True):
        np.testing.assert_array_equal(passed, original)
    assert not np.shares_memory(est.coef_, coef_init)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_default_fits_are_reproducible(Estimator):
    # random_state defaults to 0, as in scikit-learn's Perceptron: two fits
    # with the default shuffling give the same weights.
    X, y = _linear_data(n_samples=80, n_features=4, noise=0.3, seed=74)
    first = _quiet_fit(Estimator(max_iter=5), X, y)
    second = _quiet_fit(Estimator(max_iter=5), X, y)
    np.testing.assert_array_equal(first.coef_, second.coef_)
    # A different seed visits the samples in another order.
    other = _quiet_fit(Estimator(max_iter=5, random_state=1), X, y)
    assert not np.array_equal(first.coef_, other.coef_)


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(2, 25),
    n_features=st.integers(1, 4),
    penalty=st.sampled_from(_PENALTIES),
    alpha=st.sampled_from([0.0, 1e-4, 0.05, 0.9, 2.0]),
    l1_ratio=st.sampled_from([0.0, 0.15, 1.0]),
    fit_intercept=st.booleans(),
    float32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_penalized_perceptron_matches_sklearn_property(
    n_samples, n_features, penalty, alpha, l1_ratio, fit_intercept, float32, seed
):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features).astype(np.float32 if float32 else float)
    y = rng.randint(0, 2, n_samples)
    y[:2] = [0, 1]  # both classes present
    params = dict(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=None,
                  fit_intercept=fit_intercept, shuffle=False, max_iter=4)  # fmt: skip
    ours = Perceptron(**params).fit(X, y)
    theirs = SklearnPerceptron(**params).fit(X, y)
    assert np.all(np.isfinite(ours.coef_))
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_.astype(X.dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_penalized_warm_start_and_early_stopping_match_sklearn(dtype):
    X, y = _linear_data(n_samples=120, n_features=5, noise=0.25, seed=75)
    X = X.astype(dtype)
    params = dict(penalty="elasticnet", alpha=0.02, l1_ratio=0.6, shuffle=False,
                  max_iter=6, tol=None, warm_start=True)  # fmt: skip
    ours, theirs = Perceptron(**params), SklearnPerceptron(**params)
    for _ in range(2):
        ours.fit(X, y)
        theirs.fit(X, y)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    # With the L1 penalty alone the weights' scale stays 1, so the validation
    # accuracy, and hence the epoch where training stops, agree too.
    params = dict(penalty="l1", alpha=0.01, shuffle=False, max_iter=40, tol=1e-3,
                  n_iter_no_change=2, early_stopping=True, random_state=2)  # fmt: skip
    ours = Perceptron(**params).fit(X, y)
    theirs = SklearnPerceptron(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 40
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
