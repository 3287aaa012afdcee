"""
==========================================
Linear regression on XOR: does it learn?
==========================================

XOR labels the four corners of the unit square: y = 1 when exactly one of
x₁, x₂ is 1. A linear model f(x) = wᵀx + b fitted to it by least squares
ends with w = 0 and predicts the constant 0.5 everywhere: it has learned
only the mean of y. No linear model can do better.
"""

# %%
# The data and the least-squares fit
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0.0, 1.0, 1.0, 0.0])

model = LinearRegression().fit(X, y)
# Rounding hides float64 noise of order 1e-16; adding 0.0 turns -0.0 into 0.0.
print("w =", np.round(model.coef_, 12) + 0.0, " b =", round(model.intercept_, 12))
print("predictions:", np.round(model.predict(X), 12))

# %%
# The normal equations explain why: by symmetry, x₁ and x₂ are each
# uncorrelated with y (each takes the value 1 on one positive and one
# negative sample), so the best slope is 0 and the best intercept is the
# mean of y, 0.5.
Xc = X - X.mean(axis=0)
print("covariance of each feature with y:", Xc.T @ (y - y.mean()) / len(y))

# %%
# Gradient descent gets there too
# -------------------------------
# Starting from random weights, gradient descent on the mean squared error
# J(w, b) = (1/N) Σᵢ (y⁽ⁱ⁾ − wᵀx⁽ⁱ⁾ − b)² drives w to 0 and b to 0.5.
rng = np.random.default_rng(0)
w = rng.normal(size=2)
b = rng.normal()
learning_rate = 0.3
history = []
for _ in range(200):
    residual = X @ w + b - y
    history.append([*w, b, np.mean(residual**2)])
    w -= learning_rate * 2 * X.T @ residual / len(y)
    b -= learning_rate * 2 * residual.mean()
history = np.array(history)
print(f"after {len(history)} steps: w = {np.round(w, 4) + 0.0}, b = {b:.4f}")

fig, (ax_params, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_params.plot(history[:, 0], label="w₁")
ax_params.plot(history[:, 1], label="w₂")
ax_params.plot(history[:, 2], label="b")
ax_params.axhline(0.5, color="gray", lw=0.8, ls="--")
ax_params.axhline(0.0, color="gray", lw=0.8, ls="--")
ax_params.set(xlabel="gradient step", title="Parameters")
ax_params.legend()
ax_loss.plot(history[:, 3])
ax_loss.axhline(0.25, color="gray", lw=0.8, ls="--")
ax_loss.set(xlabel="gradient step", ylabel="J", title="Loss, down to 0.25")
fig.tight_layout()

# %%
# The prediction is the same everywhere
# -------------------------------------
# The fitted function is flat: the same value 0.5 on the points labelled 0
# and on those labelled 1. Its mean squared error, 0.25, is that of the
# constant mean. Learning, in the sense of using x to predict y, has not
# occurred.
grid = np.linspace(-0.25, 1.25, 121)
xx1, xx2 = np.meshgrid(grid, grid)
surface = model.predict(np.column_stack([xx1.ravel(), xx2.ravel()]))

fig, ax = plt.subplots(figsize=(4.5, 4))
image = ax.pcolormesh(
    xx1, xx2, surface.reshape(xx1.shape), vmin=0, vmax=1, cmap="coolwarm"
)
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=120)
for (x1, x2), label in zip(X, y, strict=True):
    ax.annotate(f"y={label:.0f}", (x1, x2), xytext=(8, 8), textcoords="offset points")
fig.colorbar(image, ax=ax, label="f(x)")
ax.set(xlabel="x₁", ylabel="x₂", title="Least-squares fit: f(x) = 0.5")
fig.tight_layout()
plt.show()
