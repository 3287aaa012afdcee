"""Quick start: the polynomial feature map on XOR and on the diabetes data.

Run with ``python examples/quick_start.py``. It prints what a linear model
learns on XOR with and without the feature map φ, and a grid search over the
degree on scikit-learn's diabetes data, side by side with scikit-learn's
``PolynomialFeatures``.
"""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknonlin import PolynomialFeatureMap


def xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    linear = LinearRegression().fit(X, y)
    mapped = make_pipeline(PolynomialFeatureMap(degree=2), LinearRegression())
    mapped.fit(X, y)
    print("XOR targets:                  ", y.tolist())
    print("linear model predicts:        ", np.round(linear.predict(X), 3).tolist())
    print("linear model on phi predicts: ", np.round(mapped.predict(X), 3).tolist())


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    print("\nGrid search over the degree on load_diabetes (5-fold CV R^2):")
    print(f"{'transformer':<22}{'best degree':>12}{'CV R^2':>10}{'time (s)':>10}")
    for name, transformer in [
        ("PolynomialFeatureMap", PolynomialFeatureMap()),
        ("PolynomialFeatures", PolynomialFeatures()),
    ]:
        pipe = make_pipeline(StandardScaler(), transformer, Ridge(alpha=10.0))
        step = pipe.steps[1][0]
        search = GridSearchCV(pipe, {f"{step}__degree": [1, 2, 3]}, cv=5)
        start = time.perf_counter()
        search.fit(X, y)
        elapsed = time.perf_counter() - start
        best = search.best_params_[f"{step}__degree"]
        print(f"{name:<22}{best:>12}{search.best_score_:>10.3f}{elapsed:>10.3f}")


if __name__ == "__main__":
    xor()
    diabetes()
