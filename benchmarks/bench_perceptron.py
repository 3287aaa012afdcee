"""Time per epoch of sknonlin's perceptrons against scikit-learn's Perceptron.

Both sides get the same data and settings (``shuffle`` off, then on; an intercept;
``max_iter`` epochs; scikit-learn with ``tol=None, eta0=1.0, penalty=None,
n_jobs=1``), run in the same process, interleaved, with BLAS pinned to one
thread. Each fit is timed whole and divided by its number of epochs
(``n_iter_``); the table reports medians over the repeats and the ratio of
medians, ours / scikit-learn. numba is warmed up before any timing.

It also times whole calls of ``fit`` on small data (200 x 10, 5 epochs, no
early stop), where the cost per call rather than per epoch is what counts, and
reports the test accuracy on ``load_digits`` of
``MulticlassPerceptron(average=True)`` and of scikit-learn's ``Perceptron()``
with its default settings.

Run from the repository root::

    python benchmarks/bench_perceptron.py [--repeats 7] [--epochs 5] [--shuffle both]
        [--cases CSR] [--no-digits]

``--cases`` keeps the cases whose name contains the given text.
"""

import argparse
import warnings

import numpy as np
import scipy.sparse as sp
from _timing import interleaved_medians
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SklearnPerceptron
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sknonlin import MulticlassPerceptron, Perceptron


def _dense_binary(n_samples, n_features, noise, rng):
    X = rng.standard_normal((n_samples, n_features))
    y = (X @ rng.standard_normal(n_features) + 0.1 > 0).astype(np.int64)
    flip = rng.random(n_samples) < noise
    y[flip] = 1 - y[flip]
    return X, y


def _sparse_binary(n_samples, n_features, density, noise, rng):
    # A Generator, not a RandomState: with a RandomState, scipy draws the
    # positions from a permutation of all n_samples * n_features cells (16 GB
    # for the largest case).
    X = sp.random(
        n_samples,
        n_features,
        density=density,
        format="csr",
        random_state=rng,
        data_rvs=rng.standard_normal,
    )
    y = (X @ rng.standard_normal(n_features) > 0).astype(np.int64)
    flip = rng.random(n_samples) < noise
    y[flip] = 1 - y[flip]
    return X, y


def _dense_multiclass(n_samples, n_features, n_classes, noise, rng):
    X = rng.standard_normal((n_samples, n_features))
    y = np.argmax(X @ rng.standard_normal((n_features, n_classes)), axis=1)
    flip = rng.random(n_samples) < noise
    y[flip] = rng.integers(0, n_classes, size=flip.sum())
    return X, y


def _compare(ours, theirs, X, y, repeats):
    """Median seconds per epoch of both, alternating which one runs first."""
    t_ours, t_theirs = interleaved_medians(
        lambda: ours.fit(X, y), lambda: theirs.fit(X, y), repeats=repeats, warmup=0
    )
    # a fit with a given random_state runs the same epochs at every repeat
    return t_ours / ours.n_iter_, t_theirs / theirs.n_iter_


def _per_call(ours, theirs, X, y, repeats, calls=200):
    """Median seconds per call of ``fit``, ``calls`` calls per measurement."""

    def many(estimator):
        def job():
            for _ in range(calls):
                estimator.fit(X, y)

        return job

    t_ours, t_theirs = interleaved_medians(
        many(ours), many(theirs), repeats=repeats, warmup=0
    )
    return t_ours / calls, t_theirs / calls


def _warm_up():
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(0)
    X, y = _dense_binary(50, 5, 0.2, rng)
    y3 = rng.integers(0, 3, 50)
    for Xc in (X, sp.csr_matrix(X)):
        for average in (False, True):
            Perceptron(max_iter=2, average=average).fit(Xc, y)
            MulticlassPerceptron(max_iter=2, average=average).fit(Xc, y3)


