"""The two-layer network regressor: validation, training loop and fitted attributes.

The math (forward pass, gradient) is in :mod:`sknonlin._two_layer_math`, the
activations in :mod:`sknonlin._activations` and the update rules in
:mod:`sknonlin._solvers`.
"""

import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from sknonlin._base import DocLinkMixin
from sknonlin._callbacks import CallbackSupportMixin, EpochReporter
from sknonlin._compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from sknonlin._solvers import (
    adam_step,
    add_l2_penalty,
    gd_step,
    lbfgs,
    momentum_step,
)
from sknonlin._two_layer_math import Workspace, block_rows, loss_grad, predict

_W2_GAIN = 0.1
_DEFAULT_LEARNING_RATES = {"gd": 1e-2, "sgd": 1e-3, "adam": 1e-3}


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

    def views(self, theta):
        """Return ``(W1, b1, W2, b2)`` as views into ``theta``."""
        out = {}
        start = 0
        for name, shape in self.shapes.items():
            stop = start + math.prod(shape)
            out[name] = theta[start:stop].reshape(shape)
            start = stop
        return out["W1"], out["b1"], out["W2"], out["b2"]


def _diverged(iteration, learning_rate):
    return ValueError(
        f"The fit diverged at iteration {iteration}: the loss or the weights are "
        f"no longer finite. Use a smaller learning_rate (it is {learning_rate:g}) "
        "or standardize the features, e.g. with a StandardScaler."
    )


def _batch_weights(sw, batch_size):
    """The total sample weight of each minibatch, as Python floats."""
    starts = np.arange(0, sw.shape[0], batch_size)
    return np.add.reduceat(sw, starts, dtype=np.float64).tolist()


