"""The two-layer network's math on arrays of any array API namespace.

The same network and the same hand-derived gradient as
:mod:`sknonlin._two_layer_math` (see there for the formulas), written as pure
functions of whole arrays so that they run in the namespace of their inputs and
on its device: a PyTorch tensor on a GPU, a CuPy array, an array-api-strict
array. They take already validated arrays of one floating dtype, which they keep:
float32 stays float32.

The parameters are one flat vector ``θ`` laid out as in the NumPy path: ``W1``,
``W2``, then ``b1``, ``b2``. The update rules (:func:`gd_step`,
:func:`momentum_step`, :func:`adam_step`) add the L2 penalty on the weights as
:mod:`sknonlin._solvers` does, and return the new state instead of writing in
place. Losses are returned as 0-d arrays of the namespace, so that a training
loop on a GPU synchronises with the host only when it reads them.

:func:`epoch` and :func:`squared_error_and_r2` serve the estimator's training
on array API input (through the loop of :mod:`sknonlin._two_layer`, whose
``_NamespaceFit`` calls them); :func:`predict` and :func:`loss_gradient` serve
the estimator's methods of the same names.
"""

import math

import numpy as np
from sklearn.utils.validation import validate_data

from sknonlin._array_api import (
    _check_sample_weight,
    check_same_namespace,
    float_dtypes,
    input_namespace,
    to_host,
)

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8
# Initial scale of the output weights, in standardized target units, as in the
# NumPy path: variance _W2_GAIN / n_hidden.
_W2_GAIN = 0.1


# ------------------------------------------------------------------ activations


def _relu(xp, H):
    # relu'(h) = 1 for h >= 0: the derivative at 0 is taken to be 1
    zero = xp.zeros((), dtype=H.dtype, device=H.device)
    return xp.maximum(H, zero), xp.astype(H >= 0, H.dtype)


def _identity(xp, H):
    return H, xp.ones_like(H)


def _tanh(xp, H):
    A = xp.tanh(H)
    return A, 1 - A * A


def _logistic(xp, H):
    # 1 / (1 + exp(-h)) overflows to 1 / inf = 0 for very negative h: no NaN
    A = 1 / (1 + xp.exp(-H))
    return A, A * (1 - A)


ACTIVATIONS = {
    "relu": _relu,
    "identity": _identity,
    "tanh": _tanh,
    "logistic": _logistic,
}


# -------------------------------------------------------------- the parameters


def unflatten(xp, theta, n_features, n_hidden, n_outputs):
    """``(W1, b1, W2, b2)`` from the flat vector ``θ`` (views where the namespace
    makes them)."""
    sizes = {
        "W1": n_features * n_hidden,
        "W2": n_hidden * n_outputs,
        "b1": n_hidden,
        "b2": n_outputs,
    }
    parts, start = {}, 0
    for name, size in sizes.items():
        parts[name] = theta[start : start + size]
        start += size
    W1 = xp.reshape(parts["W1"], (n_features, n_hidden))
    W2 = xp.reshape(parts["W2"], (n_hidden, n_outputs))
    return W1, parts["b1"], W2, parts["b2"]


def flatten(xp, W1, b1, W2, b2):
    """The flat vector ``θ`` of ``(W1, b1, W2, b2)``: weights first."""
    return xp.concat(
        [xp.reshape(W1, (-1,)), xp.reshape(W2, (-1,)), b1, b2],
    )


def initial_theta(n_features, n_hidden, n_outputs, activation, dtype, rng):
    """The NumPy path's initial parameters, drawn on the host with ``rng``.

    ``W1`` has entries of variance ``2 / n_features`` for ReLU and
    ``1 / n_features`` otherwise, ``W2`` variance ``0.1 / n_hidden``, the biases
    are 0. The same ``rng`` state gives the same vector as a NumPy fit;
    move it to a device with ``xp.asarray(theta, device=device)``.
    """
    theta = np.zeros(
        n_features * n_hidden + n_hidden * n_outputs + n_hidden + n_outputs,
        dtype=dtype,
    )
    n_w1 = n_features * n_hidden
    gain = 2.0 if activation == "relu" else 1.0
    W1 = rng.standard_normal((n_features, n_hidden)) * np.sqrt(gain / n_features)
    W2 = rng.standard_normal((n_hidden, n_outputs)) * np.sqrt(_W2_GAIN / n_hidden)
    theta[:n_w1] = W1.reshape(-1)
    theta[n_w1 : n_w1 + n_hidden * n_outputs] = W2.reshape(-1)
    return theta


