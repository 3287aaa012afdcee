"""The two-layer network regressor: validation, training loop and fitted attributes.

The math (forward pass, gradient) is in :mod:`sknonlin._two_layer_math`, the
activations in :mod:`sknonlin._activations` and the update rules in
:mod:`sknonlin._solvers`.

A fit computes on a :class:`_Training` (the parameters, the solver's memory and
the history, all its own) and commits it to the estimator in one place when it
succeeds; a fit that raises, or is interrupted, leaves the estimator as it was.
"""

import copy
import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from sknonlin import _two_layer_array_api as array_api
from sknonlin._array_api import (
    ARRAY_API_AVAILABLE,
    float_dtypes,
    input_namespace,
    to_host,
)
from sknonlin._base import DocLinkMixin
from sknonlin._callbacks import CallbackSupportMixin, EpochReporter
from sknonlin._compat import (
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    has_own_callbacks,
)
from sknonlin._solvers import SolverMemory, add_l2_penalty, lbfgs, make_step
from sknonlin._sparse import check_compressed_structure
from sknonlin._two_layer_math import (
    Workspace,
    block_rows,
    loss_grad,
    predict,
    squared_error_and_r2,
)

_DEFAULT_LEARNING_RATES = {"gd": 1e-2, "sgd": 1e-3, "adam": 1e-3}
# A loss (in standardized target units, where predicting the mean costs about 1)
# this many times above where training started is a divergence.
_LOSS_GROWTH_LIMIT = 1e4
# From the estimator's fit/partial_fit through _fit_context to the caller.
_USER_STACKLEVEL = 4


class _Layout:
    """Where W1, W2, b1 and b2 sit in the flat parameter vector (weights first)."""

    def __init__(self, n_features, n_hidden, n_outputs):
        self.shapes = {
            "W1": (n_features, n_hidden),
            "W2": (n_hidden, n_outputs),
            "b1": (n_hidden,),
            "b2": (n_outputs,),
        }
        self.n_weights = n_features * n_hidden + n_hidden * n_outputs
        self.size = self.n_weights + n_hidden + n_outputs

    def views(self, theta, xp=np):
        """Return ``(W1, b1, W2, b2)`` as views into ``theta`` (of namespace xp)."""
        out = {}
        start = 0
        for name, shape in self.shapes.items():
            stop = start + math.prod(shape)
            out[name] = xp.reshape(theta[start:stop], shape)
            start = stop
        return out["W1"], out["b1"], out["W2"], out["b2"]


class _History:
    """A per-iteration record that a fit extends, or starts anew.

    The entries of this fit are kept apart until :meth:`commit`, which extends
    the previous list in place (no copy per call, so that long ``partial_fit``
    streams stay linear in time).
    """

    def __init__(self, previous):
        self.previous = previous
        self.new = []

    def __len__(self):
        return len(self.previous or ()) + len(self.new)

    def first(self):
        return self.previous[0] if self.previous else self.new[0]

    def commit(self):
        if self.previous is None:
            return self.new
        self.previous.extend(self.new)
        return self.previous


class _NoImprovement:
    """Counts the iterations in a row that did not improve on the best by ``tol``."""

    def __init__(self, best, tol):
        self.best = best
        self.tol = tol
        self.count = 0

    def update(self, value):
        """Record ``value`` (lower is better); return True if it is a new best."""
        self.count = 0 if value < self.best - self.tol else self.count + 1
        if value < self.best:
            self.best = value
            return True
        return False


class _Training:
    """Everything a fit updates, owned by the fit until it is committed.

    Attributes
    ----------
    theta : ndarray
        The flat parameter vector, in standardized target units.
    memory : SolverMemory
        The minibatch solvers' memory.
    n_iter, t : int
        Iterations of this call; samples seen in all calls since the network
        was initialized.
    loss_curve, validation_loss_curve, validation_scores : _History or None
        The per-iteration records (the first in target units, the others too).
    best_loss : float
        The smallest training loss, in standardized target units.
    reference : float or None
        The first training loss since the network was initialized,
        standardized: the yardstick of the divergence check.
    """

    def __init__(
        self, theta, memory, *, t, loss_curve, best_loss, reference, validation
    ):
        self.theta = theta
        self.reference = reference
        self.memory = memory
        self.n_iter = 0
        self.t = t
        self.loss_curve = _History(loss_curve)
        self.best_loss = best_loss
        self.validation_loss_curve = _History(validation[0])
        self.validation_scores = _History(validation[1])


def _validation_split(X, Y, sw, sw_raw, fraction, rng):
    """Hold out ``ceil(fraction · n)`` samples; return (train, validation) tuples."""
    train, val, sw_val = _validation_indices(sw, fraction, rng)
    return (X[train], Y[train], sw[train], sw_raw[train]), (X[val], Y[val], sw_val)


def _validation_indices(sw, fraction, rng):
    """The training and held-out samples, and the held-out samples' weights."""
    n_samples = sw.shape[0]
    n_val = math.ceil(fraction * n_samples)
    if n_val < 2 or n_samples - n_val < 1:
        raise ValueError(
            f"The validation set is too small: early_stopping=True with "
            f"validation_fraction={fraction} holds out {n_val} of "
            f"n_samples={n_samples} samples, and needs at least 2 for validation "
            "and 1 for training; use more samples, another validation_fraction or "
            "early_stopping=False."
        )
    order = rng.permutation(n_samples)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    sw_val = sw[val]
    if not sw_val.sum() > 0:
        sw_val = np.ones_like(sw_val)
    if not sw[train].sum() > 0:
        raise ValueError(
            "The samples left for training by early_stopping all have zero weight; "
            "use early_stopping=False."
        )
    return train, val, sw_val


def _batch_size(estimator, n_samples):
    """The minibatch size of a fit on ``n_samples`` samples."""
    if estimator.solver == "gd" or estimator.batch_size == "auto":
        return n_samples if estimator.solver == "gd" else min(200, n_samples)
    return min(estimator.batch_size, n_samples)


def _on_host(array):
    """A NumPy copy of an array API ``array`` (dispatch on); others unchanged.

    ``y`` and ``sample_weight`` follow ``X``: with NumPy ``X`` they come to the
    host, and on the array API path the target's statistics and the minibatch
    weights are computed there (n numbers, once per fit).
    """
    if array is None or input_namespace(array)[0] is None:
        return array
    return to_host(array)


def _host_state(array):
    """A fitted array as NumPy: a fit in a namespace keeps its state there."""
    return array if isinstance(array, np.ndarray) else to_host(array)


