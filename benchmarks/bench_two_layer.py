"""Speed of TwoLayerReLURegressor against scikit-learn's MLPRegressor.

Each case fits both estimators for the same number of epochs on the same
50,000 x 20 data, with the same width, solver, batch size and dtype, BLAS pinned
to one thread. The two are run in turn (interleaved), several times, and the
script prints the median times and their ratio (ours / scikit-learn); a ratio
of at most 0.4 is the target.

For full-batch gradient descent it also reports the floating-point rate of an
epoch against the machine's single-thread matrix-product rate, measured here
with numpy. Last, it compares the test R² of both estimators, with the same
width and iteration budget, on load_diabetes and make_friedman1 (raw targets,
standardized features), over several seeds, and the latency of ``predict`` on
1 and 100 rows (``--predict-only`` for that alone).

Run from the repository root::

    python benchmarks/bench_two_layer.py            # all cases
    python benchmarks/bench_two_layer.py --quick    # fewer repeats
"""

import argparse
import warnings
from functools import partial

import numpy as np
from _timing import interleaved_medians, report
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknonlin import TwoLayerReLURegressor

N_SAMPLES, N_FEATURES = 50_000, 20


def make_data(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(N_SAMPLES)
    return X.astype(dtype), y.astype(dtype)


def estimators(width, solver, batch_size, epochs):
    common = dict(max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1)
    if solver == "gd":
        ours = TwoLayerReLURegressor(
            width, solver="gd", learning_rate=1e-3, random_state=0, **common
        )
        theirs = MLPRegressor(
            hidden_layer_sizes=(width,),
            solver="sgd",
            batch_size=N_SAMPLES,
            momentum=0.0,
            learning_rate_init=1e-3,
            shuffle=False,
            random_state=0,
            **common,
        )
    else:
        ours = TwoLayerReLURegressor(
            width, solver=solver, batch_size=batch_size, random_state=0, **common
        )
        theirs = MLPRegressor(
            hidden_layer_sizes=(width,),
            solver=solver,
            batch_size=batch_size,
            random_state=0,
            **common,
        )
    return ours, theirs


def fit_clone(estimator, X, y):
    """Fit a fresh copy, as a user's first fit would run."""
    return clone(estimator).fit(X, y)


def epoch_flops(width, n_outputs=1):
    # The matrix products of an epoch: forward X W1 and backward Xᵀ delta,
    # 2 n d k each; output g(h) w2, its gradient and the hidden delta, 2 n k o each.
    n, d, k = N_SAMPLES, N_FEATURES, width
    return 4 * n * d * k + 6 * n * k * n_outputs


def run(cases, epochs, repeats):
    print(
        f"{'dtype':8} {'width':>5} {'solver':>6} {'batch':>6} "
        f"{'ours ms':>9} {'sklearn ms':>10} {'ratio':>6}"
    )
    results = []
    for dtype, width, solver, batch_size in cases:
        X, y = make_data(dtype)
        ours, theirs = estimators(width, solver, batch_size, epochs)
        clone(ours).fit(X[:1000], y[:1000])  # compile the kernels for this dtype
        t_ours, t_theirs = interleaved_medians(
            partial(fit_clone, ours, X, y),
            partial(fit_clone, theirs, X, y),
            repeats=repeats,
            warmup=0,
        )
        ratio = t_ours / t_theirs
        label = "n" if solver == "gd" else str(batch_size)
        print(
            f"{np.dtype(dtype).name:8} {width:5d} {solver:>6} {label:>6} "
            f"{1e3 * t_ours:9.1f} {1e3 * t_theirs:10.1f} {ratio:6.2f}",
            flush=True,
        )
        results.append((dtype, width, solver, batch_size, t_ours, ratio))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--quality-only", action="store_true", help="only the R² comparison"
    )
    parser.add_argument(
        "--predict-only", action="store_true", help="only the predict latency"
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    epochs = args.epochs
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.quality_only:
        quality()
        return
    if args.predict_only:
        predict_latency(repeats)
        return

    cases = [
        (dtype, width, solver, 200)
        for dtype in (np.float64, np.float32)
        for width in (16, 128)
        for solver in ("adam", "sgd")
    ]
    cases += [
        (dtype, width, "gd", N_SAMPLES)
        for dtype in (np.float64, np.float32)
        for width in (16, 128, 512)
    ]
    with threadpool_limits(1):
        print(f"{N_SAMPLES} x {N_FEATURES} data, {epochs} epochs, BLAS at 1 thread")
        print(f"median of {repeats} interleaved fits; ratio = ours / MLPRegressor\n")
        run(cases, epochs, repeats)
        print("\nFull-batch gd epochs against the single-thread GEMM rate")
        print("(10 epochs per fit, interleaved with 1000 x 1000 matmuls)")
        for dtype in (np.float64, np.float32):
            for width in (128, 512):
                gemm_fraction(dtype, width, repeats)
    predict_latency(repeats)
    print("\nTest R², same width and max_iter (adam), mean over 5 splits and seeds")
    quality()


def predict_latency(repeats, calls=2000):
    """Time one predict call on a few rows: the per-call overhead."""
    X, y = make_data(np.float64)
    X, y = X[:1000], y[:1000]
    ours = TwoLayerReLURegressor(100, max_iter=5, random_state=0).fit(X, y)
    theirs = MLPRegressor(hidden_layer_sizes=(100,), max_iter=5, random_state=0)
    theirs.fit(X, y)
    print(f"\npredict latency, width 100, {N_FEATURES} features, per call")
    with threadpool_limits(1):
        for rows in (1, 100):
            Xq = X[:rows]

            def many(est, Xq=Xq):
                for _ in range(calls):
                    est.predict(Xq)

            t_ours, t_theirs = interleaved_medians(
                lambda: many(ours), lambda: many(theirs), repeats=repeats
            )
            report(f"predict, {rows} row(s), x{calls} calls", t_ours, t_theirs, 1.0)


def quality(seeds=range(5)):
    datasets = {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(n_samples=2000, noise=1.0, random_state=0),
    }
    for name, (X, y) in datasets.items():
        for width, max_iter in ((16, 200), (100, 200), (100, 50)):
            scores = {"ours": [], "MLPRegressor": [], "scaled y": []}
            for seed in seeds:
                split = train_test_split(X, y, random_state=seed)
                X_train, X_test, y_train, y_test = split
                ours = TwoLayerReLURegressor(
                    width, max_iter=max_iter, random_state=seed
                )
                theirs = MLPRegressor(
                    hidden_layer_sizes=(width,), max_iter=max_iter, random_state=seed
                )
                # MLPRegressor again, given the standardized target it needs.
                scaled = TransformedTargetRegressor(
                    clone(theirs), transformer=StandardScaler()
                )
                candidates = (
                    ("ours", ours),
                    ("MLPRegressor", theirs),
                    ("scaled y", scaled),
                )
                for key, est in candidates:
                    model = make_pipeline(StandardScaler(), est)
                    model.fit(X_train, y_train)
                    scores[key].append(model.score(X_test, y_test))
            print(
                f"{name:10} width {width:3d} max_iter {max_iter:3d}: "
                f"ours {np.mean(scores['ours']):6.3f}, "
                f"MLPRegressor {np.mean(scores['MLPRegressor']):6.3f} "
                f"(on a standardized target: {np.mean(scores['scaled y']):6.3f})",
                flush=True,
            )


def gemm_fraction(dtype, width, repeats, epochs=10, size=1000):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size)).astype(dtype)
    B = rng.standard_normal((size, size)).astype(dtype)
    C = np.empty_like(A)
    X, y = make_data(dtype)
    ours, _ = estimators(width, "gd", N_SAMPLES, epochs)
    t_gemm, t_fit = interleaved_medians(
        lambda: np.matmul(A, B, out=C),
        partial(fit_clone, ours, X, y),
        repeats=repeats,
        warmup=0,
    )
    gemm = 2 * size**3 / t_gemm / 1e9
    rate = epochs * epoch_flops(width) / t_fit / 1e9
    print(
        f"{np.dtype(dtype).name:8} width {width:4d}: {rate:6.1f} GFLOP/s, "
        f"GEMM {gemm:6.1f} GFLOP/s, fraction {rate / gemm:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
