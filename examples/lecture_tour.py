"""The lecture tour: fit every sknonlin estimator next to its scikit-learn peer.

Run it from a shell::

    python examples/lecture_tour.py [FIGURES_DIR]

It fits the four estimators on data bundled with scikit-learn (and on XOR,
which is four points), prints a table with each score and fit time next to
those of the scikit-learn peer given the same settings, and writes its
figures to FIGURES_DIR (default ``sknonlin_tour_figures``).
"""

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SklearnPerceptron
from sklearn.linear_model import Ridge
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)


def timed_fit(model, X, y, n_repeats=3):
    """Fit ``model``; return it with the median wall-clock time of a fit.

    One untimed fit comes first: it compiles sknonlin's numba kernels for
    these data (the machine code is cached on disk for later runs).
    """
    times = []
    with warnings.catch_warnings():
        # Both sides get the same iteration budget; hitting it is expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        for _ in range(n_repeats):
            start = time.perf_counter()
            model.fit(X, y)
            times.append(time.perf_counter() - start)
    return model, float(np.median(times))


def xor_cloud(n_samples, rng):
    """Noisy copies of the four XOR corners, labelled 0 or 1."""
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    index = rng.integers(0, 4, size=n_samples)
    return corners[index] + rng.normal(scale=0.15, size=(n_samples, 2)), labels[index]


def compare(task, metric, ours, theirs, X_train, X_test, y_train, y_test):
    """Fit both models on the same split; return one row of the table.

    ``ours`` and ``theirs`` are ``(name, model)`` pairs.
    """
    (our_name, ours), (their_name, theirs) = ours, theirs
    ours, our_time = timed_fit(ours, X_train, y_train)
    theirs, their_time = timed_fit(theirs, X_train, y_train)
    return {
        "task": task,
        "metric": metric,
        "our_name": our_name,
        "ours": ours,
        "our_score": ours.score(X_test, y_test),
        "our_time": our_time,
        "their_name": their_name,
        "theirs": theirs,
        "their_score": theirs.score(X_test, y_test),
        "their_time": their_time,
    }


def run_tour(figures_dir):
    rng = np.random.default_rng(0)
    rows = []

    # Regression on diabetes (raw target) with the degree-2 map and ridge.
    X, y = load_diabetes(return_X_y=True)
    diabetes = train_test_split(X, y, test_size=0.25, random_state=0)
    rows.append(
        compare(
            "diabetes, degree-2 map + Ridge",
            "R²",
            (
                "PolynomialFeatureMap",
                make_pipeline(
                    StandardScaler(), PolynomialFeatureMap(degree=2), Ridge(alpha=100.0)
                ),
            ),
            (
                "PolynomialFeatures",
                make_pipeline(
                    StandardScaler(), PolynomialFeatures(degree=2), Ridge(alpha=100.0)
                ),
            ),
            *diabetes,
        )
    )

    # Regression on diabetes with a two-layer network of width 8: the same
    # solver, penalty and iteration budget on both sides.
    rows.append(
        compare(
            "diabetes, two-layer network",
            "R²",
            (
                "TwoLayerReLURegressor(8)",
                make_pipeline(
                    StandardScaler(),
                    TwoLayerReLURegressor(
                        n_hidden=8,
                        solver="lbfgs",
                        alpha=10.0,
                        max_iter=200,
                        random_state=0,
                    ),
                ),
            ),
            (
                "MLPRegressor((8,))",
                make_pipeline(
                    StandardScaler(),
                    MLPRegressor(
                        hidden_layer_sizes=(8,),
                        solver="lbfgs",
                        alpha=10.0,
                        max_iter=200,
                        random_state=0,
                    ),
                ),
            ),
            *diabetes,
        )
    )

    # XOR is not linearly separable; after the degree-2 map it is.
    X_xor, y_xor = xor_cloud(400, rng)
    xor = train_test_split(X_xor, y_xor, test_size=0.25, random_state=0)
    rows.append(
        compare(
            "XOR, no feature map",
            "accuracy",
            ("Perceptron", Perceptron(max_iter=50, random_state=0)),
            ("Perceptron", SklearnPerceptron(max_iter=50, tol=None, random_state=0)),
            *xor,
        )
    )
    rows.append(
        compare(
            "XOR, degree-2 map",
            "accuracy",
            (
                "Map + Perceptron",
                make_pipeline(
                    PolynomialFeatureMap(degree=2),
                    Perceptron(max_iter=50, random_state=0),
                ),
            ),
            (
                "Features + Perceptron",
                make_pipeline(
                    PolynomialFeatures(degree=2),
                    SklearnPerceptron(max_iter=50, tol=None, random_state=0),
                ),
            ),
            *xor,
        )
    )

    # Binary classification on breast cancer.
    X, y = load_breast_cancer(return_X_y=True)
    cancer = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    rows.append(
        compare(
            "breast cancer, 2 classes",
            "accuracy",
            (
                "Perceptron",
                make_pipeline(
                    StandardScaler(), Perceptron(max_iter=30, random_state=0)
                ),
            ),
            (
                "Perceptron",
                make_pipeline(
                    StandardScaler(),
                    SklearnPerceptron(max_iter=30, tol=None, random_state=0),
                ),
            ),
            *cancer,
        )
    )

    # Ten digits: one multiclass perceptron against scikit-learn's
    # one-vs-rest perceptrons.
    X, y = load_digits(return_X_y=True)
    digits = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    rows.append(
        compare(
            "digits, 10 classes",
            "accuracy",
            (
                "MulticlassPerceptron(avg)",
                make_pipeline(
                    StandardScaler(),
                    MulticlassPerceptron(max_iter=30, average=True, random_state=0),
                ),
            ),
            (
                "Perceptron, one-vs-rest",
                make_pipeline(
                    StandardScaler(),
                    SklearnPerceptron(max_iter=30, tol=None, random_state=0),
                ),
            ),
            *digits,
        )
    )

    print_table(rows)
    paths = write_figures(rows, diabetes, X_xor, y_xor, digits, figures_dir)
    print(f"\nFigures written to {figures_dir.resolve()}/:")
    for path in paths:
        print(f"  {path.name}")


