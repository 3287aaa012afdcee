"""
=======================================
The gradients by hand, and four solvers
=======================================

For f(x) = w₂ᵀg(h) + b₂ with h = W₁ᵀx + b₁ and the loss
J = (1/N) Σᵢ (y⁽ⁱ⁾ − z⁽ⁱ⁾)², the chain rule gives, per sample,

* ∂Jᵢ/∂w₂ = −2(y − z) g(h)
* ∂Jᵢ/∂b₂ = −2(y − z)
* ∂Jᵢ/∂W₁ = −2(y − z) x (w₂ ⊙ g'(h))ᵀ
* ∂Jᵢ/∂b₁ = −2(y − z) (w₂ ⊙ g'(h))

and ∇J = (1/N) Σᵢ ∇Jᵢ. :meth:`sknonlin.TwoLayerReLURegressor.loss_gradient`
returns J and these four gradients. We check them twice, against the
formulas typed in directly and against finite differences, then train the
network with each of the four solvers.
"""

# %%
# A small network and some data
# -----------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknonlin import TwoLayerReLURegressor

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_small, y_small = X[:50], y[:50]

# A few iterations give the parameters non-trivial values; alpha=0 makes the
# objective exactly J.
net = TwoLayerReLURegressor(n_hidden=6, alpha=0.0, solver="lbfgs", max_iter=5)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    net.fit(X_small, y_small)
loss, grads = net.loss_gradient(X_small, y_small)
print(f"J = {loss:.3f}")
for name, grad in grads.items():
    print(f"grad {name}: shape {np.shape(grad)}")

# %%
# The formulas, typed in
# ----------------------
# The four formulas, summed over the samples in matrix form:
# H = XW₁ + b₁, A = relu(H), z = Aw₂ + b₂.
H = X_small @ net.W1_ + net.b1_
A = np.maximum(H, 0.0)
z = A @ net.w2_ + net.b2_
residual = y_small - z
n_samples = len(y_small)
back = np.outer(residual, net.w2_) * (H >= 0)  # (y - z) w₂ ⊙ relu'(h), per row
by_hand = {
    "W1": -2 * X_small.T @ back / n_samples,
    "b1": -2 * back.sum(axis=0) / n_samples,
    "w2": -2 * A.T @ residual / n_samples,
    "b2": -2 * residual.sum() / n_samples,
}
print(f"J by hand = {np.mean(residual**2):.3f}")
for name in by_hand:
    error = np.max(np.abs(by_hand[name] - grads[name]))
    print(f"{name}: max |by hand - loss_gradient| = {error:.1e}")

# %%
# Finite differences
# ------------------
# Nudge each parameter by ±ε, recompute J, and compare the central
# difference (J(θ + ε) − J(θ − ε)) / 2ε with the gradient. The attributes
# are the parameters at which ``loss_gradient`` evaluates, so we nudge them
# in place. The relative errors are tiny: rounding errors of order
# machine epsilon / ε, far below anything a wrong formula would give.
eps = 1e-5


def finite_difference(net, name, index):
    attribute = name + "_"
    values = np.array(getattr(net, attribute), dtype=float)
    original = values.copy()
    values[index] += eps
    setattr(net, attribute, values if values.ndim else float(values))
    loss_plus, _ = net.loss_gradient(X_small, y_small)
    values[index] -= 2 * eps
    setattr(net, attribute, values if values.ndim else float(values))
    loss_minus, _ = net.loss_gradient(X_small, y_small)
    setattr(net, attribute, original if original.ndim else float(original))
    return (loss_plus - loss_minus) / (2 * eps)


for name in ["W1", "b1", "w2", "b2"]:
    shape = np.shape(grads[name])
    indices = list(np.ndindex(shape)) if shape else [()]
    numeric = np.array([finite_difference(net, name, i) for i in indices])
    analytic = np.array([np.asarray(grads[name])[i] for i in indices])
    scale = max(np.max(np.abs(analytic)), 1e-12)
    print(
        f"{name}: max relative error {np.max(np.abs(numeric - analytic)) / scale:.1e}"
    )

# %%
# Four solvers
# ------------
# The same network, width 32, trained on all 442 samples with each solver.
# "gd" is the lecture's full-batch gradient descent, one step per epoch;
# "sgd" and "adam" take one step per minibatch; "lbfgs" is a quasi-Newton
# method that needs no learning rate. ``loss_curve_`` records the training
# loss after every iteration. On 442 samples L-BFGS goes furthest, and in
# 200 iterations it starts to fit the noise: a low training loss is not a
# good model, which is why example 8 tunes the width and the penalty by
# cross-validation.
fig, ax = plt.subplots(figsize=(6.5, 4))
for solver in ["gd", "sgd", "adam", "lbfgs"]:
    model = TwoLayerReLURegressor(
        n_hidden=32, solver=solver, max_iter=200, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    r2 = model.score(X, y)
    ax.semilogy(model.loss_curve_, label=f"{solver} (train R² {r2:.2f})")
    print(f"{solver:>5}: {model.n_iter_} iterations, training R² = {r2:.3f}")
ax.set(xlabel="iteration (epoch)", ylabel="training loss", title="load_diabetes")
ax.legend()
fig.tight_layout()
plt.show()