# ------------------------------------------------------- forward and gradient


def forward(xp, X, W1, b1, W2, b2, activation):
    """The network's outputs ``g(X W1 + b1) W2 + b2``, shape (n, n_outputs)."""
    A, _ = ACTIVATIONS[activation](xp, X @ W1 + b1)
    return A @ W2 + b2


def loss_grad(xp, X, Y, sw, params, activation, sw_sum=None):
    """Weighted squared error of the network on (X, Y) and its gradient.

    Parameters
    ----------
    xp : namespace
        The namespace of every array argument.
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_outputs)
    sw : array of shape (n_samples,)
        Sample weights ``s_i``; their sum must be positive.
    params : tuple of arrays
        ``(W1, b1, W2, b2)``.
    activation : str
        A key of :data:`ACTIVATIONS`.
    sw_sum : float or 0-d array, default=None
        ``Σ s_i`` if the caller knows it already.

    Returns
    -------
    loss : 0-d array
        ``J = Σ s_i ||y_i - z_i||² / Σ s_i``.
    grads : tuple of arrays
        ``(∂J/∂W1, ∂J/∂b1, ∂J/∂W2, ∂J/∂b2)``.
    """
    W1, b1, W2, b2 = params
    if sw_sum is None:
        sw_sum = xp.sum(sw)
    scale = 1 / sw_sum
    A, D = ACTIVATIONS[activation](xp, X @ W1 + b1)
    E = A @ W2 + b2 - Y
    # r_i = -2 s_i (y_i - z_i) / Σ s, and J = Σ_i r_i · (z_i - y_i) / 2
    R = ((2 * scale) * sw)[:, None] * E
    loss = xp.sum(R * E) / 2
    delta = D * (R @ W2.T)
    grads = (X.T @ delta, xp.sum(delta, axis=0), A.T @ R, xp.sum(R, axis=0))
    return loss, grads


def squared_error_and_r2(xp, X, Y, sw, params, activation):
    """The loss ``J`` of the network on (X, Y) and its R², as Python floats.

    As :func:`sknonlin._two_layer_math.squared_error_and_r2`: the sums in
    float64 where the device has it.
    """
    Z = forward(xp, X, *params, activation)
    work = _work_dtype(xp, sw)
    sw = xp.astype(sw, work)
    w = sw / xp.sum(sw)
    Y = xp.astype(Y, work)
    residual = xp.astype(Z, work) - Y
    sse = w @ (residual * residual)
    centred = Y - w @ Y
    sst = w @ (centred * centred)
    positive = sst > 0
    one = xp.ones((), dtype=work, device=sst.device)
    r2 = xp.where(
        positive, 1 - sse / xp.where(positive, sst, one), xp.astype(sse == 0, work)
    )
    return float(xp.sum(sse)), float(xp.mean(r2))


def _work_dtype(xp, array):
    """float64 where the array's device has it, else the array's dtype."""
    return xp.float64 if xp.float64 in float_dtypes(xp, array.device) else array.dtype


# ------------------------------------------------------------- update rules


def l2_penalty(xp, theta, grad, n_weights, alpha):
    """``alpha · Σ_weights θ²`` and the gradient with ``2 alpha θ`` added to the
    weights' part."""
    if alpha == 0:
        return xp.zeros((), dtype=theta.dtype, device=theta.device), grad
    weights = theta[:n_weights]
    penalty = alpha * xp.sum(weights * weights)
    grad = xp.concat([grad[:n_weights] + (2 * alpha) * weights, grad[n_weights:]])
    return penalty, grad


def gd_step(xp, theta, grad, n_weights, alpha, learning_rate):
    """``θ ← θ - η ∇L``; returns the new ``θ`` and the penalty at the old one."""
    penalty, grad = l2_penalty(xp, theta, grad, n_weights, alpha)
    return theta - learning_rate * grad, penalty


def momentum_step(xp, theta, grad, n_weights, alpha, learning_rate, momentum, velocity):
    """``v ← μ v - η ∇L``, ``θ ← θ + v``; returns ``θ``, ``v`` and the penalty."""
    penalty, grad = l2_penalty(xp, theta, grad, n_weights, alpha)
    velocity = momentum * velocity - learning_rate * grad
    return theta + velocity, velocity, penalty