def print_table(rows):
    header = (
        f"{'task':<31}{'metric':<9}"
        f"{'sknonlin':<26}{'score':>6}{'time':>10}   "
        f"{'scikit-learn peer':<24}{'score':>6}{'time':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['task']:<31}{row['metric']:<9}"
            f"{row['our_name']:<26}{row['our_score']:>6.3f}"
            f"{row['our_time'] * 1e3:>8.1f}ms   "
            f"{row['their_name']:<24}{row['their_score']:>6.3f}"
            f"{row['their_time'] * 1e3:>8.1f}ms"
        )
    print(
        "\nScores are on a held-out quarter of each data set. Times are the median"
        " of 3 fits, after\none untimed fit that compiles sknonlin's numba"
        " kernels. benchmarks/ has careful timings."
    )


def write_figures(rows, diabetes, X_xor, y_xor, digits, figures_dir):
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    # 1. Diabetes: predicted against true, for the map and the network.
    _, X_test, _, y_test = diabetes
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for ax, row in zip(axes, rows[:2], strict=True):
        for model, label in [
            (row["ours"], "sknonlin"),
            (row["theirs"], "scikit-learn"),
        ]:
            ax.scatter(y_test, model.predict(X_test), s=12, alpha=0.7, label=label)
        ax.plot([25, 350], [25, 350], color="gray", lw=0.8)
        ax.set(title=row["task"], xlabel="true target")
        ax.legend()
    axes[0].set_ylabel("prediction")
    fig.tight_layout()
    paths.append(figures_dir / "diabetes_predictions.png")
    fig.savefig(paths[-1], dpi=100)

    # 2. The network's training loss, epoch by epoch.
    net = rows[1]["ours"][-1]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(net.loss_curve_)
    ax.set(
        xlabel="iteration",
        ylabel="training loss",
        title="TwoLayerReLURegressor on diabetes",
    )
    fig.tight_layout()
    paths.append(figures_dir / "two_layer_loss_curve.png")
    fig.savefig(paths[-1], dpi=100)

    # 3. XOR: the perceptron's decision regions without and with the map.
    grid = np.linspace(-0.6, 1.6, 200)
    xx1, xx2 = np.meshgrid(grid, grid)
    X_grid = np.column_stack([xx1.ravel(), xx2.ravel()])
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, row in zip(axes, rows[2:4], strict=True):
        regions = row["ours"].predict(X_grid).reshape(xx1.shape)
        ax.contourf(
            xx1, xx2, regions, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.4
        )
        ax.scatter(
            X_xor[:, 0],
            X_xor[:, 1],
            c=y_xor,
            cmap="coolwarm",
            s=10,
            edgecolor="k",
            linewidths=0.3,
        )
        ax.set(
            title=f"{row['task']}: accuracy {row['our_score']:.2f}",
            xlabel="x₁",
            ylabel="x₂",
        )
    fig.tight_layout()
    paths.append(figures_dir / "xor_perceptron.png")
    fig.savefig(paths[-1], dpi=100)

    # 4. Digits: mistakes per epoch and the confusion matrix.
    _, X_test, _, y_test = digits
    model = rows[-1]["ours"]
    fig, (ax_mistakes, ax_confusion) = plt.subplots(1, 2, figsize=(10, 4))
    mistakes = model[-1].mistakes_
    ax_mistakes.plot(np.arange(1, len(mistakes) + 1), mistakes)
    ax_mistakes.set(
        xlabel="epoch", ylabel="mistakes", title="MulticlassPerceptron on digits"
    )
    matrix = confusion_matrix(y_test, model.predict(X_test))
    ax_confusion.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            ax_confusion.text(
                j, i, count, ha="center", va="center", fontsize=7, color=color
            )
    ax_confusion.set(
        xlabel="predicted digit",
        ylabel="true digit",
        title="Test confusion matrix",
        xticks=range(10),
        yticks=range(10),
    )
    fig.tight_layout()
    paths.append(figures_dir / "digits_multiclass_perceptron.png")
    fig.savefig(paths[-1], dpi=100)

    plt.close("all")
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "figures_dir",
        nargs="?",
        default="sknonlin_tour_figures",
        help="folder for the figures (created if needed; default: %(default)s)",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    run_tour(Path(args.figures_dir))
    print(f"\nThe tour took {time.perf_counter() - start:.1f} s.")


if __name__ == "__main__":
    main()
