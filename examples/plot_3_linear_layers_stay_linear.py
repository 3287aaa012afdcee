"""
=========================================
Linear layers stay linear; ReLU does not
=========================================

A two-layer network with the "linear" activation g(z) = z computes

    f(x) = w₂ᵀ(W₁ᵀx + b₁) + b₂ = (W₁w₂)ᵀx + (w₂ᵀb₁ + b₂),

an affine function of x: the product W₁w₂ collapses to a single vector,
whatever the width. On XOR it can do no better than linear regression. Put a
ReLU between the layers and the same network fits XOR.
"""

# %%
# XOR and three models
# --------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

from sknonlin import TwoLayerReLURegressor

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0.0, 1.0, 1.0, 0.0])

linear = LinearRegression().fit(X, y)
identity_net = TwoLayerReLURegressor(
    n_hidden=8, activation="identity", solver="lbfgs", alpha=0.0, random_state=0
).fit(X, y)
relu_net = TwoLayerReLURegressor(
    n_hidden=8, activation="relu", solver="lbfgs", alpha=0.0, random_state=0
).fit(X, y)

for name, model in [
    ("linear regression", linear),
    ("identity network", identity_net),
    ("ReLU network", relu_net),
]:
    print(f"{name:>17}: predictions {np.round(model.predict(X), 3) + 0.0}")

# %%
# The collapse, in numbers
# ------------------------
# The identity network has 8 × 2 + 8 + 8 + 1 = 33 parameters, but they act
# only through the vector W₁w₂ ∈ ℝ² and the scalar w₂ᵀb₁ + b₂. Its
# predictions equal those of this affine function to rounding error, and
# since the best affine fit to XOR is the constant 0.5, so is the network.
w_collapsed = identity_net.W1_ @ identity_net.w2_
b_collapsed = identity_net.b1_ @ identity_net.w2_ + identity_net.b2_
print("W1 w2 =", np.round(w_collapsed, 4) + 0.0)
print("w2ᵀ b1 + b2 =", round(float(b_collapsed), 4))
gap = np.max(np.abs(X @ w_collapsed + b_collapsed - identity_net.predict(X)))
print(f"max |affine - network| on XOR: {gap:.1e}")

# %%
# The collapse does not depend on the data: on random inputs the identity
# network is again exactly the affine function given by its collapsed
# parameters, even though its hidden layer has more units than inputs.
rng = np.random.default_rng(0)
X_random = rng.normal(size=(200, 2))
y_random = np.sin(3 * X_random[:, 0]) * X_random[:, 1]
wide = TwoLayerReLURegressor(
    n_hidden=64, activation="identity", solver="lbfgs", random_state=0
).fit(X_random, y_random)
affine = X_random @ (wide.W1_ @ wide.w2_) + (wide.b1_ @ wide.w2_ + wide.b2_)
gap = np.max(np.abs(affine - wide.predict(X_random)))
print(f"width 64, max |affine - network|: {gap:.1e}")

# %%
# The fitted surfaces
# -------------------
# Linear regression and the identity network are flat planes at 0.5; the
# ReLU network is piecewise linear, takes the values 0, 1, 1, 0 at the
# corners, and its level set f = 0.5 (black) separates the two classes.
grid = np.linspace(-0.25, 1.25, 121)
xx1, xx2 = np.meshgrid(grid, grid)
X_grid = np.column_stack([xx1.ravel(), xx2.ravel()])

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True, layout="constrained")
for ax, (title, model) in zip(
    axes,
    [
        ("linear regression", linear),
        ("two layers, identity", identity_net),
        ("two layers, ReLU", relu_net),
    ],
    strict=True,
):
    surface = model.predict(X_grid).reshape(xx1.shape)
    image = ax.pcolormesh(xx1, xx2, surface, vmin=-0.2, vmax=1.2, cmap="coolwarm")
    # On a flat surface, the level set f = 0.5 would only trace rounding noise.
    if np.ptp(surface) > 1e-3:
        ax.contour(xx1, xx2, surface, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=100)
    ax.set(title=f"{title}\nf ranges over [{surface.min():.2f}, {surface.max():.2f}]")
    ax.set(xlabel="x₁", xticks=[0, 0.5, 1], yticks=[0, 0.5, 1])
axes[0].set_ylabel("x₂")
fig.colorbar(image, ax=axes, label="f(x)")
plt.show()
