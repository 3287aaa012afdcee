"""
=================================================
The polynomial feature map: fitting and XOR
=================================================

A linear model on a fixed feature map, f(x) = wᵀφ(x) + b, is still linear in
its parameters but not in x. This example shows the polynomial map
:class:`sknonlin.PolynomialFeatureMap` twice:

* on one-dimensional data at degrees 1 to 37, where it under- and over-fits,
  and where the monomial basis [1, x, …, xᵏ] becomes numerically useless
  while the Legendre basis spans the same polynomials and stays well
  conditioned;
* in two variables at degree 2, where φ(x₁, x₂) = [1, x₁, x₂, x₁², x₁x₂, x₂²]
  (D = 6) makes XOR linear.
"""

# %%
# One-dimensional data
# --------------------
# Thirty noisy samples of sin(x) on [0, 10], and a noiseless test grid.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.pipeline import make_pipeline

from sknonlin import PolynomialFeatureMap

rng = np.random.default_rng(0)
x_train = np.sort(rng.uniform(0, 10, size=30))
y_train = np.sin(x_train) + rng.normal(scale=0.2, size=x_train.size)
x_test = np.linspace(0, 10, 400)
y_test = np.sin(x_test)
X_train, X_test = x_train[:, None], x_test[:, None]

# %%
# Conditioning
# ------------
# The condition number of the design matrix φ(X) measures how much rounding
# errors in the data are amplified in least-squares coefficients. float64
# carries about 16 digits, so a condition number near 1e16 means no digit of
# the coefficients can be trusted. With monomials it grows exponentially with
# the degree; with the Legendre and Chebyshev bases, which first map [0, 10]
# to [−1, 1], it grows slowly and stays about thirty orders of magnitude
# lower at degree 37. Its bump near degree 29 is where the number of columns
# reaches the number of samples (30): a nearly square design matrix is the
# hardest to condition, whatever the basis.
degrees = np.arange(1, 38)
bases = ["monomial", "legendre", "chebyshev"]
condition = {
    basis: [
        np.linalg.cond(
            PolynomialFeatureMap(degree=int(k), basis=basis).fit_transform(X_train)
        )
        for k in degrees
    ]
    for basis in bases
}
for basis in bases:
    print(f"{basis:>9}: cond at degree 37 = {condition[basis][-1]:.1e}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for basis in bases:
    ax.semilogy(degrees, condition[basis], label=basis)
ax.axhline(1 / np.finfo(np.float64).eps, color="gray", ls="--", lw=0.8)
ax.text(1, 2 / np.finfo(np.float64).eps, "1 / machine epsilon", color="gray")
ax.set(xlabel="degree", ylabel="condition number of φ(X)")
ax.legend()
fig.tight_layout()

# %%
# Under- and over-fitting
# -----------------------
# Least squares on φ(X) for every degree. Low degrees under-fit (a line
# cannot follow a sine); moderate degrees fit well; high degrees have more
# coefficients than there are samples and chase the noise: the training
# error falls to 0 while the test error explodes.
#
# With monomials something else goes wrong. Each degree's models contain the
# previous degree's, so in exact arithmetic the training error can only go
# down as the degree grows. Here it goes *up* after a few degrees: the
# solver has to discard the directions that rounding errors make
# indistinguishable, and the fit degrades to a low-degree one. That is the
# conditioning problem, not the model.
errors = {}
for basis in ["monomial", "legendre"]:
    train_error, test_error = [], []
    for k in degrees:
        model = make_pipeline(
            PolynomialFeatureMap(degree=int(k), basis=basis), LinearRegression()
        ).fit(X_train, y_train)
        train_error.append(mean_squared_error(y_train, model.predict(X_train)))
        test_error.append(mean_squared_error(y_test, model.predict(X_test)))
    errors[basis] = train_error, test_error

fig, ax = plt.subplots(figsize=(6, 3.5))
for basis, style in [("monomial", "--"), ("legendre", "-")]:
    train_error, test_error = errors[basis]
    ax.semilogy(degrees, train_error, style, color="C0", label=f"train, {basis}")
    ax.semilogy(degrees, test_error, style, color="C3", label=f"test, {basis}")
ax.set(xlabel="degree", ylabel="mean squared error", ylim=(1e-4, 1e4))
ax.legend(ncol=2, fontsize="small")
fig.tight_layout()

best = int(degrees[np.argmin(errors["legendre"][1])])
print(f"lowest test error with the Legendre basis at degree {best}")

# %%
# The fitted curves at a few degrees show the three regimes.
fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), sharey=True)
regimes = [(1, "under-fit"), (best, "good fit"), (37, "over-fit")]
for ax, (k, regime) in zip(axes, regimes, strict=True):
    for basis, style in [("monomial", "--"), ("legendre", "-")]:
        model = make_pipeline(
            PolynomialFeatureMap(degree=k, basis=basis), LinearRegression()
        ).fit(X_train, y_train)
        ax.plot(x_test, model.predict(X_test), style, label=basis)
    ax.plot(x_test, y_test, color="gray", lw=0.8, label="sin(x)")
    ax.scatter(x_train, y_train, color="k", s=12, zorder=3)
    ax.set(title=f"degree {k}: {regime}", xlabel="x", ylim=(-2, 2))
