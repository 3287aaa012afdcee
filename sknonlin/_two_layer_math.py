"""The two-layer network's forward pass and hand-derived gradient, as pure functions.

The network is ``f(x) = W2ᵀ g(W1ᵀ x + b1) + b2`` with ``W1`` of shape
``(n_features, n_hidden)``, ``b1`` of shape ``(n_hidden,)``, ``W2`` of shape
``(n_hidden, n_outputs)`` and ``b2`` of shape ``(n_outputs,)``. A sample's loss is
``J_i = ||y_i - z_i||²`` with ``z_i = f(x_i)``; the loss of a set of samples with
weights ``s_i`` is ``J = Σ s_i J_i / Σ s_i``. With ``h = W1ᵀ x + b1`` and
``r = -2 (y - z)``, the gradient of one sample's loss is

* ``∂J_i/∂W2 = g(h) rᵀ`` and ``∂J_i/∂b2 = r``,
* ``∂J_i/∂W1 = x (g'(h) ⊙ W2 r)ᵀ`` and ``∂J_i/∂b1 = g'(h) ⊙ W2 r``.

The functions here take arrays that are already validated, C-contiguous and of one
floating dtype, and write into preallocated buffers (a :class:`Workspace`) so that a
training loop allocates nothing per minibatch. Large sets of rows are processed in
blocks so that the ``(rows, n_hidden)`` intermediates stay in cache; no gradient with
respect to ``X`` is ever formed.
"""

import numpy as np
from numba import njit

from sknonlin._activations import ACTIVATIONS, ACTIVATIONS_WITH_DERIVATIVE

# Aim for a (rows, n_hidden) block of about this many bytes, so that the block and
# the derivative block beside it stay in a core's L2 cache.
_BLOCK_BYTES = 1 << 18


def block_rows(n_hidden, itemsize):
    """Rows per block so that a (rows, n_hidden) intermediate stays in cache."""
    return max(64, _BLOCK_BYTES // (n_hidden * itemsize))


class Workspace:
    """Buffers reused by every call of :func:`loss_grad` during one fit.

    Parameters
    ----------
    rows : int
        The largest number of rows processed at once (a block).
    n_features, n_hidden, n_outputs : int
        The network's sizes.
    dtype : numpy dtype
        The floating dtype of the data and parameters.
    """

    def __init__(self, rows, n_features, n_hidden, n_outputs, dtype):
        self.rows = rows
        self.H = np.empty((rows, n_hidden), dtype=dtype)
        self.D = np.empty((rows, n_hidden), dtype=dtype)
        self.Z = np.empty((rows, n_outputs), dtype=dtype)
        self.gW1 = np.empty((n_features, n_hidden), dtype=dtype)
        self.gW2 = np.empty((n_hidden, n_outputs), dtype=dtype)


@njit(cache=True)
def _residual(Z, Y, b2, sw, scale, gb2, accumulate):
    """Turn the outputs ``Z = g(H) W2`` into the loss's derivative, in place.

    Adds ``b2`` to get ``z``, returns ``Σ s_i ||y_i - z_i||²`` and overwrites ``Z``
    with ``r_i = -2 s_i (y_i - z_i) · scale``; ``gb2`` receives (or, with
    ``accumulate``, adds) the column sums of ``r``.
    """
    n, m = Z.shape
    if not accumulate:
        for o in range(m):
            gb2[o] = 0
    loss = 0.0
    for i in range(n):
        c = 2 * sw[i] * scale
        for o in range(m):
            e = Z[i, o] + b2[o] - Y[i, o]
            loss += sw[i] * (e * e)
            r = c * e
            Z[i, o] = r
            gb2[o] += r
    return loss


@njit(cache=True)
def _hidden_delta(G, D, gb1, accumulate):
    """Overwrite ``G = r W2ᵀ`` with ``G ⊙ g'(h)`` and put its column sums in gb1."""
    n, k = G.shape
    if not accumulate:
        for j in range(k):
            gb1[j] = 0
    for i in range(n):
        for j in range(k):
            d = G[i, j] * D[i, j]
            G[i, j] = d
            gb1[j] += d


def predict(X, W1, b1, W2, b2, activation):
    """Return the network's outputs ``g(X W1 + b1) W2 + b2``, shape (n, n_outputs)."""
    H = np.matmul(X, W1)
    ACTIVATIONS[activation](H, b1)
    Z = np.matmul(H, W2)
    Z += b2
    return Z


def loss_grad(X, Y, sw, params, grads, activation, ws):
    """Weighted squared error of the network on (X, Y) and its gradient.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sw : ndarray of shape (n_samples,)
        Sample weights ``s_i``; their sum must be positive.
    params : tuple of ndarray
        ``(W1, b1, W2, b2)``.
    grads : tuple of ndarray
        ``(gW1, gb1, gW2, gb2)``, overwritten with ``∂J/∂W1`` etc.
    activation : str
        A key of :data:`~sknonlin._activations.ACTIVATIONS`.
    ws : Workspace
        Buffers with at least one row.

    Returns
    -------
    loss : float
        ``J = Σ s_i ||y_i - z_i||² / Σ s_i``.
    """
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = grads
    forward = ACTIVATIONS_WITH_DERIVATIVE[activation]
    n = X.shape[0]
    rows = ws.rows
    scale = 1.0 / float(sw.sum())
    loss = 0.0
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        m = stop - start
        first = start == 0
        Xb = X[start:stop]
        H, D, Z = ws.H[:m], ws.D[:m], ws.Z[:m]
        np.matmul(Xb, W1, out=H)
        forward(H, b1, D)
        np.matmul(H, W2, out=Z)
        loss += _residual(Z, Y[start:stop], b2, sw[start:stop], scale, gb2, not first)
        if first:
            np.matmul(H.T, Z, out=gW2)
        else:
            np.matmul(H.T, Z, out=ws.gW2)
            gW2 += ws.gW2
        # H now holds the hidden layer's delta: r W2ᵀ ⊙ g'(h).
        np.matmul(Z, W2.T, out=H)
        _hidden_delta(H, D, gb1, not first)
        if first:
            np.matmul(Xb.T, H, out=gW1)
        else:
            np.matmul(Xb.T, H, out=ws.gW1)
            gW1 += ws.gW1
    return loss * scale