def _digits_accuracy(seeds=(0, 1, 2)):
    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y
        )
        ours = MulticlassPerceptron(average=True, random_state=seed)
        theirs = SklearnPerceptron(random_state=seed)
        rows.append(
            (
                seed,
                ours.fit(X_train, y_train).score(X_test, y_test),
                theirs.fit(X_train, y_train).score(X_test, y_test),
            )
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--shuffle",
        choices=["both", "true", "false"],
        default="both",
        help="the shuffle setting of both sides (default: one table for each)",
    )
    parser.add_argument("--cases", default="", help="keep cases whose name has this")
    parser.add_argument("--no-digits", action="store_true", help="skip load_digits")
    args = parser.parse_args()
    shuffles = {"both": [False, True], "true": [True], "false": [False]}[args.shuffle]
    rng = np.random.default_rng(0)
    epochs = args.epochs

    def sklearn_perceptron(shuffle):
        return SklearnPerceptron(
            tol=None,
            eta0=1.0,
            penalty=None,
            shuffle=shuffle,
            fit_intercept=True,
            max_iter=epochs,
            random_state=0,
            n_jobs=1,
        )

    def ours(Estimator, shuffle):
        return Estimator(
            shuffle=shuffle, fit_intercept=True, max_iter=epochs, random_state=0
        )

    cases = []
    for n_features in (10, 100):
        for noise in (0.0, 0.2):
            cases.append(
                (
                    f"Perceptron dense 100,000 x {n_features}, noise {noise:.0%}",
                    Perceptron,
                    _dense_binary(100_000, n_features, noise, rng),
                    0.7,
                )
            )
    sparse_shapes = [(100_000, 1_000, 0.01), (20_000, 100_000, 0.001)]
    for n_samples, n_features, density in sparse_shapes:
        for noise in (0.0, 0.2):
            cases.append(
                (
                    f"Perceptron CSR {n_samples:,} x {n_features:,} "
                    f"density {density:.1%}, noise {noise:.0%}",
                    Perceptron,
                    _sparse_binary(n_samples, n_features, density, noise, rng),
                    1.0,
                )
            )
    for noise in (0.0, 0.2):
        cases.append(
            (
                f"MulticlassPerceptron 10 classes vs OvR, dense 100,000 x 100, "
                f"noise {noise:.0%}",
                MulticlassPerceptron,
                _dense_multiclass(100_000, 100, 10, noise, rng),
                0.5,
            )
        )

    cases = [case for case in cases if args.cases in case[0]]
    small = _dense_binary(200, 10, 0.2, rng)

    with threadpool_limits(1), warnings.catch_warnings():
        _warm_up()
        print(
            f"{epochs} epochs per fit, {args.repeats} repeats, medians of "
            "milliseconds per epoch; ratio = ours / scikit-learn"
        )
        for shuffle in shuffles:
            header = (
                f"{f'shuffle={shuffle}':<72} {'ours ms':>8} {'sklearn ms':>10} "
                f"{'ratio':>6} target"
            )
            print()
            print(header)
            print("-" * len(header))
            for name, Estimator, (X, y), target in cases:
                t_ours, t_theirs = _compare(
                    ours(Estimator, shuffle),
                    sklearn_perceptron(shuffle),
                    X,
                    y,
                    args.repeats,
                )
                ratio = t_ours / t_theirs
                verdict = "ok" if ratio <= target else "MISSED"
                print(
                    f"{name:<72} {t_ours * 1e3:8.2f} {t_theirs * 1e3:10.2f} "
                    f"{ratio:6.2f} <= {target} {verdict}"
                )

        if args.cases in "Perceptron.fit 200 x 10":
            t_ours, t_theirs = _per_call(
                ours(Perceptron, False), sklearn_perceptron(False), *small,
                args.repeats,
            )  # fmt: skip
            ratio = t_ours / t_theirs
            verdict = "ok" if ratio <= 1.0 else "MISSED"
            print()
            print(
                f"{f'Perceptron.fit 200 x 10, {epochs} epochs, per call':<72} "
                f"{t_ours * 1e3:8.3f} {t_theirs * 1e3:10.3f} {ratio:6.2f} <= 1.0 "
                f"{verdict}"
            )

        if args.no_digits:
            return
        print()
        print("load_digits test accuracy (30% held out, stratified)")
        print(f"{'split seed':>10} {'MulticlassPerceptron(average=True)':>35} "
              f"{'sklearn Perceptron()':>21}")  # fmt: skip
        for seed, acc_ours, acc_theirs in _digits_accuracy():
            verdict = "ok" if acc_ours >= acc_theirs else "MISSED"
            print(f"{seed:>10} {acc_ours:>35.4f} {acc_theirs:>21.4f} {verdict}")


if __name__ == "__main__":
    main()
