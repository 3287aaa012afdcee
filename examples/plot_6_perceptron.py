"""
=================================
The perceptron on separable data
=================================

The perceptron starts from w = 0 and visits the samples in turn: if
y wᵀx > 0 it keeps w, otherwise it sets w ← w + y x. On linearly separable
data it stops making mistakes after at most (R/γ)² updates (Novikoff's
bound). This example watches the decision boundary move epoch by epoch, then
shows that the rule is stochastic gradient descent with step 1 on the loss
max(0, −y wᵀx).
"""

# %%
# Separable data
# --------------
# Two clouds in the plane, labelled by the side of a line, with a gap of
# width 2γ around that line so that the margin is known.
import matplotlib.pyplot as plt
import numpy as np

from sknonlin import Perceptron

rng = np.random.default_rng(0)
u = np.array([1.0, -2.0, 0.5])  # a separating direction for (x₁, x₂, 1)
u /= np.linalg.norm(u)
X = rng.uniform(-2, 2, size=(400, 2))
margins = np.column_stack([X, np.ones(len(X))]) @ u
keep = np.abs(margins) > 0.1
X, y = X[keep][:80], np.where(margins[keep][:80] > 0, 1, -1)

X_ext = np.column_stack([X, np.ones(len(X))])  # the intercept's feature is 1
R = np.max(np.linalg.norm(X_ext, axis=1))
gamma = np.min(y * (X_ext @ u))
bound = (R / gamma) ** 2
print(f"{len(X)} samples, R = {R:.2f}, gamma = {gamma:.3f}, (R/gamma)^2 = {bound:.0f}")

# %%
# Epoch by epoch
# --------------
# ``partial_fit`` runs one epoch. With ``shuffle=False`` the samples are
# visited in the order given, so each call continues the algorithm exactly
# where the previous one stopped.
clf = Perceptron(shuffle=False)
boundaries = []
for _ in range(20):
    clf.partial_fit(X, y, classes=[-1, 1])
    boundaries.append((clf.coef_.ravel().copy(), float(clf.intercept_[0])))
    if np.all(clf.predict(X) == y):
        break
print(f"separated after {len(boundaries)} epochs")

# %%
# ``fit`` runs the same epochs in one call and records the mistakes of each
# in ``mistakes_``; it stops after the first epoch without a mistake. The
# total is within Novikoff's bound.
clf = Perceptron(shuffle=False, max_iter=100).fit(X, y)
print("mistakes per epoch:", list(clf.mistakes_))
print(f"total {int(np.sum(clf.mistakes_))} <= (R/gamma)^2 = {bound:.0f}")

fig, (ax_data, ax_mistakes) = plt.subplots(1, 2, figsize=(10, 4))
line = np.linspace(-2, 2, 2)
colors = plt.cm.viridis(np.linspace(0, 1, len(boundaries)))
for epoch, ((w1, w2), b) in enumerate(boundaries):
    # The boundary w₁x₁ + w₂x₂ + b = 0, drawn as x₂ as a function of x₁.
    ax_data.plot(
        line,
        -(w1 * line + b) / w2,
        color=colors[epoch],
        lw=1,
        label=f"epoch {epoch + 1}",
    )
ax_data.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=25)
ax_data.set(
    xlim=(-2, 2),
    ylim=(-2, 2),
    xlabel="x₁",
    ylabel="x₂",
    title="Decision boundary after each epoch",
)
ax_data.legend(fontsize="small", loc="lower right")
ax_mistakes.bar(np.arange(1, len(clf.mistakes_) + 1), clf.mistakes_)
ax_mistakes.set(xlabel="epoch", ylabel="mistakes", title="mistakes_")
fig.tight_layout()

# %%
# The perceptron is SGD on max(0, −y wᵀx)
# ---------------------------------------
# The loss L(w) = max(0, −y wᵀx) is 0 when the margin m = y wᵀx is positive
# and −m otherwise. Its gradient is 0 for m > 0 and −y x for m < 0; at the
# kink m = 0 we take −y x, the subgradient that lets w leave its starting
# point 0. A step θ ← θ − η∇L with η = 1 is then exactly the perceptron
# update.
m = np.linspace(-2, 2, 401)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(m, np.maximum(0, -m), label="loss max(0, -m)")
ax.plot(m, np.where(m <= 0, -1.0, 0.0), label="slope in m (-1 at m = 0)")
ax.set(xlabel="margin m = y wᵀx")
ax.legend()
fig.tight_layout()

# %%
# SGD written out, with the same sample order and the intercept as the
# weight of the constant feature. It reproduces the estimator's weights.


def sgd_on_perceptron_loss(X_ext, y, n_epochs, step=1.0):
    w = np.zeros(X_ext.shape[1])
    for _ in range(n_epochs):
        for x_t, y_t in zip(X_ext, y, strict=True):
            gradient = -y_t * x_t if y_t * (w @ x_t) <= 0 else 0.0
            w = w - step * gradient
    return w


w_sgd = sgd_on_perceptron_loss(X_ext, y, n_epochs=clf.n_iter_)
w_perceptron = np.append(clf.coef_.ravel(), clf.intercept_)
print("SGD, step 1:", w_sgd)
print("Perceptron: ", w_perceptron)
print("max difference:", np.max(np.abs(w_sgd - w_perceptron)))

# %%
# The step size does not matter: starting from 0, every iterate is scaled by
# the step, so the sign of wᵀx, and hence every prediction and every
# update decision, is the same.
w_small = sgd_on_perceptron_loss(X_ext, y, n_epochs=clf.n_iter_, step=0.01)
print("step 0.01, rescaled by 100:", w_small * 100)
same = np.array_equal(np.sign(X_ext @ w_small), np.sign(X_ext @ w_sgd))
print("same predictions:", same)
plt.show()
