"""The polynomial feature map φ(x): every monomial of total degree ≤ ``degree``."""

import collections.abc
import functools
import math
import os
import time
import warnings
from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.special import comb
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from sknonlin import _polynomial_kernels as kernels
from sknonlin._base import DocLinkMixin

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
    """Return ``(min_degree, max_degree)`` or raise a ``ValueError``."""
    if isinstance(degree, Integral):
        if degree == 0 and not include_bias:
            raise ValueError(
                "degree=0 with include_bias=False leaves no output feature: "
                "use degree >= 1 or include_bias=True."
            )
        return 0, int(degree)
    if isinstance(degree, collections.abc.Iterable) and len(degree) == 2:
        min_degree, max_degree = degree
        if not (
            isinstance(min_degree, Integral)
            and isinstance(max_degree, Integral)
            and 0 <= min_degree <= max_degree
        ):
            raise ValueError(
                "degree=(min_degree, max_degree) must be non-negative integers "
                f"with min_degree <= max_degree, got {degree}."
            )
        if max_degree == 0 and not include_bias:
            raise ValueError(
                "degree=(0, 0) with include_bias=False leaves no output feature: "
                "use max_degree >= 1 or include_bias=True."
            )
        return int(min_degree), int(max_degree)
    raise ValueError(
        "degree must be a non-negative int or a (min_degree, max_degree) tuple, "
        f"got {degree}."
    )


@functools.lru_cache(maxsize=16)
def _expansion_plan(n_features, max_degree, interaction_only, include_bias, basis):
    """Parent and factor of every term of degree ``0..max_degree``.

    Terms come in the column order of scikit-learn's ``PolynomialFeatures``:
    bias, then by degree, lexicographically within a degree. A monomial term
    ``x_a · (rest)`` (``a`` its smallest index) is ``column(rest) · x_a``, the
    same multiplication ``PolynomialFeatures`` does, so values agree to the
    bit. For an orthogonal basis the leading run ``x_a^p`` is split off
    instead: ``column(rest) · P_p(t_a)``.

    Returns read-only int64 arrays ``parent``, ``factor`` (index into the row
    of factors: ``f`` for monomials, ``f * (max_degree + 1) + p`` otherwise;
    -1 for the bias) and ``feature`` (the term's smallest feature index, -1
    for the bias).
    """
    n_bias = int(include_bias)
    n_total = n_bias + _count_output_features(
        n_features, 0, max_degree, interaction_only
    )
    parent = np.full(n_total, -1, dtype=np.int64)
    feature = np.full(n_total, -1, dtype=np.int64)
    # length of the run of the smallest feature at the front of each term
    lead = np.zeros(n_total, dtype=np.int64)
    # parent once that whole run is split off (orthogonal bases)
    rest = np.full(n_total, -1, dtype=np.int64)

    if max_degree >= 1:
        first = slice(n_bias, n_bias + n_features)
        feature[first] = np.arange(n_features)
        lead[first] = 1
    # starts[f]: first column, among the terms of the previous degree, whose
    # smallest feature is >= f (or > f for interaction_only).
    starts = list(range(n_bias, n_bias + n_features + 1))
    column = n_bias + n_features
    for _ in range(2, max_degree + 1):
        new_starts = []
        end = starts[-1]
        for f in range(n_features):
            begin = starts[f + 1] if interaction_only else starts[f]
            new_starts.append(column)
            size = end - begin
            if size <= 0:
                continue
            parents = np.arange(begin, end)
            block = slice(column, column + size)
            parent[block] = parents
            feature[block] = f
            same = feature[parents] == f
            lead[block] = np.where(same, lead[parents] + 1, 1)
            rest[block] = np.where(same, rest[parents], parents)
            column += size
        new_starts.append(column)
        starts = new_starts

    if basis == "monomial":
        factor = feature.copy()
    else:
        factor = np.where(feature >= 0, feature * (max_degree + 1) + lead, -1)
        parent = rest
    for array in (parent, factor, feature):
        array.setflags(write=False)
    return parent, factor, feature


def _segments(parent, factor):
    """Split a monomial plan into runs ``terms[d:d+L] = terms[p:p+L] * x_f``.

    Returns the runs' first column, parent, length and factor. Degree-one
    terms (no parent) form one run of consecutive features.
    """
    no_parent = parent < 0
    continues = np.where(
        no_parent[1:],
        no_parent[:-1] & (factor[1:] == factor[:-1] + 1),
        (parent[1:] == parent[:-1] + 1) & (factor[1:] == factor[:-1]),
    )
    continues &= (factor[1:] >= 0) & (factor[:-1] >= 0)
    starts = np.flatnonzero(np.r_[True, ~continues])
    lengths = np.diff(np.r_[starts, parent.shape[0]])
    return starts, parent[starts], lengths, factor[starts]


