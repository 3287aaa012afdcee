"""The polynomial feature map φ(x): every monomial of total degree ≤ ``degree``."""

import collections.abc
import math
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.special import comb
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sknonlin import _polynomial_array_api as array_api
from sknonlin import _polynomial_kernels as kernels
from sknonlin._base import DocLinkMixin
from sknonlin._compat import (
    ARRAY_API_AVAILABLE,
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    _openmp_effective_n_threads,
)
from sknonlin._polynomial_sparse import transform_sparse
from sknonlin._sparse import check_compressed_structure

_BASIS_CODES = {
    "monomial": kernels.MONOMIAL,
    "legendre": kernels.LEGENDRE,
    "chebyshev": kernels.CHEBYSHEV,
}
_BASIS_SYMBOLS = {"legendre": "P", "chebyshev": "T"}


def _count_output_features(n_features, min_degree, max_degree, interaction_only):
    """Number of non-bias terms of degree ``min_degree..max_degree`` (exact int)."""
    if interaction_only:
        return sum(
            comb(n_features, k, exact=True)
            for k in range(max(1, min_degree), min(max_degree, n_features) + 1)
        )
    total = comb(n_features + max_degree, max_degree, exact=True) - 1
    if min_degree > 1:
        total -= comb(n_features + min_degree - 1, min_degree - 1, exact=True) - 1
    return total


def _parse_degree(degree, include_bias):
    """Return ``(min_degree, max_degree)`` or raise a ``ValueError``.

    The messages are those of scikit-learn's ``PolynomialFeatures``, so that
    code catching its errors catches ours.
    """
    if isinstance(degree, Integral) and degree >= 0:
        if degree == 0 and not include_bias:
            raise ValueError(
                "Setting degree to zero and include_bias to False would result in"
                " an empty output array."
            )
        return 0, int(degree)
    if (
        not isinstance(degree, Integral)
        and isinstance(degree, collections.abc.Iterable)
        and len(degree) == 2
    ):
        min_degree, max_degree = degree
        if not (
            isinstance(min_degree, Integral)
            and isinstance(max_degree, Integral)
            and 0 <= min_degree <= max_degree
        ):
            raise ValueError(
                "degree=(min_degree, max_degree) must be non-negative integers "
                f"that fulfil min_degree <= max_degree, got {degree}."
            )
        if max_degree == 0 and not include_bias:
            raise ValueError(
                "Setting both min_degree and max_degree to zero and include_bias to"
                " False would result in an empty output array."
            )
        return int(min_degree), int(max_degree)
    raise ValueError(
        "degree must be a non-negative int or tuple (min_degree, max_degree), "
        f"got {degree}."
    )


def _too_many_outputs_message(
    n_output_features, n_features, min_degree, max_degree, interaction_only, bias
):
    """The message of ``PolynomialFeatures`` for an output an array cannot index."""
    return (
        "The output that would result from the current configuration would"
        f" have {n_output_features} features which is too large to be"
        f" indexed by {np.intp().dtype.name}. Please change some or all of the"
        " following:\n- The number of features in the input, currently"
        f" {n_features=}\n- The range of degrees to calculate, currently"
        f" [{min_degree}, {max_degree}]\n- Whether to include only"
        f" interaction terms, currently {interaction_only}\n- Whether to"
        f" include a bias term, currently {bias}."
    )


# Bytes of a row block's working set (its part of the output, the buffered
# terms and the factors): small enough to stay in a core's cache.
_BLOCK_BYTES = 256 * 1024
_MAX_BLOCK_ROWS = 256
# A block written in place in F order buffers only its factors, and writes one
# stretch of memory per output column: up to 2 MiB, a huge page, so that the
# page the system zeroes when the stretch is first touched is still in cache
# when the stretch is written (else each line is read back from memory).
_IN_PLACE_BUFFER_BYTES = 1024 * 1024
_IN_PLACE_STRETCH_BYTES = 2 * 1024 * 1024


