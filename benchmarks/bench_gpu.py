"""Speed on a GPU through the array API, float32, against references in the same run.

PolynomialFeatureMap
    ``transform`` of CUDA tensors under ``array_api_dispatch=True``, against
    scikit-learn's ``PolynomialFeatures`` with dispatch on the same tensors:
    1,000,000 x 10 at degree 3, 1,000,000 x 30 at degree 2, 4,000,000 x 1 at
    degree 37. Target: ours <= 0.33 x scikit-learn. Each case also times the
    ways the map can be computed (C order in the output's columns, C order by
    a term-major buffer and a transposing copy, F order), to tune the choice
    between the first two (``_C_ORDER_STRATEGY`` in
    ``sknonlin/_polynomial_array_api.py``).

TwoLayerReLURegressor's math
    One training epoch on 1,000,000 x 100 with 256 hidden units, by the
    namespace functions of ``sknonlin._two_layer_array_api`` (forward pass,
    hand-derived gradient, solver step on the flat parameter vector), against a
    hand-written PyTorch autograd loop of the same network and loss:
    a full-batch ``gd`` epoch (target <= 1.5 x the loop) and an ``adam`` epoch
    with batch 4096, shuffled (target <= 1.0 x the loop with torch.optim.Adam).

TwoLayerReLURegressor
    The same two epochs through the estimator, on the same CUDA tensors under
    ``array_api_dispatch=True``: ``fit`` with ``max_iter=1`` for ``gd`` (one
    epoch, with the validation, the target's statistics on the host and the
    initial weights moved to the device) and one ``partial_fit`` call for
    ``adam``, against the same PyTorch loop.

Every timed call is followed by ``torch.cuda.synchronize()``. The script also
checks that the outputs are tensors on the device, that the map equals the
NumPy path (and scikit-learn's) bit for bit, and that one epoch of the network
math, and a fit of the estimator on the device, agree with the NumPy estimator
(float64, on a subset) to rounding.

Run from the repository root::

    python benchmarks/bench_gpu.py                 # on the GPU, full sizes
    python benchmarks/bench_gpu.py --device cpu    # small sizes, to check the script
"""

import argparse
import os
import sys
import time
import warnings
from functools import partial

# scikit-learn's array API dispatch needs SciPy's, switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils import check_random_state
from sklearn.utils._array_api import get_namespace

sys.path.insert(0, os.path.dirname(__file__))
from _timing import report

from sknonlin import PolynomialFeatureMap, TwoLayerReLURegressor
from sknonlin import _polynomial_array_api as poly_array_api
from sknonlin import _two_layer_array_api as net

POLY_CASES = [(1_000_000, 10, 3), (1_000_000, 30, 2), (4_000_000, 1, 37)]
NET_SIZES = (1_000_000, 100, 256)
ADAM_BATCH = 4096


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_times(device, ours, theirs, repeats, warmup=1):
    """Median wall times of ``ours()`` and ``theirs()``, run alternately."""
    for _ in range(warmup):
        ours()
        theirs()
        synchronize(device)
    times = ([], [])
    for _ in range(repeats):
        for fn, bucket in zip((ours, theirs), times, strict=True):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            bucket.append(time.perf_counter() - start)
    return float(np.median(times[0])), float(np.median(times[1]))


def check_on_device(array, device, what):
    if not isinstance(array, torch.Tensor) or array.device.type != device.type:
        raise AssertionError(f"{what} is not a tensor on {device}: {type(array)}")


# ------------------------------------------------------------ feature map


