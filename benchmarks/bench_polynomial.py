"""PolynomialFeatureMap against scikit-learn's PolynomialFeatures.

Run with ``python benchmarks/bench_polynomial.py`` (``--quick`` for fewer
repeats). Each case times ``fit_transform`` of both transformers on the same
data, ours in C order unless the label says otherwise, alternately, with
BLAS and OpenMP pinned to one thread (which also keeps PolynomialFeatureMap
on one thread), and prints the ratio of median times (ours / scikit-learn).
A ratio of 0.33 means three times faster. A last case times
PolynomialFeatureMap alone on all the threads numba may use against one.
"""

import sys
from functools import partial

import numba
import numpy as np
from _timing import interleaved_medians, report
from scipy import sparse
from sklearn.preprocessing import PolynomialFeatures
from threadpoolctl import threadpool_limits

from sknonlin import PolynomialFeatureMap


def dense_case(n_samples, n_features, dtype, rng):
    return rng.uniform(-1, 1, size=(n_samples, n_features)).astype(dtype)


def main():
    rng = np.random.default_rng(0)
    cases = [
        # (label, X, degree, (our order, sklearn order), target ratio)
        (
            "dense 200000x10 deg 3 float64 vs order=C",
            (200_000, 10, 3, np.float64),
            ("C", "C"),
            1 / 3,
        ),
        (
            "dense 200000x10 deg 3 float64 vs order=F",
            (200_000, 10, 3, np.float64),
            ("C", "F"),
            1.0,
        ),
        (
            "dense 200000x30 deg 2 float32 vs order=C",
            (200_000, 30, 2, np.float32),
            ("C", "C"),
            1 / 3,
        ),
        (
            "dense 200000x30 deg 2 float32 vs order=F",
            (200_000, 30, 2, np.float32),
            ("C", "F"),
            1.0,
        ),
        (
            "dense 1000000x1 deg 37 float64 vs order=C",
            (1_000_000, 1, 37, np.float64),
            ("C", "C"),
            1 / 3,
        ),
        (
            "dense 1000000x1 deg 37 float64 vs order=F",
            (1_000_000, 1, 37, np.float64),
            ("C", "F"),
            1.0,
        ),
        (
            "dense 200000x10 deg 3 float64 order=F vs order=F",
            (200_000, 10, 3, np.float64),
            ("F", "F"),
            1.0,
        ),
        (
            "dense 1000000x1 deg 37 float64 order=F vs order=F",
            (1_000_000, 1, 37, np.float64),
            ("F", "F"),
            1.0,
        ),
    ]
    repeats = 3 if "--quick" in sys.argv else 7
    with threadpool_limits(limits=1):
        for label, (n, d, degree, dtype), (our_order, order), target in cases:
            X = dense_case(n, d, dtype, rng)
            ours = PolynomialFeatureMap(degree=degree, order=our_order)
            theirs = PolynomialFeatures(degree=degree, order=order)
            t_ours, t_theirs = interleaved_medians(
                partial(ours.fit_transform, X),
                partial(theirs.fit_transform, X),
                repeats=repeats,
            )
            report(label, t_ours, t_theirs, target)

        X = sparse.random(
            100_000, 1_000, density=0.01, format="csr", random_state=0, dtype=np.float64
        )
        ours = PolynomialFeatureMap(degree=2)
        theirs = PolynomialFeatures(degree=2)
        t_ours, t_theirs = interleaved_medians(
            partial(ours.fit_transform, X),
            partial(theirs.fit_transform, X),
            repeats=repeats,
        )
        report("sparse CSR 100000x1000 density 0.01 deg 2", t_ours, t_theirs, 1.0)

    # the row blocks on every thread numba may use, against one thread
    X = dense_case(200_000, 10, np.float64, rng)
    ours = PolynomialFeatureMap(degree=3)

    def on_one_thread():
        # a fresh limiter per call: threadpool_limits applies its limit when
        # constructed and restores it on exit, so one instance reused would
        # leave every later call unlimited
        with threadpool_limits(limits=1, user_api="openmp"):
            ours.fit_transform(X)

    t_all, t_one = interleaved_medians(
        partial(ours.fit_transform, X), on_one_thread, repeats=repeats
    )
    speedup = t_one / t_all
    print(
        f"{'dense 200000x10 deg 3, all threads vs one':<55} all {t_all * 1e3:9.1f} ms"
        f"  one {t_one * 1e3:9.1f} ms  speedup {speedup:5.2f}"
        f"  ({numba.get_num_threads()} threads)",
        flush=True,
    )


if __name__ == "__main__":
    main()