def _batch_weights(sw, batch_size):
    """The total sample weight of each minibatch, as Python floats."""
    starts = np.arange(0, sw.shape[0], batch_size)
    return np.add.reduceat(sw, starts, dtype=np.float64).tolist()


def _shuffled(X, Y, sw, rng, buffers):
    """The samples in a new random order, in ``buffers`` where X is dense."""
    order = rng.permutation(X.shape[0])
    Xs, Ys, sws = buffers
    if sparse.issparse(X):
        Xs = X[order]
    else:
        np.take(X, order, axis=0, out=Xs)
    np.take(Y, order, axis=0, out=Ys)
    np.take(sw, order, out=sws)
    return Xs, Ys, sws


def _normalized_weights(sample_weight, X):
    """The sample weights scaled by a power of two to a largest weight near 1.

    A power of two scales every sum and product exactly, so the objective's
    value is unchanged (Σ sᵢ Jᵢ / Σ sᵢ does not depend on the scale), while
    weights whose sum would overflow, or underflow, become usable. Returns our
    own writable copy in X's dtype, the validated weights in float64 and the
    binary exponent ``e`` of the scale (weights = normalized · 2**e).
    """
    raw = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
    )
    largest = float(raw.max()) if raw.size else 0.0
    if not largest > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive "
            "weight."
        )
    exponent = math.frexp(largest)[1]
    sw = np.ldexp(raw, -exponent).astype(X.dtype)
    return sw, raw, exponent


def _penalty_per_weight(alpha, sw, exponent):
    """``alpha / S`` with ``S`` the total sample weight, S = Σ sw · 2**exponent."""
    total = float(sw.sum(dtype=np.float64))
    try:
        weight = math.ldexp(total, exponent)
    except OverflowError:
        weight = math.inf
    if alpha == 0:
        return 0.0
    try:
        if math.isfinite(weight) and weight > 0:
            ratio = float(alpha) / weight
        else:
            ratio = math.ldexp(float(alpha) / total, -exponent)
    except (OverflowError, ZeroDivisionError):
        ratio = math.inf
    if not math.isfinite(ratio) or ratio > 1e150:
        raise ValueError(
            f"alpha={alpha:g} is too large relative to the total sample weight "
            f"S={weight:g}: the penalty alpha / S = {ratio:g} overflows the fit. "
            "Rescale sample_weight or use a smaller alpha."
        )
    return ratio


def _standardization(Y, sw):
    """The weighted mean and the scale σ of Y, computed without over/underflow.

    Y is first divided by the power of two nearest its largest magnitude, so
    that the squares can neither overflow nor underflow; the division is
    exact, so on ordinary scales the result has the bits of the direct
    formula. Returns the mean and σ in Y's units, and Y standardized (a new
    array, in Y's dtype). For a constant target σ is 1.
    """
    largest = float(np.max(np.abs(Y), initial=0.0))
    exponent = math.frexp(largest)[1] if largest > 0 else 0
    Yn = np.ldexp(Y.astype(np.float64), -exponent)
    weights = sw.astype(np.float64) / float(sw.sum(dtype=np.float64))
    mean = weights @ Yn
    var = weights @ (Yn - mean) ** 2
    scale = float(np.sqrt(np.mean(var)))
    dtype = Y.dtype
    if not (np.isfinite(scale) and scale > 0):
        mean = np.ldexp(mean, exponent).astype(dtype)
        return mean, dtype.type(1.0), Y - mean
    Z = Yn.astype(dtype) - mean.astype(dtype)
    Z /= dtype.type(scale)
    return (
        np.ldexp(mean, exponent).astype(dtype),
        dtype.type(math.ldexp(scale, exponent)),
        Z,
    )


def _divergence(
    iteration, *, solver, learning_rate, X_absmax, dtype, alpha, growth=None
):
    """The error for a fit that diverged, naming the most likely cause.

    ``alpha`` is the penalty per unit of sample weight, ``alpha / S``.
    """
    where = f"The {solver} fit diverged at iteration {iteration}: "
    if X_absmax > math.sqrt(np.finfo(dtype).max) * 1e-4:
        return ValueError(
            where + "Solver produced non-finite parameter weights. The input data "
            f"may contain large values and need to be preprocessed: the features "
            f"reach |x| = {X_absmax:g}, too large for the network's products to "
            f"stay finite in {np.dtype(dtype).name}. Standardize them, e.g. with a "
            "StandardScaler."
        )
    what = (
        "the loss or the weights are no longer finite"
        if growth is None
        else f"the loss grew from {growth[0]:.3g} to {growth[1]:.3g} in "
        "standardized target units"
    )
    if solver in ("gd", "sgd") and alpha > 1 and alpha * learning_rate > 0.5:
        # The penalty alone scales each weight by (1 - 2 η alpha / S) per step;
        # in standardized units the data term's curvature is of order 1, so a
        # penalty above it is what makes the steps overshoot.
        return ValueError(
            where + what + f". The penalty alpha / S = {alpha:g} (alpha divided by "
            f"the total sample weight S) is too large for learning_rate="
            f"{learning_rate:g}: each step overshoots. Use a smaller alpha or "
            "learning_rate."
        )
    if solver == "lbfgs":
        return ValueError(
            where + what + ". Standardize the features, e.g. with a StandardScaler, "
            "or use a larger alpha."
        )
    return ValueError(
        where + what + f". Use a smaller learning_rate (it is {learning_rate:g}) "
        "or standardize the features, e.g. with a StandardScaler."
    )


def _warn_not_converged(solver, max_iter):
    warnings.warn(
        f"The {solver} solver reached max_iter={max_iter} iterations and the "
        "optimization has not converged yet.",
        ConvergenceWarning,
        stacklevel=_USER_STACKLEVEL + 1,
    )


