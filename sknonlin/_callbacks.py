"""Progress reporting for the iterative estimators.

With scikit-learn >= 1.9 the estimators support its callback API
(``set_callbacks`` with ``sklearn.callback.ProgressBar`` or
``ScoringMonitor``): each epoch is a subtask of the fit. With any version,
``verbose`` prints one line per epoch.
"""

from sknonlin._compat import (
    CALLBACKS_AVAILABLE,
    CallbackSupportMixin,
    init_callback_context,
    is_watched_by_callbacks,
)

__all__ = ["CALLBACKS_AVAILABLE", "CallbackSupportMixin", "EpochReporter"]


class EpochReporter:
    """Tells callbacks and, with ``verbose``, the terminal about each epoch.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.

    X, y : array-like
        The training data, passed on to the callbacks (a scoring monitor
        scores the estimator on them after each epoch).

    max_epochs : int
        The most epochs this fit can run.

    verbose : bool or int
        Print one line per epoch if true.

    metadata : dict or None
        Metadata such as ``{"sample_weight": w}``, passed on to the callbacks.
    """

    def __init__(self, estimator, X, y, *, max_epochs, verbose, metadata=None):
        self.estimator = estimator
        self.X, self.y = X, y
        self.verbose = verbose
        self.metadata = metadata
        self._root = None
        self._epoch = None
        # Without callbacks (set here or propagated by a meta-estimator) there
        # is nothing to tell: skip the bookkeeping, which costs time per epoch.
        if is_watched_by_callbacks(estimator):
            self._root = init_callback_context(estimator, max_subtasks=max_epochs)
            self._root.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=metadata
            )

    def begin_epoch(self, epoch):
        """Start epoch ``epoch`` (counted from 1)."""
        if self._root is not None:
            self._epoch = self._root.subcontext(task_name=f"epoch {epoch}")
            self._epoch.call_on_fit_task_begin(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
            )

    def end_epoch(self, message, fitted_attributes):
        """End the current epoch; return True if a callback asks to stop.

        ``fitted_attributes`` is a callable returning the attributes that make
        a copy of the estimator ready to predict as of this epoch; it is
        called only if a callback needs that copy.
        """
        if self.verbose:
            print(message, flush=True)
        if self._epoch is None:
            return False
        stop = self._epoch.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=fitted_attributes,
        )
        self._epoch = None
        return bool(stop)

    def end(self):
        """End the fit."""
        if self._root is not None:
            self._root.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
            )
