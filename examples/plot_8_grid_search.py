"""
====================================================
Tuning ``degree`` and ``n_hidden`` with GridSearchCV
====================================================

Every sknonlin estimator is a scikit-learn estimator, so its parameters can
be tuned by cross-validation inside a ``Pipeline``. Here we tune the degree
of a polynomial feature map and the width of a two-layer network on
``load_diabetes`` (regression), and the degree of the feature map in front of
a multiclass perceptron on ``load_digits`` (classification).
"""

# %%
# Regression on diabetes: degree and ridge penalty
# ------------------------------------------------
# The feature map goes after a ``StandardScaler`` and before ``Ridge``;
# ``degree`` and Ridge's ``alpha`` are tuned together, since a higher degree
# needs more regularisation.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknonlin import MulticlassPerceptron, PolynomialFeatureMap, TwoLayerReLURegressor

X, y = load_diabetes(return_X_y=True)
cv = KFold(n_splits=5, shuffle=True, random_state=0)

poly_ridge = make_pipeline(StandardScaler(), PolynomialFeatureMap(), Ridge())
poly_search = GridSearchCV(
    poly_ridge,
    {
        "polynomialfeaturemap__degree": [1, 2, 3],
        "ridge__alpha": [1.0, 10.0, 100.0, 1000.0],
    },
    cv=cv,
).fit(X, y)
print("best:", poly_search.best_params_, f"R² = {poly_search.best_score_:.3f}")

# %%
# Regression on diabetes: the width of the network
# ------------------------------------------------
# The raw target (mean about 152) needs no scaling: the regressor handles it.
net = make_pipeline(
    StandardScaler(),
    TwoLayerReLURegressor(solver="lbfgs", max_iter=200, random_state=0),
)
net_search = GridSearchCV(
    net,
    {
        "twolayerreluregressor__n_hidden": [2, 8, 32],
        "twolayerreluregressor__alpha": [0.1, 10.0],
    },
    cv=cv,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    net_search.fit(X, y)
print("best:", net_search.best_params_, f"R² = {net_search.best_score_:.3f}")


# %%
# The cross-validated scores, with one standard deviation across folds. On
# this small data set the pairwise products add more variance than signal:
# degree 1 wins, and degree 3 only holds up under a strong penalty. The
# network, likewise, needs either few hidden units or a strong penalty.
def plot_scores(ax, search, param, series, series_label):
    results = search.cv_results_
    for value in series["values"]:
        mask = results[f"param_{series['name']}"] == value
        x = np.asarray(results[f"param_{param}"][mask], dtype=float)
        mean = results["mean_test_score"][mask]
        std = results["std_test_score"][mask]
        ax.errorbar(
            x, mean, yerr=std, marker="o", capsize=3, label=f"{series_label} = {value}"
        )
    ax.legend(fontsize="small")


fig, (ax_poly, ax_net) = plt.subplots(1, 2, figsize=(10, 3.8))
plot_scores(
    ax_poly,
    poly_search,
    "polynomialfeaturemap__degree",
    {"name": "ridge__alpha", "values": [1.0, 10.0, 100.0, 1000.0]},
    "Ridge alpha",
)
ax_poly.set(
    xlabel="degree",
    ylabel="CV R²",
    ylim=(-0.1, 0.65),
    title="PolynomialFeatureMap + Ridge",
)
ax_poly.set_xticks([1, 2, 3])
plot_scores(
    ax_net,
    net_search,
    "twolayerreluregressor__n_hidden",
    {"name": "twolayerreluregressor__alpha", "values": [0.1, 10.0]},
    "alpha",
)
ax_net.set(
    xscale="log",
    xlabel="n_hidden",
    ylabel="CV R²",
    ylim=(-0.1, 0.65),
    title="TwoLayerReLURegressor",
)
ax_net.set_xticks([2, 8, 32], labels=["2", "8", "32"])
ax_net.minorticks_off()
fig.tight_layout()

# %%
# Classification on digits: the degree in front of a perceptron
# -------------------------------------------------------------
# With 64 pixels, degree 2 gives C(66, 2) = 2,145 features: every product of
# two pixels. We tune it together with averaging.
X, y = load_digits(return_X_y=True)
print("D at degree 2:", PolynomialFeatureMap.count_output_features(64, degree=2))
clf = make_pipeline(
    StandardScaler(),
    PolynomialFeatureMap(),
    MulticlassPerceptron(max_iter=20, random_state=0),
)
clf_search = GridSearchCV(
    clf,
    {
        "polynomialfeaturemap__degree": [1, 2],
        "multiclassperceptron__average": [False, True],
    },
    cv=3,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf_search.fit(X, y)
print("best:", clf_search.best_params_, f"accuracy = {clf_search.best_score_:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
plot_scores(
    ax,
    clf_search,
    "polynomialfeaturemap__degree",
    {"name": "multiclassperceptron__average", "values": [False, True]},
    "average",
)
ax.set(
    xlabel="degree",
    ylabel="CV accuracy",
    title="PolynomialFeatureMap + MulticlassPerceptron",
)
ax.set_xticks([1, 2])
fig.tight_layout()
plt.show()