axes[0].legend(fontsize="small")
fig.tight_layout()

# %%
# XOR with the degree-2 map in two variables
# ------------------------------------------
# How many features does the degree-2 map produce from d = 2 inputs?
# D = C(d + k, k) = C(4, 2) = 6, the monomials 1, x₁, x₂, x₁², x₁x₂, x₂².
print("D =", PolynomialFeatureMap.count_output_features(2, degree=2))
feature_map = PolynomialFeatureMap(degree=2).fit(np.zeros((1, 2)))
print("features:", list(feature_map.get_feature_names_out(["x1", "x2"])))

# %%
# On the four XOR corners, y = x₁ + x₂ − 2x₁x₂, which is linear in φ(x). We
# fit least squares on noisy copies of the corners (on the corners alone,
# x₁² and x₁ are the same column) and classify by f(x) > 0.5.
corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
labels = np.array([0.0, 1.0, 1.0, 0.0])
index = rng.integers(0, 4, size=200)
X_xor = corners[index] + rng.normal(scale=0.1, size=(200, 2))
y_xor = labels[index]

xor_model = make_pipeline(PolynomialFeatureMap(degree=2), LinearRegression())
xor_model.fit(X_xor, y_xor)
coef = xor_model[-1].coef_
names = xor_model[0].get_feature_names_out(["x1", "x2"])
print("w:", {name: round(float(c), 2) for name, c in zip(names, coef, strict=True)})
print("predictions at the corners:", np.round(xor_model.predict(corners), 2))
accuracy = np.mean((xor_model.predict(X_xor) > 0.5) == (y_xor == 1))
print(f"training accuracy of f(x) > 0.5: {accuracy:.2f}")

# %%
# The decision surface: f is a quadratic in (x₁, x₂), a saddle whose level
# set f = 0.5 consists of two curves that separate the classes.
grid = np.linspace(-0.4, 1.4, 181)
xx1, xx2 = np.meshgrid(grid, grid)
surface = xor_model.predict(np.column_stack([xx1.ravel(), xx2.ravel()]))

fig, ax = plt.subplots(figsize=(4.8, 4))
image = ax.contourf(
    xx1,
    xx2,
    surface.reshape(xx1.shape),
    levels=np.linspace(-0.5, 1.5, 21),
    cmap="coolwarm",
    extend="both",
)
ax.contour(xx1, xx2, surface.reshape(xx1.shape), levels=[0.5], colors="k")
ax.scatter(X_xor[:, 0], X_xor[:, 1], c=y_xor, cmap="coolwarm", edgecolor="k", s=15)
fig.colorbar(image, ax=ax, label="f(x)")
ax.set(xlabel="x₁", ylabel="x₂", title="Degree-2 map: XOR is linear in φ(x)")
fig.tight_layout()
plt.show()