@functools.lru_cache(maxsize=16)
def _monomial_segments(n_features, max_degree, interaction_only, include_bias):
    """:func:`_segments` of a monomial plan, computed once per plan (read-only)."""
    parent, factor, _ = _expansion_plan(
        n_features, max_degree, interaction_only, include_bias, "monomial"
    )
    segments = _segments(parent, factor)
    for array in segments:
        array.setflags(write=False)
    return segments


@functools.lru_cache(maxsize=16)
def _kept_columns(n_features, max_degree, interaction_only, include_bias, n_output):
    """Columns of the full map (degrees ``0..max_degree``) that are output."""
    n_bias = int(include_bias)
    n_full = n_bias + _count_output_features(
        n_features, 0, max_degree, interaction_only
    )
    n_terms = n_output - n_bias
    keep = np.r_[np.arange(n_bias), np.arange(n_full - n_terms, n_full)].astype(
        np.int64
    )
    keep.setflags(write=False)
    return keep


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


def _like_input_sparse_api(result, X):
    """Return sparse ``result`` in the container API scikit-learn asks for."""
    interface = get_config().get("sparse_interface")
    if interface is None:
        want_array = isinstance(X, sparse.sparray)
    else:
        want_array = interface == "sparray"
    if want_array:
        return getattr(sparse, result.format + "_array")(result)
    return getattr(sparse, result.format + "_matrix")(result)


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
        Memory order of dense output. "C" is faster to compute; "F" may speed
        up an estimator that reads the output column by column.

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
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32)
        )
        self._min_degree, self._max_degree = _parse_degree(
            self.degree, self.include_bias
        )
        n_features = X.shape[1]
        self.n_output_features_ = int(self.include_bias) + _count_output_features(
            n_features, self._min_degree, self._max_degree, self.interaction_only
        )
        if self.n_output_features_ > np.iinfo(np.intp).max:
            raise ValueError(
                f"The map would have {self.n_output_features_} output features, "
                "more than an array can index. Lower the degree, use "
                "interaction_only=True, or select fewer input features."
            )
        if self.basis != "monomial":
            if sparse.issparse(X):
                raise ValueError(
                    f"basis={self.basis!r} needs dense input: its terms are not "
                    "zero where the input is zero. Use basis='monomial' or "
                    "convert X with X.toarray()."
                )
            self.data_min_ = X.min(axis=0)
            self.data_max_ = X.max(axis=0)
        return self

    @property
    def powers_(self):
        """Exponent of each input feature in each output term."""
        check_is_fitted(self)
        parent, _, feature = self._plan("monomial")
        powers = np.zeros((parent.shape[0], self.n_features_in_), dtype=np.int64)
        # terms come after their parents, so one pass in column order suffices
        for j in np.flatnonzero(feature >= 0):
            if parent[j] >= 0:
                powers[j] = powers[parent[j]]
            powers[j, feature[j]] += 1
        return powers[self._kept_columns()]

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
        symbol = _BASIS_SYMBOLS.get(self.basis)
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
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            order="C",
            reset=False,
        )
        if sparse.issparse(X):
            if self.basis != "monomial":
                raise ValueError(
                    f"basis={self.basis!r} needs dense input; convert X with "
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

    def _plan(self, basis):
        return _expansion_plan(
            self.n_features_in_,
            self._max_degree,
            bool(self.interaction_only),
            bool(self.include_bias),
            basis,
        )

    def _kept_columns(self):
        """Columns of the full map (degrees ``0..max_degree``) that are output."""
        return _kept_columns(
            self.n_features_in_,
            self._max_degree,
            bool(self.interaction_only),
            bool(self.include_bias),
            self.n_output_features_,
        )

    def _hint(self, sparse_input):
        advice = "Use a lower degree or interaction_only=True"
        if not sparse_input:
            advice += ", or pass sparse input if X is mostly zeros"
        return advice + "."

    def _transform_dense(self, X):
        n_samples = X.shape[0]
        shape = (n_samples, self.n_output_features_)
        _check_output_fits(
            shape,
            n_samples * self.n_output_features_ * X.dtype.itemsize,
            self._hint(sparse_input=False),
        )
        XP = np.empty(shape, dtype=X.dtype, order=self.order)
        if n_samples == 0 or self.n_output_features_ == 0:
            return XP, False
        parent, factor, _ = self._plan(self.basis)
        basis = _BASIS_CODES[self.basis]
        if basis == kernels.MONOMIAL:
            shift = scale = np.zeros(X.shape[1], dtype=X.dtype)
            max_power = 0
        else:
            half_range = (self.data_max_ - self.data_min_) / 2
            shift = (self.data_min_ + half_range).astype(X.dtype)
            # a constant feature maps to t = 0
            half_range[half_range == 0] = 1
            scale = (1 / half_range).astype(X.dtype)
            max_power = self._max_degree
        keep = self._kept_columns()
        segments = None
        if basis == kernels.MONOMIAL:
            segments = _monomial_segments(
                self.n_features_in_,
                self._max_degree,
                bool(self.interaction_only),
                bool(self.include_bias),
            )
        if (
            segments is not None
            and self.order == "C"
            and keep.shape[0] == parent.shape[0]
            # runs long enough to vectorise; else the blocked kernel is faster
            and parent.shape[0] >= 4 * segments[0].shape[0]
        ):
            kernels.monomial_rows(X, *segments, XP)
        else:
            kernels.polynomial_features(
                X,
                parent,
                factor,
                keep,
                shift,
                scale,
                basis,
                max_power,
                self.order == "C",
                XP,
            )
        largest = self._largest_factor(X, shift, scale)
        overflow = _could_overflow(largest, self._max_degree, X.dtype)
        return XP, overflow and not np.isfinite(XP).all()

    def _largest_factor(self, X, shift, scale):
        """A bound on the factors a term multiplies: ``|x|`` or ``|P_p(t)|``."""
        values = X.data if sparse.issparse(X) else X
        if values.size == 0:
            return 0.0
        if self.basis == "monomial":
            return float(np.abs(values).max())
        # |P_p(t)| and |T_p(t)| are at most (2|t| + 1)^p
        t = np.abs(np.vstack([X.max(axis=0), X.min(axis=0)]) - shift) * scale
        return 2 * float(t.max()) + 1

    def _transform_sparse(self, X):
        if X.format == "csc":
            XP, overflow = self._transform_sparse(X.tocsr())
            return _like_input_sparse_api(XP.tocsc(), X), overflow
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        n_samples, n_features = X.shape
        min_degree, max_degree = self._min_degree, self._max_degree
        lengths = kernels.csr_row_lengths(
            X.indptr,
            min_degree,
            max_degree,
            bool(self.interaction_only),
            bool(self.include_bias),
        )
        nnz = int(lengths.sum())
        big = max(nnz, self.n_output_features_) > np.iinfo(np.int32).max
        index_dtype = np.int64 if big else np.int32
        index_size = np.dtype(index_dtype).itemsize
        _check_output_fits(
            (n_samples, self.n_output_features_),
            nnz * (X.dtype.itemsize + index_size) + (n_samples + 1) * index_size,
            self._hint(sparse_input=True),
        )
        indptr = np.zeros(n_samples + 1, dtype=index_dtype)
        np.cumsum(lengths, out=indptr[1:])
        data = np.empty(nnz, dtype=X.dtype)
        indices = np.empty(nnz, dtype=index_dtype)

        # column where each degree's block starts
        block_offsets = np.zeros(max_degree + 1, dtype=np.int64)
        offset = int(self.include_bias)
        for k in range(max(min_degree, 1), max_degree + 1):
            block_offsets[k] = offset
            offset += _count_output_features(n_features, k, k, self.interaction_only)
        binom = _binomial_table(n_features + max_degree, max_degree)
        kernels.expand_csr(
            X.data,
            X.indices,
            X.indptr,
            n_features,
            min_degree,
            max_degree,
            bool(self.interaction_only),
            bool(self.include_bias),
            block_offsets,
            binom,
            data,
            indices,
            indptr,
        )
        XP = sparse.csr_matrix(
            (data, indices, indptr), shape=(n_samples, self.n_output_features_)
        )
        XP.has_sorted_indices = True
        largest = self._largest_factor(X, None, None)
        overflow = _could_overflow(largest, max_degree, X.dtype)
        overflow = overflow and not np.isfinite(data).all()
        return _like_input_sparse_api(XP, X), overflow

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _could_overflow(largest_factor, max_degree, dtype):
    """Whether a product of ``max_degree`` factors this large can overflow."""
    if largest_factor <= 1:
        return False
    return max_degree * np.log(largest_factor) >= np.log(np.finfo(dtype).max)


def _binomial_table(max_n, max_k):
    """``table[m, r] = C(m, r)`` for ``m <= max_n``, ``r <= max_k`` (int64)."""
    table = np.zeros((max_n + 1, max_k + 1), dtype=np.int64)
    table[:, 0] = 1
    for r in range(1, max_k + 1):
        # C(m, r) = sum over i < m of C(i, r - 1)
        table[1:, r] = np.cumsum(table[:-1, r - 1])
    return table
