"""Lazy compilation and the no-compile fallbacks of the kernels.

Every fallback must give its kernel's results to the bit: each is run against
the compiled kernel on random inputs (float32 and float64, with the corners
that rounding and signed zeros make), and whole fits are run once on the
fallbacks and once on the compiled kernels.
"""

import importlib
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
    _jit,
)
from sknonlin._kernel_fallbacks import _REGISTRY, _c_math, lookup

KERNEL_MODULES = [
    "sknonlin._activations",
    "sknonlin._perceptron_kernels",
    "sknonlin._polynomial_kernels",
    "sknonlin._polynomial_sparse_kernels",
    "sknonlin._solvers",
    "sknonlin._two_layer_math",
]


def _kernel(module, name):
    return getattr(importlib.import_module(module), name)


def _kernels():
    for module in KERNEL_MODULES:
        importlib.import_module(module)
    return list(_jit._kernels)


def _run_both(kernel, make_args):
    """Run the fallback and the compiled kernel on equal fresh arguments.

    Returns both results and both argument tuples after the calls (the
    kernels write into their arguments).
    """
    assert kernel.fallback is not None, kernel
    args_fallback = make_args()
    args_compiled = make_args()
    result_fallback = kernel.fallback(*args_fallback)
    result_compiled = kernel.compiled(*args_compiled)
    return (result_fallback, args_fallback), (result_compiled, args_compiled)


def _assert_same_bits(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same_bits(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, float | np.floating):
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), (a, b)
    else:
        assert a == b


def _check_kernel(module, name, make_args):
    kernel = _kernel(module, name)
    (r_fb, a_fb), (r_c, a_c) = _run_both(kernel, make_args)
    _assert_same_bits(r_fb, r_c)
    _assert_same_bits(a_fb, a_c)


def _data(rng, shape, dtype, zeros=True):
    """Random values with exact zeros, negative zeros and a wide range."""
    X = rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, shape))
    if zeros:
        X[rng.random(shape) < 0.1] = 0.0
        X[rng.random(shape) < 0.05] = -0.0
    return X.astype(dtype)


DTYPES = [np.float32, np.float64]
ACTIVATION_NAMES = [
    "relu",
    "relu_with_derivative",
    "identity",
    "identity_with_derivative",
]
SOLVER_CASES = [
    ("add_l2_penalty", ()),
    ("gd_step", (0.1,)),
    ("momentum_step", (0.01, 0.9, "state")),
    ("adam_step", (1e-3, 1, "state", "state")),
    ("adam_step", (1e-3, 7, "state", "state")),
    ("adam_step", (1e-2, 12345, "state", "state")),
    ("adam_step", (1e-2, 0x10001, "state", "state")),
]


# -- registry ---------------------------------------------------------------------


def test_every_registered_fallback_matches_its_kernel_signature():
    kernels = {f"{k.__module__}.{k.__name__}": k for k in _kernels()}
    assert _REGISTRY
    for key in _REGISTRY:
        assert key in kernels, f"{key}: no such kernel"
        assert lookup(kernels[key]) is not None, f"{key}: signature changed"


def test_every_registered_fallback_is_checked_against_its_kernel():
    # each has a test below comparing it with the compiled kernel
    checked = (
        {"sknonlin._activations." + name for name in ACTIVATION_NAMES}
        | {"sknonlin._solvers." + name for name, _ in SOLVER_CASES}
        | {
            "sknonlin._two_layer_math.backprop",
            "sknonlin._perceptron_kernels.shuffled_order",
            "sknonlin._perceptron_kernels.binary_epoch_dense",
            "sknonlin._perceptron_kernels.multiclass_epoch_dense",
            "sknonlin._perceptron_kernels.binary_epoch_csr",
            "sknonlin._perceptron_kernels.multiclass_epoch_csr",
            "sknonlin._polynomial_kernels.degree_starts",
            "sknonlin._polynomial_kernels.polynomial_features",
            "sknonlin._polynomial_kernels.monomial_rows",
            "sknonlin._polynomial_sparse_kernels.expand_csr",
        }
        | CHECKED_FURTHER_BELOW
    )
    assert set(_REGISTRY) <= checked


def test_a_kernel_whose_parameters_changed_has_no_fallback():
    def relu(H, bias):  # the registered fallback takes (H, b)
        return H

    kernel = _jit.Kernel(relu, {"cache": False})
    kernel.__module__ = "sknonlin._activations"
    assert kernel.fallback is None


# -- kernels against their fallbacks ----------------------------------------------


@pytest.mark.parametrize(
    "n_features, max_degree, interaction_only, n_bias",
    [(1, 0, False, 1), (1, 37, False, 0), (4, 3, True, 1), (5, 4, False, 0),
     (3, 5, True, 0)],
)  # fmt: skip
def test_degree_starts(n_features, max_degree, interaction_only, n_bias):
    def make_args():
        return (n_features, max_degree, interaction_only, n_bias)

    _check_kernel("sknonlin._polynomial_kernels", "degree_starts", make_args)


def _n_full(starts):
    return int(starts[min(starts.shape[0] - 1, 1), -1] if starts.shape[0] <= 2
               else starts[-1, -1])  # fmt: skip


POLYNOMIAL_CASES = [
    # n_features, max_degree, interaction_only, n_bias, first_kept offset
    (1, 9, False, 1, 0),
    (3, 3, False, 0, 0),
    (4, 3, True, 1, 2),
    (2, 0, False, 1, 0),
    (1, 1, False, 0, 0),
    (3, 4, False, 1, 3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("basis", [0, 1, 2])
@pytest.mark.parametrize("case", POLYNOMIAL_CASES)
@pytest.mark.parametrize("layout", ["C", "F", "in place", "in place C"])
def test_polynomial_features(dtype, basis, case, layout):
    n_features, max_degree, interaction_only, n_bias, skip = case
    rng = np.random.default_rng(max_degree + n_features)
    starts = _kernel("sknonlin._polynomial_kernels", "degree_starts").compiled(
        n_features, max_degree, interaction_only, n_bias
    )
    n_full = _n_full(starts)
    in_place = layout.startswith("in place")
    first_kept = n_bias if in_place else min(n_bias + skip, n_full)
    n_out = n_full - first_kept + n_bias
    n_samples, block_rows = 23, 5  # several blocks, the last one short
    row_start, row_stop = 2, 21
    X = _data(rng, (n_samples, n_features), dtype)
    shift = rng.standard_normal(n_features).astype(dtype)
    scale = rng.uniform(0.1, 2, n_features).astype(dtype)
    max_power = 0 if basis == 0 else max_degree

    def make_args():
        out = np.full(
            (n_samples, n_out),
            7,
            dtype=dtype,
            order="C" if layout in ("C", "in place C") else "F",
        )
        factors = np.full((n_features * (max_power + 1), block_rows), 3, dtype)
        terms = out.T if in_place else np.full((n_full, block_rows), 5, dtype)
        return (
            X.copy(), row_start, row_stop, starts, interaction_only, n_bias,
            first_kept, shift, scale, basis, factors, terms, in_place, out,
        )  # fmt: skip

    _check_kernel("sknonlin._polynomial_kernels", "polynomial_features", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "n_features, max_degree, interaction_only, n_bias",
    [(1, 37, False, 1), (3, 4, False, 0), (6, 2, False, 1), (4, 3, True, 1)],
)
def test_monomial_rows(dtype, n_features, max_degree, interaction_only, n_bias):
    rng = np.random.default_rng(n_features)
    starts = _kernel("sknonlin._polynomial_kernels", "degree_starts").compiled(
        n_features, max_degree, interaction_only, n_bias
    )
    n_full = _n_full(starts)
    sign = rng.choice([-1, 1], n_features)
    X = (rng.uniform(0.5, 1.5, (9, n_features)) * sign).astype(dtype)

    def make_args():
        out = np.full((9, n_full), 7, dtype=dtype)
        return (X.copy(), 1, 8, starts, interaction_only, n_bias, out)

    _check_kernel("sknonlin._polynomial_kernels", "monomial_rows", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_polynomial_kernels_overflow_alike_and_silently(dtype):
    # inf and nan where the products overflow, and no NumPy warning (the
    # compiled kernels give none): the suite runs with RuntimeWarning as error
    big = float(np.finfo(dtype).max) ** 0.3  # its fifth power overflows
    X = np.array([[big, -2.0, big / 1e3], [3.0, big, -big]], dtype=dtype)
    starts = _kernel("sknonlin._polynomial_kernels", "degree_starts").compiled(
        3, 5, False, 1
    )
    n_full = _n_full(starts)
    zeros = np.zeros(3, dtype=dtype)

    def blocked():
        out = np.empty((2, n_full), dtype=dtype)
        return (
            X, 0, 2, starts, False, 1, 1, zeros, zeros, 0,
            np.empty((3, 2), dtype=dtype), np.empty((n_full, 2), dtype=dtype),
            False, out,
        )  # fmt: skip

    def rows():
        return (X, 0, 2, starts, False, 1, np.empty((2, n_full), dtype=dtype))

    _check_kernel("sknonlin._polynomial_kernels", "polynomial_features", blocked)
    _check_kernel("sknonlin._polynomial_kernels", "monomial_rows", rows)
    args = rows()
    _kernel("sknonlin._polynomial_kernels", "monomial_rows").fallback(*args)
    assert np.isinf(args[-1]).any()


def _canonical_csr(rng, n_rows, n_features, dtype, index_dtype, wide=False):
    """Random CSR arrays: sorted unique columns, empty rows, stored zeros."""
    n_columns = 10**9 if wide else n_features
    rows = []
    for i in range(n_rows):
        m = 0 if i % 4 == 1 else int(rng.integers(0, min(n_features, 6) + 1))
        if wide:
            columns = np.unique(rng.integers(0, n_columns, m))
        else:
            columns = np.sort(rng.choice(n_features, m, replace=False))
        rows.append(columns)
    indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.concatenate([np.zeros(0, dtype=np.int64), *rows])
    data = _data(rng, indices.shape[0], dtype)
    # stored zeros of both signs, whatever _data drew
    data[::7] = 0.0
    data[3::11] = -0.0
    return data, indices.astype(index_dtype), indptr, n_columns


def _expand_args(data, indices, indptr, n_columns, degrees, interaction_only,
                 include_bias, table, out_index_dtype):  # fmt: skip
    from sknonlin import _polynomial_sparse

    min_degree, max_degree = degrees
    offsets, _ = _polynomial_sparse.block_offsets(
        n_columns, min_degree, max_degree, interaction_only, include_bias
    )
    lengths, nnz = _polynomial_sparse.row_lengths(
        indptr, min_degree, max_degree, interaction_only, include_bias
    )
    out_indptr = np.zeros(indptr.shape[0], dtype=out_index_dtype)
    np.cumsum(lengths, out=out_indptr[1:])
    # built whatever the number of stored values, to run the kernel's lookups
    binom = (
        _polynomial_sparse.binomial_table(n_columns, 10**9, max_degree)
        if table
        else np.zeros((0, 0), dtype=np.int64)
    )

    def read_only(array):
        # as the kernel is given its input
        array = array.copy()
        array.setflags(write=False)
        return array

    def make_args():
        return (
            read_only(data), read_only(indices), read_only(indptr), n_columns,
            min_degree,
            max_degree, interaction_only, include_bias,
            np.asarray(offsets, dtype=np.int64), binom,
            np.full(nnz, 7, dtype=data.dtype),
            np.full(nnz, -3, dtype=out_index_dtype), out_indptr.copy(),
        )  # fmt: skip

    return make_args


SPARSE_DEGREES = [(0, 0), (1, 1), (0, 2), (2, 2), (1, 3), (3, 3), (2, 4), (1, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("degrees", SPARSE_DEGREES, ids=str)
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("table", [False, True])
def test_expand_csr(dtype, index_dtype, degrees, interaction_only, include_bias,
                    table):  # fmt: skip
    rng = np.random.default_rng(degrees[1] + 10 * interaction_only)
    csr = _canonical_csr(rng, 23, 7, dtype, index_dtype)
    make_args = _expand_args(*csr, degrees, interaction_only, include_bias, table,
                             index_dtype)  # fmt: skip
    _check_kernel("sknonlin._polynomial_sparse_kernels", "expand_csr", make_args)


@pytest.mark.parametrize("degrees", [(1, 2), (2, 3), (3, 3)], ids=str)
@pytest.mark.parametrize("interaction_only", [False, True])
def test_expand_csr_on_a_billion_columns(degrees, interaction_only):
    # ranks from binomials far beyond the number of stored values
    rng = np.random.default_rng(degrees[0])
    csr = _canonical_csr(rng, 9, 6, np.float64, np.int64, wide=True)
    make_args = _expand_args(*csr, degrees, interaction_only, True, False, np.int64)
    _check_kernel("sknonlin._polynomial_sparse_kernels", "expand_csr", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expand_csr_overflows_alike_and_silently(dtype):
    big = float(np.finfo(dtype).max) ** 0.4  # its third power overflows
    data = np.array([big, -big, 2.0, big], dtype=dtype)
    # the kernel is given index arrays of one dtype
    indices = np.array([0, 1, 2, 2], dtype=np.int32)
    indptr = np.array([0, 3, 3, 4], dtype=np.int32)
    make_args = _expand_args(data, indices, indptr, 3, (1, 3), False, True,
                             False, np.int32)  # fmt: skip
    _check_kernel("sknonlin._polynomial_sparse_kernels", "expand_csr", make_args)
    args = make_args()
    _kernel("sknonlin._polynomial_sparse_kernels", "expand_csr").fallback(*args)
    assert np.isinf(args[10]).any()


def test_expand_csr_small_inputs_are_those_of_a_first_call():
    # 100 x 5 at degree 2 runs on the fallback; a large input, or an output
    # of another dtype than the input, goes to the compiled kernel
    entry = _kernel("sknonlin._polynomial_sparse_kernels", "expand_csr").fallback_entry
    rng = np.random.default_rng(0)
    small = _expand_args(*_canonical_csr(rng, 100, 5, np.float64, np.int32),
                         (0, 2), False, True, False, np.int32)()  # fmt: skip
    assert entry.small(*small)
    mixed = (*small[:10], small[10].astype(np.float32), *small[11:])
    assert not entry.small(*mixed)
    large = _expand_args(*_canonical_csr(rng, 20_000, 5, np.float64, np.int32),
                         (0, 3), False, True, False, np.int32)()  # fmt: skip
    assert not entry.small(*large)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activations(dtype, name):
    rng = np.random.default_rng(1)
    H = _data(rng, (13, 7), dtype)
    H[0, :3] = [np.nan, np.inf, -np.inf]
    b = _data(rng, 7, dtype)

    def make_args():
        args = (H.copy(), b)
        if name.endswith("derivative"):
            args += (np.full((13, 7), 7, dtype=dtype),)
        return args

    _check_kernel("sknonlin._activations", name, make_args)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("accumulate", [False, True])
def test_backprop(dtype, n_outputs, accumulate):
    rng = np.random.default_rng(n_outputs)
    n, k = 17, 6
    H = np.maximum(_data(rng, (n, k), dtype), 0)
    D = (H > 0).astype(dtype)
    Z = _data(rng, (n, n_outputs), dtype)
    Y = _data(rng, (n, n_outputs), dtype)
    sw = rng.uniform(0, 2, n).astype(dtype)
    sw[3] = 0
    W2 = _data(rng, (k, n_outputs), dtype)
    b2 = _data(rng, n_outputs, dtype)
    grads = [_data(rng, s, dtype) for s in [(k, n_outputs), k, n_outputs]]

    def make_args():
        gW2, gb1, gb2 = (g.copy() for g in grads)
        return (
            H.copy(), D, Z.copy(), Y, sw, 1 / 7.3, W2, b2, gW2, gb1, gb2, accumulate,
        )  # fmt: skip

    _check_kernel("sknonlin._two_layer_math", "backprop", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 1e-3])
@pytest.mark.parametrize("name, extra", SOLVER_CASES)
def test_solvers(dtype, alpha, name, extra):
    rng = np.random.default_rng(2)
    theta = _data(rng, 40, dtype)
    grad = _data(rng, 40, dtype)
    states = [np.abs(_data(rng, 40, dtype)) for _ in extra]

    def make_args():
        args = (theta.copy(), grad.copy(), 30, alpha)
        for value, state in zip(extra, states, strict=True):
            args += (state.copy() if value == "state" else value,)
        return args

    _check_kernel("sknonlin._solvers", name, make_args)


@pytest.mark.parametrize("n_samples", [0, 1, 2, 57])
@pytest.mark.parametrize("seed", [0, 1, 2**63 - 1])
def test_shuffled_order(n_samples, seed):
    def make_args():
        return (n_samples, np.int64(seed))

    _check_kernel("sknonlin._perceptron_kernels", "shuffled_order", make_args)


def _epoch_args(rng, dtype, n_classes, average, fit_intercept, binary, corrupt):
    n, d = 60, 5
    X = _data(rng, (n, d), dtype)
    X[5] = X[4]  # ties and exact cancellations
    if corrupt:
        X[37, 2] = np.inf  # a margin that is not finite stops the epoch
    order = rng.permutation(n)
    sw = rng.uniform(0, 2, n).astype(dtype)
    sw[2] = 0
    eta0 = 0.7
    if binary:
        y = rng.choice([-1.0, 1.0], n).astype(dtype)
        coef = _data(rng, d, dtype)
        avg = _data(rng, d, np.float64)
        info = np.finfo(dtype)
        tail = (float(info.eps) / 2, float(info.smallest_subnormal) / 2)

        def make_args(track_loss):
            return (
                X, y, sw, eta0, order, True, coef.copy(), np.float64(0.25),
                fit_intercept, average, avg.copy(), 1.5, 3.0, track_loss, *tail,
            )  # fmt: skip

        return make_args
    y = rng.integers(0, n_classes, n).astype(np.intp)
    coef = _data(rng, (d, n_classes), dtype)
    intercept = rng.standard_normal(n_classes)
    avg_coef = _data(rng, (d, n_classes), np.float64)
    avg_intercept = rng.standard_normal(n_classes)

    def make_args():
        return (
            X, y, sw, eta0, order, False, coef.copy(), intercept.copy(),
            fit_intercept, average, avg_coef.copy(), avg_intercept.copy(), 4.0,
        )  # fmt: skip

    return make_args


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("track_loss", [False, True])
@pytest.mark.parametrize("corrupt", [False, True])
def test_binary_epoch_dense(dtype, average, fit_intercept, track_loss, corrupt):
    rng = np.random.default_rng(3)
    make_args = _epoch_args(rng, dtype, 2, average, fit_intercept, True, corrupt)
    _check_kernel(
        "sknonlin._perceptron_kernels",
        "binary_epoch_dense",
        lambda: make_args(track_loss),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("corrupt", [False, True])
def test_multiclass_epoch_dense(dtype, average, fit_intercept, n_classes, corrupt):
    rng = np.random.default_rng(4)
    make_args = _epoch_args(rng, dtype, n_classes, average, fit_intercept, False,
                            corrupt)  # fmt: skip
    _check_kernel("sknonlin._perceptron_kernels", "multiclass_epoch_dense", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_epoch_dense_on_uncertain_margins(dtype):
    # margins near zero, where the kernel falls back to the sequential sum; a
    # tiny step size keeps them near zero after the updates
    rng = np.random.default_rng(5)
    n, d = 50, 9
    X = rng.standard_normal((n, d)).astype(dtype)
    coef = rng.standard_normal(d).astype(dtype)
    # the last feature cancels the others' sum up to rounding
    X[:, -1] = (-(X[:, :-1] @ coef[:-1].astype(np.float64)) / coef[-1]).astype(dtype)
    y = rng.choice([-1.0, 1.0], n).astype(dtype)
    sw = np.ones(n, dtype=dtype)
    info = np.finfo(dtype)

    def make_args():
        return (
            X, y, sw, 1e-30, np.arange(n), False, coef.copy(), np.float64(0.0),
            False, True, np.zeros(d), 0.0, 1.0, True,
            float(info.eps) / 2, float(info.smallest_subnormal) / 2,
        )  # fmt: skip

    _check_kernel("sknonlin._perceptron_kernels", "binary_epoch_dense", make_args)


def _csr(rng, n, d, dtype):
    """A CSR structure of random rows: unsorted columns, a column stored twice
    in a row, stored zeros and empty rows."""
    cols, vals, indptr = [], [], [0]
    for _ in range(n):
        k = int(rng.integers(0, d + 3))
        cols += rng.integers(0, d, k).tolist()
        vals += _data(rng, k, dtype).tolist()
        indptr.append(len(cols))
    return (
        np.array(vals, dtype=dtype),
        np.array(cols, dtype=np.int32),
        np.array(indptr, dtype=np.int32),
    )


def _csr_epoch_args(rng, dtype, n_classes, average, fit_intercept, binary, corrupt,
                    in_order):  # fmt: skip
    n, d = 60, 7
    data, indices, indptr = _csr(rng, n, d, dtype)
    if corrupt:
        # a margin that is not finite stops the epoch (row 37 or the first
        # row after it that stores a value)
        data[indptr[37]] = np.inf
    order = np.arange(n) if in_order else rng.permutation(n)
    sw = rng.uniform(0, 2, n).astype(dtype)
    sw[2] = 0
    head = (data, indices, indptr)
    if binary:
        y = rng.choice([-1.0, 1.0], n).astype(dtype)
        coef = _data(rng, d, dtype)
        avg = _data(rng, d, np.float64)
        info = np.finfo(dtype)
        tail = (float(info.eps) / 2, float(info.smallest_subnormal) / 2)

        def make_args(track_loss):
            return (
                *head, y, sw, 0.7, order, not in_order, coef.copy(),
                np.float64(0.25), fit_intercept, average, avg.copy(), 1.5, 3.0,
                track_loss, *tail,
            )  # fmt: skip

        return make_args
    y = rng.integers(0, n_classes, n).astype(np.intp)
    coef = _data(rng, (d, n_classes), dtype)
    intercept = rng.standard_normal(n_classes)
    avg_coef = _data(rng, (d, n_classes), np.float64)
    avg_intercept = rng.standard_normal(n_classes)

    def make_args():
        return (
            *head, y, sw, 0.7, order, not in_order, coef.copy(), intercept.copy(),
            fit_intercept, average, avg_coef.copy(), avg_intercept.copy(), 4.0,
        )  # fmt: skip

    return make_args


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("track_loss", [False, True])
@pytest.mark.parametrize("corrupt", [False, True])
@pytest.mark.parametrize("in_order", [False, True])
def test_binary_epoch_csr(dtype, average, fit_intercept, track_loss, corrupt,
                          in_order):  # fmt: skip
    rng = np.random.default_rng(6)
    make_args = _csr_epoch_args(rng, dtype, 2, average, fit_intercept, True, corrupt,
                                in_order)  # fmt: skip
    _check_kernel(
        "sknonlin._perceptron_kernels",
        "binary_epoch_csr",
        lambda: make_args(track_loss),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("corrupt", [False, True])
@pytest.mark.parametrize("in_order", [False, True])
def test_multiclass_epoch_csr(dtype, average, fit_intercept, n_classes, corrupt,
                              in_order):  # fmt: skip
    rng = np.random.default_rng(7)
    make_args = _csr_epoch_args(rng, dtype, n_classes, average, fit_intercept,
                                False, corrupt, in_order)  # fmt: skip
    _check_kernel("sknonlin._perceptron_kernels", "multiclass_epoch_csr", make_args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_epoch_csr_on_uncertain_margins(dtype):
    # as test_binary_epoch_dense_on_uncertain_margins, on the rows stored as
    # CSR: near-zero margins take the sequential sum
    rng = np.random.default_rng(8)
    n, d = 50, 9
    X = rng.standard_normal((n, d)).astype(dtype)
    coef = rng.standard_normal(d).astype(dtype)
    X[:, -1] = (-(X[:, :-1] @ coef[:-1].astype(np.float64)) / coef[-1]).astype(dtype)
    Xs = sparse.csr_matrix(X)
    y = rng.choice([-1.0, 1.0], n).astype(dtype)
    sw = np.ones(n, dtype=dtype)
    info = np.finfo(dtype)

    def make_args():
        return (
            Xs.data, Xs.indices, Xs.indptr, y, sw, 1e-30, np.arange(n), False,
            coef.copy(), np.float64(0.0), False, True, np.zeros(d), 0.0, 1.0, True,
            float(info.eps) / 2, float(info.smallest_subnormal) / 2,
        )  # fmt: skip

    _check_kernel("sknonlin._perceptron_kernels", "binary_epoch_csr", make_args)


# -- whole fits on the fallbacks and on the compiled kernels ------------------------


@pytest.fixture
def kernels_on(monkeypatch):
    """Switch every kernel to ``"fallback"`` or ``"compiled"``."""

    def switch(path):
        # the fallbacks serve however long the process has run on them
        monkeypatch.setattr(_jit, "_fallback_seconds", [-math.inf])
        for kernel in _kernels():
            if path == "compiled":
                monkeypatch.setattr(kernel, "_ready", kernel.compiled)
            else:
                monkeypatch.setattr(kernel, "_ready", None)
                monkeypatch.setattr(kernel, "_scheduled", True)

    return switch


def _fitted_bits(estimator):
    return {
        name: np.asarray(value).tobytes()
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_")
        and isinstance(value, np.ndarray | float | list)
    }  # fmt: skip


def _fits(rng):
    X = rng.standard_normal((80, 4))
    y_binary = (X @ [1.0, -2.0, 0.5, 0.0] > 0.1).astype(int)
    y_multi = np.argmax(X[:, :3], axis=1)
    Xs = sparse.random(40, 6, density=0.4, random_state=0, format="csr")
    cases = []
    for dtype in DTYPES:
        Xd = X.astype(dtype)
        cases += [
            (PolynomialFeatureMap(3), Xd, None),
            (PolynomialFeatureMap(2, order="F", basis="legendre"), Xd, None),
            (PolynomialFeatureMap((2, 3), interaction_only=True), Xs.astype(dtype),
             None),
            (PolynomialFeatureMap(2), Xs.astype(dtype), None),
            (Perceptron(random_state=0, average=True, max_iter=30), Xd, y_binary),
            (MulticlassPerceptron(random_state=1, average=True, max_iter=30), Xd,
             y_multi),
        ]  # fmt: skip
        for solver in ["adam", "sgd", "gd", "lbfgs"]:
            model = TwoLayerReLURegressor(
                8, solver=solver, random_state=0, max_iter=15, tol=0.0,
                n_iter_no_change=100, batch_size=32,
            )  # fmt: skip
            cases.append((model, Xd, X[:, 0] - X[:, 1] ** 2))
    return cases


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_are_the_same_on_fallbacks_and_compiled_kernels(kernels_on):
    # max_iter is kept low on purpose: ConvergenceWarning is expected here.
    results = {}
    for path in ["fallback", "compiled"]:
        kernels_on(path)
        out = []
        for estimator, X, y in _fits(np.random.default_rng(0)):
            if isinstance(estimator, PolynomialFeatureMap):
                XP = estimator.fit_transform(X)
                XP = XP.toarray() if sparse.issparse(XP) else XP
                out.append((XP.dtype, XP.flags.c_contiguous, XP.tobytes()))
            else:
                estimator.fit(X, y)
                out.append(_fitted_bits(estimator))
                out.append(estimator.predict(X[:7]).tobytes())
        results[path] = out
        if path == "fallback":
            # every call of a kernel with a fallback was served by it
            served = [k for k in _kernels() if k.fallback is not None]
            assert served and not any(k.is_ready for k in served)
    assert len(results["fallback"]) == len(results["compiled"])
    for fallback, compiled in zip(
        results["fallback"], results["compiled"], strict=True
    ):
        assert fallback == compiled


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_perceptron_fits_are_the_same_on_fallbacks_and_compiled(
    kernels_on, dtype
):
    rng = np.random.default_rng(1)
    X = sparse.random(50, 8, density=0.4, random_state=2, format="csr", dtype=dtype)
    y_binary = (X @ rng.standard_normal(8) > 0).astype(int)
    y_multi = rng.integers(0, 3, 50)
    cases = [
        (Perceptron(shuffle=False, average=True, max_iter=30), y_binary),
        (Perceptron(random_state=0, tol=1e-3, max_iter=30), y_binary),
        (MulticlassPerceptron(shuffle=False, max_iter=30), y_multi),
        (MulticlassPerceptron(random_state=1, average=True, max_iter=30), y_multi),
    ]
    results = {}
    for path in ["fallback", "compiled"]:
        kernels_on(path)
        results[path] = []
        for estimator, y in cases:
            with warnings.catch_warnings():
                # max_iter is kept low: the fits need not converge
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X, y)
            results[path].append(_fitted_bits(estimator))
            results[path].append(estimator.predict(X[:7]).tobytes())
        if path == "fallback":
            for name in ["binary_epoch_csr", "multiclass_epoch_csr"]:
                kernel = _kernel("sknonlin._perceptron_kernels", name)
                assert kernel.fallback is not None and not kernel.is_ready
    assert results["fallback"] == results["compiled"]


# -- the calling policy -----------------------------------------------------------


def test_a_large_input_runs_compiled_and_then_every_call_does(monkeypatch):
    from sknonlin import _activations

    kernel = _activations.identity
    # below the threshold past which every call compiles
    monkeypatch.setattr(_jit, "_fallback_seconds", [0.0])
    monkeypatch.setattr(kernel, "_ready", None)
    monkeypatch.setattr(kernel, "_scheduled", True)
    calls = []
    entry = kernel.fallback_entry
    monkeypatch.setattr(
        kernel,
        "_fallback",
        type(entry)(lambda *a: calls.append(1) or entry.func(*a), entry.small),
    )
    H, b = np.ones((2, 3)), np.arange(3.0)
    assert np.array_equal(kernel(H.copy(), b), H + b)
    assert calls == [1] and not kernel.is_ready
    monkeypatch.setattr(
        kernel, "_fallback", type(entry)(entry.func, lambda *args: False)
    )
    assert np.array_equal(kernel(H.copy(), b), H + b)
    assert kernel.is_ready and calls == [1]


def test_stand_ins_have_the_numba_types_of_the_arguments():
    numba = pytest.importorskip("numba")
    base = np.arange(24.0).reshape(4, 6)
    read_only = base.copy()
    read_only.setflags(write=False)
    values = [
        base, base.T, base[:, ::2], base[0], base[:, 0], read_only,
        base.astype(np.float32), np.arange(3, dtype=np.int32), np.empty((0, 3)),
        np.float32(1.5), 2.0, 3, True, np.int64(4),
    ]  # fmt: skip
    for value in values:
        stand_in = _jit._stand_in(value)
        assert numba.typeof(stand_in) == numba.typeof(value), value
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(stand_in, value)


def test_intrinsic_is_not_callable_from_python():
    from sknonlin._perceptron_kernels import _prefetch

    with pytest.raises(NotImplementedError, match="compiled code only"):
        _prefetch(np.zeros(3), 0)


def _run_fresh(code, tmp_path, **env):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), **env)
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(__file__)), environment.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_small_inputs_do_not_import_numba(tmp_path):
    code = """
        import sys
        import numpy as np
        import sknonlin
        from sknonlin import _jit
        assert "numba" not in sys.modules, "imported by the package"
        # first calls only: a slow machine may pass the compilation threshold
        _jit._COMPILE_AFTER_S = float("inf")
        X = np.random.default_rng(0).standard_normal((20, 3))
        for solver in ["adam", "sgd", "gd"]:
            model = sknonlin.TwoLayerReLURegressor(
                4, solver=solver, max_iter=3, tol=0, random_state=0
            )
            model.fit(X, X[:, 1]).predict(X)
        for dtype in [np.float32, np.float64]:
            Xd = X.astype(dtype)
            for order in ["C", "F"]:
                for basis in ["monomial", "legendre"]:
                    poly = sknonlin.PolynomialFeatureMap(3, order=order, basis=basis)
                    poly.fit_transform(Xd)
            sknonlin.PolynomialFeatureMap(40).fit_transform(Xd[:, :1])
            sknonlin.Perceptron(max_iter=3).fit(Xd, X[:, 0] > 0).predict(Xd)
            y = np.argmax(X, axis=1)
            sknonlin.MulticlassPerceptron(max_iter=3).fit(Xd, y).predict(Xd)
        print("numba" in sys.modules)
    """
    out = _run_fresh(
        "import warnings; warnings.simplefilter('ignore')\n" + textwrap.dedent(code),
        tmp_path,
        SKNONLIN_BACKGROUND_COMPILE="0",
    )
    assert out.strip() == "False"


def test_small_sparse_inputs_do_not_import_numba(tmp_path):
    code = """
        import sys
        import numpy as np
        from scipy import sparse
        import sknonlin
        from sknonlin import _jit
        assert "numba" not in sys.modules, "imported by the package"
        _jit._COMPILE_AFTER_S = float("inf")
        X = np.random.default_rng(0).standard_normal((100, 5))
        X[np.abs(X) < 1] = 0.0
        for container in [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array]:
            for dtype in [np.float32, np.float64]:
                Xs = container(X.astype(dtype))
                for degree in [1, 2, (2, 3), 4]:
                    for interaction_only in [False, True]:
                        poly = sknonlin.PolynomialFeatureMap(
                            degree, interaction_only=interaction_only
                        )
                        poly.fit_transform(Xs)
        wide = sparse.csr_array(X)
        wide.indices = wide.indices.astype(np.int64)
        wide.indptr = wide.indptr.astype(np.int64)
        sknonlin.PolynomialFeatureMap(3, include_bias=False).fit_transform(wide)
        print("numba" in sys.modules)
    """
    out = _run_fresh(
        "import warnings; warnings.simplefilter('ignore')\n" + textwrap.dedent(code),
        tmp_path,
        SKNONLIN_BACKGROUND_COMPILE="0",
    )
    assert out.strip() == "False"


def test_past_the_threshold_the_calling_thread_compiles(tmp_path):
    # the default: no thread, which would race the caller's warning filters
    code = """
        import threading
        import numpy as np
        from sknonlin import _jit
        from sknonlin._activations import relu
        H, b = np.array([[-1.0, 2.0]]), np.zeros(2)
        relu(H.copy(), b)
        assert not relu.is_ready  # served by the fallback
        _jit._COMPILE_AFTER_S = 0.0
        print(relu(H.copy(), b).tolist(), relu.is_ready)
        print(sorted(t.name for t in threading.enumerate()))
    """
    first, threads = _run_fresh(code, tmp_path).strip().splitlines()
    assert first == "[[0.0, 2.0]] True"
    assert "sknonlin-compile" not in threads


def test_background_compilation_finishes_and_is_used(tmp_path):
    code = """
        import numpy as np
        from sknonlin import _jit
        from sknonlin._activations import relu
        _jit._COMPILE_AFTER_S = 0.0
        H, b = np.array([[-1.0, 2.0]]), np.zeros(2)
        relu(H.copy(), b)  # on the fallback; schedules the compilation
        assert _jit.wait_for_background_compilation(timeout=600)
        assert relu.is_ready
        assert len(relu.compiled.signatures) == 1
        print(relu(H.copy(), b).tolist())
    """
    background = {"SKNONLIN_BACKGROUND_COMPILE": "1"}
    assert _run_fresh(code, tmp_path, **background).strip() == "[[0.0, 2.0]]"
    # and the next process loads it from the cache
    code = """
        from sknonlin._activations import relu
        import numpy as np
        relu._compile_for((np.ones((1, 2)), np.zeros(2)))
        print(relu.compiled.stats.cache_hits.most_common(1)[0][1])
    """
    assert _run_fresh(code, tmp_path).strip() == "1"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_during_background_compilation_does_not_deadlock(tmp_path):
    code = """
        import os
        import numpy as np
        from sknonlin import _jit
        from sknonlin._activations import relu
        _jit._COMPILE_AFTER_S = 0.0
        relu(np.ones((1, 2)), np.zeros(2))  # the background thread starts
        pid = os.fork()
        if pid == 0:
            # the child compiles in its own thread, its locks released
            H = np.ones((3, 2))
            relu.compiled(H, np.zeros(2))
            relu(H, np.zeros(2))
            os._exit(0 if H.tolist() == [[1.0, 1.0]] * 3 else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """
    background = {"SKNONLIN_BACKGROUND_COMPILE": "1"}
    assert _run_fresh(code, tmp_path, **background).strip() == "0"


# -- tanh and logistic activations, penalized perceptron epochs ---------------------

TRANSCENDENTAL_NAMES = [
    "tanh",
    "tanh_with_derivative",
    "logistic",
    "logistic_with_derivative",
]
PENALIZED_NAMES = ["binary_penalized_epoch", "multiclass_penalized_epoch"]
CHECKED_FURTHER_BELOW = {
    "sknonlin._activations." + name for name in TRANSCENDENTAL_NAMES
} | {"sknonlin._perceptron_kernels." + name for name in PENALIZED_NAMES}


def _pre_activations(rng, dtype, shape):
    """Values where tanh and the sigmoid saturate, underflow or round oddly."""
    info = np.finfo(dtype)
    tiny, huge = float(info.smallest_subnormal), float(info.max)
    H = _data(rng, shape, dtype)
    wide = np.exp(rng.uniform(np.log(tiny), np.log(huge), shape))
    H[::3] = (wide * rng.choice([-1, 1], shape))[::3]
    H[1::4] = rng.uniform(-120, 120, shape)[1::4]
    corners = [np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, huge, -huge,
               float(info.tiny), 9.0, -9.0, 19.1, -19.1, 88.7, -88.7, 103.9,
               -103.9, 709.8, -745.2, 1e-8, -1e-8]  # fmt: skip
    H.ravel()[: len(corners)] = corners
    return H


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TRANSCENDENTAL_NAMES)
def test_transcendental_activations(dtype, name):
    if _c_math() is None:
        pytest.skip("the C math library of the kernels is not reachable here")
    rng = np.random.default_rng(6)
    H = _pre_activations(rng, dtype, (61, 40))
    b = _data(rng, 40, dtype)
    b[:4] = 0.0

    def make_args():
        args = (H.copy(), b)
        if name.endswith("derivative"):
            args += (np.full(H.shape, 7, dtype=dtype),)
        return args

    _check_kernel("sknonlin._activations", name, make_args)


@pytest.mark.parametrize("name", TRANSCENDENTAL_NAMES)
def test_transcendental_fallbacks_serve_small_calls_early_in_a_process(
    name, monkeypatch
):
    if _c_math() is None:
        pytest.skip("the C math library of the kernels is not reachable here")
    small = _kernel("sknonlin._activations", name).fallback_entry.small
    derivative = name.endswith("derivative")

    def is_small(rows, dtype):
        H = np.zeros((rows, 100), dtype=dtype)
        return small(H, np.zeros(100, dtype), *([H.copy()] if derivative else []))

    monkeypatch.setattr(_jit, "_COMPILE_AFTER_S", 0.2)
    monkeypatch.setattr(_jit, "_fallback_seconds", [0.0])
    # a few rows at a hundred hidden units, not a minibatch of a hundred rows;
    # float32 values cost more (a call through ctypes each)
    assert is_small(50, np.float64) and not is_small(51, np.float64)
    assert is_small(12, np.float32) and not is_small(13, np.float32)
    # past half the time allowed in fallbacks, they give way to the kernels
    monkeypatch.setattr(_jit, "_fallback_seconds", [0.11])
    assert not is_small(1, np.float64)


@pytest.mark.parametrize("using_svml", [False, True])
def test_transcendental_fallbacks_follow_numba_on_svml(using_svml, monkeypatch):
    # with Intel's SVML, numba vectorizes tanh and exp with functions of its
    # own: the fallbacks, which call the C library, must not serve
    from types import SimpleNamespace

    from sknonlin import _kernel_fallbacks

    stub = SimpleNamespace(config=SimpleNamespace(USING_SVML=using_svml))
    monkeypatch.setitem(sys.modules, "numba", stub)
    assert _kernel_fallbacks._svml_possible() is using_svml


PENALTIES = {
    # penalty: (apply_l2, apply_l1, l1_ratio)
    "l2": (True, False, 0.0),
    "l1": (False, True, 1.0),
    "elasticnet": (True, True, 0.15),
    "elasticnet, mostly l1": (True, True, 0.85),
}


def _penalized_args(rng, dtype, n_classes, penalty, alpha, options):
    """Arguments of a penalized epoch on dense data, as the estimators pass them."""
    average, fit_intercept, track_loss, corrupt = options
    apply_l2, apply_l1, l1_ratio = PENALTIES[penalty]
    n, d = 60, 5
    X = _data(rng, (n, d), dtype)
    X[5] = X[4]  # ties and exact cancellations
    if corrupt:
        X[37, 2] = np.inf  # a score that is not finite stops the epoch
    order = rng.permutation(n)
    sw = rng.uniform(0, 2, n).astype(dtype)
    sw[2] = 0
    eta0 = 0.7
    binary = n_classes == 2
    if binary:
        y = rng.choice([-1.0, 1.0], n).astype(dtype)
        coef = _data(rng, (d, 1), dtype)
        intercept, avg_intercept = np.float64(0.25), 1.5
    else:
        y = rng.integers(0, n_classes, n).astype(np.intp)
        coef = _data(rng, (d, n_classes), dtype)
        intercept = rng.standard_normal(n_classes)
        avg_intercept = rng.standard_normal(n_classes)
    avg_coef = _data(rng, coef.shape, np.float64)
    # a reset threshold that is crossed during the epoch when alpha is large
    reset = 1e-6 if dtype == np.float32 else 1e-9
    params = np.array([max(0.0, 1.0 - (1.0 - l1_ratio) * eta0 * alpha),
                       l1_ratio * eta0 * alpha, alpha, l1_ratio, reset])  # fmt: skip
    flat = coef.reshape(-1)
    scale = np.array([1.0, np.dot(flat, flat), np.abs(flat).sum()])
    q = _data(rng, coef.shape, dtype) * 1e-3
    q[0] = 0.0
    no_index = np.zeros(1, dtype=np.int32)

    def make_args():
        before = np.zeros(coef.shape if average else (1, 1))
        return (
            X.reshape(-1), no_index, no_index, True, d, y, sw, eta0, order,
            coef.copy(), intercept if binary else intercept.copy(), fit_intercept,
            average, avg_coef.copy() if average else np.zeros((1, 1)),
            avg_intercept if binary else avg_intercept.copy(), 3.0,
            track_loss, params, apply_l2, apply_l1, scale.copy(),
            np.array([0.01]), q.copy(), before,
        )  # fmt: skip

    return make_args


# average, fit_intercept, track_loss, corrupt
PENALIZED_OPTIONS = [
    (False, True, True, False), (True, True, True, False),
    (True, False, False, False), (False, False, True, True),
    (True, True, True, True),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("alpha", [1e-4, 0.05, 1.2])
@pytest.mark.parametrize("options", PENALIZED_OPTIONS)
def test_penalized_epochs(dtype, n_classes, penalty, alpha, options):
    rng = np.random.default_rng(7 + n_classes)
    make_args = _penalized_args(rng, dtype, n_classes, penalty, alpha, options)
    name = PENALIZED_NAMES[0] if n_classes == 2 else PENALIZED_NAMES[1]
    _check_kernel("sknonlin._perceptron_kernels", name, make_args)


def _fits_with_options(rng):
    X = rng.standard_normal((70, 4))
    y_binary = (X @ [1.0, -2.0, 0.5, 0.0] > 0.1).astype(int)
    y_multi = np.argmax(X[:, :3], axis=1)
    cases = []
    for dtype in DTYPES:
        Xd = X.astype(dtype)
        for activation in ["tanh", "logistic"]:
            model = TwoLayerReLURegressor(
                6, activation=activation, solver="adam", random_state=0,
                max_iter=12, tol=0.0, n_iter_no_change=100, batch_size=32,
            )  # fmt: skip
            cases.append((model, Xd, X[:, 0] - X[:, 1] ** 2))
        for penalty, alpha in [("l2", 1e-3), ("l1", 1e-2), ("elasticnet", 0.1)]:
            options = dict(penalty=penalty, alpha=alpha, max_iter=8, tol=None)
            cases += [
                (Perceptron(random_state=0, average=True, **options), Xd, y_binary),
                (Perceptron(random_state=1, early_stopping=True, **options), Xd,
                 y_binary),
                (MulticlassPerceptron(random_state=1, average=True, **options), Xd,
                 y_multi),
                (MulticlassPerceptron(random_state=2, fit_intercept=False,
                                      **options), Xd, y_multi),
            ]  # fmt: skip
    return cases


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_with_other_options_are_the_same_on_fallbacks(kernels_on):
    # max_iter is kept low on purpose: ConvergenceWarning is expected here.
    results = {}
    for path in ["fallback", "compiled"]:
        kernels_on(path)
        out = []
        for estimator, X, y in _fits_with_options(np.random.default_rng(1)):
            estimator.fit(X, y)
            out.append(_fitted_bits(estimator))
            out.append(estimator.predict(X[:9]).tobytes())
        results[path] = out
        if path == "fallback":
            served = [
                _kernel(module, name)
                for module, names in [("sknonlin._activations", TRANSCENDENTAL_NAMES),
                                      ("sknonlin._perceptron_kernels", PENALIZED_NAMES)]
                for name in names
            ]  # fmt: skip
            assert not any(kernel.is_ready for kernel in served)
    assert results["fallback"] == results["compiled"]


def test_small_inputs_with_other_options_do_not_import_numba(tmp_path):
    code = """
        import sys, warnings
        import numpy as np
        import sknonlin
        from sknonlin import _jit
        warnings.simplefilter("ignore")
        # first calls only: a slow machine may pass the compilation threshold
        _jit._COMPILE_AFTER_S = float("inf")
        X = np.random.default_rng(0).standard_normal((30, 3))
        y = np.argmax(X, axis=1)
        for dtype in [np.float32, np.float64]:
            Xd = X.astype(dtype)
            for activation in ["tanh", "logistic"]:
                sknonlin.TwoLayerReLURegressor(
                    5, activation=activation, max_iter=3, random_state=0
                ).fit(Xd, X[:, 1]).predict(Xd)
            for penalty in ["l2", "l1", "elasticnet"]:
                for average in [False, True]:
                    options = dict(penalty=penalty, average=average, max_iter=3)
                    sknonlin.Perceptron(**options).fit(Xd, y == 0).predict(Xd)
                    sknonlin.MulticlassPerceptron(**options).fit(Xd, y).predict(Xd)
        print("numba" in sys.modules)
    """
    out = _run_fresh(code, tmp_path, SKNONLIN_BACKGROUND_COMPILE="0")
    assert out.strip() == "False"


# -- penalized perceptron epochs on CSR rows ----------------------------------------


def _penalized_csr_args(rng, dtype, n_classes, penalty, alpha, options, layout):
    """Arguments of a penalized epoch on CSR rows (see ``_csr``): those of
    ``_penalized_args`` with the rows stored sparse instead."""
    make_dense_args = _penalized_args(rng, dtype, n_classes, penalty, alpha, options)
    n, d = 60, 5
    visit, index_dtype = layout
    data, indices, indptr = _csr(rng, n, d, dtype)
    indices, indptr = indices.astype(index_dtype), indptr.astype(index_dtype)
    if options[-1]:
        # a score that is not finite stops the epoch: that of row 37 (or of
        # the first row after it that stores a value)
        data[indptr[37]] = np.inf
    order = np.arange(n) if visit == "in order" else rng.permutation(n)

    def make_args():
        args = make_dense_args()
        return (data, indices, indptr, False, d, *args[5:8], order, *args[9:])

    return make_args


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("alpha", [1e-4, 0.05, 1.2])
@pytest.mark.parametrize("options", PENALIZED_OPTIONS)
@pytest.mark.parametrize("layout", [("in order", np.int32), ("shuffled", np.int64)])
def test_penalized_epochs_on_csr_rows(dtype, n_classes, penalty, alpha, options,
                                      layout):  # fmt: skip
    rng = np.random.default_rng(11 + n_classes)
    make_args = _penalized_csr_args(
        rng, dtype, n_classes, penalty, alpha, options, layout
    )
    kernel = _kernel("sknonlin._perceptron_kernels", PENALIZED_NAMES[n_classes != 2])
    assert kernel.fallback_entry.small(*make_args())
    _check_kernel("sknonlin._perceptron_kernels", kernel.__name__, make_args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_penalized_fits_are_the_same_on_fallbacks_and_compiled(
    kernels_on, dtype
):
    rng = np.random.default_rng(3)
    # unsorted columns, a column stored twice in a row, stored zeros and
    # empty rows, passed to the kernels as stored
    X = sparse.csr_matrix(_csr(rng, 50, 8, dtype), shape=(50, 8))
    y_binary = (X @ rng.standard_normal(8) > 0).astype(int)
    y_multi = rng.integers(0, 3, 50)
    cases = []
    for penalty, alpha in [("l2", 1e-3), ("l1", 1e-2), ("elasticnet", 0.1)]:
        options = dict(penalty=penalty, alpha=alpha, max_iter=8)
        cases += [
            (Perceptron(random_state=0, average=True, tol=None, **options), y_binary),
            (Perceptron(shuffle=False, tol=1e-3, **options), y_binary),
            (MulticlassPerceptron(random_state=1, average=True, tol=None, **options),
             y_multi),
            (MulticlassPerceptron(shuffle=False, fit_intercept=False, tol=1e-3,
                                  **options), y_multi),
        ]  # fmt: skip
    results = {}
    for path in ["fallback", "compiled"]:
        kernels_on(path)
        results[path] = []
        for estimator, y in cases:
            with warnings.catch_warnings():
                # max_iter is kept low: the fits need not converge
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X, y)
            results[path].append(_fitted_bits(estimator))
            results[path].append(estimator.predict(X[:7]).tobytes())
        if path == "fallback":
            for name in PENALIZED_NAMES:
                kernel = _kernel("sknonlin._perceptron_kernels", name)
                assert kernel.fallback is not None and not kernel.is_ready
    assert results["fallback"] == results["compiled"]


def test_small_sparse_penalized_fits_do_not_import_numba(tmp_path):
    code = """
        import sys, warnings
        import numpy as np
        from scipy import sparse
        import sknonlin
        from sknonlin import _jit
        warnings.simplefilter("ignore")
        # first calls only: a slow machine may pass the compilation threshold
        _jit._COMPILE_AFTER_S = float("inf")
        X = np.random.default_rng(0).standard_normal((100, 5))
        y = np.argmax(X, axis=1)
        X[np.abs(X) < 1] = 0.0
        for container in [sparse.csr_matrix, sparse.csr_array]:
            for dtype in [np.float32, np.float64]:
                Xs = container(X.astype(dtype))
                for penalty in ["l2", "l1", "elasticnet"]:
                    for average in [False, True]:
                        options = dict(penalty=penalty, average=average, max_iter=3)
                        sknonlin.Perceptron(**options).fit(Xs, y == 0).predict(Xs)
                        sknonlin.MulticlassPerceptron(**options).fit(Xs, y).predict(Xs)
        print("numba" in sys.modules)
    """
    out = _run_fresh(code, tmp_path, SKNONLIN_BACKGROUND_COMPILE="0")
    assert out.strip() == "False"
