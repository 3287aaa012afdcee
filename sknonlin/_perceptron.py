"""The perceptron: a binary and a multiclass linear classifier.

The estimators validate their input, encode the labels, and hand each epoch to
a numba kernel in ``sknonlin._perceptron_kernels``.
"""

import copy
import functools
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sknonlin._array_api import refuse_array_api_input
from sknonlin._base import DocLinkMixin
from sknonlin._callbacks import CallbackSupportMixin, EpochReporter
from sknonlin._compat import Interval, StrOptions, _check_sample_weight, _fit_context
from sknonlin._perceptron_kernels import (
    binary_epoch_csr,
    binary_epoch_dense,
    binary_penalized_epoch,
    multiclass_epoch_csr,
    multiclass_epoch_dense,
    multiclass_penalized_epoch,
    shuffled_order,
)
from sknonlin._sparse import check_compressed_structure

_SEQUENTIAL = "the perceptron is a sequential algorithm, run by compiled CPU code"


@functools.lru_cache(maxsize=4)
def _rounding_constants(dtype):
    """Unit roundoff and largest underflow error of a product in ``dtype``."""
    info = np.finfo(dtype)
    return float(info.eps) / 2.0, float(info.smallest_subnormal) / 2.0


def _check_no_none(values, name):
    """Refuse ``None`` among labels: it cannot be sorted with other labels."""
    values = np.asarray(values)
    # Only an object array can hold None; compare elementwise, not with `is`.
    if values.dtype == object and np.any(values == None):  # noqa: E711
        raise ValueError(
            f"{name} contains None; every label must be a number or a string."
        )


# Placeholder for the CSR index arrays when a penalized kernel reads dense X.
_NO_INDEX = np.zeros(1, dtype=np.int32)


class _PenaltyState:
    """The working state of a penalized fit, as scikit-learn's SGD keeps it.

    The weights are ``scale[0]`` times the training state's ``coef``; see
    ``sknonlin._perceptron_kernels`` for the other fields. A fresh state
    starts each call to ``fit`` or ``partial_fit``, as in scikit-learn.
    """

    def __init__(self, estimator, coef):
        penalty = estimator.penalty
        if penalty == "elasticnet" and estimator.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
        l1_ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, estimator.l1_ratio)
        l1_ratio = float(l1_ratio)
        eta, alpha = float(estimator.eta0), float(estimator.alpha)
        self.apply_l2 = penalty in ("l2", "elasticnet")
        self.apply_l1 = penalty in ("l1", "elasticnet")
        # Below this scale the weights are folded in, as scikit-learn does.
        reset = 1e-6 if coef.dtype == np.float32 else 1e-9
        self.params = np.array(
            [
                max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha)),
                l1_ratio * eta * alpha,
                alpha,
                l1_ratio,
                reset,
            ]
        )
        flat = coef.reshape(-1)
        self.scale = np.array([1.0, np.dot(flat, flat), np.abs(flat).sum()])
        self.l1_total = np.zeros(1)
        self.q = np.zeros(coef.shape, dtype=coef.dtype)
        self.before = np.zeros(coef.shape if estimator.average else (1, 1))

    def kernel_args(self):
        return (
            self.params, self.apply_l2, self.apply_l1, self.scale,
            self.l1_total, self.q, self.before,
        )  # fmt: skip


class _TrainingState:
    """The weights and counters a fit works on before they are committed.

    ``coef`` has shape (n_features, n_coef_columns) in the dtype of ``X``;
    ``intercept`` and the averaging accumulators are float64. With a penalty,
    ``penalty`` holds the scale of ``coef`` and the L1 bookkeeping.
    """

    def __init__(self, coef, intercept, avg_coef, avg_intercept, t, n_iter, rng):
        self.coef = coef
        self.intercept = intercept
        self.avg_coef = avg_coef
        self.avg_intercept = avg_intercept
        self.t = t
        self.n_iter = n_iter
        self.rng = rng
        self.mistakes = []
        self.penalty = None

    def weights(self):
        """The weights ``coef`` stands for: ``coef`` itself without a penalty."""
        if self.penalty is None:
            return self.coef
        # The scale is folded in the dtype of the weights, as scikit-learn does.
        return self.coef * self.penalty.scale[0].astype(self.coef.dtype)

    def public_weights(self, average, dtype):
        """``coef_`` and ``intercept_``: new arrays, never views of the state."""
        coef, intercept = self.weights(), self.intercept
        if average and self.t > 0:
            # The average of w over T steps is w - U / T (see the kernels).
            coef = coef - self.avg_coef / self.t
            intercept = intercept - self.avg_intercept / self.t
        return {
            "coef_": np.array(coef.T, dtype=dtype, order="C", copy=True),
            "intercept_": np.array(intercept, dtype=dtype, copy=True),
        }


