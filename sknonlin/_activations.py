"""Activation functions g and their derivatives g', in place, as plain functions.

Every function works on the pre-activation block ``H = X W1`` of shape
``(n_rows, n_hidden)`` and the bias ``b1``, and overwrites ``H`` with
``g(H + b1)``. The ``*_with_derivative`` variants also write ``g'(H + b1)`` into
``D``, which is what backpropagation needs; doing both in one pass over the block
keeps it in cache.

The two tables at the end map an activation's name to its functions:
``ACTIVATIONS[name](H, b1)`` and ``ACTIVATIONS_WITH_DERIVATIVE[name](H, b1, D)``.
"""

import math

from sknonlin._jit import njit


@njit(cache=True, nogil=True)
def relu(H, b):
    """Overwrite H with relu(H + b) = max(0, H + b)."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            h = H[i, j] + b[j]
            H[i, j] = h if h > 0 else 0
    return H


@njit(cache=True, nogil=True)
def relu_with_derivative(H, b, D):
    """Overwrite H with relu(H + b) and D with relu'(H + b).

    relu'(h) = 1 for h >= 0 and 0 otherwise: the derivative at 0 is taken to be 1.
    """
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            h = H[i, j] + b[j]
            if h >= 0:
                H[i, j] = h
                D[i, j] = 1
            else:
                H[i, j] = 0
                D[i, j] = 0
    return H


@njit(cache=True, nogil=True)
def identity(H, b):
    """Overwrite H with H + b."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            H[i, j] += b[j]
    return H


@njit(cache=True, nogil=True)
def identity_with_derivative(H, b, D):
    """Overwrite H with H + b and D with 1."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            H[i, j] += b[j]
            D[i, j] = 1
    return H


@njit(cache=True, nogil=True)
def tanh(H, b):
    """Overwrite H with tanh(H + b)."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            H[i, j] = math.tanh(H[i, j] + b[j])
    return H


@njit(cache=True, nogil=True)
def tanh_with_derivative(H, b, D):
    """Overwrite H with a = tanh(H + b) and D with tanh'(H + b) = 1 - a**2."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            a = math.tanh(H[i, j] + b[j])
            H[i, j] = a
            D[i, j] = 1 - a * a
    return H


@njit(cache=True, nogil=True)
def _sigmoid(h):
    # Evaluate on the side where exp cannot overflow.
    if h >= 0:
        return 1 / (1 + math.exp(-h))
    e = math.exp(h)
    return e / (1 + e)


@njit(cache=True, nogil=True)
def logistic(H, b):
    """Overwrite H with the logistic sigmoid 1 / (1 + exp(-(H + b)))."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            H[i, j] = _sigmoid(H[i, j] + b[j])
    return H


@njit(cache=True, nogil=True)
def logistic_with_derivative(H, b, D):
    """Overwrite H with a = sigmoid(H + b) and D with sigmoid'(H + b) = a (1 - a)."""
    n, k = H.shape
    for i in range(n):
        for j in range(k):
            a = _sigmoid(H[i, j] + b[j])
            H[i, j] = a
            D[i, j] = a * (1 - a)
    return H


ACTIVATIONS = {
    "relu": relu,
    "identity": identity,
    "tanh": tanh,
    "logistic": logistic,
}

ACTIVATIONS_WITH_DERIVATIVE = {
    "relu": relu_with_derivative,
    "identity": identity_with_derivative,
    "tanh": tanh_with_derivative,
    "logistic": logistic_with_derivative,
}
