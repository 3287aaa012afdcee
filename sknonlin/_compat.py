"""The one door to scikit-learn's private API.

scikit-learn changes its private helpers between releases. Every private
scikit-learn name the package uses is imported here and nowhere else, so that
such a change is handled in this module alone; a test fails if another module
imports one.

The estimator modules import these under scikit-learn's own names, e.g.
``from sknonlin._compat import Interval, StrOptions, _fit_context``.
"""

import numpy as np
import sklearn

# Straight from scikit-learn (every supported release has it): the
# ``sklearn-compat`` package re-exports the same function, but importing it
# loads scikit-learn's test machinery and pytest, a third of a second at
# ``import sknonlin``.
from sklearn.base import _fit_context

# imported with the package, so that the OpenMP runtime it loads is there for
# threadpoolctl to limit before a transform first asks it for its thread count
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import _check_feature_names_in
from sklearn.utils.validation import (
    _check_sample_weight as _sklearn_check_sample_weight,
)

#: The installed scikit-learn version, without any ``.dev``/``rc`` suffix.
SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)

# Callbacks (``set_callbacks``, ``ProgressBar``, ``ScoringMonitor``) exist from
# scikit-learn 1.9.
try:
    from sklearn.callback import CallbackSupportMixin

    CALLBACKS_AVAILABLE = True
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin where it does not exist."""

    CALLBACKS_AVAILABLE = False

# Array API support (sknonlin._array_api): where these helpers are missing (older
# scikit-learn), every input takes the NumPy path and no estimator declares
# array API support.
try:
    from sklearn.utils._array_api import (
        _is_numpy_namespace,
        check_same_namespace,
        get_namespace_and_device,
        supported_float_dtypes,
    )

    ARRAY_API_AVAILABLE = True
except ImportError:
    _is_numpy_namespace = check_same_namespace = None
    get_namespace_and_device = supported_float_dtypes = None
    ARRAY_API_AVAILABLE = False

#: scikit-learn's own sample-weight validation, which accepts the arrays of any
#: array API namespace (``_check_sample_weight`` below converts to NumPy).
check_sample_weight_in_namespace = _sklearn_check_sample_weight

__all__ = [
    "ARRAY_API_AVAILABLE",
    "CALLBACKS_AVAILABLE",
    "SKLEARN_VERSION",
    "CallbackSupportMixin",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
    "_is_numpy_namespace",
    "_openmp_effective_n_threads",
    "check_same_namespace",
    "check_sample_weight_in_namespace",
    "get_namespace_and_device",
    "has_own_callbacks",
    "init_callback_context",
    "is_watched_by_callbacks",
    "sklearn_version_at_least",
    "supported_float_dtypes",
]


def sklearn_version_at_least(version):
    """Whether the installed scikit-learn is ``version`` (e.g. ``"1.9"``) or newer.

    Parameters
    ----------
    version : str
        A version such as ``"1.9"``.

    Returns
    -------
    at_least : bool
        True if the installed scikit-learn is at least ``version``.
    """
    return SKLEARN_VERSION >= parse_version(version)


def _check_sample_weight(
    sample_weight, X, *, dtype=None, ensure_non_negative=False, copy=False
):
    """Validate sample weights the same way with every supported scikit-learn.

    scikit-learn's helper of the same name rejects weights that are all zero
    in recent releases (1.9) but not in older ones (1.6); this one rejects them
    with every version, so that a fit behaves the same whatever scikit-learn is
    installed.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        The weights; None means all ones, a number means that weight for all.

    X : array-like or sparse matrix of shape (n_samples, n_features)
        The data the weights belong to.

    dtype : dtype, default=None
        The dtype of the returned weights.

    ensure_non_negative : bool, default=False
        Raise a ``ValueError`` if a weight is negative.

    copy : bool, default=False
        Return a copy even where none is needed.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        The validated weights, C-contiguous.
    """
    sample_weight = _sklearn_check_sample_weight(
        sample_weight,
        X,
        dtype=dtype,
        ensure_non_negative=ensure_non_negative,
        copy=copy,
    )
    if not np.any(sample_weight):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def has_own_callbacks(estimator):
    """Whether callbacks were set on ``estimator`` itself with ``set_callbacks``.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.

    Returns
    -------
    has_callbacks : bool
        True if ``estimator.set_callbacks`` was given at least one callback.
    """
    return CALLBACKS_AVAILABLE and bool(getattr(estimator, "_skl_callbacks", None))


def is_watched_by_callbacks(estimator):
    """Whether a fit of ``estimator`` has callbacks to tell about its progress.

    The callbacks are the estimator's own or those a meta-estimator (such as
    a grid search) propagates to the estimators it fits.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.

    Returns
    -------
    watched : bool
        True if some callback watches the fit.
    """
    return has_own_callbacks(estimator) or (
        CALLBACKS_AVAILABLE and hasattr(estimator, "_parent_callback_ctx")
    )


def init_callback_context(estimator, *, max_subtasks):
    """Open the root callback context of a fit with ``max_subtasks`` subtasks.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted; its class inherits ``CallbackSupportMixin``.

    max_subtasks : int
        The most subtasks (epochs) the fit can run.

    Returns
    -------
    context : sklearn.callback.CallbackContext
        The root context of the fit.
    """
    return estimator._init_callback_context(max_subtasks=max_subtasks)