def _block_rows(n_samples, row_width, itemsize, in_place=False):
    """Rows per block, so that a block's buffers take about ``_BLOCK_BYTES``.

    ``row_width`` is the number of buffered values per row. At least one row,
    however wide: the working buffers then take no more than one output row.
    With ``in_place`` (F order, no buffered terms), the buffer budget is
    ``_IN_PLACE_BUFFER_BYTES`` and each output column is written in stretches
    of at most ``_IN_PLACE_STRETCH_BYTES``.
    """
    if in_place:
        rows = min(
            _IN_PLACE_BUFFER_BYTES // max(row_width * itemsize, 1),
            _IN_PLACE_STRETCH_BYTES // itemsize,
        )
    else:
        rows = min(_BLOCK_BYTES // max(row_width * itemsize, 1), _MAX_BLOCK_ROWS)
    return int(max(1, min(rows, n_samples)))


# Output values up to which a transform looks for an overflow in its output
# directly, rather than first bounding the factors.
_SCAN_OUTPUT_VALUES = 4096

# The tables of degree starts of small maps, kept: a transform of a few rows
# would spend more time building its table than using it. A table is kept up
# to this many entries, and this many tables at most (a few KiB in all).
_KEPT_STARTS_ENTRIES = 256
_KEPT_STARTS_TABLES = 16
_kept_starts = {}


def _degree_starts(n_features, max_degree, interaction_only, n_bias):
    """:func:`~sknonlin._polynomial_kernels.degree_starts`, kept for small maps.

    The table is read only by the kernels.
    """
    key = (n_features, max_degree, interaction_only, n_bias)
    starts = _kept_starts.get(key)
    if starts is None:
        starts = kernels.degree_starts(*key)
        if starts.size <= _KEPT_STARTS_ENTRIES:
            if len(_kept_starts) >= _KEPT_STARTS_TABLES:
                _kept_starts.clear()
            _kept_starts[key] = starts
    return starts


# Output values below which a transform runs on the calling thread alone.
_PARALLEL_MIN_VALUES = 1 << 18


def _effective_n_threads():
    """Threads a transform may use: numba's thread count, within the limit
    that threadpoolctl (or OMP_NUM_THREADS) sets on OpenMP, so that a
    transform in a joblib or dask worker does not oversubscribe the cores."""
    # numba is imported where it is needed: the first large transform
    import numba

    return max(1, min(numba.get_num_threads(), _openmp_effective_n_threads()))


def _n_workers(n_values, n_samples, block_rows):
    """Threads for a transform of ``n_values`` output values: one if small."""
    if n_values < _PARALLEL_MIN_VALUES or n_samples < 2 * block_rows:
        return 1
    return min(_effective_n_threads(), -(-n_samples // block_rows))


def _run_in_row_chunks(rows, n_samples, block_rows, n_workers):
    """Call ``rows(start, stop)`` on ``n_workers`` chunks of whole blocks.

    The kernels release the GIL, so the chunks run in parallel; each value is
    computed by the same operations whatever the split, so the output is the
    same to the bit.
    """
    if n_workers == 1:
        rows(0, n_samples)
        return
    n_blocks = -(-n_samples // block_rows)
    chunk = -(-n_blocks // n_workers) * block_rows
    bounds = [(a, min(a + chunk, n_samples)) for a in range(0, n_samples, chunk)]
    # the calling thread takes the first chunk: one thread fewer to start
    with ThreadPoolExecutor(max_workers=len(bounds) - 1) as pool:
        futures = [pool.submit(rows, a, b) for a, b in bounds[1:]]
        rows(*bounds[0])
        for future in futures:
            future.result()


def _dense_transform_bytes(
    n_samples,
    n_outputs,
    n_buffered,
    n_factors,
    block_rows,
    n_workers,
    starts_shape,
    itemsize,
):
    """Bytes a dense transform allocates: output, per-worker buffers, tables.

    Each worker holds ``block_rows`` rows of ``n_buffered`` terms and of
    ``n_factors`` factors; the table of degree starts is int64.
    """
    output = n_samples * n_outputs * itemsize
    buffers = n_workers * block_rows * (n_buffered + n_factors) * itemsize
    table = starts_shape[0] * starts_shape[1] * 8
    return output + buffers + table


def _range_map(data_min, data_max):
    """Shift and scale mapping ``[data_min, data_max]`` to [-1, 1], per feature.

    ``t = (x - shift) * scale``. Half the range is ``(max - min) / 2``, or
    ``max / 2 - min / 2`` where ``max - min`` overflows (a range wider than
    the largest float): both round once, and agree wherever both are finite.
    A constant feature maps to ``t = 0``.
    """
    with np.errstate(over="ignore"):
        half_range = (data_max - data_min) / 2
    wide = ~np.isfinite(half_range)
    half_range[wide] = data_max[wide] / 2 - data_min[wide] / 2
    shift = data_min + half_range
    half_range[half_range == 0] = 1
    with np.errstate(over="ignore", divide="ignore"):
        scale = 1 / half_range
    return shift, scale


# The system's figure is read at most this often (seconds): reading it costs
# more than a small transform.
_MEMORY_READ_EVERY = 0.5
_memory_read = [-math.inf, None]  # when, and what


def _available_memory():
    """Bytes of memory available for a new array, or None where unknown."""
    now = time.monotonic()
    if now - _memory_read[0] >= _MEMORY_READ_EVERY:
        _memory_read[:] = [now, _read_available_memory()]
    return _memory_read[1]


def _read_available_memory():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _format_bytes(n_bytes):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.1f} {unit}" if unit != "bytes" else f"{n_bytes} bytes"
        n_bytes /= 1024
    return f"{n_bytes} bytes"  # pragma: no cover


def _check_output_fits(shape, n_bytes, hint):
    available = _available_memory()
    if available is not None and n_bytes > available:
        raise ValueError(
            f"The output of shape {shape} would take {_format_bytes(n_bytes)}, "
            f"more than the {_format_bytes(available)} of memory available. "
            f"{hint}"
        )


# set on the estimator by validate_data during fit
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")
# learned by fit for an orthogonal basis only
_RANGE_ATTRIBUTES = ("data_min_", "data_max_")


class PolynomialFeatureMap(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Polynomial feature map φ(x): all terms of total degree at most ``degree``.

    For one feature, φ(x) = [1, x, x², …, x^d]; for ``n_features`` features,
    every monomial ``x_1^{p_1} ⋯ x_n^{p_n}`` with ``p_1 + … + p_n ≤ d``. A linear
    model on φ(x) is a polynomial model of x: with degree 2 in two variables,
    φ(x) = [1, x1, x2, x1², x1·x2, x2²] makes XOR linearly separable.

    With ``basis="monomial"`` (the default) the output equals scikit-learn's
    :class:`~sklearn.preprocessing.PolynomialFeatures` with the same
    parameters: values, column order, ``powers_``, feature names, sparse
    formats. It is computed by compiled kernels that write each output value
    once. ``basis="legendre"`` or ``"chebyshev"`` replace each power
    ``x_f^p`` by an orthogonal polynomial of the feature rescaled to [-1, 1],
    which keeps high-degree design matrices well conditioned.

    Parameters
    ----------
    degree : int or tuple (min_degree, max_degree), default=2
        The largest total degree, or the range of total degrees, of the terms.
        With a tuple, only terms of degree ``min_degree..max_degree`` are
        produced (plus the bias column if ``include_bias``).

    interaction_only : bool, default=False
        If True, only products of distinct features: ``x1·x2`` but not ``x1²``.

    include_bias : bool, default=True
        If True, the first column is the constant term 1.

    order : {"C", "F"}, default="C"
        Memory order of dense output. "F" may speed up an estimator that
        reads the output column by column.

    basis : {"monomial", "legendre", "chebyshev"}, default="monomial"
        Univariate polynomials the terms are made of. "monomial" uses the
        powers ``x^p``. "legendre" and "chebyshev" use the Legendre
        polynomials ``P_p`` or the Chebyshev polynomials of the first kind
        ``T_p`` of each feature mapped from its training range to [-1, 1].
        They span the same functions as the monomials but are far better
        conditioned at high degree. They need dense input.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    n_output_features_ : int
        Number of output features D.

    powers_ : ndarray of shape (`n_output_features_`, `n_features_in_`)
        ``powers_[j, f]`` is the degree of feature ``f`` in output term ``j``.

    data_min_ : ndarray of shape (`n_features_in_`,)
        Per-feature minimum seen during fit. Only for an orthogonal ``basis``.

    data_max_ : ndarray of shape (`n_features_in_`,)
        Per-feature maximum seen during fit. Only for an orthogonal ``basis``.

    See Also
    --------
    sklearn.preprocessing.PolynomialFeatures : The same map with monomials.
    sklearn.preprocessing.SplineTransformer : Piecewise polynomial features.

    Notes
    -----
    The number of output features is

    .. math:: D = \\binom{n + d}{d}

    for ``n`` features and degree ``d`` (bias included), which grows quickly:
    :meth:`count_output_features` answers "D = ?" without data. A transform
    whose output would not fit in the memory available is refused with a
    ``ValueError`` before anything is allocated.

    Monomials of large inputs at high degree overflow and are badly
    conditioned; a warning suggests ``basis="legendre"`` or scaling when an
    output value overflows to infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from sknonlin import PolynomialFeatureMap
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> PolynomialFeatureMap(degree=2).fit_transform(X)
    array([[1., 0., 1., 0., 0., 1.],
           [1., 2., 3., 4., 6., 9.]])
    >>> PolynomialFeatureMap(degree=2).fit(X).get_feature_names_out()
    array(['1', 'x0', 'x1', 'x0^2', 'x0 x1', 'x1^2'], dtype=object)
    >>> PolynomialFeatureMap.count_output_features(2, degree=2)
    6
    """

    _parameter_constraints: dict = {
        "degree": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "interaction_only": ["boolean"],
        "include_bias": ["boolean"],
        "order": [StrOptions({"C", "F"})],
        "basis": [StrOptions(set(_BASIS_CODES))],
    }

    def __init__(
        self,
        degree=2,
        *,
        interaction_only=False,
        include_bias=True,
        order="C",
        basis="monomial",
    ):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order
        self.basis = basis

    @staticmethod
    def count_output_features(
        n_features, degree=2, *, interaction_only=False, include_bias=True
    ):
        """Number of output features D of the map, without data.

        Parameters
        ----------
        n_features : int
            Number of input features.

        degree : int or tuple (min_degree, max_degree), default=2
            As in the estimator.

        interaction_only : bool, default=False
            As in the estimator.

        include_bias : bool, default=True
            As in the estimator.

        Returns
        -------
        n_output_features : int
            The number of columns of the transformed data.

        Examples
        --------
        >>> from sknonlin import PolynomialFeatureMap
        >>> PolynomialFeatureMap.count_output_features(1, degree=37)
        38
        >>> PolynomialFeatureMap.count_output_features(10, degree=3)
        286
        """
        if not isinstance(n_features, Integral) or n_features < 0:
            raise ValueError(
                f"n_features must be a non-negative integer, got {n_features!r}."
            )
        min_degree, max_degree = _parse_degree(degree, include_bias)
        return int(include_bias) + _count_output_features(
            int(n_features), min_degree, max_degree, interaction_only
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the number of features and, for an orthogonal basis, their range.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        # a corrupted sparse structure is refused before anything reads it
        check_compressed_structure(X)
        if array_api.fit_in_namespace(self, X):
            return self
        # validate_data records the input's features on self: on failure they
        # are put back, so that a failed fit leaves the estimator as it was
        previous = {
            key: vars(self)[key] for key in _INPUT_ATTRIBUTES if key in vars(self)
        }
        try:
            X = validate_data(
                self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32)
            )
            fitted = self._fitted_state(X)
        except BaseException:
            for key in _INPUT_ATTRIBUTES:
                vars(self).pop(key, None)
            vars(self).update(previous)
            raise
        # commit: attributes of an earlier fit that no longer apply go too
        for key in (*_RANGE_ATTRIBUTES, array_api.REFERENCE):
            vars(self).pop(key, None)
        vars(self).update(fitted)
        return self

    def _fitted_state(self, X):
        """Everything ``transform`` needs, computed from X and the parameters."""
        min_degree, max_degree = _parse_degree(self.degree, self.include_bias)
        n_features = X.shape[1]
        interaction_only = bool(self.interaction_only)
        n_bias = int(bool(self.include_bias))
        n_terms = _count_output_features(
            n_features, min_degree, max_degree, interaction_only
        )
        n_output_features = n_bias + n_terms
        if n_output_features > np.iinfo(np.intp).max:
            raise ValueError(
                _too_many_outputs_message(
                    n_output_features,
                    n_features,
                    min_degree,
                    max_degree,
                    self.interaction_only,
                    self.include_bias,
                )
            )
        n_out_full = n_bias + _count_output_features(
            n_features, 0, max_degree, interaction_only
        )
        fitted = {
            "n_output_features_": n_output_features,
            # the parameters as fitted: transform reads these, never the
            # parameters, which set_params may have changed since
            "_min_degree": min_degree,
            "_max_degree": max_degree,
            "_interaction_only": interaction_only,
            "_include_bias": bool(n_bias),
            "_basis": self.basis,
            "_order": self.order,
            "_n_out_full": n_out_full,
            # terms of the degrees below min_degree end before this column
            "_first_kept": n_out_full - n_terms,
        }
        if self.basis != "monomial":
            if sparse.issparse(X):
                raise ValueError(
                    f"basis={self.basis!r} needs dense input: its terms are not "
                    "zero where the input is zero. Use basis='monomial' or "
                    "convert X with X.toarray()."
                )
            data_min, data_max = X.min(axis=0), X.max(axis=0)
            _, scale = _range_map(data_min, data_max)
            if not np.isfinite(scale).all():
                raise ValueError(
                    f"basis={self.basis!r} cannot map features "
                    f"{np.flatnonzero(~np.isfinite(scale)).tolist()} to [-1, 1]: "
                    "their range is too small for its inverse to be a finite "
                    "float. Scale X (for example with MinMaxScaler) first."
                )
            fitted["data_min_"], fitted["data_max_"] = data_min, data_max
        return fitted

    @property
    def powers_(self):
        """Exponent of each input feature in each output term."""
        check_is_fitted(self)
        n_features, max_degree = self.n_features_in_, self._max_degree
        n_bias = int(self._include_bias)
        starts = kernels.degree_starts(
            n_features, max_degree, self._interaction_only, n_bias
        )
        powers = np.zeros((self._n_out_full, n_features), dtype=np.int64)
        if max_degree >= 1:
            powers[n_bias : n_bias + n_features] = np.eye(n_features, dtype=np.int64)
        # the segments of monomial_terms: x_f times a run of the degree below
        for m in range(2, max_degree + 1):
            end = starts[m - 1, n_features]
            for f in range(n_features):
                first = starts[m - 1, f + int(self._interaction_only)]
                dest = slice(starts[m, f], starts[m, f] + end - first)
                powers[dest] = powers[first:end]
                powers[dest, f] += 1
        return np.concatenate([powers[:n_bias], powers[self._first_kept :]])

    def get_feature_names_out(self, input_features=None):
        """Output feature names, such as ``"x0^2 x1"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names. If None, ``feature_names_in_`` is used if
            defined, else ``["x0", "x1", ...]``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column. With an orthogonal basis a term is
            written as a product of ``P2(x0)`` (Legendre) or ``T2(x0)``
            (Chebyshev) factors.
        """
        powers = self.powers_
        input_features = _check_feature_names_in(self, input_features)
        symbol = _BASIS_SYMBOLS.get(self._basis)
        names = []
        for row in powers:
            parts = []
            for f in np.flatnonzero(row):
                name, power = input_features[f], int(row[f])
                if symbol is not None:
                    parts.append(f"{symbol}{power}({name})")
                elif power == 1:
                    parts.append(str(name))
                else:
                    parts.append(f"{name}^{power}")
            names.append(" ".join(parts) if parts else "1")
        return np.asarray(names, dtype=object)

    def transform(self, X):
        """Map each sample to its polynomial features φ(x).

        The map is the one fitted: parameters changed with ``set_params``
        since the last :meth:`fit` take effect at the next fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data. Sparse input gives sparse output in the same format
            (CSR or CSC); only products of stored values are computed.

        Returns
        -------
        XP : {ndarray, sparse matrix} of shape (n_samples, `n_output_features_`)
            The transformed data, of the input's float dtype.
        """
        check_is_fitted(self)
        if array_api.handles_transform(self, X):
            return array_api.transform(self, X)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            order="C",
            reset=False,
        )
        if sparse.issparse(X):
            if self._basis != "monomial":
                raise ValueError(
                    f"basis={self._basis!r} needs dense input; convert X with "
                    "X.toarray()."
                )
            XP, overflow = self._transform_sparse(X)
        else:
            XP, overflow = self._transform_dense(X)
        if overflow:
            warnings.warn(
                "Some polynomial features overflowed to infinity. Scale the "
                "input (for example with MinMaxScaler), lower the degree, or "
                "use basis='legendre', which maps each feature to [-1, 1].",
                RuntimeWarning,
                stacklevel=2,
            )
        return XP

    # -- helpers ---------------------------------------------------------

    def _hint(self, sparse_input):
        advice = "Use a lower degree or interaction_only=True"
        if not sparse_input:
            advice += ", or pass sparse input if X is mostly zeros"
        return advice + "."

    def _transform_dense(self, X):
        n_samples, n_features = X.shape
        n_bias, first_kept = int(self._include_bias), self._first_kept
        n_full = self._n_out_full
        n_outputs = n_full - first_kept + n_bias
        basis = _BASIS_CODES[self._basis]
        max_power = 0 if basis == kernels.MONOMIAL else self._max_degree
        n_factors = n_features * (max_power + 1)
        itemsize = X.dtype.itemsize
        all_degrees = first_kept == n_bias
        # row by row, in place, where the runs x_f * (terms of the degree
        # below) are long enough to vectorise along a C-ordered row; else
        # term by term over a block of rows, in place where the output holds
        # every degree (written once, in its final layout), through a buffer
        # of the block's terms otherwise
        n_runs = 1 + n_features * max(self._max_degree - 1, 0)
        by_row = (
            self._order == "C"
            and basis == kernels.MONOMIAL
            and all_degrees
            and n_full >= 4 * n_runs
        )
        in_place = all_degrees and not by_row
        # a block of a C-ordered output is one stretch of memory: it takes
        # the place of the buffered terms in the cache budget
        long_stretches = in_place and self._order == "F"
        buffered = n_factors if long_stretches else n_full + n_factors
        block_rows = _block_rows(n_samples, buffered, itemsize, long_stretches)
        if long_stretches and n_samples * n_full >= _PARALLEL_MIN_VALUES:
            # long blocks, but at least two for each thread
            per_thread = -(-n_samples // (2 * _effective_n_threads()))
            block_rows = max(1, min(block_rows, per_thread))
        n_workers = _n_workers(n_samples * n_full, n_samples, block_rows)
        starts_shape = (self._max_degree + 1, n_features + 1)
        _check_output_fits(
            (n_samples, n_outputs),
            _dense_transform_bytes(
                n_samples,
                n_outputs,
                0 if by_row or in_place else n_full,
                0 if by_row else n_factors,
                block_rows,
                n_workers,
                starts_shape,
                itemsize,
            ),
            self._hint(sparse_input=False),
        )
        XP = np.empty((n_samples, n_outputs), dtype=X.dtype, order=self._order)
        if n_samples == 0 or n_outputs == 0:
            return XP, False
        if basis == kernels.MONOMIAL:
            shift = scale = np.zeros(n_features, dtype=X.dtype)
        else:
            shift, scale = _range_map(self.data_min_, self.data_max_)
            shift, scale = shift.astype(X.dtype), scale.astype(X.dtype)
        starts = _degree_starts(
            n_features, self._max_degree, self._interaction_only, n_bias
        )

        def rows(row_start, row_stop):
            if by_row:
                kernels.monomial_rows(
                    X, row_start, row_stop, starts, self._interaction_only, n_bias, XP
                )
                return
            factors = np.empty((n_factors, block_rows), dtype=X.dtype)
            terms = XP.T if in_place else np.empty((n_full, block_rows), X.dtype)
            kernels.polynomial_features(
                X,
                row_start,
                row_stop,
                starts,
                self._interaction_only,
                n_bias,
                first_kept,
                shift,
                scale,
                basis,
                factors,
                terms,
                in_place,
                XP,
            )

        _run_in_row_chunks(rows, n_samples, block_rows, n_workers)
        # X is finite, so a value that is not comes from an overflow; a large
        # output is scanned only where the bound on its factors says it can
        if XP.size <= _SCAN_OUTPUT_VALUES:
            return XP, not np.isfinite(XP).all()
        largest = self._largest_factor(X, shift, scale)
        overflow = _could_overflow(largest, self._max_degree, X.dtype)
        return XP, overflow and not np.isfinite(XP).all()

    def _largest_factor(self, X, shift, scale):
        """A bound on the factors a term multiplies: ``|x|`` or ``|P_p(t)|``."""
        values = X.data if sparse.issparse(X) else X
        if values.size == 0:
            return 0.0
        if self._basis == "monomial":
            # two reductions, no temporary the size of X; NaN propagates
            return float(np.maximum(values.max(), -values.min()))
        # |P_p(t)| and |T_p(t)| are at most (2|t| + 1)^p
        t = np.abs(np.vstack([X.max(axis=0), X.min(axis=0)]) - shift) * scale
        return 2 * float(t.max()) + 1

    def _transform_sparse(self, X):
        interface = get_config().get("sparse_interface")
        if interface is None:
            sparray_output = isinstance(X, sparse.sparray)
        else:
            sparray_output = interface == "sparray"
        XP, overflow = transform_sparse(
            X,
            min_degree=self._min_degree,
            max_degree=self._max_degree,
            interaction_only=self._interaction_only,
            include_bias=self._include_bias,
            n_output_features=self.n_output_features_,
            sparray_output=sparray_output,
            check_fits=lambda shape, n_bytes: _check_output_fits(
                shape, n_bytes, self._hint(sparse_input=True)
            ),
        )
        return XP, overflow

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # on the array API path where scikit-learn has its helpers
        tags.array_api_support = ARRAY_API_AVAILABLE
        return tags


def _could_overflow(largest_factor, max_degree, dtype):
    """Whether a product of ``max_degree`` factors this large can overflow."""
    if largest_factor <= 1:
        return False
    return max_degree * np.log(largest_factor) >= np.log(np.finfo(dtype).max)
