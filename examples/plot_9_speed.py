"""
==========================================
Speed against the scikit-learn peers
==========================================

Each sknonlin estimator has a scikit-learn peer that does the same job:

* ``PolynomialFeatureMap`` and ``PolynomialFeatures``;
* ``TwoLayerReLURegressor`` and ``MLPRegressor(hidden_layer_sizes=(n,))``;
* ``Perceptron`` and scikit-learn's ``Perceptron``;
* ``MulticlassPerceptron`` and scikit-learn's one-vs-rest ``Perceptron``.

This example times both on the same data, at sizes small enough for the
documentation build. Small sizes favour fixed overheads, so take these ratios
as an illustration; the scripts in ``benchmarks/`` measure at realistic
sizes, with more repeats.
"""

# %%
# Timing protocol
# ---------------
# Both estimators of a pair are timed on the same data in the same process,
# alternating between them, with the BLAS limited to one thread, and we keep
# the median of several repeats. numba compiles sknonlin's kernels on first
# use, so one untimed warm-up fit comes first.
import warnings
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SklearnPerceptron
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import PolynomialFeatures
from threadpoolctl import threadpool_limits

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)
from sknonlin.utils._timing import interleaved_medians


def median_times(ours, theirs, run, n_repeats=5):
    """Median time of ``run(ours)`` and ``run(theirs)``, alternating the two.

    The benchmark scripts time the same way, with the same helper; one
    untimed call of each comes first.
    """
    return interleaved_medians(
        partial(run, ours), partial(run, theirs), repeats=n_repeats, warmup=1
    )


rng = np.random.default_rng(0)
cases = {}

# %%
# The four pairs
# --------------
with threadpool_limits(1), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)

    X = rng.normal(size=(20_000, 10))
    cases["polynomial map\n20,000 x 10, degree 3"] = median_times(
        PolynomialFeatureMap(degree=3),
        PolynomialFeatures(degree=3),
        lambda est: est.fit_transform(X),
    )

    X = rng.normal(size=(5_000, 20))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    cases["two-layer network\n5,000 x 20, width 64, adam, 5 epochs"] = median_times(
        TwoLayerReLURegressor(
            n_hidden=64,
            solver="adam",
            batch_size=200,
            max_iter=5,
            tol=0,
            random_state=0,
        ),
        MLPRegressor(
            hidden_layer_sizes=(64,),
            solver="adam",
            batch_size=200,
            max_iter=5,
            tol=0,
            random_state=0,
        ),
        lambda est: est.fit(X, y),
    )

    X = rng.normal(size=(20_000, 20))
    # 20% label noise: no clean epoch, so both run every epoch.
    y = np.where(X @ rng.normal(size=20) > 0, 1, 0)
    y = np.where(rng.uniform(size=y.size) < 0.2, 1 - y, y)
    cases["perceptron\n20,000 x 20, 5 epochs"] = median_times(
        Perceptron(max_iter=5, random_state=0),
        SklearnPerceptron(max_iter=5, tol=None, random_state=0),
        lambda est: est.fit(X, y),
    )

    X = rng.normal(size=(10_000, 50))
    y = np.argmax(X @ rng.normal(size=(50, 10)), axis=1)
    y = np.where(rng.uniform(size=y.size) < 0.2, rng.integers(0, 10, y.size), y)
    cases["multiclass perceptron\n10,000 x 50, 10 classes, 5 epochs"] = median_times(
        MulticlassPerceptron(max_iter=5, random_state=0),
        SklearnPerceptron(max_iter=5, tol=None, random_state=0),
        lambda est: est.fit(X, y),
    )

for name, (ours, theirs) in cases.items():
    label = name.replace("\n", ": ")
    print(
        f"{label}\n    sknonlin {ours * 1e3:7.1f} ms, scikit-learn "
        f"{theirs * 1e3:7.1f} ms, ratio {ours / theirs:.2f}"
    )

# %%
# Ratios
# ------
# A ratio below 1 means that sknonlin is faster.
fig, ax = plt.subplots(figsize=(7, 3.5))
names = list(cases)
ratios = [ours / theirs for ours, theirs in cases.values()]
ax.barh(names, ratios, color=["C2" if r < 1 else "C3" for r in ratios])
ax.axvline(1, color="k", lw=0.8)
ax.set(xlabel="time ratio, sknonlin / scikit-learn (median)")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