class _Fit:
    """One call of fit or partial_fit: the validated data and the solver loops.

    It reads the estimator's parameters and never writes to the estimator; all
    it updates is the :class:`_Training` it is given. This class computes on
    NumPy arrays with the compiled kernels; :class:`_NamespaceFit` replaces
    the few methods that touch the arrays for the inputs of another namespace.
    """

    xp = np
    _split = staticmethod(_validation_split)
    _copy = staticmethod(np.copy)

    def __init__(self, estimator, X, Y, sw, sw_raw, exponent, target):
        self.estimator = estimator
        self.X, self.Y, self.sw, self.sw_raw = X, Y, sw, sw_raw
        self.dtype = Y.dtype
        self.y_mean, self.y_scale, self.y_ndim = target
        # the target's mean and scale as the training arrays' namespace uses them
        self.mean_here, self.scale_here = self.y_mean, self.y_scale
        self.solver = estimator.solver
        self.activation = estimator.activation
        self.sizes = (int(X.shape[1]), int(estimator.n_hidden), int(Y.shape[1]))
        self.layout = _Layout(*self.sizes)
        self.exponent = exponent
        self.alpha = 0.0  # alpha / S on the training samples, set by each solver
        self.square_scale = float(self.y_scale) * float(self.y_scale)
        learning_rate = estimator.learning_rate
        if learning_rate is None:
            learning_rate = _DEFAULT_LEARNING_RATES.get(self.solver, math.nan)
        self.learning_rate = float(learning_rate)

    # -- what every solver shares

    def _workspace(self, rows):
        n_features, n_hidden = self.layout.shapes["W1"]
        n_outputs = self.layout.shapes["b2"][0]
        rows = max(1, min(rows, block_rows(n_hidden)))
        return Workspace(rows, n_features, n_hidden, n_outputs, self.X.dtype)

    def own(self, training):
        """Make ``training``'s arrays the fit's own, where the fit computes."""

    def _feature_absmax(self):
        data = self.X.data if sparse.issparse(self.X) else self.X
        return float(np.max(np.abs(data), initial=0.0))

    def _diverged(self, iteration, growth=None):
        # The features' magnitude is needed only to explain a divergence.
        return _divergence(
            iteration,
            solver=self.solver,
            learning_rate=self.learning_rate,
            X_absmax=self._feature_absmax(),
            dtype=self.dtype,
            alpha=self.alpha,
            growth=growth,
        )

    def _record(self, training, loss, n_samples):
        """Count a finished iteration with its (standardized) training loss.

        Raises if the loss is not finite or grew by orders of magnitude from
        the first one recorded since the network was initialized.
        """
        training.n_iter += 1
        training.t += n_samples
        if training.reference is None:
            training.reference = loss
        if not math.isfinite(loss):
            raise self._diverged(training.n_iter)
        if loss > _LOSS_GROWTH_LIMIT * max(1.0, training.reference):
            raise self._diverged(training.n_iter, growth=(training.reference, loss))
        training.loss_curve.new.append(float(loss * self.square_scale))
        training.best_loss = min(training.best_loss, loss)

    def _reporter(self, X, Y, sw_raw, max_epochs):
        """Progress of this fit for callbacks and ``verbose``, in target units."""
        y = None
        if has_own_callbacks(self.estimator):
            y = Y * self.scale_here + self.mean_here
            y = y[:, 0] if self.y_ndim == 1 else y
        return EpochReporter(
            self.estimator,
            X,
            y,
            max_epochs=max_epochs,
            verbose=self.estimator.verbose,
            metadata={"sample_weight": sw_raw},
        )

    def fitted_attributes(self, training, final=False):
        """The attributes of a network fitted as far as ``training`` went.

        Every array is a copy: nothing fitted shares memory with the buffers a
        later fit updates in place.
        """
        W1, b1, W2, b2 = self.layout.views(training.theta, self.xp)
        scale, mean = self.scale_here, self.mean_here
        w2 = W2 * scale
        b2 = b2 * scale + mean
        if self.y_ndim == 1:
            w2, b2 = self._copy(w2[:, 0]), b2[0]
        attributes = {
            "W1_": self._copy(W1),
            "b1_": self._copy(b1),
            "w2_": w2,
            "b2_": b2,
            "y_scale_": float(self.y_scale),
            "n_outputs_": self.layout.shapes["b2"][0],
            "n_features_in_": self.X.shape[1],
            "_y_ndim": self.y_ndim,
        }
        if not final:
            return attributes
        curves = {
            "validation_loss_curve_": training.validation_loss_curve,
            "validation_scores_": training.validation_scores,
        }
        curves = {
            name: None if history.previous is None and not history.new else
            history.commit()
            for name, history in curves.items()
        }  # fmt: skip
        scores = curves["validation_scores_"]
        loss_curve = training.loss_curve.commit()
        return {
            **attributes,
            **curves,
            "best_validation_score_": max(scores) if scores else None,
            "loss_curve_": loss_curve,
            "best_loss_": float(training.best_loss * self.square_scale),
            "_best_loss": training.best_loss,
            "_loss_reference": training.reference,
            "n_iter_": training.n_iter,
            "t_": training.t,
            "_theta": training.theta,
            # Plain numbers and arrays, so that a fitted model holds only standard
            # types (skops loads it without trusting any helper class).
            "_n_steps": training.memory.n_steps,
            "_velocity": training.memory.velocity,
            "_adam_m": training.memory.m,
            "_adam_v": training.memory.v,
            "_sizes": self.sizes,
            "_y_mean": mean,
            "_y_scale": self.y_scale,
        }

    # -- "gd", "sgd" and "adam"

    def run_epochs(self, training, rng, incremental):
        """Run "gd", "sgd" or "adam"; a call of partial_fit is one epoch.

        Returns whether training stopped before ``max_iter`` (no improvement,
        or a callback's request).
        """
        est = self.estimator
        X, Y, sw, sw_raw = self.X, self.Y, self.sw, self.sw_raw
        validation = None
        if est.early_stopping and not incremental:
            (X, Y, sw, sw_raw), validation = self._split(
                X, Y, sw, sw_raw, est.validation_fraction, rng
            )
        epoch = self._epoch_runner(training, X, Y, sw, rng)
        max_iter = 1 if incremental else est.max_iter
        stopping = _NoImprovement(np.inf if validation else training.best_loss, est.tol)
        best_theta = self._copy(training.theta) if validation else None
        reporter = self._reporter(X, Y, sw_raw, max_iter)
        stopped = False
        for _ in range(max_iter):
            reporter.begin_epoch(training.n_iter + 1)
            loss = epoch()
            self._record(training, loss, X.shape[0])
            message = (
                f"Epoch {training.n_iter}, loss = {training.loss_curve.new[-1]:.8f}"
            )
            if validation is None:
                stopping.update(loss)
            else:
                val_loss = self._validate(training, *validation)
                message += (
                    f", validation loss = {training.validation_loss_curve.new[-1]:.8f}"
                )
                if stopping.update(val_loss):
                    best_theta[:] = training.theta
            if reporter.end_epoch(message, lambda: self.fitted_attributes(training)):
                stopped = True  # a callback asked to stop
                break
            # As MLPRegressor: n_iter_no_change iterations without improvement
            # are tolerated, the next one stops.
            if not incremental and stopping.count > est.n_iter_no_change:
                stopped = True
                if est.verbose:
                    print(
                        f"The loss did not improve by more than tol={est.tol} for "
                        f"{stopping.count} consecutive iterations; stopping."
                    )
                break
        reporter.end()
        if validation is not None:
            training.theta[:] = best_theta
        return stopped

    def _held_out_loss(self, theta, X_val, Y_val, sw_val):
        return squared_error_and_r2(
            X_val, Y_val, sw_val, self.layout.views(theta), self.activation
        )

    def _validate(self, training, X_val, Y_val, sw_val):
        """Record the held-out loss and R²; return the loss, standardized."""
        loss, score = self._held_out_loss(training.theta, X_val, Y_val, sw_val)
        training.validation_loss_curve.new.append(loss * self.square_scale)
        training.validation_scores.new.append(score)
        return loss

    def _epoch_runner(self, training, X, Y, sw, rng):
        """The function that runs one epoch and returns its mean loss.

        The solver's update rule, the minibatches and the buffers are chosen
        here, once per fit.
        """
        est = self.estimator
        n_samples = X.shape[0]
        batch_size = _batch_size(est, n_samples)
        theta = training.theta
        params = self.layout.views(theta)
        grad = np.empty_like(theta)
        grads = self.layout.views(grad)
        ws = self._workspace(batch_size)
        step = make_step(
            self.solver, theta, self.layout.n_weights, self.learning_rate,
            float(est.momentum), training.memory,
        )  # fmt: skip
        total_weight = float(sw.sum(dtype=np.float64))
        # The penalty is alpha / S on the whole training set; each minibatch
        # carries all of it, so that minibatch gradients are unbiased.
        alpha = self.alpha = _penalty_per_weight(est.alpha, sw, self.exponent)
        batches = list(gen_batches(n_samples, batch_size))
        shuffle = est.shuffle and batch_size < n_samples
        if shuffle:
            buffers = (
                None if sparse.issparse(X) else np.empty_like(X),
                np.empty_like(Y),
                np.empty_like(sw),
            )
        fixed_weights = _batch_weights(sw, batch_size)

        def epoch():
            Xs, Ys, sws = _shuffled(X, Y, sw, rng, buffers) if shuffle else (X, Y, sw)
            weights = _batch_weights(sws, batch_size) if shuffle else fixed_weights
            epoch_loss = 0.0
            for batch, weight in zip(batches, weights, strict=True):
                if weight == 0:
                    continue
                loss = loss_grad(
                    Xs[batch], Ys[batch], sws[batch], params, grads, self.activation,
                    ws, weight,
                )  # fmt: skip
                loss += step(grad, alpha)
                if not math.isfinite(loss):
                    raise self._diverged(training.n_iter + 1)
                epoch_loss += loss * weight
            if not np.isfinite(theta).all():
                raise self._diverged(training.n_iter + 1)
            return epoch_loss / total_weight

        return epoch

    # -- "lbfgs"

    def run_lbfgs(self, training):
        """Run L-BFGS-B; return whether it stopped before ``max_iter``."""
        est = self.estimator
        X, Y, sw = self.X, self.Y, self.sw
        theta = training.theta
        params = self.layout.views(theta)
        grad = np.empty_like(theta)
        grads = self.layout.views(grad)
        ws = self._workspace(X.shape[0])
        alpha = self.alpha = _penalty_per_weight(est.alpha, sw, self.exponent)
        n_weights = self.layout.n_weights
        reporter = self._reporter(X, Y, self.sw_raw, est.max_iter)

        def fun(x):
            theta[:] = x
            loss = loss_grad(X, Y, sw, params, grads, self.activation, ws)
            loss += add_l2_penalty(theta, grad, n_weights, alpha)
            return loss, grad.astype(np.float64)

        def callback(intermediate_result):
            # scipy reports each finished iteration; it is one epoch of gd
            theta[:] = intermediate_result.x
            loss = float(intermediate_result.fun)
            reporter.begin_epoch(training.n_iter + 1)
            self._record(training, loss, X.shape[0])
            message = (
                f"Epoch {training.n_iter}, loss = {training.loss_curve.new[-1]:.8f}"
            )
            if reporter.end_epoch(message, lambda: self.fitted_attributes(training)):
                raise StopIteration  # a callback asked to stop

        start = training.n_iter
        result = lbfgs(fun, theta, est.max_iter, est.tol, callback)
        reporter.end()
        theta[:] = result.x
        if not np.isfinite(theta).all() or not np.isfinite(result.fun):
            raise self._diverged(max(1, int(result.nit)))
        if training.n_iter == start:
            # No iteration finished (the start was already optimal).
            self._record(training, float(result.fun), 0)
            training.n_iter -= 1
        return result.status != 1


