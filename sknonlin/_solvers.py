"""Update rules of the solvers, on the flat vector of all parameters.

The parameters ``θ`` are one contiguous vector whose first ``n_weights`` entries are
the weights (``W1`` then ``W2``) and whose remaining entries are the biases. The L2
penalty ``alpha · Σ_weights θ_j²`` is added to the loss inside each step, so that a
step is one pass over the vector:

* ``gd_step``: ``θ ← θ - η ∇L``;
* ``momentum_step``: ``v ← μ v - η ∇L``, ``θ ← θ + v``;
* ``adam_step``: Adam (Kingma and Ba, 2015) with bias-corrected moments.

Each step returns the penalty at ``θ`` before the update. :func:`make_step` picks
the rule once per fit and binds it to the parameters and the solver's memory
(:class:`SolverMemory`), so that a training loop calls ``step(grad, alpha)``.
:func:`lbfgs` wraps ``scipy.optimize.minimize`` for the quasi-Newton solver.
"""

import math

import numpy as np
import scipy.optimize

from sknonlin._jit import njit


@njit(cache=True, nogil=True)
def add_l2_penalty(theta, grad, n_weights, alpha):
    """Add ``2 alpha θ`` to the weights' gradient; return ``alpha · Σ_weights θ²``."""
    if alpha == 0:
        return 0.0
    total = 0.0
    for j in range(n_weights):
        w = theta[j]
        total += w * w
        grad[j] += 2 * alpha * w
    return alpha * total


@njit(cache=True, nogil=True)
def gd_step(theta, grad, n_weights, alpha, learning_rate):
    """One gradient-descent step ``θ ← θ - η ∇L``; return the penalty."""
    penalty = add_l2_penalty(theta, grad, n_weights, alpha)
    for j in range(theta.shape[0]):
        theta[j] -= learning_rate * grad[j]
    return penalty


@njit(cache=True, nogil=True)
def momentum_step(theta, grad, n_weights, alpha, learning_rate, momentum, velocity):
    """One step of gradient descent with momentum; return the penalty."""
    penalty = add_l2_penalty(theta, grad, n_weights, alpha)
    for j in range(theta.shape[0]):
        v = momentum * velocity[j] - learning_rate * grad[j]
        velocity[j] = v
        theta[j] += v
    return penalty


@njit(cache=True, nogil=True)
def adam_step(theta, grad, n_weights, alpha, learning_rate, t, m, v):
    """Adam's ``t``-th step (t counts from 1); return the penalty.

    ``β1 = 0.9``, ``β2 = 0.999`` and ``ε = 1e-8``; the bias corrections of both
    moments are folded into the step size.
    """
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    penalty = add_l2_penalty(theta, grad, n_weights, alpha)
    step = learning_rate * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    for j in range(theta.shape[0]):
        g = grad[j]
        mj = beta1 * m[j] + (1 - beta1) * g
        vj = beta2 * v[j] + (1 - beta2) * (g * g)
        m[j] = mj
        v[j] = vj
        theta[j] -= step * mj / (math.sqrt(vj) + eps)
    return penalty


class SolverMemory:
    """What a minibatch solver carries from one step to the next.

    Parameters
    ----------
    n_params : int
        The length of the flat parameter vector.
    dtype : numpy dtype
        The parameters' dtype.

    Attributes
    ----------
    n_steps : int
        The number of steps taken (Adam's ``t``).
    velocity : ndarray of shape (n_params,)
        The momentum of ``"sgd"``.
    m, v : ndarray of shape (n_params,)
        Adam's first and second moments.
    """

    def __init__(self, n_params, dtype):
        self.n_steps = 0
        self.velocity = np.zeros(n_params, dtype=dtype)
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)


def make_step(solver, theta, n_weights, learning_rate, momentum, memory):
    """The update rule of ``solver``, bound to ``theta`` and ``memory``.

    Parameters
    ----------
    solver : {"gd", "sgd", "adam"}
        The rule.
    theta : ndarray of shape (n_params,)
        The flat parameter vector, updated in place by each step.
    n_weights : int
        The number of leading entries of ``theta`` that the penalty applies to.
    learning_rate, momentum : float
        The step size ``η`` and the momentum ``μ`` (of ``"sgd"``).
    memory : SolverMemory
        The solver's memory, updated in place by each step.

    Returns
    -------
    step : callable
        ``step(grad, alpha)`` adds the penalty ``alpha · Σ_weights θ²`` to the
        loss whose gradient is ``grad`` (overwritten), takes one step and returns
        the penalty at ``θ`` before the step.
    """
    if solver == "gd":

        def step(grad, alpha):
            memory.n_steps += 1
            return gd_step(theta, grad, n_weights, alpha, learning_rate)

    elif solver == "sgd":

        def step(grad, alpha):
            memory.n_steps += 1
            return momentum_step(
                theta, grad, n_weights, alpha, learning_rate, momentum, memory.velocity
            )

    else:

        def step(grad, alpha):
            memory.n_steps += 1
            return adam_step(
                theta, grad, n_weights, alpha, learning_rate, memory.n_steps,
                memory.m, memory.v,
            )  # fmt: skip

    return step


def lbfgs(fun, theta0, max_iter, tol, callback):
    """Minimise ``fun`` (returning the loss and its gradient) with L-BFGS-B.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (loss, grad)`` with ``theta`` and ``grad`` float64 vectors.
    theta0 : ndarray of shape (n_params,)
        The starting point.
    max_iter : int
        The largest number of iterations.
    tol : float
        Stop when the largest entry of the projected gradient is below ``tol``.
    callback : callable
        Called after each iteration as ``callback(intermediate_result)``, an
        ``OptimizeResult`` with the point ``x`` and its loss ``fun``; it may raise
        ``StopIteration`` to end the minimisation there.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        ``status`` is 0 on convergence, 1 when ``max_iter`` was reached and 99
        when the callback asked to stop.
    """
    return scipy.optimize.minimize(
        fun,
        np.asarray(theta0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": max(15000, 2 * max_iter),
            "gtol": tol,
        },
    )