def adam_step(xp, theta, grad, n_weights, alpha, learning_rate, t, m, v):
    """Adam's ``t``-th step (``t`` from 1); returns ``θ``, ``m``, ``v``, penalty.

    ``β1 = 0.9``, ``β2 = 0.999``, ``ε = 1e-8``; the bias corrections of both
    moments are folded into the step size, as in the NumPy path.
    """
    penalty, grad = l2_penalty(xp, theta, grad, n_weights, alpha)
    step = learning_rate * math.sqrt(1 - BETA2**t) / (1 - BETA1**t)
    m = BETA1 * m + (1 - BETA1) * grad
    v = BETA2 * v + (1 - BETA2) * (grad * grad)
    return theta - step * m / (xp.sqrt(v) + EPSILON), m, v, penalty


def epoch(xp, X, Y, sw, theta, state, *, sizes, settings, order=None, weights=None):
    """One epoch of ``"gd"``, ``"sgd"`` or ``"adam"`` over minibatches.

    Parameters
    ----------
    xp : namespace
    X, Y, sw : arrays
        Training data (``Y`` standardized, 2-D) and sample weights.
    theta : array
        The flat parameter vector.
    state : dict
        ``"n_steps"`` (int) and the solver's vectors: ``"velocity"`` for
        ``"sgd"``, ``"m"`` and ``"v"`` for ``"adam"``. Not modified.
    sizes : tuple of int
        ``(n_features, n_hidden, n_outputs)``.
    settings : dict
        ``solver``, ``activation``, ``learning_rate``, ``alpha`` (already
        divided by the total sample weight, as in the NumPy path),
        ``momentum`` and ``batch_size``.
    order : array of int, default=None
        The order in which to visit the samples (a permutation drawn on the
        host, in the namespace); None visits them in order.
    weights : list of float, default=None
        The total sample weight of each minibatch, in the order of visit, if
        the caller knows it already (computed on the host, it saves a
        transfer); None computes it from ``sw``.

    Returns
    -------
    theta : array
        The parameters after the epoch.
    state : dict
        The solver's new state.
    loss : 0-d array
        The weighted mean over the minibatches of the minibatch objective.
    """
    if order is not None:
        X, Y, sw = (xp.take(a, order, axis=0) for a in (X, Y, sw))
    solver = settings["solver"]
    n_samples = X.shape[0]
    batch_size = n_samples if solver == "gd" else settings["batch_size"]
    n_weights = sizes[0] * sizes[1] + sizes[1] * sizes[2]
    state = dict(state)
    if weights is None:
        weights = _batch_weights(xp, sw, batch_size)
    losses, used = [], []
    for start, weight in zip(range(0, n_samples, batch_size), weights, strict=True):
        if weight == 0:
            continue
        batch = slice(start, min(start + batch_size, n_samples))
        params = unflatten(xp, theta, *sizes)
        loss, grads = loss_grad(
            xp, X[batch, :], Y[batch, :], sw[batch], params,
            settings["activation"], weight,
        )  # fmt: skip
        grad = flatten(xp, *grads)
        theta, penalty = _step(xp, theta, grad, n_weights, settings, state)
        losses.append(loss + penalty)
        used.append(weight)
    used = xp.asarray(used, dtype=X.dtype, device=X.device)
    return theta, state, xp.sum(xp.stack(losses) * used) / sum(weights)


def _step(xp, theta, grad, n_weights, settings, state):
    """One update of the solver ``settings["solver"]``; updates ``state``."""
    solver, rate, alpha = (
        settings["solver"],
        settings["learning_rate"],
        settings["alpha"],
    )
    state["n_steps"] += 1
    if solver == "adam":
        theta, state["m"], state["v"], penalty = adam_step(
            xp, theta, grad, n_weights, alpha, rate, state["n_steps"],
            state["m"], state["v"],
        )  # fmt: skip
    elif solver == "sgd":
        theta, state["velocity"], penalty = momentum_step(
            xp, theta, grad, n_weights, alpha, rate, settings["momentum"],
            state["velocity"],
        )  # fmt: skip
    else:
        theta, penalty = gd_step(xp, theta, grad, n_weights, alpha, rate)
    return theta, penalty


def _batch_weights(xp, sw, batch_size):
    """The total sample weight of each minibatch, as Python floats (one transfer)."""
    n = sw.shape[0]
    n_full = n // batch_size
    sw = xp.astype(sw, _work_dtype(xp, sw))
    sums = [xp.sum(xp.reshape(sw[: n_full * batch_size], (n_full, batch_size)), axis=1)]
    if n > n_full * batch_size:
        sums.append(xp.sum(sw[n_full * batch_size :])[None])
    return to_host(xp.concat(sums)).tolist()