def bench_polynomial(device, scale, repeats):
    print("PolynomialFeatureMap.transform vs PolynomialFeatures (dispatch on)")
    for n_samples, n_features, degree in POLY_CASES:
        n_samples = max(1000, n_samples // scale)
        generator = torch.Generator(device=device).manual_seed(0)
        X = (
            torch.rand((n_samples, n_features), generator=generator, device=device)
            .mul_(2)
            .sub_(1)
        )
        with sklearn.config_context(array_api_dispatch=True):
            ours = PolynomialFeatureMap(degree).fit(X)
            theirs = PolynomialFeatures(degree).fit(X)
            out = ours.transform(X)
            ref = theirs.transform(X)
            check_on_device(out, device, "the map's output")
            t_ours, t_theirs = median_times(
                device,
                partial(ours.transform, X),
                partial(theirs.transform, X),
                repeats,
            )
        same_as_sklearn = torch.equal(out, ref)
        expected = PolynomialFeatureMap(degree).fit_transform(X.cpu().numpy())
        same_as_numpy = np.array_equal(out.cpu().numpy(), expected)
        case = f"{n_samples:,} x {n_features}, degree {degree}"
        report(case, t_ours, t_theirs, target=0.33)
        print(
            f"    output {tuple(out.shape)} on {out.device}; bit-equal to the NumPy "
            f"path: {same_as_numpy}, to PolynomialFeatures: {same_as_sklearn}",
            flush=True,
        )
        del out, ref, expected
        if not (same_as_numpy and same_as_sklearn):
            raise AssertionError("the map on the device differs from the reference")
        variants(device, X, degree, t_theirs, repeats)


def variants(device, X, degree, t_theirs, repeats):
    """The other ways of computing the map, to tune the choice between them."""
    options = [
        ("C order, in the output's columns", "C", "columns"),
        ("C order, term-major buffer + transposing copy", "C", "term-major"),
        ("order='F' (the term-major buffer, no copy)", "F", "auto"),
    ]
    for label, order, strategy in options:
        poly_array_api._C_ORDER_STRATEGY = strategy
        try:
            with sklearn.config_context(array_api_dispatch=True):
                est = PolynomialFeatureMap(degree, order=order).fit(X)
                t, _ = median_times(
                    device, partial(est.transform, X), lambda: None, repeats
                )
        finally:
            poly_array_api._C_ORDER_STRATEGY = "auto"
        print(
            f"    {label:<48} {t * 1e3:9.1f} ms  ratio {t / t_theirs:5.2f}",
            flush=True,
        )


# ---------------------------------------------------------------- network


def make_network_data(device, n_samples, n_features, dtype=torch.float32, seed=0):
    generator = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn((n_samples, n_features), generator=generator, device=device)
    y = torch.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    y = y + 0.1 * torch.randn(n_samples, generator=generator, device=device)
    return X.to(dtype), y.to(dtype)


class Ours:
    """One epoch of the namespace math, state kept on the device."""

    def __init__(self, X, y, n_hidden, solver, learning_rate, batch_size, alpha):
        self.xp, self.X = namespace(X), X
        n_samples, n_features = X.shape
        self.sizes = (n_features, n_hidden, 1)
        self.Y = ((y - y.mean()) / y.std(correction=0))[:, None]
        self.sw = torch.ones(n_samples, dtype=X.dtype, device=X.device)
        theta = net.initial_theta(
            n_features, n_hidden, 1, "relu", np.float32, check_random_state(0)
        )
        self.theta = torch.asarray(theta, device=X.device)
        zeros = torch.zeros_like(self.theta)
        self.state = {"n_steps": 0, "velocity": zeros, "m": zeros, "v": zeros}
        self.settings = {
            "solver": solver,
            "activation": "relu",
            "learning_rate": learning_rate,
            "alpha": alpha / n_samples,
            "momentum": 0.9,
            "batch_size": batch_size,
        }
        self.shuffle = solver != "gd"
        self.rng = check_random_state(0)

    def epoch(self):
        order = None
        if self.shuffle:
            # drawn on the host, as the NumPy path does, then moved
            order = torch.asarray(self.rng.permutation(self.X.shape[0]))
            order = order.to(self.X.device)
        self.theta, self.state, self.loss = net.epoch(
            self.xp, self.X, self.Y, self.sw, self.theta, self.state,
            sizes=self.sizes, settings=self.settings, order=order,
        )  # fmt: skip


class Estimator:
    """One epoch of TwoLayerReLURegressor on the device, through its fit."""

    def __init__(self, X, y, n_hidden, solver, learning_rate, batch_size, alpha):
        self.X, self.y = X, y
        self.solver = solver
        self.est = TwoLayerReLURegressor(
            n_hidden, solver=solver, learning_rate=learning_rate, alpha=alpha,
            batch_size=batch_size, max_iter=1, random_state=0,
        )  # fmt: skip

    def epoch(self):
        with sklearn.config_context(array_api_dispatch=True):
            if self.solver == "gd":
                with warnings.catch_warnings():
                    # one epoch: max_iter=1 is reached on purpose
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    self.est.fit(self.X, self.y)
            else:
                self.est.partial_fit(self.X, self.y)


class TorchLoop:
    """The same network, loss and penalty with autograd and a torch optimizer."""

    def __init__(self, X, y, n_hidden, solver, learning_rate, batch_size, alpha):
        torch.manual_seed(0)
        n_features = X.shape[1]
        self.X, self.Y = X, ((y - y.mean()) / y.std(correction=0))[:, None]
        self.model = torch.nn.Sequential(
            torch.nn.Linear(n_features, n_hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(n_hidden, 1),
        ).to(device=X.device, dtype=X.dtype)
        params = self.model.parameters()
        if solver == "adam":
            self.optimizer = torch.optim.Adam(params, lr=learning_rate)
        else:
            self.optimizer = torch.optim.SGD(params, lr=learning_rate)
        self.weights = [self.model[0].weight, self.model[2].weight]
        self.alpha = alpha / X.shape[0]
        self.batch_size = batch_size
        self.shuffle = solver != "gd"

    def epoch(self):
        n_samples = self.X.shape[0]
        X, Y = self.X, self.Y
        if self.shuffle:
            order = torch.randperm(n_samples, device=X.device)
            X, Y = X[order], Y[order]
        for start in range(0, n_samples, self.batch_size):
            Xb, Yb = (
                X[start : start + self.batch_size],
                Y[start : start + self.batch_size],
            )
            self.optimizer.zero_grad(set_to_none=True)
            loss = torch.mean((self.model(Xb) - Yb) ** 2)
            loss = loss + self.alpha * sum(torch.sum(w * w) for w in self.weights)
            loss.backward()
            self.optimizer.step()


def bench_network(device, scale, repeats):
    n_samples, n_features, n_hidden = NET_SIZES
    n_samples = max(4 * ADAM_BATCH, n_samples // scale)
    print(
        f"TwoLayerReLURegressor math vs PyTorch autograd loop, "
        f"{n_samples:,} x {n_features}, width {n_hidden}"
    )
    X, y = make_network_data(device, n_samples, n_features)
    cases = [
        ("gd", n_samples, 1e-2, 1.5, repeats),
        ("adam", ADAM_BATCH, 1e-3, 1.0, max(3, repeats // 3)),
    ]
    for solver, batch_size, rate, target, n_repeats in cases:
        args = (X, y, n_hidden, solver, rate, batch_size, 1e-4)
        ours, theirs = Ours(*args), TorchLoop(*args)
        t_ours, t_theirs = median_times(device, ours.epoch, theirs.epoch, n_repeats)
        name = f"{solver} epoch" + (f", batch {batch_size}" if solver != "gd" else "")
        report(name, t_ours, t_theirs, target=target)
        check_on_device(ours.theta, device, "the parameters")
        print(
            f"    parameters on {ours.theta.device}, loss {float(ours.loss):.4f} "
            "(PyTorch loop reported in the 'sklearn' column)",
            flush=True,
        )
        estimator, theirs = Estimator(*args), TorchLoop(*args)
        t_ours, t_theirs = median_times(
            device, estimator.epoch, theirs.epoch, n_repeats
        )
        report(f"{name}, estimator", t_ours, t_theirs, target=target)
        est = estimator.est
        check_on_device(est.W1_, device, "the fitted W1_")
        print(
            f"    W1_ on {est.W1_.device}, {est.n_iter_} epoch(s) per call, "
            f"loss {est.loss_curve_[-1]:.4f}",
            flush=True,
        )
    del X, y
    agreement(device)


def agreement(device):
    """One epoch on the device against the NumPy estimator, float64, a subset."""
    n_samples, n_features, n_hidden = 20_000, 100, 256
    X, y = make_network_data(device, n_samples, n_features, dtype=torch.float64)
    X_np, y_np = X.cpu().numpy(), y.cpu().numpy()
    for solver, batch_size in (("gd", n_samples), ("adam", ADAM_BATCH)):
        est = TwoLayerReLURegressor(
            n_hidden, solver=solver, batch_size=batch_size, random_state=0,
            learning_rate=1e-3, max_iter=1,
        )  # fmt: skip
        with warnings.catch_warnings():
            # one epoch: max_iter=1 is reached on purpose
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_np, y_np)
        random = check_random_state(0)
        theta = net.initial_theta(n_features, n_hidden, 1, "relu", np.float64, random)
        order = random.permutation(n_samples) if solver != "gd" else None
        Y = (y - y.mean()) / y.std(correction=0)
        zeros = torch.zeros(theta.size, dtype=torch.float64, device=device)
        theta, _, _ = net.epoch(
            namespace(X),
            X, Y[:, None], torch.ones_like(y), torch.asarray(theta, device=device),
            {"n_steps": 0, "velocity": zeros, "m": zeros, "v": zeros},
            sizes=(n_features, n_hidden, 1),
            settings={
                "solver": solver, "activation": "relu", "learning_rate": 1e-3,
                "alpha": 1e-4 / n_samples, "momentum": 0.9, "batch_size": batch_size,
            },
            order=None if order is None else torch.asarray(order, device=device),
        )  # fmt: skip
        W1 = net.unflatten(namespace(X), theta, n_features, n_hidden, 1)[0]
        error = float(np.max(np.abs(W1.cpu().numpy() - est.W1_)))
        print(
            f"    one {solver} epoch, float64, 20,000 x 100: max |W1 - W1 (NumPy)| "
            f"= {error:.1e}",
            flush=True,
        )
        if not error < 1e-8:
            raise AssertionError("the device epoch differs from the NumPy path")
        on_device = clone(est)
        with warnings.catch_warnings(), sklearn.config_context(array_api_dispatch=True):
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1
            on_device.fit(X, y)
        error = float(np.max(np.abs(on_device.W1_.cpu().numpy() - est.W1_)))
        print(
            f"    fit on the device, {solver}, float64: max |W1_ - W1_ (NumPy)| "
            f"= {error:.1e}",
            flush=True,
        )
        if not error < 1e-8:
            raise AssertionError("the fit on the device differs from the NumPy path")


def namespace(X):
    """The array API namespace of ``X``, as scikit-learn's dispatch sees it."""
    with sklearn.config_context(array_api_dispatch=True):
        return get_namespace(X)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="torch device (cuda, cpu)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--scale",
        type=int,
        default=None,
        help="divide the numbers of samples by this (default: 1 on a GPU, 100 on cpu)",
    )
    parser.add_argument("--only", choices=["polynomial", "network"], default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cpu":
        # a check of the script, not a measurement: one thread, as the other
        # benchmarks pin BLAS to one thread
        torch.set_num_threads(1)
    scale = args.scale or (1 if device.type == "cuda" else 100)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device: {name}; torch {torch.__version__}, scikit-learn {sklearn.__version__}"
    )
    if args.only in (None, "polynomial"):
        bench_polynomial(device, scale, args.repeats)
    if args.only in (None, "network"):
        bench_network(device, scale, args.repeats)


if __name__ == "__main__":
    main()