class _BasePerceptron(
    CallbackSupportMixin, DocLinkMixin, ClassifierMixin, BaseEstimator
):
    """Shared plumbing of ``Perceptron`` and ``MulticlassPerceptron``.

    The weights being learned (``_coef``, shape (n_features, n_coef_columns))
    and the intercepts (``_intercept``, float64) are kept apart from the
    public ``coef_`` and ``intercept_``, which hold their average when
    ``average=True``. A fit works on a ``_TrainingState`` and assigns the
    fitted attributes in ``_commit`` only once it has succeeded.
    """

    _parameter_constraints: ClassVar[dict] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "average": ["boolean"],
    }

    def __init__(
        self,
        *,
        penalty=None,
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=100,
        tol=None,
        shuffle=True,
        eta0=1.0,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        verbose=0,
        average=False,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.eta0 = eta0
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
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

    def _run_epoch(self, state, X, y, sample_weight, order, track_loss):
        raise NotImplementedError

    def _predict_index(self, scores):
        raise NotImplementedError

    # -- training -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the perceptron with up to ``max_iter`` epochs over the data.

        Training stops early after an epoch with no mistake (without a
        penalty), and, when ``tol`` is set, by scikit-learn's rule (see the
        class documentation).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is used in CSR format.

        y : array-like of shape (n_samples,)
            Target labels.

        coef_init : array-like of shape (n_classes, n_features), default=None
            Initial weights (one row for ``Perceptron``). None means zero, or
            the previous weights with ``warm_start=True``.

        intercept_init : array-like of shape (n_classes,), default=None
            Initial intercepts (one for ``Perceptron``). None means zero, or
            the previous intercepts with ``warm_start=True``.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each update is scaled by the weight of its
            sample, times the weight of its class with ``class_weight``. None
            means a weight of 1 for every sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        initial = coef_init is not None or intercept_init is not None
        continuing = self.warm_start and not initial and hasattr(self, "_coef")
        return self._fit(
            X,
            y,
            sample_weight,
            classes=None,
            continuing=continuing,
            incremental=False,
            init=(coef_init, intercept_init),
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
            sample, times the weight of its class with ``class_weight``. None
            means a weight of 1 for every sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        continuing = hasattr(self, "_coef")
        if self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit.")
        if not continuing:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit, "
                    "listing every label the estimator will see."
                )
            if isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit, "
                    "which cannot see the class frequencies of the whole data; "
                    "compute them with sklearn.utils.class_weight."
                    "compute_class_weight and pass them as a dict."
                )
        return self._fit(
            X, y, sample_weight, classes=classes, continuing=continuing,
            incremental=True, init=(None, None),
        )  # fmt: skip

    def _fit(self, X, y, sample_weight, *, classes, continuing, incremental, init):
        refuse_array_api_input(
            self,
            _SEQUENTIAL,
            X=X,
            y=y,
            sample_weight=sample_weight,
            classes=classes,
            coef_init=init[0],
            intercept_init=init[1],
        )
        # validate_data sets these two on the estimator: put them back if the
        # fit fails, so that a failed fit leaves the estimator as it was.
        saved = {
            name: self.__dict__[name]
            for name in ("n_features_in_", "feature_names_in_")
            if name in self.__dict__
        }
        try:
            return self._fit_or_raise(
                X, y, sample_weight, classes, continuing, incremental, init
            )
        except BaseException:
            for name in ("n_features_in_", "feature_names_in_"):
                self.__dict__.pop(name, None)
            self.__dict__.update(saved)
            raise

    def _validate_training_data(self, X, y, sample_weight, classes, continuing):
        X = check_compressed_structure(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            reset=not continuing,
        )
        _check_no_none(y, "y")
        check_classification_targets(y)
        classes_, y_index = self._encode_labels(y, classes, continuing)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        return X, y, classes_, y_index, sample_weight

    def _fit_or_raise(self, X, y, sample_weight, classes, continuing, incremental,
                      init):  # fmt: skip
        X, y, classes_, y_index, sample_weight = self._validate_training_data(
            X, y, sample_weight, classes, continuing
        )
        # The weight of each update: the class weight (rounded to the dtype of
        # X) times the sample weight, multiplied in that dtype. The validation
        # score and the callbacks see the sample weights alone.
        update_weight = sample_weight
        if self.class_weight is not None:
            class_weight = compute_class_weight(
                self.class_weight, classes=classes_, y=y
            )
            update_weight = class_weight.astype(X.dtype)[y_index] * sample_weight
        state = self._start_state(X, classes_, continuing, incremental, init)
        y_encoded = self._encode_y(y_index, X.dtype)

        train = np.arange(X.shape[0], dtype=np.intp)
        validation = None
        if self.early_stopping:
            train, validation = self._validation_split(X, y_index, sample_weight)
        max_iter = 1 if incremental else self.max_iter
        reporter = EpochReporter(
            self, X, y, max_epochs=max_iter, verbose=self.verbose,
            metadata={"sample_weight": sample_weight},
        )  # fmt: skip
        stop = _StoppingRule(self, track=not incremental)
        last_mistakes, stopped = 0, False
        for _ in range(max_iter):
            reporter.begin_epoch(state.n_iter + 1)
            order = train
            if self.shuffle:
                # One seed, hence one fresh permutation, per epoch: k calls to
                # partial_fit visit the samples as fit does in k epochs.
                seed = state.rng.randint(np.iinfo(np.int64).max, dtype=np.int64)
                order = train[shuffled_order(train.shape[0], seed)]
            mistakes, loss = self._checked_epoch(
                state, X, y_encoded, update_weight, order, stop.needs_loss
            )
            last_mistakes = mistakes
            message = f"Epoch {state.n_iter}, mistakes = {mistakes}"
            if reporter.end_epoch(
                message, lambda: self._reconstruction(state, classes_, X.dtype)
            ):
                stopped = True  # a callback asked to stop
                break
            if incremental:
                continue
            if mistakes == 0 and state.penalty is None:
                # Without a penalty an epoch with no mistake is a fixed point.
                break
            score = None
            if validation is not None and stop.active:
                score = self._validation_score(state, X, y_index, sample_weight,
                                               validation)  # fmt: skip
            if stop.no_improvement(loss / train.shape[0], score):
                stopped = True
                break
        reporter.end()
        penalized = state.penalty is not None
        self._commit(state, classes_, X.dtype, continuing)
        if incremental or stopped:
            return self
        if not penalized and last_mistakes > 0:
            advice = "" if self.average else ", or use average=True"
            warnings.warn(
                f"{type(self).__name__} did not converge: its last epoch "
                f"(max_iter={self.max_iter}) still made {last_mistakes} mistakes. "
                f"The data may not be linearly separable; increase max_iter{advice}.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif penalized and self.tol is not None:
            # With a penalty only the tol rule stops training, as in
            # scikit-learn; without tol every fit runs max_iter epochs.
            warnings.warn(
                f"{type(self).__name__} did not converge: max_iter={self.max_iter} "
                f"epochs ran before the stopping rule (tol={self.tol}, "
                f"n_iter_no_change={self.n_iter_no_change}) was met; increase "
                "max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _checked_epoch(self, state, X, y, sample_weight, order, track_loss):
        """Run one epoch on ``state``; raise if a margin or a weight overflows."""
        t, mistakes, loss, bad = self._run_epoch(
            state, X, y, sample_weight, order, track_loss
        )
        state.n_iter += 1
        if bad >= 0:
            raise ValueError(
                f"The margin of sample {int(order[bad])} is not finite at epoch "
                f"{state.n_iter}: the features or the sample weights are too "
                "large for the dtype of X (the margin or the weights learned "
                "from them overflow). Scale the input data, for instance with "
                "StandardScaler, or the sample weights."
            )
        if not (
            np.all(np.isfinite(state.coef)) and np.all(np.isfinite(state.intercept))
        ):
            raise ValueError(
                f"The weights overflowed at epoch {state.n_iter}: the features or "
                "the sample weights are too large. Scale the input data, for "
                "instance with StandardScaler, or the sample weights."
            )
        state.t = int(t)
        state.mistakes.append(int(mistakes))
        return int(mistakes), float(loss)

    def _start_state(self, X, classes_, continuing, incremental, init):
        """A training state: a copy of the fitted one, or a fresh one."""
        dtype = X.dtype
        if continuing:
            state = _TrainingState(
                self._coef.astype(dtype, copy=True),
                self._intercept.copy(),
                None if self._avg_coef is None else self._avg_coef.copy(),
                None if self._avg_intercept is None else self._avg_intercept.copy(),
                self.t_,
                self.n_iter_,
                copy.deepcopy(self._rng),
            )
            if self.average and state.avg_coef is None:
                # Averaging switched on between calls: the steps already taken
                # count as if they had used the weights reached so far.
                state.avg_coef = np.zeros(state.coef.shape, dtype=np.float64)
                state.avg_intercept = np.zeros_like(state.intercept)
        else:
            n_columns = self._n_coef_columns(classes_.size)
            coef, intercept = self._initial_weights(X, n_columns, *init)
            state = _TrainingState(
                coef,
                intercept,
                np.zeros(coef.shape, dtype=np.float64) if self.average else None,
                np.zeros(n_columns, dtype=np.float64) if self.average else None,
                0,
                0,
                None,
            )
        if not continuing or not incremental:
            # One random stream per call to fit, so that fits are reproducible.
            state.rng = check_random_state(self.random_state)
        if self.penalty is not None:
            state.penalty = _PenaltyState(self, state.coef)
        return state

    def _initial_weights(self, X, n_columns, coef_init, intercept_init):
        """Zero weights, or ``coef_init``/``intercept_init`` in the dtype of X."""
        n_features, dtype = X.shape[1], X.dtype
        coef = np.zeros((n_features, n_columns), dtype=dtype)
        intercept = np.zeros(n_columns, dtype=np.float64)
        n_rows = 1 if n_columns == 1 else n_columns
        if coef_init is not None:
            given = np.asarray(coef_init, dtype=dtype)
            if (
                given.size != n_rows * n_features
                or given.ndim > 2
                or (given.ndim == 2 and given.shape != (n_rows, n_features))
                or (given.ndim < 2 and n_rows > 1)
            ):
                raise ValueError(
                    f"coef_init has shape {given.shape}; this data needs shape "
                    f"({n_rows}, {n_features})."
                )
            coef[...] = given.reshape(n_rows, n_features).T
        if intercept_init is not None:
            given = np.asarray(intercept_init, dtype=dtype)
            if given.size != n_rows or given.ndim > 1:
                raise ValueError(
                    f"intercept_init has shape {given.shape}; this data needs "
                    f"shape ({n_rows},)."
                )
            intercept[...] = given.reshape(n_rows)
        given = coef_init is not None or intercept_init is not None
        if given and not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError("coef_init and intercept_init must be finite.")
        return coef, intercept

    def _validation_split(self, X, y_index, sample_weight):
        """Indices of the training and the validation samples (stratified)."""
        splitter = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        train, validation = next(
            splitter.split(np.zeros((y_index.shape[0], 1)), y_index)
        )
        if train.shape[0] == 0 or validation.shape[0] == 0:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"splits the {y_index.shape[0]} samples into {train.shape[0]} "
                f"for training and {validation.shape[0]} for validation; both "
                "must be non-empty."
            )
        if not np.any(sample_weight[validation] > 0):
            raise ValueError(
                "early_stopping: the sample weights of the validation set are all "
                "zero; change random_state or validation_fraction."
            )
        return np.sort(train).astype(np.intp), validation

    def _validation_score(self, state, X, y_index, sample_weight, validation):
        """Weighted accuracy of the current weights on the validation samples."""
        X_val = X[validation]
        coef_rows = np.ascontiguousarray(state.weights().T)
        scores = np.asarray(safe_sparse_dot(X_val, coef_rows.T, dense_output=True))
        predicted = self._predict_index(scores + state.intercept)
        return accuracy_score(
            y_index[validation], predicted, sample_weight=sample_weight[validation]
        )

    def _reconstruction(self, state, classes_, dtype):
        """Attributes that make a copy of the estimator predict as of now."""
        return {"classes_": classes_, **state.public_weights(self.average, dtype)}

    def _commit(self, state, classes_, dtype, continuing):
        """Assign the fitted attributes of a successful fit, all at once."""
        fitted = {
            "classes_": classes_,
            # A copy with the penalty's scale folded in, or the state's own.
            "_coef": state.weights(),
            "_intercept": state.intercept,
            "_avg_coef": state.avg_coef,
            "_avg_intercept": state.avg_intercept,
            "_rng": state.rng,
            "t_": state.t,
            "n_iter_": state.n_iter,
            **state.public_weights(self.average, dtype),
        }
        if continuing:
            # Extended in place: a long stream of partial_fit calls must not
            # copy the whole history at each call.
            self.mistakes_.extend(state.mistakes)
        else:
            fitted["mistakes_"] = state.mistakes
        # One call, so that an interruption cannot fall between attributes.
        self.__dict__.update(fitted)

    def _encode_labels(self, y, classes, continuing):
        """The sorted classes, and the index in them of each label of ``y``."""
        if classes is not None:
            _check_no_none(classes, "classes")
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
            # Not np.unique(y, return_inverse=True): it sorts every label,
            # which costs milliseconds on 20,000 labels of two classes, while
            # finding each label among the few sorted classes is quick.
            classes_ = np.unique(y)
            self._check_n_classes(classes_.size)
            return classes_, np.searchsorted(classes_, y)
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

    def _epoch_args(self, state, X, y, sample_weight, order):
        if sp.issparse(X):
            head = (X.data, X.indices, X.indptr)
        else:
            head = (X,)
        avg_coef = state.avg_coef if self.average else np.zeros((1, 1))
        # Prefetching rows pays off only when they are visited out of order.
        return (
            *head,
            y,
            sample_weight,
            float(self.eta0),
            order,
            self.shuffle,
        ), avg_coef

    def _penalized_epoch_args(self, state, X, y, sample_weight, order):
        """The arguments of a penalized kernel that precede ``coef``."""
        if sp.issparse(X):
            head = (X.data, X.indices, X.indptr, False)
        else:
            head = (X.reshape(-1), _NO_INDEX, _NO_INDEX, True)
        return (*head, X.shape[1], y, sample_weight, float(self.eta0), order)

    # -- prediction -----------------------------------------------------------

    def _scores(self, X):
        """``X @ coef_.T + intercept_`` in the dtype of ``X``."""
        check_is_fitted(self)
        refuse_array_api_input(self, _SEQUENTIAL, X=X)
        X = check_compressed_structure(X)
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


class _StoppingRule:
    """scikit-learn's stop after ``n_iter_no_change`` epochs without progress.

    Progress is a drop of the mean training loss by more than ``tol`` below
    its best value, or with ``early_stopping`` a rise of the validation
    accuracy by at least ``tol`` above its best value. Without ``tol`` the
    rule never stops.
    """

    def __init__(self, estimator, *, track):
        self.tol = estimator.tol
        self.patience = estimator.n_iter_no_change
        self.active = track and self.tol is not None
        self.needs_loss = self.active and not estimator.early_stopping
        self.best_loss = np.inf
        self.best_score = -np.inf
        self.count = 0

    def no_improvement(self, loss, score):
        """Record an epoch; return True when training should stop."""
        if score is not None:
            worse = self.active and score < self.best_score + self.tol
            self.best_score = max(self.best_score, score)
        else:
            worse = self.active and loss > self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        self.count = self.count + 1 if worse else 0
        return self.active and self.count >= self.patience


class Perceptron(_BasePerceptron):
    """Binary perceptron: the classifier ``sign(w·x + b)`` learned mistake by mistake.

    Starting from ``w = 0``, the samples are visited one at a time; a sample
    whose label the current weights do not predict with a positive margin
    moves the weights towards it. Training stops after an epoch with no
    mistake, or after ``max_iter`` epochs. ``penalty`` adds scikit-learn's
    L2, L1 or elastic-net regularization.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default=None
        Regularization, as in scikit-learn's ``Perceptron``: None is the
        perceptron above. Otherwise each step is stochastic gradient descent
        with step ``eta0`` on the perceptron loss plus ``alpha`` times the
        penalty (see Notes), the intercept not penalized. With a penalty an
        epoch without mistakes no longer ends training.

    alpha : float, default=0.0001
        Strength of the penalty (``alpha >= 0``). Used only with ``penalty``.

    l1_ratio : float or None, default=0.15
        Mix of the elastic net, ``0 <= l1_ratio <= 1``: 0 is the L2 penalty,
        1 the L1 penalty. Used only with ``penalty="elasticnet"`` (None is
        then refused).

    fit_intercept : bool, default=True
        Whether to learn an intercept ``b``: the weight of a constant feature
        1, updated like the others.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training data) in ``fit``.

    tol : float or None, default=None
        With a number, training also stops, as in scikit-learn, after
        ``n_iter_no_change`` epochs in a row whose mean training loss did not
        fall below the best so far minus ``tol`` (with ``early_stopping``: whose
        validation accuracy did not rise above the best so far plus ``tol``).
        With a penalty, the loss includes the penalty, as in scikit-learn.
        None keeps only the stop after an epoch with no mistake (with a
        penalty: no stop before ``max_iter``).

    shuffle : bool, default=True
        Whether to visit the samples in a new random order at each epoch.
        With ``shuffle=False`` they are visited in the order given.

    eta0 : float, default=1.0
        Step size: each update is scaled by ``eta0``. From zero weights it
        only scales the weights; it matters with ``coef_init``,
        ``intercept_init`` or ``warm_start``.

    random_state : int, RandomState instance or None, default=0
        Seed of the shuffling and of the validation split. The default, as
        scikit-learn's ``Perceptron``, makes every fit reproducible; None
        draws a new seed at each fit.

    early_stopping : bool, default=False
        Whether to hold out a stratified fraction ``validation_fraction`` of
        the training data and, with ``tol``, stop when the accuracy on it stops
        improving. The held-out samples are never trained on. Not available in
        ``partial_fit``.

    validation_fraction : float, default=0.1
        Fraction of the training data held out with ``early_stopping``.

    n_iter_no_change : int, default=5
        Number of epochs without progress (see ``tol``) before stopping.

    class_weight : dict, "balanced" or None, default=None
        Weight of each class, ``{label: weight}``; each update is scaled by the
        weight of its sample's class times its sample weight. "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))`` (``fit`` only). None gives
        every class a weight of 1.

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
        Number of epochs run since the weights were last initialized (to
        zero, or to ``coef_init``).

    t_ : int
        Number of training steps (samples visited) since the weights were last
        initialized.

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
    sklearn.linear_model.Perceptron : The perceptron of scikit-learn, a
        special case of stochastic gradient descent.

    Notes
    -----
    With ``y ∈ {-1, +1}`` (``+1`` for ``classes_[1]``), each step takes one
    sample ``(x, y)`` of weight ``s``::

        if y (wᵀx + b) > 0:  keep w and b
        else:                w ← w + η s y x,   b ← b + η s y

    with ``η = eta0`` (and ``s`` multiplied by the weight of the class of ``y``
    with ``class_weight``). This is stochastic gradient descent with step ``η``
    on the loss ``max(0, -y (wᵀx + b))``. A margin of exactly 0 counts as a mistake, and
    predicts ``classes_[0]``. On linearly separable data the number of
    mistakes is finite (Novikoff's theorem), so training stops by itself
    given enough epochs.

    The margin is the sum of the products ``w_j x_j`` (in the dtype of ``X``)
    added in float64 in feature order, then ``b``. A margin that is not
    finite (features so large that the products overflow) raises a
    ``ValueError``, as do weights that overflow; the estimator is then left
    as it was before the call. The step ``u = η s y`` is computed in
    float64; each new ``w_j = w_j + x_j u`` is computed in float64 from ``u``
    rounded to the dtype of ``X``, and rounded once; ``b`` is kept in float64
    during training.

    With ``shuffle=False`` on dense data, ``coef_`` is the same to the bit as
    that of scikit-learn's ``Perceptron(penalty=None, shuffle=False)`` with the
    same ``fit_intercept``, ``max_iter``, ``eta0``, ``tol``,
    ``n_iter_no_change``, ``early_stopping``, ``validation_fraction``,
    ``class_weight``, ``coef_init``, ``intercept_init`` and sample weights, in
    float64 and float32; so is ``intercept_``, which for float32 data is
    scikit-learn's float64 intercept rounded to float32. An epoch with no
    mistake changes nothing, so stopping after one gives the same weights
    (``n_iter_`` may then be smaller). On sparse data scikit-learn damps the
    intercept's updates, this estimator does not. Unlike scikit-learn's,
    this estimator is binary only: three or more classes raise an error that
    points to :class:`MulticlassPerceptron`.

    With ``penalty``, each step of sample ``(x, y)`` is, in scikit-learn's
    order (``ρ = l1_ratio``, 0 for "l2" and 1 for "l1"; ``α = alpha``)::

        w ← max(0, 1 - (1 - ρ) η α) w                  (L2 part)
        if y (wᵀx + b) <= 0:  w ← w + η s y x,  b ← b + η s y
        u ← u + ρ η α;  each w_j with x_j stored is moved towards 0 by
        what it has not yet received of the total L1 penalty u, never
        past 0 (cumulative truncated gradient, Tsuruoka et al. [3])

    As in scikit-learn, the weights are kept as a scale times an array,
    and with ``shuffle=False`` on dense data ``coef_``, ``intercept_`` and
    ``n_iter_`` are those of ``sklearn.linear_model.Perceptron(penalty=...,
    shuffle=False)`` to the bit, with the same parameters, except with
    ``early_stopping``, whose validation accuracy is computed here with
    the scaled weights (scikit-learn's uses the unscaled array). On sparse
    data the L1 part reaches only the stored features of the sample, as in
    scikit-learn. Only ``tol`` stops a penalized fit before ``max_iter``,
    with a ``ConvergenceWarning`` when it does not; each ``partial_fit``
    call restarts the L1 bookkeeping ``u``, as scikit-learn's does.

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
    .. [3] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient
       descent training for L1-regularized log-linear models with
       cumulative penalty", ACL-IJCNLP 2009.

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

    def _run_epoch(self, state, X, y, sample_weight, order, track_loss):
        head, avg_coef = self._epoch_args(state, X, y, sample_weight, order)
        avg_intercept = state.avg_intercept[0] if self.average else 0.0
        if state.penalty is not None:
            intercept, avg_intercept, t, mistakes, loss, bad = binary_penalized_epoch(
                *self._penalized_epoch_args(state, X, y, sample_weight, order),
                state.coef,
                state.intercept[0],
                self.fit_intercept,
                self.average,
                avg_coef,
                avg_intercept,
                float(state.t),
                track_loss,
                *state.penalty.kernel_args(),
            )
        else:
            epoch = binary_epoch_csr if sp.issparse(X) else binary_epoch_dense
            intercept, avg_intercept, t, mistakes, loss, bad = epoch(
                *head,
                state.coef[:, 0],
                state.intercept[0],
                self.fit_intercept,
                self.average,
                avg_coef[:, 0],
                avg_intercept,
                float(state.t),
                track_loss,
                *_rounding_constants(X.dtype),
            )
        state.intercept[0] = intercept
        if self.average:
            state.avg_intercept[0] = avg_intercept
        return t, mistakes, loss, bad

    def _predict_index(self, scores):
        return (scores[:, 0] > 0).astype(np.intp)

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
    penalty : {"l2", "l1", "elasticnet"} or None, default=None
        Regularization, as in scikit-learn's ``Perceptron``: None is the
        perceptron above. Otherwise each step is stochastic gradient descent
        with step ``eta0`` on the perceptron loss plus ``alpha`` times the
        penalty (see Notes), the intercept not penalized. With a penalty an
        epoch without mistakes no longer ends training.

    alpha : float, default=0.0001
        Strength of the penalty (``alpha >= 0``). Used only with ``penalty``.

    l1_ratio : float or None, default=0.15
        Mix of the elastic net, ``0 <= l1_ratio <= 1``: 0 is the L2 penalty,
        1 the L1 penalty. Used only with ``penalty="elasticnet"`` (None is
        then refused).

    fit_intercept : bool, default=True
        Whether to learn an intercept ``b_k`` per class: the weight of a
        constant feature 1, updated like the others.

    max_iter : int, default=100
        Maximum number of epochs (passes over the training data) in ``fit``.

    tol : float or None, default=None
        With a number, training also stops, as in scikit-learn, after
        ``n_iter_no_change`` epochs in a row whose mean training loss did not
        fall below the best so far minus ``tol`` (with ``early_stopping``: whose
        validation accuracy did not rise above the best so far plus ``tol``).
        With a penalty, the loss includes the penalty, as in scikit-learn.
        None keeps only the stop after an epoch with no mistake (with a
        penalty: no stop before ``max_iter``).

    shuffle : bool, default=True
        Whether to visit the samples in a new random order at each epoch.
        With ``shuffle=False`` they are visited in the order given.

    eta0 : float, default=1.0
        Step size: each update is scaled by ``eta0``. From zero weights it
        only scales the weights; it matters with ``coef_init``,
        ``intercept_init`` or ``warm_start``.

    random_state : int, RandomState instance or None, default=0
        Seed of the shuffling and of the validation split. The default, as
        scikit-learn's ``Perceptron``, makes every fit reproducible; None
        draws a new seed at each fit.

    early_stopping : bool, default=False
        Whether to hold out a stratified fraction ``validation_fraction`` of
        the training data and, with ``tol``, stop when the accuracy on it stops
        improving. The held-out samples are never trained on. Not available in
        ``partial_fit``.

    validation_fraction : float, default=0.1
        Fraction of the training data held out with ``early_stopping``.

    n_iter_no_change : int, default=5
        Number of epochs without progress (see ``tol``) before stopping.

    class_weight : dict, "balanced" or None, default=None
        Weight of each class, ``{label: weight}``; each update is scaled by the
        weight of its sample's class times its sample weight. "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))`` (``fit`` only). None gives
        every class a weight of 1.

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
        Number of epochs run since the weights were last initialized (to
        zero, or to ``coef_init``).

    t_ : int
        Number of training steps (samples visited) since the weights were last
        initialized.

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
        else:      w_ŷ ← w_ŷ - η s x,   w_y ← w_y + η s x
                   b_ŷ ← b_ŷ - η s,     b_y ← b_y + η s

    with ``η = eta0`` (and ``s`` multiplied by the weight of class ``y`` with
    ``class_weight``). Each score is the sum of the products ``w_kj x_j`` (in
    the dtype of ``X``) added in float64 in feature order, then ``b_k``; the
    updates round as in :class:`Perceptron`. With ``shuffle=False`` the
    weights are this algorithm's to the bit. A score that is not finite, or
    weights that overflow, raise a ``ValueError``.

    ``tol``, ``n_iter_no_change``, ``early_stopping`` and
    ``validation_fraction`` stop training by scikit-learn's rule, with the
    multiclass perceptron loss ``max_k (w_kᵀx + b_k) - (w_yᵀx + b_y)`` (zero
    when the prediction is right) in place of the binary one.

    With two classes, ``decision_function`` returns the 1-D score
    ``(w_2 - w_1)ᵀx + (b_2 - b_1)``: positive means ``classes_[1]``, and a
    tie (zero) goes to ``classes_[0]``, as in the argmax.

    With ``penalty``, each step first shrinks every ``w_k`` (L2 part), then
    makes the update above on a mistake, then applies the cumulative L1
    penalty to the weights of the sample's features in every class, as
    :class:`Perceptron` does; the intercepts are not penalized. The loss
    of the ``tol`` rule adds ``α ((1 - ρ) ||W||² / 2 + ρ ||W||₁)``.

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

    def _run_epoch(self, state, X, y, sample_weight, order, track_loss):
        head, avg_coef = self._epoch_args(state, X, y, sample_weight, order)
        avg_intercept = state.avg_intercept if self.average else np.zeros(1)
        if state.penalty is not None:
            return multiclass_penalized_epoch(
                *self._penalized_epoch_args(state, X, y, sample_weight, order),
                state.coef,
                state.intercept,
                self.fit_intercept,
                self.average,
                avg_coef,
                avg_intercept,
                float(state.t),
                track_loss,
                *state.penalty.kernel_args(),
            )
        epoch = multiclass_epoch_csr if sp.issparse(X) else multiclass_epoch_dense
        return epoch(
            *head,
            state.coef,
            state.intercept,
            self.fit_intercept,
            self.average,
            avg_coef,
            avg_intercept,
            float(state.t),
        )

    def _predict_index(self, scores):
        return np.argmax(scores, axis=1)

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