# ------------------------------------------------ the estimator's methods


def handles(X):
    """Whether ``X`` takes the array API path (dispatch on, not NumPy)."""
    return input_namespace(X)[0] is not None


def is_float32(array):
    """Whether an array of any namespace, NumPy's included, holds float32."""
    return str(array.dtype).endswith("float32")


def fitted_in_namespace(estimator):
    """Whether the network was fitted on arrays of a namespace other than NumPy."""
    return not isinstance(estimator.W1_, np.ndarray)


def check_input_namespace(estimator, X, method):
    """Refuse an ``X`` of another namespace or device than the fit's.

    For a network fitted on arrays of a namespace other than NumPy: its
    parameters live there, and so must the inputs of its methods.
    """
    check_same_namespace(X, estimator, attribute="W1_", method=method)
    if input_namespace(X)[0] is None:
        name = type(estimator).__name__
        raise ValueError(
            f"This {name} was fitted with array_api_dispatch=True on arrays of "
            f"another namespace than NumPy; {method} needs array_api_dispatch=True "
            "and an input of that namespace and device. Fit it again on NumPy "
            "data to use it on NumPy data."
        )


def _parameters(estimator, xp, device, dtype):
    """The fitted parameters in ``xp`` on ``device``: ``(W1, b1, W2, b2)``.

    A model fitted on NumPy data is copied to the device (a few small arrays).
    """
    w2 = estimator.w2_
    n_hidden = estimator.W1_.shape[1]
    W1, b1, W2, b2 = (
        xp.asarray(value, dtype=dtype, device=device)
        for value in (estimator.W1_, estimator.b1_, w2, estimator.b2_)
    )
    return W1, b1, xp.reshape(W2, (n_hidden, -1)), xp.reshape(b2, (-1,))


def _validate(estimator, X):
    """``X`` in its namespace, in the dtype of the fitted parameters."""
    xp, device = input_namespace(X)
    X = validate_data(estimator, X, reset=False, dtype=float_dtypes(xp, device))
    dtype = xp.float32 if is_float32(estimator.W1_) else xp.float64
    return xp, device, xp.astype(X, dtype, copy=False)


def predict(estimator, X):
    """``estimator.predict(X)`` for an array API ``X``, in its namespace."""
    xp, device, X = _validate(estimator, X)
    params = _parameters(estimator, xp, device, X.dtype)
    Z = forward(xp, X, *params, estimator.activation)
    return Z[:, 0] if estimator.w2_.ndim == 1 else Z


def loss_gradient(estimator, X, y, sample_weight=None):
    """``estimator.loss_gradient`` for an array API ``X``: the objective as a
    Python float and the gradient in ``X``'s namespace and device."""
    xp, device, X = _validate(estimator, X)
    n_outputs = estimator.n_outputs_
    Y = xp.asarray(y, dtype=X.dtype, device=device, copy=True)
    shape = tuple(Y.shape)
    if Y.ndim:
        Y = xp.reshape(Y, (Y.shape[0], -1))
    if Y.ndim != 2 or Y.shape[0] != X.shape[0] or Y.shape[1] != n_outputs:
        raise ValueError(
            f"y must have {X.shape[0]} rows (one per sample) and {n_outputs} "
            f"output(s); got an array of shape {shape}."
        )
    if not bool(xp.all(xp.isfinite(Y))):
        raise ValueError("y contains NaN or infinity.")
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    sw_sum = xp.sum(sw)
    if not float(sw_sum) > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive "
            "weight."
        )
    params = _parameters(estimator, xp, device, X.dtype)
    loss, (gW1, gb1, gW2, gb2) = loss_grad(
        xp, X, Y, sw, params, estimator.activation, sw_sum
    )
    loss = float(loss)
    alpha = float(estimator.alpha) / float(sw_sum)
    if alpha:
        W1, _, W2, _ = params
        alpha_W1 = alpha * float(estimator.y_scale_) ** 2
        loss += alpha_W1 * float(xp.sum(W1 * W1)) + alpha * float(xp.sum(W2 * W2))
        gW1 = gW1 + (2 * alpha_W1) * W1
        gW2 = gW2 + (2 * alpha) * W2
    grads = {
        "W1": gW1,
        "b1": gb1,
        "w2": xp.reshape(gW2, tuple(estimator.w2_.shape)),
        "b2": gb2[0] if estimator.w2_.ndim == 1 else gb2,
    }
    return loss, grads