class _NamespaceFit(_Fit):
    """A fit on the arrays of an array API namespace other than NumPy.

    The loop is :class:`_Fit`'s; the epochs, the held-out loss and the
    fitted attributes are computed in the namespace of ``X``, on its device,
    with the functions of :mod:`sknonlin._two_layer_array_api`. The host
    holds what is drawn or decided there: the initial weights, the shuffling
    order and the validation split (from ``random_state``, as the NumPy path
    draws them), the sample weights and the minibatches' total weights; the
    device sends back one number per epoch, the loss.
    """

    def __init__(self, estimator, X, Y, sw, sw_raw, exponent, target):
        xp, device = input_namespace(X)
        self.xp, self.device = xp, device
        super().__init__(estimator, X, Y, sw, sw_raw, exponent, target)
        self.Y = xp.asarray(Y, device=device)
        self.sw_raw = xp.asarray(sw_raw, dtype=X.dtype, device=device)
        self.mean_here = xp.asarray(self.y_mean, device=device)
        self.scale_here = float(self.y_scale)

    def _to_device(self, array):
        return self.xp.asarray(_host_state(array), device=self.device)

    def _copy(self, array):
        return self.xp.asarray(array, copy=True)

    def own(self, training):
        """Move the parameters and the solver's memory to the device (copies)."""
        memory = training.memory
        training.theta = self._to_device(training.theta)
        memory.velocity = self._to_device(memory.velocity)
        memory.m = self._to_device(memory.m)
        memory.v = self._to_device(memory.v)

    def _feature_absmax(self):
        xp = self.xp
        return float(xp.max(xp.abs(self.X))) if self.X.shape[0] else 0.0

    def _split(self, X, Y, sw, sw_raw, fraction, rng):
        # sw is on the host, the other arrays on the device
        train, val, sw_val = _validation_indices(sw, fraction, rng)
        xp, device = self.xp, self.device

        def take(array, rows):
            return xp.take(array, xp.asarray(rows, device=device), axis=0)

        return (
            (take(X, train), take(Y, train), sw[train], take(sw_raw, train)),
            (take(X, val), take(Y, val), xp.asarray(sw_val, device=device)),
        )

    def _held_out_loss(self, theta, X_val, Y_val, sw_val):
        params = self.layout.views(theta, self.xp)
        return array_api.squared_error_and_r2(
            self.xp, X_val, Y_val, sw_val, params, self.activation
        )

    def _epoch_runner(self, training, X, Y, sw, rng):
        """One epoch in the namespace, as :meth:`_Fit._epoch_runner` on NumPy."""
        est, xp, device = self.estimator, self.xp, self.device
        n_samples = X.shape[0]
        batch_size = _batch_size(est, n_samples)
        settings = {
            "solver": self.solver,
            "activation": self.activation,
            "learning_rate": self.learning_rate,
            "alpha": _penalty_per_weight(est.alpha, sw, self.exponent),
            "momentum": float(est.momentum),
            "batch_size": batch_size,
        }
        self.alpha = settings["alpha"]
        shuffle = est.shuffle and batch_size < n_samples
        fixed_weights = _batch_weights(sw, batch_size)
        sw_device = xp.asarray(sw, device=device)
        memory = training.memory

        def epoch():
            order, weights = None, fixed_weights
            if shuffle:
                # the NumPy path's draw; the weights from the host's copy
                order = rng.permutation(n_samples)
                weights = _batch_weights(sw[order], batch_size)
                order = xp.asarray(order, device=device)
            state = {
                "n_steps": memory.n_steps,
                "velocity": memory.velocity,
                "m": memory.m,
                "v": memory.v,
            }
            theta, state, loss = array_api.epoch(
                xp, X, Y, sw_device, training.theta, state, sizes=self.sizes,
                settings=settings, order=order, weights=weights,
            )  # fmt: skip
            loss = float(loss)
            if not (math.isfinite(loss) and bool(xp.all(xp.isfinite(theta)))):
                raise self._diverged(training.n_iter + 1)
            training.theta = theta
            memory.n_steps = state["n_steps"]
            memory.velocity, memory.m, memory.v = (
                state["velocity"], state["m"], state["v"],
            )  # fmt: skip
            return loss

        return epoch


