"""The perceptron: a binary and a multiclass linear classifier.

The estimators validate their input, encode the labels, and hand each epoch to
a numba kernel in ``sknonlin._perceptron_kernels``.
"""

import functools
import warnings
from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from sknonlin._base import DocLinkMixin
from sknonlin._callbacks import CallbackSupportMixin, EpochReporter
from sknonlin._perceptron_kernels import (
    binary_epoch_csr,
    binary_epoch_dense,
    multiclass_epoch_csr,
    multiclass_epoch_dense,
    shuffled_order,
)


@functools.lru_cache(maxsize=4)
def _rounding_constants(dtype):
    """Unit roundoff and largest underflow error of a product in ``dtype``."""
    info = np.finfo(dtype)
    return float(info.eps) / 2.0, float(info.smallest_subnormal) / 2.0


class _BasePerceptron(
    CallbackSupportMixin, DocLinkMixin, ClassifierMixin, BaseEstimator
):
    """Shared plumbing of ``Perceptron`` and ``MulticlassPerceptron``.

    The weights being learned (``_coef``, shape (n_features, n_coef_columns))
    and the intercepts (``_intercept``, float64) are kept apart from the
    public ``coef_`` and ``intercept_``, which hold their average when
    ``average=True``.
    """

    _parameter_constraints: ClassVar[dict] = {
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "average": ["boolean"],
    }

    def __init__(
        self,
        *,
        fit_intercept=True,
        max_iter=100,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        average=False,
    ):
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.average = average

    # -- subclass hooks -------------------------------------------------------

    def _check_n_classes(self, n_classes):
        raise NotImplementedError

    def _n_coef_columns(self, n_classes):
        raise NotImplementedError

    def _encode_y(self, y_index, dtype):
        raise NotImplementedError

    def _run_epoch(self, X, y, sample_weight, order, t):
        raise NotImplementedError

    # -- training -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the perceptron with up to ``max_iter`` epochs over the data.

        Training stops early after an epoch with no mistake.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is used in CSR format.

        y : array-like of shape (n_samples,)
            Target labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each update is scaled by the weight of its
            sample. None means a weight of 1 for every sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "_coef")
        return self._fit(
            X, y, sample_weight, classes=None, continuing=warm, incremental=False
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over the data, starting from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is used in CSR format.

        y : array-like of shape (n_samples,)
            Target labels.

        classes : array-like of shape (n_classes,), default=None
            Every label the estimator will see. Required on the first call,
            optional afterwards (it must then equal ``classes_``).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each update is scaled by the weight of its
            sample. None means a weight of 1 for every sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        continuing = hasattr(self, "_coef")
        if not continuing and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, "
                "listing every label the estimator will see."
            )
        return self._fit(
            X, y, sample_weight, classes=classes, continuing=continuing,
            incremental=True,
        )  # fmt: skip

    def _fit(self, X, y, sample_weight, *, classes, continuing, incremental):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            reset=not continuing,
        )
        check_classification_targets(y)
        classes_, y_index = self._encode_labels(y, classes, continuing)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )

        if continuing:
            self._coef = self._coef.astype(X.dtype, copy=False)
            if self.average and self._avg_coef is None:
                # Averaging switched on between calls: the steps already taken
                # count as if they had used the weights reached so far.
                self._avg_coef = np.zeros(self._coef.shape, dtype=np.float64)
                self._avg_intercept = np.zeros_like(self._intercept)
        else:
            self.classes_ = classes_
            n_columns = self._n_coef_columns(classes_.size)
            self._coef = np.zeros((X.shape[1], n_columns), dtype=X.dtype)
            self._intercept = np.zeros(n_columns, dtype=np.float64)
            self._avg_coef = (
                np.zeros((X.shape[1], n_columns), dtype=np.float64)
                if self.average
                else None
            )
            self._avg_intercept = (
                np.zeros(n_columns, dtype=np.float64) if self.average else None
            )
            self.t_ = 0
            self.n_iter_ = 0
            self.mistakes_ = []
        if not incremental or not continuing:
            # One random stream per call to fit, so that fits are reproducible.
            self._rng = check_random_state(self.random_state)

        y_encoded = self._encode_y(y_index, X.dtype)
        n_samples = X.shape[0]
        max_iter = 1 if incremental else self.max_iter
        order = np.arange(n_samples, dtype=np.intp)
        mistakes = 0
        stopped = False
        reporter = EpochReporter(
            self,
            X,
            y,
            max_epochs=max_iter,
            verbose=self.verbose,
            metadata={"sample_weight": sample_weight},
        )
        for _ in range(max_iter):
            reporter.begin_epoch(self.n_iter_ + 1)
            if self.shuffle:
                # One seed, hence one fresh permutation, per epoch: k calls to
                # partial_fit visit the samples as fit does in k epochs.
                seed = self._rng.randint(np.iinfo(np.int64).max, dtype=np.int64)
                order = shuffled_order(n_samples, seed)
            t, mistakes = self._run_epoch(
                X, y_encoded, sample_weight, order, float(self.t_)
            )
            self.t_ = int(t)
            self.n_iter_ += 1
            self.mistakes_.append(int(mistakes))
            if not (
                np.all(np.isfinite(self._coef)) and np.all(np.isfinite(self._intercept))
            ):
                raise ValueError(
                    f"The weights overflowed at epoch {self.n_iter_}; scale the "
                    "input data, for instance with StandardScaler."
                )
            message = f"Epoch {self.n_iter_}, mistakes = {mistakes}"
            if reporter.end_epoch(message, self._public_weights):
                stopped = True  # a callback asked to stop
                break
            if mistakes == 0 and not incremental:
                break
        reporter.end()
        self._store_public_weights()
        if not incremental and mistakes > 0 and not stopped:
            advice = "" if self.average else ", or use average=True"
            warnings.warn(
                f"{type(self).__name__} did not converge: its last epoch "
                f"(max_iter={self.max_iter}) still made {mistakes} mistakes. "
                f"The data may not be linearly separable; increase max_iter{advice}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _encode_labels(self, y, classes, continuing):
        """The sorted classes, and the index in them of each label of ``y``."""
        if continuing:
            if classes is not None and not np.array_equal(
                np.unique(classes), self.classes_
            ):
                raise ValueError(
                    f"classes={np.unique(classes).tolist()} differs from the "
                    f"classes_ {self.classes_.tolist()} of the previous call."
                )
            classes_ = self.classes_
        elif classes is None:
            classes_, y_index = np.unique(y, return_inverse=True)
            self._check_n_classes(classes_.size)
            return classes_, y_index
        else:
            classes_ = np.unique(classes)
            self._check_n_classes(classes_.size)
        y_index = np.searchsorted(classes_, y)
        if not np.array_equal(classes_[np.minimum(y_index, classes_.size - 1)], y):
            unknown = np.setdiff1d(y, classes_)
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes_ "
                f"{classes_.tolist()}: partial_fit needs every label in `classes` "
                "on its first call, and warm_start keeps the previous classes."
            )
        return classes_, y_index

    def _store_public_weights(self):
        """Set ``coef_`` and ``intercept_`` from the training state."""
        for name, value in self._public_weights().items():
            setattr(self, name, value)

    def _public_weights(self):
        """``coef_`` and ``intercept_`` as of now: the weights or their average."""
        coef, intercept = self._coef, self._intercept
        if self.average and self.t_ > 0:
            # The average of w over T steps is w - U / T (see the kernels).
            coef = coef - self._avg_coef / self.t_
            intercept = intercept - self._avg_intercept / self.t_
        return {
            "coef_": np.ascontiguousarray(coef.T, dtype=self._coef.dtype),
            "intercept_": np.asarray(intercept, dtype=self._coef.dtype),
        }

    def _epoch_args(self, X, y, sample_weight, order):
        if sp.issparse(X):
            head = (X.data, X.indices, X.indptr)
        else:
            head = (X,)
        avg_coef = self._avg_coef if self.average else np.zeros((1, 1))
        # Prefetching rows pays off only when they are visited out of order.
        return (*head, y, sample_weight, order, self.shuffle), avg_coef

    # -- prediction -----------------------------------------------------------

    def _scores(self, X):
        """``X @ coef_.T + intercept_`` in the dtype of ``X``."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        coef = self.coef_.astype(X.dtype, copy=False)
        intercept = self.intercept_.astype(X.dtype, copy=False)
        return np.asarray(safe_sparse_dot(X, coef.T, dense_output=True)) + intercept

    def predict(self, X):
        """Predict the class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Perceptron(_BasePerceptron):
    """Binary perceptron: the classifier ``sign(w·x + b)`` learned mistake by mistake.

    Starting from ``w = 0``, the samples are visited one at a time; a sample
    whose label the current weights do not predict with a positive margin
    moves the weights towards it. Training stops after an epoch with no
    mistake, or after ``max_iter`` epochs.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to learn an intercept ``b``: the weight of a constant feature
        1, updated like the others.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training data) in ``fit``.

    shuffle : bool, default=True
        Whether to visit the samples in a new random order at each epoch.
        With ``shuffle=False`` they are visited in the order given.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling. Pass an int for reproducible results.

    warm_start : bool, default=False
        When True, ``fit`` continues from the weights of the previous fit
        instead of starting from zero.

    verbose : int, default=0
        If positive, print the number of mistakes of each epoch.

    average : bool, default=False
        When True, ``coef_`` and ``intercept_`` are the averaged perceptron:
        the mean of the weights over every step of training.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights ``w``, in the dtype of the training data.

    intercept_ : ndarray of shape (1,)
        Intercept ``b`` (zero when ``fit_intercept=False``).

    classes_ : ndarray of shape (2,)
        The two labels. A positive ``decision_function`` means ``classes_[1]``.

    n_iter_ : int
        Number of epochs run since the weights were last set to zero.

    t_ : int
        Number of training steps (samples visited) since the weights were last
        set to zero.

    mistakes_ : list of int
        Number of mistakes, i.e. updates, in each of those epochs.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    MulticlassPerceptron : The perceptron for any number of classes.
    sklearn.linear_model.Perceptron : scikit-learn's perceptron, a special
        case of stochastic gradient descent.

    Notes
    -----
    With ``y ∈ {-1, +1}`` (``+1`` for ``classes_[1]``), each step takes one
    sample ``(x, y)`` of weight ``s``::

        if y (wᵀx + b) > 0:  keep w and b
        else:                w ← w + s y x,   b ← b + s y

    This is stochastic gradient descent with step 1 on the loss
    ``max(0, -y (wᵀx + b))``. A margin of exactly 0 counts as a mistake, and
    predicts ``classes_[0]``. On linearly separable data the number of
    mistakes is finite (Novikoff's theorem), so training stops by itself
    given enough epochs.

    The margin is the sum of the products ``w_j x_j`` (in the dtype of ``X``)
    added in float64 in feature order, then ``b``. With ``shuffle=False`` on
    dense data, the result is the same to the bit as scikit-learn's
    ``Perceptron(shuffle=False, tol=None, eta0=1.0, penalty=None)`` with the
    same ``fit_intercept`` and ``max_iter``: an epoch with no mistake changes
    nothing, so stopping after one gives the same weights. On sparse data
    scikit-learn damps the intercept's updates, this estimator does not.

    With ``average=True`` and ``w_t`` the weights after step ``t``,
    ``coef_ = (1/T) Σ_{t=1..T} w_t``. It is computed lazily: each update
    ``Δ`` at step ``t`` also adds ``(t - 1) Δ`` to an accumulator ``U``, and
    the average is ``w_T - U / T``.

    References
    ----------
    .. [1] F. Rosenblatt, "The perceptron: a probabilistic model for
       information storage and organization in the brain", Psychological
       Review 65(6), 1958.
    .. [2] Y. Freund and R. E. Schapire, "Large margin classification using
       the perceptron algorithm", Machine Learning 37(3), 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from sknonlin import Perceptron
    >>> X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    >>> y = np.array(["yes", "no", "no"])
    >>> clf = Perceptron(shuffle=False).fit(X, y)
    >>> clf.coef_.tolist(), clf.intercept_.tolist()
    ([[-1.0, 3.0]], [0.0])
    >>> clf.mistakes_
    [2, 0]
    >>> clf.predict([[0.0, 1.0], [1.0, 0.0]]).tolist()
    ['yes', 'no']
    >>> [round(float(s), 2) for s in clf.decision_function([[0.0, 1.0], [1.0, 0.0]])]
    [3.0, -1.0]
    """

    def _check_n_classes(self, n_classes):
        if n_classes > 2:
            raise ValueError(
                "Only binary classification is supported. The data has "
                f"{n_classes} classes; use MulticlassPerceptron for more than "
                "two classes."
            )
        if n_classes < 2:
            raise ValueError(
                "Perceptron needs samples of 2 classes; the data has only "
                f"{n_classes} class."
            )

    def _n_coef_columns(self, n_classes):
        return 1

    def _encode_y(self, y_index, dtype):
        return np.where(y_index == 1, 1.0, -1.0).astype(dtype)

    def _run_epoch(self, X, y, sample_weight, order, t):
        head, avg_coef = self._epoch_args(X, y, sample_weight, order)
        epoch = binary_epoch_csr if sp.issparse(X) else binary_epoch_dense
        avg_intercept = self._avg_intercept[0] if self.average else 0.0
        intercept, avg_intercept, t, mistakes = epoch(
            *head,
            self._coef[:, 0],
            self._intercept[0],
            self.fit_intercept,
            self.average,
            avg_coef[:, 0],
            avg_intercept,
            t,
            *_rounding_constants(X.dtype),
        )
        self._intercept[0] = intercept
        if self.average:
            self._avg_intercept[0] = avg_intercept
        return t, mistakes

    def decision_function(self, X):
        """Signed score ``w·x + b`` of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Positive for ``classes_[1]``, zero or negative for ``classes_[0]``;
            in the dtype of ``X`` (float32 or float64).
        """
        return self._scores(X)[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class MulticlassPerceptron(_BasePerceptron):
    """Multiclass perceptron: one weight vector per class, learned jointly.

    The predicted class is the one whose weight vector scores the sample
    highest. Each mistake moves the weights of the true class towards the
    sample and those of the predicted class away from it. This is a single
    model, not one binary perceptron per class.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to learn an intercept ``b_k`` per class: the weight of a
        constant feature 1, updated like the others.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training data) in ``fit``.

    shuffle : bool, default=True
        Whether to visit the samples in a new random order at each epoch.
        With ``shuffle=False`` they are visited in the order given.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling. Pass an int for reproducible results.

    warm_start : bool, default=False
        When True, ``fit`` continues from the weights of the previous fit
        instead of starting from zero.

    verbose : int, default=0
        If positive, print the number of mistakes of each epoch.

    average : bool, default=False
        When True, ``coef_`` and ``intercept_`` are the averaged perceptron:
        the mean of the weights over every step of training.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        Weights: row ``k`` is ``w_k``, in the dtype of the training data.

    intercept_ : ndarray of shape (n_classes,)
        Intercepts ``b_k`` (zero when ``fit_intercept=False``).

    classes_ : ndarray of shape (n_classes,)
        The labels, sorted.

    n_iter_ : int
        Number of epochs run since the weights were last set to zero.

    t_ : int
        Number of training steps (samples visited) since the weights were last
        set to zero.

    mistakes_ : list of int
        Number of mistakes, i.e. updates, in each of those epochs.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    Perceptron : The binary perceptron.

    Notes
    -----
    With ``W = [w_1 … w_K]`` and labels ``y ∈ {1, …, K}``, each step takes
    one sample ``(x, y)`` of weight ``s``::

        ŷ = argmax_k  w_kᵀx + b_k        (ties go to the lowest k)
        if ŷ = y:  keep W and b
        else:      w_ŷ ← w_ŷ - s x,   w_y ← w_y + s x
                   b_ŷ ← b_ŷ - s,     b_y ← b_y + s

    Each score is the sum of the products ``w_kj x_j`` (in the dtype of
    ``X``) added in float64 in feature order, then ``b_k``; with
    ``shuffle=False`` the weights are this algorithm's to the bit.

    With two classes, ``decision_function`` returns the 1-D score
    ``(w_2 - w_1)ᵀx + (b_2 - b_1)``: positive means ``classes_[1]``, and a
    tie (zero) goes to ``classes_[0]``, as in the argmax.

    With ``average=True``, ``coef_`` is the mean of ``W`` over the ``T``
    steps, computed lazily as in :class:`Perceptron`.

    References
    ----------
    .. [1] M. Collins, "Discriminative training methods for hidden Markov
       models: theory and experiments with perceptron algorithms", EMNLP 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sknonlin import MulticlassPerceptron
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> y = np.array(["a", "b", "c"])
    >>> clf = MulticlassPerceptron(shuffle=False, fit_intercept=False).fit(X, y)
    >>> clf.coef_.tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    >>> clf.predict([[2.0, 0.5], [-3.0, -1.0]]).tolist()
    ['a', 'c']
    >>> clf.mistakes_
    [2, 0]
    """

    def _check_n_classes(self, n_classes):
        if n_classes < 2:
            raise ValueError(
                "MulticlassPerceptron needs samples of at least 2 classes; the "
                f"data has only {n_classes} class."
            )

    def _n_coef_columns(self, n_classes):
        return n_classes

    def _encode_y(self, y_index, dtype):
        return y_index.astype(np.intp)

    def _run_epoch(self, X, y, sample_weight, order, t):
        head, avg_coef = self._epoch_args(X, y, sample_weight, order)
        epoch = multiclass_epoch_csr if sp.issparse(X) else multiclass_epoch_dense
        avg_intercept = self._avg_intercept if self.average else np.zeros(1)
        return epoch(
            *head,
            self._coef,
            self._intercept,
            self.fit_intercept,
            self.average,
            avg_coef,
            avg_intercept,
            t,
        )

    def decision_function(self, X):
        """Score of each class for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            ``w_kᵀx + b_k`` for each class ``k``. With two classes, the 1-D
            difference of the second score and the first: positive means
            ``classes_[1]``. In the dtype of ``X`` (float32 or float64).
        """
        scores = self._scores(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores
