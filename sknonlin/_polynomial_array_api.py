"""The polynomial feature map on array API inputs (a GPU tensor, for instance).

With ``array_api_dispatch=True`` and a dense input of a namespace other than NumPy,
:class:`~sknonlin.PolynomialFeatureMap` validates and computes in that namespace and
on the input's device. The plan of the map (the parent and the factor of each
term) is built once on the host; the products are then whole-array operations of
the namespace, one per run of terms that share their factor, on a term-major
buffer: term ``j`` is row ``j``, a contiguous vector over the samples. The output
is that buffer transposed (``order="F"``), or a C-ordered copy of it. Where the
library writes products in place (PyTorch, CuPy) and the runs are long, a
C-ordered monomial output is computed in its own columns instead.

Each term is computed with the same multiplications as the compiled NumPy path
(``column(parent) · factor``), so the values agree to the bit; the univariate
Legendre and Chebyshev factors follow the same three-term recurrences, evaluated
in float64 where the device has it, as the compiled path does, from the same
range map (computed on the host from the fitted range).

Transform reads the map as fitted (the private copies of the parameters that
fit stores), never the parameters themselves.
"""

import functools
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import validate_data

# The estimator's module imports this one: its helpers are looked up at call time.
from sknonlin import _polynomial
from sknonlin import _polynomial_kernels as kernels
from sknonlin._array_api import (
    check_same_namespace,
    float_dtypes,
    input_namespace,
    multiply_into,
    to_host,
)

# A private fitted attribute: an empty array on the namespace and device of the
# fit, the reference that transform checks its input against.
REFERENCE = "_array_api_reference"
# Attributes a fit may leave out; a new fit removes the ones it did not set.
_OPTIONAL_ATTRIBUTES = ("feature_names_in_", "data_min_", "data_max_", REFERENCE)


def fit_in_namespace(estimator, X):
    """Fit ``estimator`` on an array API ``X``; return whether it did.

    Returns False when ``X`` takes the NumPy path; the caller then fits as
    usual (and its commit forgets any earlier array API fit).
    """
    xp, device = input_namespace(X)
    if xp is None:
        return False
    # The fitted state (the map as fitted, counts, checks of the parameters and
    # of the range) is that of a NumPy fit of the same width: on one row for the
    # monomials, on the rows of the minima and the maxima for an orthogonal basis.
    host = clone(estimator)
    before = set(vars(host))
    X = validate_data(host, X, dtype=float_dtypes(xp, device), reset=True)
    if estimator.basis == "monomial":
        host.fit(np.zeros((1, X.shape[1])))
    else:
        data_min, data_max = xp.min(X, axis=0), xp.max(X, axis=0)
        host.fit(np.stack([to_host(data_min), to_host(data_max)]))
    state = {name: value for name, value in vars(host).items() if name not in before}
    if estimator.basis != "monomial":
        # the range lives with the data, in its namespace and on its device
        state["data_min_"], state["data_max_"] = data_min, data_max
    state[REFERENCE] = xp.zeros((0,), dtype=X.dtype, device=device)
    # commit
    for name in _OPTIONAL_ATTRIBUTES:
        if name not in state:
            estimator.__dict__.pop(name, None)
    estimator.__dict__.update(state)
    return True


def handles_transform(estimator, X):
    """Whether transform runs here: array API input, or a model fitted on one."""
    return hasattr(estimator, REFERENCE) or input_namespace(X)[0] is not None


def transform(estimator, X):
    """The feature map of ``X`` in its namespace, on its device."""
    xp, device = _check_namespace(estimator, X)
    X = validate_data(estimator, X, dtype=float_dtypes(xp, device), reset=False)
    max_degree, basis = estimator._max_degree, estimator._basis
    runs, n_rows = _runs(X.shape[1], max_degree, estimator._interaction_only, basis)
    # Overflow is reported by the warning below, as on the NumPy path; NumPy-based
    # namespaces would also warn on their own.
    with np.errstate(over="ignore", invalid="ignore"):
        if _in_output_columns(estimator, X, runs):
            XP = _products_in_columns(xp, X, runs, estimator, device)
            _warn_on_overflow(xp, estimator, X, XP, None, None, max_degree)
            return XP
        if basis == "monomial":
            factors = _transposed(xp, X, device)
            shift = scale = None
        else:
            shift, scale = _range_map(xp, estimator, X.dtype, device)
            factors = _univariate_factors(
                xp, X, shift, scale, max_degree, basis, device
            )
        terms = _products(xp, factors, runs, n_rows, device)
        XP = _output(xp, terms, estimator, device)
    _warn_on_overflow(xp, estimator, X, XP, shift, scale, max_degree)
    return XP


def _check_namespace(estimator, X):
    """Namespace and device of ``X``, which must be those of the fit."""
    xp, device = input_namespace(X)
    name = type(estimator).__name__
    if not hasattr(estimator, REFERENCE):
        raise ValueError(
            f"Inputs passed to {name}.transform() must use the same namespace "
            "and the same device as those passed to fit(): it was fitted on NumPy "
            f"arrays, and X is a {xp.__name__} array. Fit it on {xp.__name__} "
            "arrays, or convert X to NumPy."
        )
    check_same_namespace(X, estimator, attribute=REFERENCE, method="transform")
    if xp is None:
        raise ValueError(
            f"This {name} was fitted with array_api_dispatch=True on arrays of "
            "another namespace than NumPy; transform needs array_api_dispatch=True "
            "and an input of that namespace. Fit it again on NumPy data to "
            "transform NumPy data."
        )
    return xp, device


# How a C-ordered monomial output is computed where the library writes products
# in place: "auto" (by the runs' lengths, see _in_output_columns), "columns" or
# "term-major". A switch for benchmarks.
_C_ORDER_STRATEGY = "auto"
# Runs at least this long write whole 32-byte sectors of a float32 row.
_LONG_RUN = 8


def _in_output_columns(estimator, X, runs):
    """Whether to compute straight into the columns of a C-ordered output.

    Column slices of a row-major output are strided: a run of ``L`` terms
    reads and writes ``L`` consecutive values per row. Long runs (most terms
    when there are several features) use the memory well, and computing in
    place saves the transposing copy of the term-major buffer; runs of single
    terms (one feature, high degree) do not, and the term-major buffer is
    faster. Only for the monomial basis, all terms kept, and libraries that
    write a product in place.
    """
    if (
        estimator._order != "C"
        or estimator._basis != "monomial"
        or estimator._min_degree > 1
    ):
        return False
    if _C_ORDER_STRATEGY != "auto":
        return _C_ORDER_STRATEGY == "columns"
    if type(X).__module__.split(".")[0] not in ("torch", "cupy"):
        return False
    lengths = [run[-1] for run in runs]
    return 2 * sum(length for length in lengths if length >= _LONG_RUN) >= sum(lengths)


def _products_in_columns(xp, X, runs, estimator, device):
    """The monomial map computed in place in the columns of a C-ordered output.

    Term ``j`` of the plan is column ``j`` (with the bias) or ``j - 1``; the
    terms whose parent is the constant are copies of the features (``1 · x``).
    """
    n_bias = int(estimator._include_bias)
    offset = 1 - n_bias
    out = xp.empty(
        (X.shape[0], estimator.n_output_features_), dtype=X.dtype, device=device
    )
    if n_bias:
        out[:, 0] = 1
    for dest, parent, parent_step, factor, factor_step, length in runs:
        columns = slice(dest - offset, dest - offset + length)
        if factor_step:
            stop = factor + factor_step * (length - 1) + 1
            factor_columns = X[:, factor:stop:factor_step]
        else:
            factor_columns = X[:, factor : factor + 1]
        if parent == 0:
            # times the constant: the degree-one terms (a run never goes on
            # from the constant row to a term's row, see _runs)
            out[:, columns] = factor_columns
            continue
        start = parent - offset
        parents = out[:, start : start + (length if parent_step else 1)]
        multiply_into(parents, factor_columns, out[:, columns])
    return out


def _products(xp, factors, runs, n_rows, device):
    """The term-major buffer: row 0 is the constant 1 (the bias, and the parent
    of the terms that have none), row ``j >= 1`` the ``j``-th term of the plan."""
    terms = xp.empty((n_rows, factors.shape[1]), dtype=factors.dtype, device=device)
    terms[0, :] = 1
    for dest, parent, parent_step, factor, factor_step, length in runs:
        parents = terms[parent : parent + (length if parent_step else 1), :]
        if factor_step:
            stop = factor + factor_step * (length - 1) + 1
            factor_rows = factors[factor:stop:factor_step, :]
        else:
            factor_rows = factors[factor : factor + 1, :]
        multiply_into(parents, factor_rows, terms[dest : dest + length, :])
    return terms


def _transposed(xp, X, device):
    """A C-ordered copy of ``X.T``: feature ``f`` is row ``f``."""
    out = xp.empty((X.shape[1], X.shape[0]), dtype=X.dtype, device=device)
    out[...] = X.T
    return out


def _range_map(xp, estimator, dtype, device):
    """Shift and scale that map each feature's training range to [-1, 1].

    Those of the NumPy path, computed on the host from the fitted range (one
    value per feature each way), so that both paths use the same bits.
    """
    data_min, data_max = to_host(estimator.data_min_), to_host(estimator.data_max_)
    shift, scale = _polynomial._range_map(data_min, data_max)
    host_dtype = np.float32 if dtype == xp.float32 else np.float64
    return (
        xp.asarray(shift.astype(host_dtype), device=device),
        xp.asarray(scale.astype(host_dtype), device=device),
    )


def _univariate_factors(xp, X, shift, scale, max_power, basis, device):
    """``out[f * (max_power + 1) + p] = P_p(t_f)`` for every sample (term-major).

    ``t_f = (x_f - shift_f) · scale_f``, in the data's dtype. The recurrence is
    evaluated in float64 and rounded to the data's dtype at each degree, as the
    compiled kernel does; on a device without float64 it stays in float32.
    """
    n_samples, n_features = X.shape
    work = xp.float64 if xp.float64 in float_dtypes(xp, device) else X.dtype
    t = _transposed(xp, (X - shift) * scale, device)
    out = xp.empty((n_features, max_power + 1, n_samples), dtype=X.dtype, device=device)
    out[:, 0, :] = 1
    if max_power >= 1:
        out[:, 1, :] = t
    t = xp.astype(t, work)
    for p in range(1, max_power):
        current = xp.astype(out[:, p, :], work)
        previous = xp.astype(out[:, p - 1, :], work)
        if basis == "legendre":
            # (p + 1) P_{p+1} = (2p + 1) t P_p - p P_{p-1}
            value = ((2 * p + 1) * t * current - p * previous) / (p + 1)
        else:
            # T_{p+1} = 2 t T_p - T_{p-1}
            value = 2 * t * current - previous
        out[:, p + 1, :] = xp.astype(value, X.dtype)
    return xp.reshape(out, (n_features * (max_power + 1), n_samples))


def term_plan(n_features, max_degree, interaction_only, basis):
    """Parent and factor of every term of degree ``0..max_degree``, bias first.

    The terms, and the multiplication that computes each, are those of the
    compiled kernels (``monomial_block`` and ``orthogonal_block``) with the
    bias column: term ``j`` is ``term(parent[j]) · factor[factor[j]]``, where
    the factors are the features ``x_f`` for the monomial basis and
    ``P_p(t_f)`` at row ``f * (max_degree + 1) + p`` otherwise. Term 0 is the
    constant 1 (``parent = factor = -1``); a term whose parent is -1 is its
    factor alone. Returns two lists of ints.
    """
    starts = kernels.degree_starts(n_features, max_degree, interaction_only, 1)
    n_terms = int(starts[max_degree, n_features]) if max_degree else 1
    parent, factor = [-1] * n_terms, [-1] * n_terms
    stride = max_degree + 1
    monomial = basis == "monomial"
    if max_degree >= 1:
        factor[1 : 1 + n_features] = [
            f if monomial else f * stride + 1 for f in range(n_features)
        ]
    for m in range(2, max_degree + 1):
        for f in range(n_features):
            column = int(starts[m, f])
            for first, end, row in _segments(starts, m, f, interaction_only, monomial):
                if first < 0:
                    # x_f^m alone: a factor without a parent
                    factor[column] = row
                    column += 1
                    continue
                size = end - first
                parent[column : column + size] = range(first, end)
                factor[column : column + size] = [row] * size
                column += size
    return parent, factor


def _segments(starts, m, f, interaction_only, monomial):
    """The terms of degree ``m`` whose smallest feature is ``f``, as segments
    ``(first, end, factor)``: the terms ``first..end - 1`` of lower degrees
    times one factor of ``x_f`` (``first = -1``: the factor alone)."""
    n_features = starts.shape[1] - 1
    if monomial:
        first = starts[m - 1, f + 1] if interaction_only else starts[m - 1, f]
        return [(int(first), int(starts[m - 1, n_features]), f)]
    stride = starts.shape[0]
    segments = [] if interaction_only else [(-1, -1, f * stride + m)]
    for lead in range(1 if interaction_only else m - 1, 0, -1):
        first, end = starts[m - lead, f + 1], starts[m - lead, n_features]
        segments.append((int(first), int(end), f * stride + lead))
    return segments


@functools.lru_cache(maxsize=16)
def _runs(n_features, max_degree, interaction_only, basis):
    """The plan as runs of terms computed by one whole-array product each.

    A run ``(dest, parent, parent_step, factor, factor_step, length)`` computes
    rows ``dest .. dest + length - 1`` of the term-major buffer: row
    ``dest + i`` is row ``parent + i · parent_step`` times factor row
    ``factor + i · factor_step``. Either the parents advance one by one with
    one factor (``x_f`` times a block of the degree below), or one parent
    multiplies factors taken at a constant stride (the degree-one terms, whose
    parent is the constant row 0). A run never reads a row it writes.

    Returns the runs and the number of rows of the buffer.
    """
    # With the bias, term j of the plan is row j of the buffer, and row 0 is 1.
    parent, factor = term_plan(n_features, max_degree, interaction_only, basis)
    parent = [max(p, 0) for p in parent]
    n_rows = len(parent)
    runs = []
    j = 1
    while j < n_rows:
        p, f = parent[j], factor[j]
        parent_step = factor_step = 0
        length = 1
        if j + 1 < n_rows:
            dp, df = parent[j + 1] - p, factor[j + 1] - f
            if (dp, df) == (1, 0) or (dp == 0 and df > 0):
                parent_step, factor_step = dp, df
                while (
                    j + length < n_rows
                    and parent[j + length] - parent[j + length - 1] == dp
                    and factor[j + length] - factor[j + length - 1] == df
                    and (dp == 0 or p + length < j)
                ):
                    length += 1
        runs.append((j, p, parent_step, f, factor_step, length))
        j += length
    return tuple(runs), n_rows


def _output(xp, terms, estimator, device):
    """The output columns from the term-major buffer, in the fitted order."""
    n_output = estimator.n_output_features_
    n_bias = int(estimator._include_bias)
    n_samples = terms.shape[1]
    # the kept non-bias terms are the last rows (degrees min_degree..max_degree)
    first = terms.shape[0] - (n_output - n_bias)
    if first == 1:
        # every term is kept, and the constant row is the bias: one block
        kept = terms[1 - n_bias :, :]
        if estimator._order == "F":
            return kept.T
        out = xp.empty((n_samples, n_output), dtype=terms.dtype, device=device)
        out[...] = kept.T
        return out
    if estimator._order == "F":
        out = xp.empty((n_output, n_samples), dtype=terms.dtype, device=device)
        out[:n_bias, :] = 1
        out[n_bias:, :] = terms[first:, :]
        return out.T
    out = xp.empty((n_samples, n_output), dtype=terms.dtype, device=device)
    out[:, :n_bias] = 1
    out[:, n_bias:] = terms[first:, :].T
    return out


def _warn_on_overflow(xp, estimator, X, XP, shift, scale, max_degree):
    """The compiled path's overflow warning, with the same test."""
    if estimator._basis == "monomial":
        largest = float(xp.max(xp.abs(X)))
    else:
        # |P_p(t)| and |T_p(t)| are at most (2|t| + 1)^p
        extremes = xp.stack([xp.max(X, axis=0), xp.min(X, axis=0)])
        largest = 2 * float(xp.max(xp.abs(extremes - shift) * scale)) + 1
    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    if _polynomial._could_overflow(largest, max_degree, dtype) and not bool(
        xp.all(xp.isfinite(XP))
    ):
        warnings.warn(
            "Some polynomial features overflowed to infinity. Scale the "
            "input (for example with MinMaxScaler), lower the degree, or "
            "use basis='legendre', which maps each feature to [-1, 1].",
            RuntimeWarning,
            stacklevel=4,
        )