class TwoLayerReLURegressor(
    CallbackSupportMixin, DocLinkMixin, RegressorMixin, BaseEstimator
):
    """Two-layer neural network regressor, ``f(x) = w2ᵀ g(W1ᵀ x + b1) + b2``.

    The network has one hidden layer of ``n_hidden`` units with activation ``g``
    (ReLU by default) and a linear output. It is trained on the mean squared error
    by one of four solvers, using gradients derived by hand (see Notes), which
    :meth:`loss_gradient` makes public. The target may be on any scale: the
    network learns it in standardized units and the fitted parameters are then
    expressed in the target's own units.

    Parameters
    ----------
    n_hidden : int, default=100
        The width of the hidden layer, ``n1``.

    activation : {"relu", "identity", "tanh", "logistic"}, default="relu"
        The hidden layer's activation ``g``. ``"relu"`` is ``max(0, h)``, with
        derivative 1 for ``h >= 0``; with ``"identity"`` the network is an affine
        function of ``x``.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights ``W1`` and ``w2`` (the biases
        are not penalized), relative to the total sample weight as in
        :class:`~sklearn.linear_model.Ridge`; see Notes for the exact objective.

    solver : {"gd", "sgd", "adam", "lbfgs"}, default="adam"
        - ``"gd"``: full-batch gradient descent, one step per iteration.
        - ``"sgd"``: minibatch stochastic gradient descent with momentum.
        - ``"adam"``: minibatch Adam [2]_.
        - ``"lbfgs"``: the quasi-Newton method L-BFGS-B of
          ``scipy.optimize.minimize``, on the full batch; a good choice for small
          data sets.

    learning_rate : float, default=None
        The step size of ``"gd"``, ``"sgd"`` and ``"adam"`` (ignored by
        ``"lbfgs"``). None means 1e-2 for ``"gd"`` and 1e-3 for ``"sgd"`` and
        ``"adam"``.

    batch_size : int or "auto", default="auto"
        The minibatch size of ``"sgd"`` and ``"adam"``; ``"auto"`` means
        ``min(200, n_samples)``. ``"gd"`` and ``"lbfgs"`` use all samples.

    momentum : float, default=0.9
        The momentum ``μ`` of ``"sgd"``, in ``[0, 1)``.

    max_iter : int, default=200
        The largest number of iterations: epochs for ``"sgd"`` and ``"adam"``,
        steps for ``"gd"``, quasi-Newton iterations for ``"lbfgs"``.

    tol : float, default=1e-4
        Training stops when the loss (or, with ``early_stopping``, the validation
        loss), in standardized target units, has not improved by at least ``tol``
        for more than ``n_iter_no_change`` consecutive iterations, as in
        ``MLPRegressor``. For ``"lbfgs"``, the tolerance on the projected
        gradient.

    n_iter_no_change : int or np.inf, default=10
        See ``tol``; ``np.inf`` switches that stop off. Not used by ``"lbfgs"``.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data and stop
        when the loss on it stops improving; the parameters of the best epoch of
        the call are kept. Not used by ``"lbfgs"``; :meth:`partial_fit` refuses
        it, as ``MLPRegressor`` does.

    validation_fraction : float, default=0.1
        The fraction of the training data held out with ``early_stopping``
        (rounded up); at least 2 samples must be held out and 1 left.

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch of ``"sgd"`` and ``"adam"``.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split. Pass an
        int for reproducible results.

    warm_start : bool, default=False
        Whether :meth:`fit` starts from the previous solution instead of new
        random weights.

    verbose : bool, default=False
        Whether to print the loss at each iteration.

    Attributes
    ----------
    W1_ : ndarray of shape (`n_features_in_`, n_hidden)
        The first layer's weights ``W1``. After a fit on array API input, an
        array of the input's namespace on its device, as are ``b1_``, ``w2_``
        and ``b2_``.

    b1_ : ndarray of shape (n_hidden,)
        The first layer's bias ``b1``.

    w2_ : ndarray of shape (n_hidden,) or (n_hidden, `n_outputs_`)
        The output layer's weights ``w2``, in the target's units; 2-D when ``y``
        was 2-D.

    b2_ : float or ndarray of shape (`n_outputs_`,)
        The output bias ``b2``, in the target's units: a scalar of the
        parameters' dtype when ``y`` was 1-D.

    y_scale_ : float
        The standard deviation ``σ`` of the training target (for several outputs,
        the root mean of their variances), or 1 for a constant target. The
        network learns ``y`` in units of ``σ``.

    loss_curve_ : list of float
        The objective ``L`` (see Notes), in squared target units, at each
        iteration since the network was initialized: calls of
        :meth:`partial_fit` and warm-started calls of :meth:`fit` extend it, a
        fit that starts over starts it anew. For ``"sgd"`` and ``"adam"``, the
        average over the epoch's minibatches of the minibatch objective. The
        values overflow to ``inf`` for targets beyond about 1e154 (the fit does
        not: it works in standardized units).

    best_loss_ : float
        The smallest value in ``loss_curve_``, also with ``early_stopping``
        (where ``MLPRegressor`` sets it to None).

    validation_loss_curve_ : list of float or None
        With ``early_stopping``, the mean squared error ``J`` on the held-out
        data after each iteration, in squared target units; None otherwise.
        It grows and starts over with ``loss_curve_``.

    validation_scores_ : list of float or None
        With ``early_stopping``, the coefficient of determination R² on the
        held-out data after each iteration (as ``MLPRegressor``); None
        otherwise. It grows and starts over with ``loss_curve_``.

    best_validation_score_ : float or None
        The largest value in ``validation_scores_``; None without
        ``early_stopping``.

    n_iter_ : int
        The number of iterations run by the last call of :meth:`fit` (a
        warm-started fit with ``max_iter=3`` reports 3) or of
        :meth:`partial_fit` (always 1), as in ``MLPRegressor``.

    t_ : int
        The number of training samples seen by the solver since the network
        was initialized (counting repeats), as in ``MLPRegressor``.

    n_outputs_ : int
        The number of outputs.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.

    Notes
    -----
    With ``h = W1ᵀ x + b1`` the network is ``f(x) = w2ᵀ g(h) + b2``. On training
    samples ``(x⁽ⁱ⁾, y⁽ⁱ⁾)`` with weights ``sᵢ`` (all 1 by default) and
    ``z⁽ⁱ⁾ = f(x⁽ⁱ⁾)``, the loss is the mean squared error

    ``J(θ) = Σᵢ sᵢ (y⁽ⁱ⁾ - z⁽ⁱ⁾)² / Σᵢ sᵢ``,

    (for several outputs, ``(y⁽ⁱ⁾ - z⁽ⁱ⁾)²`` is the squared norm), and ``fit``
    minimizes

    ``L(θ) = J(θ) + (alpha / S) (σ² ||W1||² + ||w2||²)``,

    where ``S = Σᵢ sᵢ`` (the number of samples without weights), so that
    ``S · L`` is a sum of squared errors plus ``alpha`` times a squared norm as
    in :class:`~sklearn.linear_model.Ridge`, and ``σ`` is ``y_scale_``, so that
    ``L / σ²`` is the objective of the same network fitted to the standardized
    target with the plain penalty ``(alpha / S) (||W1||² + ||w2||²)``. With
    ``alpha=0``, ``L = J``. The gradient of
    one sample's loss ``Jᵢ = (y - z)²`` is

    - ``∂Jᵢ/∂w2 = -2 (y - z) g(h)``,
    - ``∂Jᵢ/∂b2 = -2 (y - z)``,
    - ``∂Jᵢ/∂W1 = -2 (y - z) x (w2 ⊙ g'(h))ᵀ``,
    - ``∂Jᵢ/∂b1 = -2 (y - z) (w2 ⊙ g'(h))``,

    and ``∇J = Σᵢ sᵢ ∇Jᵢ / Σᵢ sᵢ``. Minibatch solvers use the same formulas on
    each minibatch.

    ``W1`` starts with He initialization [1]_ for ReLU (entries of variance
    ``2 / n_features``) and variance ``1 / n_features`` otherwise, ``w2`` with
    variance ``0.1 / n_hidden`` in standardized target units, and ``b1`` at 0
    and ``b2`` at the target's (weighted) mean.

    Training works in place on preallocated buffers and processes large batches
    in blocks of rows, so that ``"gd"`` and large minibatches run near the speed
    of the matrix products. Sparse ``X`` enters only through sparse × dense
    products.

    With ``sklearn.config_context(array_api_dispatch=True)`` and an ``X`` of
    another array API namespace than NumPy (a PyTorch tensor or a CuPy array
    on a GPU), ``"gd"``, ``"sgd"`` and ``"adam"`` train in that namespace and
    on its device, and the fitted ``W1_``, ``b1_``, ``w2_`` and ``b2_`` live
    there; ``"lbfgs"`` refuses such input. The initial weights, the shuffling
    and the validation split are drawn on the host as for NumPy input, so that
    float64 fits agree with it to rounding (see the scaling-out guide for what
    is computed where).

    A fit works on its own copy of the parameters and commits the result when
    it succeeds: a fit that raises, including on ``KeyboardInterrupt``, leaves
    the estimator as it was before the call. A fit whose loss becomes
    non-finite, or grows by orders of magnitude, raises a ``ValueError`` that
    names the likely cause (features too large, ``alpha``, ``learning_rate``)
    instead of returning non-finite weights. To stop a fit early and keep its
    model, use a callback (see :meth:`set_callbacks`): a callback's request to
    stop is honoured by every solver.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers:
       Surpassing Human-Level Performance on ImageNet Classification", ICCV 2015.
    .. [2] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
       ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sknonlin import TwoLayerReLURegressor
    >>> X = np.linspace(-2, 2, 50).reshape(-1, 1)
    >>> y = 100 + 30 * np.abs(X[:, 0])
    >>> reg = TwoLayerReLURegressor(n_hidden=8, solver="lbfgs", random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.W1_.shape, reg.w2_.shape
    ((1, 8), (8,))
    >>> round(float(reg.score(X, y)), 3)
    1.0
    >>> round(float(reg.predict([[1.0]])[0]), 1)
    130.0
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "identity", "tanh", "logistic"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"gd", "sgd", "adam", "lbfgs"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_hidden=100,
        *,
        activation="relu",
        alpha=1e-4,
        solver="adam",
        learning_rate=None,
        batch_size="auto",
        momentum=0.9,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=False,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        tags.array_api_support = ARRAY_API_AVAILABLE
        return tags

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training input samples. Sparse input is used as CSR, never
            densified.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values, on any scale.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``sᵢ`` of the samples; None gives every sample
            weight 1.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _partial_fit_available(self):
        return self.solver in ("sgd", "adam")

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the network with one epoch over ``X`` and ``y``.

        Only for the minibatch solvers ``"sgd"`` and ``"adam"``, and without
        ``early_stopping``. The first call initializes the network, including
        the target's scale, from its data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training input samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives every sample weight 1.

        Returns
        -------
        self : object
            The updated regressor.
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no "
                "held-out data to stop on; set early_stopping=False."
            )
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, incremental):
        """Train on local state, then commit it; nothing on self changes before."""
        in_namespace = array_api.handles(X)
        if in_namespace and self.solver == "lbfgs":
            raise ValueError(
                f"solver='lbfgs' does not support array API inputs: X is a "
                f"{input_namespace(X)[0].__name__} array, and L-BFGS-B runs in "
                "SciPy on NumPy arrays. Use solver='gd', 'sgd' or 'adam', which "
                "train in the namespace and on the device of X, or convert X to "
                "NumPy."
            )
        warm = hasattr(self, "_theta") and (incremental or self.warm_start)
        X, Y, sw, sw_raw, exponent, y_ndim, names = self._validate_training_data(
            X, y, sample_weight, reset=not warm
        )
        if warm:
            self._check_continuable(y_ndim)
        rng = check_random_state(self.random_state)
        if warm:
            training = self._resume(incremental)
            y_mean, y_scale = _host_state(self._y_mean), self._y_scale
            Y = (Y - y_mean) / y_scale
        else:
            y_mean, y_scale, Y = _standardization(Y, sw)
            training = self._start(X.shape[1], Y.shape[1], Y.dtype, rng)
        Fit = _NamespaceFit if in_namespace else _Fit
        fit = Fit(self, X, Y, sw, sw_raw, exponent, (y_mean, y_scale, y_ndim))
        fit.own(training)
        # Overflow is detected by the finiteness checks, which raise a clearer error.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.solver == "lbfgs":
                converged = fit.run_lbfgs(training)
            else:
                converged = fit.run_epochs(training, rng, incremental)
        self._commit(fit.fitted_attributes(training, final=True), names)
        if not incremental and not converged:
            _warn_not_converged(self.solver, self.max_iter)
        return self

    def _validate_training_data(self, X, y, sample_weight, reset):
        """X in its namespace; y and the sample weights on the host, in X's dtype.

        Returns the arrays a fit trains on, the binary exponent of the weights'
        scale, the number of dimensions of y and the features' count and names.
        """
        if sparse.issparse(y):
            raise ValueError(
                f"y is a sparse {type(y).__name__}; {type(self).__name__} needs a "
                "dense target: pass y.toarray()."
            )
        # validate_data records the number and names of the features on the
        # estimator it is given: on a new fit, a stand-in, so that nothing on
        # self changes before the fit succeeds.
        target = copy.copy(self) if reset else self
        y, sample_weight = _on_host(y), _on_host(sample_weight)
        if array_api.handles(X):
            X, y, host_X = self._validate_in_namespace(target, X, y, reset)
        else:
            X, y = self._validate_on_host(target, X, y, reset)
            host_X = X
        dtype = host_X.dtype
        largest = float(np.max(np.abs(y), initial=0.0))
        if largest > float(np.finfo(dtype).max):
            raise ValueError(
                f"y holds values up to {largest:g}, which do not fit in {dtype.name}, "
                f"the dtype of X (and of the network); pass X as float64."
            )
        Y = np.array(y, dtype=dtype, order="C", copy=True)
        Y = Y.reshape(Y.shape[0], -1)
        if not reset and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but this {type(self).__name__} was "
                f"fitted with {self.n_outputs_} outputs."
            )
        sw, sw_raw, exponent = _normalized_weights(sample_weight, host_X)
        names = {
            name: getattr(target, name)
            for name in ("n_features_in_", "feature_names_in_")
            if hasattr(target, name)
        }
        return X, Y, sw, sw_raw, exponent, y.ndim, names

    def _validate_in_namespace(self, target, X, y, reset):
        """X validated in its namespace, y on the host; a host stand-in of X.

        The stand-in has X's number of rows and dtype, and no columns: what
        the sample weights' validation reads.
        """
        xp, device = input_namespace(X)
        X = validate_data(target, X, reset=reset, dtype=float_dtypes(xp, device))
        if not reset:
            float32 = array_api.is_float32(self._theta)
            X = xp.astype(X, xp.float32 if float32 else xp.float64)
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        if y.dtype.kind not in "fiub":
            y = y.astype(np.float64)
        check_consistent_length(X, y)
        dtype = np.float32 if X.dtype == xp.float32 else np.float64
        return X, y, np.empty((X.shape[0], 0), dtype=dtype)

    def _validate_on_host(self, target, X, y, reset):
        X, y = validate_data(
            target,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            order="C",
            multi_output=True,
            y_numeric=True,
        )
        if not reset:
            dtype = np.float32 if array_api.is_float32(self._theta) else np.float64
            if X.dtype != dtype:
                X = X.astype(dtype)
        if sparse.issparse(X):
            X = check_compressed_structure(X.tocsr())
        return X, y

    def _check_continuable(self, y_ndim):
        if y_ndim != self._y_ndim:
            raise ValueError(
                f"y is {y_ndim}-D, but this {type(self).__name__} was fitted with "
                f"a {self._y_ndim}-D y."
            )
        width = self._sizes[1]
        if width != self.n_hidden:
            raise ValueError(
                f"n_hidden={self.n_hidden} differs from the width {width} of the "
                "fitted network, which warm_start or partial_fit continue; set "
                "warm_start=False to start a new network."
            )

    def _start(self, n_features, n_outputs, dtype, rng):
        """A new network with random weights, and an empty history."""
        theta = array_api.initial_theta(
            n_features, self.n_hidden, n_outputs, self.activation, dtype, rng
        )
        validation = ([], []) if self.early_stopping else (None, None)
        return _Training(
            theta,
            SolverMemory(theta.shape[0], dtype),
            t=0,
            loss_curve=None,
            best_loss=np.inf,
            reference=None,
            validation=validation,
        )

    def _resume(self, incremental):
        """The fitted network and history, for warm_start or partial_fit.

        The parameters and the solver's memory are copied (the fit works on
        them in place); the histories are extended only when the fit commits.
        """
        theta = _host_state(self._theta)
        memory = SolverMemory(theta.shape[0], theta.dtype)
        if incremental:
            memory.n_steps = self._n_steps
            memory.velocity[:] = _host_state(self._velocity)
            memory.m[:] = _host_state(self._adam_m)
            memory.v[:] = _host_state(self._adam_v)
        # (.get: models saved before validation_scores_ existed lack it)
        validation = (
            self.validation_loss_curve_,
            self.__dict__.get("validation_scores_"),
        )
        if self.early_stopping and None in validation:
            validation = ([], [])
        return _Training(
            theta.copy(),
            memory,
            t=self.t_,
            loss_curve=self.loss_curve_,
            best_loss=self.__dict__.get("_best_loss", np.inf),
            reference=self.__dict__.get("_loss_reference"),
            validation=validation,
        )

    def _commit(self, attributes, names):
        """Store a successful fit's attributes, the only place a fit writes."""
        if "feature_names_in_" not in names:
            self.__dict__.pop("feature_names_in_", None)
        for name, value in {**names, **attributes}.items():
            setattr(self, name, value)

    # --------------------------------------------------------------- prediction

    def _output_parameters(self):
        W2 = self.w2_.reshape(self.w2_.shape[0], -1)
        b2 = np.asarray(self.b2_, dtype=W2.dtype).reshape(-1)
        return W2, b2

    def _validate_predict_data(self, X):
        if self._is_ready_to_predict(X):
            return X
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            order="C",
        )
        if sparse.issparse(X):
            X = check_compressed_structure(X.tocsr())
        return X.astype(self.W1_.dtype, copy=False)

    def _is_ready_to_predict(self, X):
        """Whether X is an array that validate_data would return unchanged.

        A NumPy array of the parameters' dtype and the fitted width, without
        feature names to check, C-contiguous and finite, is what validation
        returns as it is; recognizing it directly keeps predicting a few rows
        cheap.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and X.dtype == self.W1_.dtype
            and X.flags.c_contiguous
            and "feature_names_in_" not in self.__dict__
            and bool(np.isfinite(X).all())
        )

    def predict(self, X):
        """Predict with the fitted network, ``f(x) = w2ᵀ g(W1ᵀ x + b1) + b2``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions, in the parameters' dtype; 2-D when the training
            target was 2-D.
        """
        check_is_fitted(self, "W1_")
        if array_api.fitted_in_namespace(self):
            array_api.check_input_namespace(self, X, "predict")
        if array_api.handles(X):
            return array_api.predict(self, X)
        X = self._validate_predict_data(X)
        W2, b2 = self._output_parameters()
        Z = predict(X, self.W1_, self.b1_, W2, b2, self.activation)
        return Z[:, 0] if self._y_ndim == 1 else Z

    def score(self, X, y, sample_weight=None):
        """The coefficient of determination R² of the predictions on ``X``.

        As :meth:`sklearn.base.RegressorMixin.score` (which uses
        :func:`~sklearn.metrics.r2_score`), except that the target and the
        predictions are first divided by the power of two nearest their
        largest magnitude: the result has the same bits on ordinary scales,
        and the squares can neither overflow nor underflow on extreme ones.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The true values.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` against ``y``.
        """
        y_pred = self.predict(X)
        if array_api.handles(X):
            # R² is one number: computed on the host, as for NumPy input
            y_pred, y, sample_weight = (
                to_host(y_pred),
                _on_host(y),
                _on_host(sample_weight),
            )
        y_true = np.asarray(y, dtype=np.float64)
        if y_true.shape == y_pred.shape:
            magnitudes = np.abs(np.concatenate([y_true.ravel(), y_pred.ravel()]))
            largest = float(np.max(magnitudes, initial=0.0))
            if np.isfinite(largest) and largest > 0:
                exponent = math.frexp(largest)[1]
                y_true = np.ldexp(y_true, -exponent)
                y_pred = np.ldexp(y_pred.astype(np.float64), -exponent)
        return float(r2_score(y_true, y_pred, sample_weight=sample_weight))

    def loss_gradient(self, X, y, sample_weight=None):
        """The objective that ``fit`` minimizes, and its gradient, at the fit.

        Evaluated at the current ``W1_``, ``b1_``, ``w2_`` and ``b2_``, in the
        target's units: ``L = J + (alpha / S) (σ² ||W1||² + ||w2||²)`` with
        ``S`` the total sample weight of ``X`` and ``σ`` the ``y_scale_`` of the
        fit (see Notes of the class). With ``alpha=0`` it is
        the mean squared error ``J``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives every sample weight 1.

        Returns
        -------
        loss : float
            The objective ``L``.

        grads : dict of ndarray
            The gradient, with keys ``"W1"``, ``"b1"``, ``"w2"`` and ``"b2"``,
            each shaped like the attribute of that name.

        Examples
        --------
        >>> import numpy as np
        >>> from sknonlin import TwoLayerReLURegressor
        >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 4.0])
        >>> reg = TwoLayerReLURegressor(4, solver="lbfgs", alpha=0, random_state=0)
        >>> loss, grads = reg.fit(X, y).loss_gradient(X, y)
        >>> round(loss, 6), sorted(grads), grads["w2"].shape
        (0.0, ['W1', 'b1', 'b2', 'w2'], (4,))
        """
        check_is_fitted(self)
        if array_api.fitted_in_namespace(self):
            array_api.check_input_namespace(self, X, "loss_gradient")
        if array_api.handles(X):
            return array_api.loss_gradient(self, X, y, sample_weight)
        if sparse.issparse(y):
            raise ValueError(
                f"y is a sparse {type(y).__name__}; loss_gradient needs a dense "
                "target: pass y.toarray()."
            )
        X = self._validate_predict_data(X)
        dtype = X.dtype
        Y = np.array(y, dtype=dtype, order="C", copy=True)
        Y = Y.reshape(Y.shape[0], -1) if Y.ndim else Y
        if Y.ndim != 2 or Y.shape[0] != X.shape[0] or Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y must have {X.shape[0]} rows (one per sample) and "
                f"{self.n_outputs_} output(s); got an array of shape "
                f"{np.shape(y)}."
            )
        if not np.isfinite(Y).all():
            raise ValueError("y contains NaN or infinity.")
        sw, _, exponent = _normalized_weights(sample_weight, X)
        W2, b2 = self._output_parameters()
        params = (self.W1_, self.b1_, W2, b2)
        gW1, gb1 = np.empty_like(self.W1_), np.empty_like(self.b1_)
        gW2, gb2 = np.empty_like(W2), np.empty_like(b2)
        n_hidden = self.W1_.shape[1]
        ws = Workspace(
            min(X.shape[0], block_rows(n_hidden)),
            X.shape[1],
            n_hidden,
            W2.shape[1],
            dtype,
        )
        loss = loss_grad(X, Y, sw, params, (gW1, gb1, gW2, gb2), self.activation, ws)
        alpha = _penalty_per_weight(self.alpha, sw, exponent)
        if alpha:
            alpha_W1 = alpha * self.y_scale_**2
            loss += alpha_W1 * float(np.vdot(self.W1_, self.W1_))
            loss += alpha * float(np.vdot(W2, W2))
            gW1 += 2 * alpha_W1 * self.W1_
            gW2 += 2 * alpha * W2
        grads = {
            "W1": gW1,
            "b1": gb1,
            "w2": gW2.reshape(self.w2_.shape),
            "b2": gb2[0] if self._y_ndim == 1 else gb2,
        }
        return float(loss), grads