def _validated_weights(sample_weight, X):
    """Our own writable copy of the sample weights, in X's dtype."""
    sw = np.array(
        _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True),
        dtype=X.dtype,
        copy=True,
    )
    if not sw.sum() > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive "
            "weight."
        )
    return sw


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
        for ``n_iter_no_change`` consecutive iterations. For ``"lbfgs"``, the
        tolerance on the projected gradient.

    n_iter_no_change : int, default=10
        See ``tol``. Not used by ``"lbfgs"``.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data and stop
        when the loss on it stops improving; the parameters of the best epoch are
        kept. Not used by ``"lbfgs"``.

    validation_fraction : float, default=0.1
        The fraction of the training data held out with ``early_stopping``.

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
        The first layer's weights ``W1``.

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
        iteration. For ``"sgd"`` and ``"adam"``, the average over the epoch's
        minibatches of the minibatch objective.

    best_loss_ : float
        The smallest value in ``loss_curve_``.

    validation_loss_curve_ : list of float or None
        With ``early_stopping``, the mean squared error ``J`` on the held-out
        data after each iteration, in squared target units; None otherwise.

    n_iter_ : int
        The number of iterations run.

    t_ : int
        The number of training samples seen by the solver during fitting
        (counting repeats), as in scikit-learn's ``MLPRegressor``.

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
    of the matrix products.

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
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
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
        return tags

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training input samples.

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
        warm = self.warm_start and hasattr(self, "_theta")
        return self._fit(X, y, sample_weight, incremental=False, warm=warm)

    def _partial_fit_available(self):
        return self.solver in ("sgd", "adam")

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the network with one epoch over ``X`` and ``y``.

        Only for the minibatch solvers ``"sgd"`` and ``"adam"``. The first call
        initializes the network, including the target's scale, from its data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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
        warm = hasattr(self, "_theta")
        return self._fit(X, y, sample_weight, incremental=True, warm=warm)

    def _validate_training_data(self, X, y, sample_weight, reset):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float64, np.float32],
            order="C",
            multi_output=True,
            y_numeric=True,
        )
        dtype = X.dtype
        if not reset and dtype != self._theta.dtype:
            X = X.astype(self._theta.dtype)
            dtype = X.dtype
        # Own copies: the target is standardized in place, and the kernels are
        # compiled for writable arrays.
        Y = np.array(y, dtype=dtype, order="C", copy=True)
        Y = Y.reshape(Y.shape[0], -1)
        sw = _validated_weights(sample_weight, X)
        if not reset and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but this {type(self).__name__} was "
                f"fitted with {self.n_outputs_} outputs."
            )
        return X, Y, sw, y.ndim

    def _initialize(self, Y, sw, y_ndim, n_features, dtype, rng):
        n_outputs = Y.shape[1]
        self.n_outputs_ = n_outputs
        self._y_ndim = y_ndim
        weights = sw.astype(np.float64) / float(sw.sum(dtype=np.float64))
        mean = weights @ Y.astype(np.float64)
        var = weights @ (Y.astype(np.float64) - mean) ** 2
        scale = float(np.sqrt(np.mean(var)))
        if not (np.isfinite(scale) and scale > 0):
            scale = 1.0
        self._y_mean = mean.astype(dtype)
        self._y_scale = dtype.type(scale)

        # Plain integers, so that a fitted model holds only standard types
        # (skops loads it without trusting any helper class).
        self._sizes = (n_features, self.n_hidden, n_outputs)
        layout = self._layout
        theta = np.zeros(layout.size, dtype=dtype)
        W1, _, W2, _ = layout.views(theta)
        gain = 2.0 if self.activation == "relu" else 1.0
        W1[...] = rng.standard_normal(W1.shape) * np.sqrt(gain / n_features)
        W2[...] = rng.standard_normal(W2.shape) * np.sqrt(_W2_GAIN / self.n_hidden)
        self._theta = theta
        self._reset_solver_state()
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_loss_curve_ = None

    def _reset_solver_state(self):
        self._n_steps = 0
        self._velocity = np.zeros_like(self._theta)
        self._adam_m = np.zeros_like(self._theta)
        self._adam_v = np.zeros_like(self._theta)

    def _fit(self, X, y, sample_weight, incremental, warm):
        # A fit that fails must leave the estimator as it was: keep copies of the
        # state that training updates in place.
        saved = {
            name: value.copy() if isinstance(value, (np.ndarray, list)) else value
            for name, value in self.__dict__.items()
        }
        try:
            return self._fit_or_raise(X, y, sample_weight, incremental, warm)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_or_raise(self, X, y, sample_weight, incremental, warm):
        X, Y, sw, y_ndim = self._validate_training_data(
            X, y, sample_weight, reset=not warm
        )
        if warm and (y_ndim != self._y_ndim):
            raise ValueError(
                f"y is {y_ndim}-D, but this {type(self).__name__} was fitted with "
                f"a {self._y_ndim}-D y."
            )
        if warm and self._layout.shapes["b1"][0] != self.n_hidden:
            raise ValueError(
                f"n_hidden={self.n_hidden} differs from the width "
                f"{self._layout.shapes['b1'][0]} of the fitted network, which "
                "warm_start or partial_fit continue; set warm_start=False to start "
                "a new network."
            )
        n_features = X.shape[1]
        dtype = X.dtype
        rng = check_random_state(self.random_state)
        if not warm:
            self._initialize(Y, sw, y_ndim, n_features, dtype, rng)
        elif not incremental:
            self._reset_solver_state()
        Y -= self._y_mean
        Y /= self._y_scale
        # Overflow is detected by the finiteness checks, which raise a clearer error.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sw)
            else:
                self._fit_iterative(X, Y, sw, rng, incremental)
        self._export_parameters()
        return self

    def _fit_iterative(self, X, Y, sw, rng, incremental):
        """Run "gd", "sgd" or "adam"; a call of partial_fit is one epoch."""
        solver = self.solver
        learning_rate = self.learning_rate
        if learning_rate is None:
            learning_rate = _DEFAULT_LEARNING_RATES[solver]
        early_stopping = self.early_stopping and not incremental
        X_val = None
        if early_stopping:
            n_val = math.ceil(self.validation_fraction * X.shape[0])
            if X.shape[0] - n_val < 1 or n_val < 1:
                raise ValueError(
                    f"early_stopping=True with validation_fraction="
                    f"{self.validation_fraction} leaves no training sample out of "
                    f"n_samples={X.shape[0]}; use more samples or "
                    "early_stopping=False."
                )
            order = rng.permutation(X.shape[0])
            val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
            X_val, Y_val, sw_val = X[val], Y[val], sw[val]
            if not sw_val.sum() > 0:
                sw_val = np.ones_like(sw_val)
            X, Y, sw = X[train], Y[train], sw[train]
            if not sw.sum() > 0:
                raise ValueError(
                    "The samples left for training by early_stopping all have "
                    "zero weight; use early_stopping=False."
                )
        n_samples = X.shape[0]
        if solver == "gd":
            batch_size = n_samples
        elif self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            batch_size = min(self.batch_size, n_samples)

        layout = self._layout
        theta = self._theta
        params = layout.views(theta)
        grad = np.empty_like(theta)
        grads = layout.views(grad)
        n_hidden, n_outputs = layout.shapes["W2"]
        rows = min(batch_size, block_rows(n_hidden))
        ws = Workspace(rows, X.shape[1], n_hidden, n_outputs, X.dtype)
        n_weights = layout.n_weights
        momentum = float(self.momentum)
        velocity, adam_m, adam_v = self._velocity, self._adam_m, self._adam_v

        total_weight = float(sw.sum(dtype=np.float64))
        # The penalty is alpha / S on the whole training set; each minibatch
        # carries all of it, so that minibatch gradients are unbiased.
        alpha = float(self.alpha) / total_weight
        shuffle = self.shuffle and batch_size < n_samples
        batches = list(gen_batches(n_samples, batch_size))
        if shuffle:
            Xs, Ys, sws = np.empty_like(X), np.empty_like(Y), np.empty_like(sw)
        else:
            Xs, Ys, sws = X, Y, sw
            batch_weights = _batch_weights(sw, batch_size)
        max_iter = 1 if incremental else self.max_iter
        n_steps = self._n_steps

        if early_stopping:
            val_ws = Workspace(
                min(X_val.shape[0], ws.rows), X.shape[1], n_hidden, n_outputs, X.dtype
            )
            val_grad = np.empty_like(theta)
            val_grads = layout.views(val_grad)
            best_val, best_theta = np.inf, theta.copy()
            self.validation_loss_curve_ = []
        elif not incremental:
            self.validation_loss_curve_ = None
        best_loss = self.best_loss_ / self._y_scale**2
        no_improvement = 0
        converged = False
        reporter = self._reporter(X, Y, sw, max_iter)
        for _ in range(max_iter):
            iteration = self.n_iter_ + 1
            reporter.begin_epoch(iteration)
            if shuffle:
                order = rng.permutation(n_samples)
                np.take(X, order, axis=0, out=Xs)
                np.take(Y, order, axis=0, out=Ys)
                np.take(sw, order, out=sws)
                batch_weights = _batch_weights(sws, batch_size)
            epoch_loss = 0.0
            for batch, weight in zip(batches, batch_weights, strict=True):
                if weight == 0:
                    continue
                loss = loss_grad(
                    Xs[batch], Ys[batch], sws[batch], params, grads, self.activation,
                    ws, weight,
                )  # fmt: skip
                n_steps += 1
                if solver == "adam":
                    penalty = adam_step(
                        theta, grad, n_weights, alpha, learning_rate, n_steps,
                        adam_m, adam_v,
                    )  # fmt: skip
                elif solver == "sgd":
                    penalty = momentum_step(
                        theta, grad, n_weights, alpha, learning_rate, momentum, velocity
                    )
                else:
                    penalty = gd_step(theta, grad, n_weights, alpha, learning_rate)
                loss += penalty
                if not math.isfinite(loss):
                    raise _diverged(iteration, learning_rate)
                epoch_loss += loss * weight
            if not np.isfinite(theta).all():
                raise _diverged(iteration, learning_rate)
            epoch_loss /= total_weight
            self.n_iter_ += 1
            self.t_ += n_samples
            self._n_steps = n_steps
            self.loss_curve_.append(float(epoch_loss * self._y_scale**2))
            message = f"Epoch {iteration}, loss = {self.loss_curve_[-1]:.8f}"
            if early_stopping:
                val_loss = loss_grad(
                    X_val, Y_val, sw_val, params, val_grads, self.activation, val_ws
                )
                self.validation_loss_curve_.append(float(val_loss * self._y_scale**2))
                message += f", validation loss = {self.validation_loss_curve_[-1]:.8f}"
            if early_stopping:
                improved = val_loss < best_val - self.tol
                if val_loss < best_val:
                    best_val = val_loss
                    best_theta[:] = theta
            else:
                improved = epoch_loss < best_loss - self.tol
            best_loss = min(best_loss, epoch_loss)
            self.best_loss_ = float(best_loss * self._y_scale**2)
            no_improvement = 0 if improved else no_improvement + 1
            if reporter.end_epoch(message, self._fitted_attributes):
                converged = True  # a callback asked to stop
                break
            if not incremental and no_improvement >= self.n_iter_no_change:
                converged = True
                if self.verbose:
                    print(
                        f"The loss did not improve by more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive iterations; stopping."
                    )
                break
        reporter.end()
        if early_stopping:
            theta[:] = best_theta
        if not incremental and not converged:
            warnings.warn(
                f"The {solver} solver reached max_iter={self.max_iter} iterations "
                "and the optimization has not converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _reporter(self, X, Y, sw, max_epochs):
        """Progress of this fit for callbacks and ``verbose``, in target units."""
        y = None
        if getattr(self, "_skl_callbacks", None):
            y = Y * self._y_scale + self._y_mean
            y = y[:, 0] if self._y_ndim == 1 else y
        return EpochReporter(
            self,
            X,
            y,
            max_epochs=max_epochs,
            verbose=self.verbose,
            metadata={"sample_weight": sw},
        )

    def _fit_lbfgs(self, X, Y, sw):
        layout = self._layout
        theta = self._theta
        params = layout.views(theta)
        grad = np.empty_like(theta)
        grads = layout.views(grad)
        n_hidden, n_outputs = layout.shapes["W2"]
        ws = Workspace(
            min(X.shape[0], block_rows(n_hidden)),
            X.shape[1],
            n_hidden,
            n_outputs,
            X.dtype,
        )
        alpha = float(self.alpha) / float(sw.sum(dtype=np.float64))
        last = {"loss": np.inf}

        def fun(x):
            theta[:] = x
            loss = loss_grad(X, Y, sw, params, grads, self.activation, ws)
            loss += add_l2_penalty(theta, grad, layout.n_weights, alpha)
            last["loss"] = loss
            return loss, grad.astype(np.float64)

        scale2 = float(self._y_scale) ** 2

        reporter = self._reporter(X, Y, sw, self.max_iter)

        def callback(x):
            # scipy reports each finished iteration; it is one epoch of gd
            self.loss_curve_.append(float(last["loss"] * scale2))
            iteration = self.n_iter_ + len(self.loss_curve_) - n_curve
            reporter.begin_epoch(iteration)
            message = f"Epoch {iteration}, loss = {self.loss_curve_[-1]:.8f}"
            reporter.end_epoch(message, self._fitted_attributes)

        self.validation_loss_curve_ = None
        n_curve = len(self.loss_curve_)
        result = lbfgs(fun, theta, self.max_iter, self.tol, callback)
        reporter.end()
        theta[:] = result.x
        n_iter = int(result.nit)
        if not np.isfinite(theta).all() or not np.isfinite(result.fun):
            raise _diverged(self.n_iter_ + n_iter, float("nan"))
        if len(self.loss_curve_) == n_curve:
            self.loss_curve_.append(float(result.fun) * scale2)
        self.n_iter_ += n_iter
        self.t_ += X.shape[0] * n_iter
        self.best_loss_ = float(min(self.loss_curve_))
        if result.status == 1:
            warnings.warn(
                f"The lbfgs solver reached max_iter={self.max_iter} iterations "
                "and the optimization has not converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    @property
    def _layout(self):
        return _Layout(*self._sizes)

    def _export_parameters(self):
        """Express the learned parameters in the target's units as W1_ ... b2_."""
        for name, value in self._fitted_attributes().items():
            setattr(self, name, value)

    def _fitted_attributes(self):
        """W1_, b1_, w2_, b2_ and y_scale_ from the parameters being learned."""
        W1, b1, W2, b2 = self._layout.views(self._theta)
        scale, mean = self._y_scale, self._y_mean
        w2 = W2 * scale
        b2 = b2 * scale + mean
        if self._y_ndim == 1:
            w2, b2 = w2[:, 0].copy(), b2[0]
        return {
            "W1_": W1.copy(),
            "b1_": b1.copy(),
            "w2_": w2,
            "b2_": b2,
            "y_scale_": float(scale),
        }

    # --------------------------------------------------------------- prediction

    def _output_parameters(self):
        W2 = self.w2_.reshape(self.w2_.shape[0], -1)
        b2 = np.asarray(self.b2_, dtype=W2.dtype).reshape(-1)
        return W2, b2

    def _validate_predict_data(self, X):
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], order="C"
        )
        return X.astype(self.W1_.dtype, copy=False)

    def predict(self, X):
        """Predict with the fitted network, ``f(x) = w2ᵀ g(W1ᵀ x + b1) + b2``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions, in the parameters' dtype; 2-D when the training
            target was 2-D.
        """
        check_is_fitted(self)
        X = self._validate_predict_data(X)
        W2, b2 = self._output_parameters()
        Z = predict(X, self.W1_, self.b1_, W2, b2, self.activation)
        return Z[:, 0] if self._y_ndim == 1 else Z

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
        sw = _validated_weights(sample_weight, X)
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
        alpha = float(self.alpha) / float(sw.sum(dtype=np.float64))
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
