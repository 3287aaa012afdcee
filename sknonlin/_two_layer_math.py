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
floating dtype (``X`` may also be a CSR matrix or array, multiplied as it is,
never densified), and write into preallocated buffers (a :class:`Workspace`) so that a
training loop allocates nothing per minibatch. Large sets of rows are processed in
blocks so that the ``(rows, n_hidden)`` intermediates stay in cache; no gradient with
respect to ``X`` is ever formed.
"""

import numpy as np
from scipy import sparse

from sknonlin._activations import ACTIVATIONS, ACTIVATIONS_WITH_DERIVATIVE
from sknonlin._jit import njit

# Aim for (rows, n_hidden) blocks of about this many entries, so that a block and
# the derivative block beside it stay in a core's L2 cache. Measured on the
# benchmark, the best size hardly depends on the dtype.
_BLOCK_ENTRIES = 1 << 15


def block_rows(n_hidden):
    """Rows per block so that a (rows, n_hidden) intermediate stays in cache."""
    return max(128, _BLOCK_ENTRIES // n_hidden)


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


@njit(cache=True, nogil=True)
def backprop(H, D, Z, Y, sw, scale, W2, b2, gW2, gb1, gb2, accumulate):
    """Backpropagate the squared error through the output layer, in place.

    On entry ``H = g(h)``, ``D = g'(h)`` and ``Z = g(h) W2`` for a block of rows.
    Returns ``Σ s_i ||y_i - z_i||²`` (with ``z = Z + b2``), puts
    ``r_i = -2 s_i (y_i - z_i) · scale`` in ``Z``, overwrites ``H`` with the
    hidden layer's delta ``(r W2ᵀ) ⊙ g'(h)`` and sets (or, with ``accumulate``,
    adds to) ``gW2 = g(h)ᵀ r``, ``gb1`` and ``gb2``, the column sums of the delta
    and of ``r``. One pass over each row keeps it in the fastest cache.
    """
    n, k = H.shape
    m = Z.shape[1]
    if not accumulate:
        gW2[:] = 0
        gb1[:] = 0
        gb2[:] = 0
    loss = 0.0
    for i in range(n):
        c = 2 * sw[i] * scale
        for o in range(m):
            e = Z[i, o] + b2[o] - Y[i, o]
            loss += sw[i] * (e * e)
            Z[i, o] = c * e
            gb2[o] += Z[i, o]
        if m == 1:
            # The common single-output case, in a loop the compiler vectorizes.
            r = Z[i, 0]
            for j in range(k):
                gW2[j, 0] += H[i, j] * r
                delta = D[i, j] * (r * W2[j, 0])
                H[i, j] = delta
                gb1[j] += delta
        else:
            for j in range(k):
                a = H[i, j]
                s = Z[i, 0] * W2[j, 0]
                gW2[j, 0] += a * Z[i, 0]
                for o in range(1, m):
                    s += Z[i, o] * W2[j, o]
                    gW2[j, o] += a * Z[i, o]
                delta = D[i, j] * s
                H[i, j] = delta
                gb1[j] += delta
    return loss


def _product(X, W, out=None):
    """``X @ W`` for a dense or sparse ``X`` and a dense ``W``, into ``out``."""
    if not sparse.issparse(X):
        return np.matmul(X, W, out=out)
    XW = X @ W
    if out is None:
        return np.ascontiguousarray(XW)
    out[...] = XW
    return out


def predict(X, W1, b1, W2, b2, activation):
    """Return the network's outputs ``g(X W1 + b1) W2 + b2``, shape (n, n_outputs)."""
    H = _product(X, W1)
    ACTIVATIONS[activation](H, b1)
    Z = np.matmul(H, W2)
    Z += b2
    return Z


def loss_grad(X, Y, sw, params, grads, activation, ws, sw_sum=None):
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
    sw_sum : float, default=None
        ``Σ s_i`` if the caller knows it already.

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
    if sw_sum is None:
        sw_sum = float(sw.sum(dtype=np.float64))
    scale = 1.0 / sw_sum
    loss = 0.0
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        m = stop - start
        first = start == 0
        Xb = X[start:stop]
        H, D, Z = ws.H[:m], ws.D[:m], ws.Z[:m]
        _product(Xb, W1, out=H)
        forward(H, b1, D)
        np.matmul(H, W2, out=Z)
        # After this, H holds the hidden layer's delta (r W2ᵀ) ⊙ g'(h).
        loss += backprop(
            H, D, Z, Y[start:stop], sw[start:stop], scale, W2, b2, gW2, gb1, gb2,
            not first,
        )  # fmt: skip
        if first:
            _product(Xb.T, H, out=gW1)
        else:
            _product(Xb.T, H, out=ws.gW1)
            gW1 += ws.gW1
    return loss * scale


def squared_error_and_r2(X, Y, sw, params, activation):
    """The loss ``J`` of the network on (X, Y) and its R², without a gradient.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sw : ndarray of shape (n_samples,)
        Sample weights; their sum must be positive.
    params : tuple of ndarray
        ``(W1, b1, W2, b2)``.
    activation : str
        A key of :data:`~sknonlin._activations.ACTIVATIONS`.

    Returns
    -------
    loss : float
        ``J = Σ s_i ||y_i - z_i||² / Σ s_i``.
    r2 : float
        The weighted coefficient of determination, averaged over the outputs
        (as :func:`sklearn.metrics.r2_score`); an output whose target is
        constant counts 1 if it is predicted exactly and 0 otherwise.
    """
    Z = predict(X, *params, activation)
    w = sw.astype(np.float64) / float(sw.sum(dtype=np.float64))
    residual = Z.astype(np.float64) - Y
    sse = w @ (residual * residual)
    centred = Y - w @ Y.astype(np.float64)
    sst = w @ (centred * centred)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1), sse == 0)
    return float(sse.sum()), float(np.mean(r2))
