"""Cost per call on small inputs, each estimator against its scikit-learn peer.

A service that predicts a few rows per request, or a search that fits many
small models, pays each call's fixed cost: validation, planning, dispatch.
Each case times many calls per measurement, alternating with the peer, with
BLAS pinned to one thread, and prints the median time per call and the ratio
ours / scikit-learn (goal: at most 1.0).

Before timing, every case is warmed up until sknonlin has compiled what it
compiles in the background, so that the steady state is measured.

Run from the repository root::

    python benchmarks/bench_latency.py
    python benchmarks/bench_latency.py --quick
"""

import argparse
import time
import warnings

import numpy as np
from _timing import interleaved_medians, report
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

try:
    from sknonlin._jit import wait_for_background_compilation
except ImportError:  # a version that compiles in the calling thread

    def wait_for_background_compilation():
        return True


def make_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    return {
        "X": X,
        "y_reg": np.sin(X[:, 0]) + X[:, 1] * X[:, 2],
        "y_bin": (X @ rng.standard_normal(10) > 0).astype(int),
        "y_multi": np.argmax(X @ rng.standard_normal((10, 3)), axis=1),
        "rows1": rng.standard_normal((1, 10)),
        "rows100": rng.standard_normal((100, 10)),
    }


def cases(data):
    X, y_reg = data["X"], data["y_reg"]
    fitted = {
        "map": (PolynomialFeatureMap(2).fit(X), PolynomialFeatures(2).fit(X)),
        "net": (
            TwoLayerReLURegressor(100, max_iter=5, random_state=0).fit(X, y_reg),
            MLPRegressor(hidden_layer_sizes=(100,), max_iter=5, random_state=0).fit(
                X, y_reg
            ),
        ),
        "bin": (
            Perceptron(max_iter=5, random_state=0).fit(X, data["y_bin"]),
            SklearnPerceptron(max_iter=5, tol=None, random_state=0).fit(
                X, data["y_bin"]
            ),
        ),
        "multi": (
            MulticlassPerceptron(max_iter=5, random_state=0).fit(X, data["y_multi"]),
            SklearnPerceptron(max_iter=5, tol=None, random_state=0).fit(
                X, data["y_multi"]
            ),
        ),
    }
    out = []
    names = {
        "map": ("PolynomialFeatureMap deg 2", "transform", "fit_transform"),
        "net": ("TwoLayerReLURegressor w 100", "predict", "fit 5 epochs"),
        "bin": ("Perceptron", "predict", "fit 5 epochs"),
        "multi": ("MulticlassPerceptron 3 cl", "predict", "fit 5 epochs"),
    }
    targets = {"net": "y_reg", "bin": "y_bin", "multi": "y_multi"}
    for key, (ours, theirs) in fitted.items():
        label, apply, fit = names[key]
        method = "transform" if key == "map" else "predict"
        for rows in ("rows1", "rows100"):
            Z = data[rows]
            out.append(
                (
                    f"{label} {apply} {Z.shape[0]} row(s)",
                    getattr(ours, method),
                    getattr(theirs, method),
                    (Z,),
                )
            )
        if key == "map":
            out.append((f"{label} {fit} 200x10", ours.fit_transform,
                        theirs.fit_transform, (X,)))  # fmt: skip
        else:
            y = data[targets[key]]
            out.append((f"{label} {fit} 200x10", ours.fit, theirs.fit, (X, y)))
    return out


def warm_up(function, args, seconds):
    """Call until ``seconds`` have passed, then let compilation finish."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        function(*args)
    wait_for_background_compilation()
    function(*args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 9
    warnings.simplefilter("ignore", ConvergenceWarning)
    data = make_data()
    print(f"time per call, median of {repeats} interleaved measurements\n")
    with threadpool_limits(1):
        for label, ours, theirs, call_args in cases(data):
            warm_up(ours, call_args, 0.5)
            warm_up(theirs, call_args, 0.1)
            # about 20 ms of calls per measurement
            start = time.perf_counter()
            theirs(*call_args)
            number = max(1, int(0.02 / max(time.perf_counter() - start, 1e-6)))
            t_ours, t_theirs = interleaved_medians(
                lambda f=ours, a=call_args: f(*a),
                lambda f=theirs, a=call_args: f(*a),
                repeats=repeats,
                warmup=1,
                number=number,
            )
            report(label, t_ours, t_theirs, target=1.0)


if __name__ == "__main__":
    main()
