"""Array API inputs (array-api-strict here; PyTorch and CuPy where installed)."""

import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils import check_random_state
from sklearn.utils._array_api import yield_namespace_device_dtype_combinations
from sklearn.utils._testing import _array_api_for_tests
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_input_and_values,
)

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
    _solvers,
    _two_layer_math,
)
from sknonlin import _polynomial_array_api as poly_array_api
from sknonlin import _two_layer_array_api as net

xps = pytest.importorskip("array_api_strict")

DISPATCH = {"array_api_dispatch": True}


def to_numpy(array):
    """A NumPy copy of an array of any namespace and device."""
    if hasattr(array, "cpu"):  # torch
        array = array.cpu()
    if hasattr(array, "get"):  # cupy
        return array.get()
    return np.array(np.from_dlpack(array), copy=True)


def namespace_name(array):
    return type(array).__module__.split(".")[0]


@pytest.fixture
def strict_device():
    # array-api-strict's second device: results must stay there
    return xps.Device("device1")


# --------------------------------------------------------------------- the map


POLY_PARAMS = [
    {"degree": 3},
    {"degree": (2, 3)},
    {"degree": (2, 3), "include_bias": False},
    {"degree": 1, "include_bias": False},
    {"degree": 0},
    {"degree": 4, "interaction_only": True},
    {"degree": (3, 4), "interaction_only": True, "include_bias": False},
    {"degree": 3, "order": "F"},
    {"degree": (2, 3), "order": "F"},
    {"degree": (2, 3), "order": "F", "include_bias": False},
]


@pytest.mark.parametrize("basis", ["monomial", "legendre", "chebyshev"])
@pytest.mark.parametrize("params", POLY_PARAMS, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_map_equals_numpy_path_bit_for_bit(basis, params, dtype, strict_device):
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(40, 3)).astype(dtype)
    # outside the training range too, where the orthogonal factors exceed 1
    X = (1.5 * rng.normal(size=(70, 3))).astype(dtype)
    expected = PolynomialFeatureMap(basis=basis, **params).fit(X_train).transform(X)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis=basis, **params)
        est.fit(xps.asarray(X_train, device=strict_device))
        out = est.transform(xps.asarray(X, device=strict_device))
    assert namespace_name(out) == "array_api_strict"
    assert out.device == strict_device
    assert out.dtype == (xps.float64 if dtype == np.float64 else xps.float32)
    result = to_numpy(out)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected, strict=True)


@pytest.mark.parametrize("strategy", ["columns", "term-major"])
@pytest.mark.parametrize("namespace", ["array_api_strict", "torch"])
@pytest.mark.parametrize(
    "n_features, degree, include_bias, interaction_only",
    [(1, 6, True, False), (1, 6, False, False), (4, 3, True, False),
     (5, 3, False, False), (4, 3, True, True), (3, 0, True, False)],
)  # fmt: skip
def test_c_order_strategies_equal_numpy_path(
    monkeypatch, strategy, namespace, n_features, degree, include_bias,
    interaction_only,
):  # fmt: skip
    # A C-ordered monomial output is computed either in its columns or in a
    # term-major buffer then transposed: the same products either way, those
    # of scikit-learn's PolynomialFeatures.
    xp, device = _array_api_for_tests(namespace, None, "float32")
    monkeypatch.setattr(poly_array_api, "_C_ORDER_STRATEGY", strategy)
    X = np.random.default_rng(8).normal(size=(23, n_features)).astype(np.float32)
    params = {
        "degree": degree, "include_bias": include_bias,
        "interaction_only": interaction_only,
    }  # fmt: skip
    expected = PolynomialFeatures(**params).fit_transform(X)
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(**params).fit_transform(xp.asarray(X, device=device))
    np.testing.assert_array_equal(to_numpy(out), expected, strict=True)


def test_c_order_strategy_by_run_length():
    # long runs (several features): in the output's columns; one feature at a
    # high degree (runs of one term): in a term-major buffer. The choice reads
    # the map as fitted.
    torch = pytest.importorskip("torch")
    many, one = torch.zeros((2, 10)), torch.zeros((2, 1))
    est = PolynomialFeatureMap(degree=3).fit(np.zeros((1, 10)))
    assert poly_array_api._in_output_columns(
        est, many, poly_array_api._runs(10, 3, False, "monomial")[0]
    )
    est = PolynomialFeatureMap(degree=37).fit(np.zeros((1, 1)))
    assert not poly_array_api._in_output_columns(
        est, one, poly_array_api._runs(1, 37, False, "monomial")[0]
    )
    est = PolynomialFeatureMap(degree=3, order="F").fit(np.zeros((1, 10)))
    assert not poly_array_api._in_output_columns(
        est.set_params(order="C"),
        many,
        poly_array_api._runs(10, 3, False, "monomial")[0],
    )


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(1, 6),
    n_features=st.integers(1, 4),
    degrees=st.tuples(st.integers(0, 5), st.integers(0, 5)).map(sorted),
    interaction_only=st.booleans(),
    include_bias=st.booleans(),
    order=st.sampled_from(["C", "F"]),
    basis=st.sampled_from(["monomial", "legendre", "chebyshev"]),
    float32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_map_equals_numpy_path_property(
    n_samples, n_features, degrees, interaction_only, include_bias, order, basis,
    float32, seed,
):  # fmt: skip
    min_degree, max_degree = degrees
    if max_degree == 0 and not include_bias:
        include_bias = True  # no output feature otherwise (a ValueError, tested)
    params = {
        "degree": (min_degree, max_degree), "interaction_only": interaction_only,
        "include_bias": include_bias, "order": order, "basis": basis,
    }  # fmt: skip
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(
        np.float32 if float32 else np.float64
    )
    if basis == "monomial":
        # scikit-learn's map: the same products
        expected = PolynomialFeatures(
            degree=(min_degree, max_degree), interaction_only=interaction_only,
            include_bias=include_bias, order=order,
        ).fit_transform(X)  # fmt: skip
    else:
        expected = PolynomialFeatureMap(**params).fit(X).transform(X)
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(**params).fit_transform(xps.asarray(X))
    np.testing.assert_array_equal(to_numpy(out), expected, strict=True)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("min_degree", [0, 1, 2, 3])
def test_map_hand_built_one_feature(order, min_degree):
    x = np.array([[-2.0], [0.5], [3.0]])
    powers = [x**p for p in range(max(min_degree, 1), 4)]
    expected = np.hstack([np.ones_like(x), *powers])
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(degree=(min_degree, 3), order=order)
        out = est.fit_transform(xps.asarray(x))
    np.testing.assert_array_equal(to_numpy(out), expected)


def test_map_hand_built_legendre_two_features():
    # the training range of each feature is [-1, 1], so t = x
    X = np.array([[-1.0, 1.0], [1.0, -1.0], [0.5, 0.25]])
    t0, t1 = X[:, :1], X[:, 1:]

    def p2(t):
        return (3 * t**2 - 1) / 2

    expected = np.hstack(
        [np.ones_like(t0), t0, t1, p2(t0), t0 * t1, p2(t1)],
    )
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=2, basis="legendre").fit_transform(
            xps.asarray(X)
        )
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(
    "params",
    [{"degree": 3}, {"degree": (2, 3), "include_bias": False}, {"degree": 2}],
    ids=str,
)
def test_map_equals_scikit_learn_array_api(params):
    # scikit-learn's PolynomialFeatures with dispatch on is the reference
    X = xps.asarray(np.random.default_rng(1).normal(size=(25, 4)))
    with sklearn.config_context(**DISPATCH):
        expected = PolynomialFeatures(**params).fit_transform(X)
        out = PolynomialFeatureMap(**params).fit_transform(X)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(expected))


@pytest.mark.parametrize("basis", ["monomial", "legendre"])
@pytest.mark.parametrize("n_features", [1, 2, 4])
@pytest.mark.parametrize("max_degree", [0, 1, 2, 5])
@pytest.mark.parametrize("interaction_only", [False, True])
def test_term_plan_builds_each_term_from_its_parent(
    basis, n_features, max_degree, interaction_only
):
    # oracle: the exponents of each term (powers_, which equals scikit-learn's)
    est = PolynomialFeatureMap(
        degree=max_degree, interaction_only=interaction_only, basis=basis
    ).fit(np.zeros((1, n_features)))
    powers = est.powers_
    parent, factor = poly_array_api.term_plan(
        n_features, max_degree, interaction_only, basis
    )
    assert len(parent) == len(factor) == len(powers)
    assert (parent[0], factor[0]) == (-1, -1)
    stride = max_degree + 1
    for j in range(1, len(powers)):
        # a monomial factor is one x_f; an orthogonal one P_p(t_f), p >= 1
        f, p = (factor[j], 1) if basis == "monomial" else divmod(factor[j], stride)
        assert 1 <= p <= max_degree
        rest = np.zeros(n_features, dtype=powers.dtype)
        if parent[j] >= 0:
            assert 0 < parent[j] < j
            rest = powers[parent[j]]
        # f is the smallest feature of the term: the parent holds none below
        assert not rest[:f].any()
        if basis != "monomial":
            # the whole run of x_f is split off
            assert rest[f] == 0
        expected = rest.copy()
        expected[f] += p
        np.testing.assert_array_equal(powers[j], expected)


@pytest.mark.parametrize(
    "param, value",
    [
        ("include_bias", False),
        ("interaction_only", True),
        ("basis", "chebyshev"),
        ("degree", 4),
        ("degree", (2, 3)),
        ("order", "F"),
    ],
)
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
def test_transform_uses_the_fitted_parameters(param, value, basis):
    X = xps.asarray(np.random.default_rng(0).uniform(-2, 3, size=(20, 3)))
    with sklearn.config_context(**DISPATCH):
        fitted = PolynomialFeatureMap(degree=3, basis=basis).fit(X)
        expected = to_numpy(fitted.transform(X))
        fitted.set_params(**{param: value})
        # set_params after fit changes nothing until the next fit
        np.testing.assert_array_equal(to_numpy(fitted.transform(X)), expected)
        refitted = to_numpy(fitted.fit(X).transform(X))
    fresh = PolynomialFeatureMap(degree=3, basis=basis).set_params(**{param: value})
    np.testing.assert_array_equal(refitted, fresh.fit_transform(to_numpy(X)))


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_range_wider_than_the_largest_float(basis, dtype):
    # max - min overflows: the overflow-safe range map of the NumPy path
    big = np.finfo(dtype).max
    X = np.array([[-big, 0.5], [big, 1.5], [0.25 * big, 1.0]], dtype=dtype)
    expected = PolynomialFeatureMap(degree=3, basis=basis).fit_transform(X)
    assert np.isfinite(expected).all()
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=3, basis=basis).fit_transform(xps.asarray(X))
    np.testing.assert_array_equal(to_numpy(out), expected, strict=True)


def test_orthogonal_basis_refuses_a_range_too_small_to_invert():
    X = xps.asarray(np.array([[0.0, 1.0], [1e-310, 2.0]]))
    est = PolynomialFeatureMap(basis="legendre")
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match=r"cannot map features \[0\] to"):
            est.fit(X)
    assert not vars(est).keys() - set(est.get_params())


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_range_map_lives_in_the_namespace(basis, strict_device):
    X = np.array([[0.0, -3.0], [2.0, 5.0], [1.0, 1.0]], dtype=np.float32)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis=basis).fit(
            xps.asarray(X, device=strict_device)
        )
    for name, expected in (("data_min_", [0.0, -3.0]), ("data_max_", [2.0, 5.0])):
        value = getattr(est, name)
        assert namespace_name(value) == "array_api_strict"
        assert value.device == strict_device
        assert value.dtype == xps.float32
        np.testing.assert_array_equal(to_numpy(value), expected)


def test_numpy_input_takes_the_compiled_path(monkeypatch):
    X = np.random.default_rng(2).normal(size=(30, 3))
    expected = PolynomialFeatureMap(degree=3, basis="legendre").fit(X).transform(X)

    def fail(*args, **kwargs):
        raise AssertionError("NumPy input reached the array API path")

    monkeypatch.setattr(poly_array_api, "transform", fail)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(degree=3, basis="legendre").fit(X)
        out = est.transform(X)
    assert isinstance(out, np.ndarray)
    assert isinstance(est.data_min_, np.ndarray)
    np.testing.assert_array_equal(out, expected, strict=True)


def test_transform_in_another_namespace_is_refused():
    X = np.random.default_rng(3).normal(size=(10, 2))
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap().fit(xps.asarray(X))
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.transform(X)
    with pytest.raises(ValueError, match="array_api_dispatch=True"):
        est.transform(X)
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap().fit(X)
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.transform(xps.asarray(X))


def test_refit_on_numpy_forgets_the_namespace():
    X = np.random.default_rng(4).normal(size=(10, 2))
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis="chebyshev").fit(xps.asarray(X))
        est.fit(X)
        out = est.transform(X)
    assert isinstance(est.data_min_, np.ndarray)
    np.testing.assert_array_equal(
        out, PolynomialFeatureMap(basis="chebyshev").fit(X).transform(X)
    )


def test_map_errors_on_array_api_input():
    X = xps.asarray(np.ones((5, 2)))
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match="min_degree <= max_degree"):
            PolynomialFeatureMap(degree=(3, 1)).fit(X)
        est = PolynomialFeatureMap().fit(X)
        with pytest.raises(ValueError, match="features"):
            est.transform(xps.asarray(np.ones((5, 3))))
        bad = np.ones((5, 2))
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            est.transform(xps.asarray(bad))


def test_failed_fit_leaves_the_estimator_as_it_was():
    X = np.array([[0.0, 1.0], [2.0, 4.0]])
    with sklearn.config_context(**DISPATCH):
        est = PolynomialFeatureMap(basis="legendre").fit(xps.asarray(X))
        before = dict(vars(est))
        bad = np.ones((3, 5))
        bad[1, 1] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            est.fit(xps.asarray(bad))
    assert vars(est).keys() == before.keys()
    for name, value in before.items():
        assert vars(est)[name] is value


def test_input_is_not_modified():
    X_np = np.random.default_rng(5).normal(size=(12, 3))
    X = xps.asarray(X_np, copy=True)
    with sklearn.config_context(**DISPATCH):
        PolynomialFeatureMap(degree=3, basis="legendre").fit(X).transform(X)
    np.testing.assert_array_equal(to_numpy(X), X_np)


def test_overflow_warns_like_the_numpy_path():
    X = np.array([[1e20, 1.0], [2.0, 3.0]], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflowed"):
        PolynomialFeatureMap(degree=3).fit_transform(X)
    with sklearn.config_context(**DISPATCH):
        with pytest.warns(RuntimeWarning, match="overflowed"):
            PolynomialFeatureMap(degree=3).fit_transform(xps.asarray(X))


def _poly_estimators():
    for basis in ("monomial", "legendre"):
        yield PolynomialFeatureMap(degree=3, basis=basis)
    yield PolynomialFeatureMap(degree=(2, 3), include_bias=False, order="F")


@pytest.mark.parametrize(
    "array_namespace, device_name, dtype_name",
    list(yield_namespace_device_dtype_combinations()),
)
@pytest.mark.parametrize(
    "check", [check_array_api_input, check_array_api_input_and_values]
)
@pytest.mark.parametrize("estimator", list(_poly_estimators()), ids=repr)
def test_scikit_learn_array_api_checks(
    estimator, check, array_namespace, device_name, dtype_name
):
    check(
        type(estimator).__name__,
        estimator,
        array_namespace=array_namespace,
        device_name=device_name,
        dtype_name=dtype_name,
    )


@pytest.mark.parametrize("device_name", ["cpu", "cuda"])
@pytest.mark.parametrize("basis", ["monomial", "legendre"])
def test_map_on_torch(device_name, basis):
    xp, device = _array_api_for_tests("torch", device_name, "float32")
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    expected = PolynomialFeatureMap(degree=4, basis=basis).fit(X).transform(X)
    X_xp = xp.asarray(X, device=device)
    with sklearn.config_context(**DISPATCH):
        out = PolynomialFeatureMap(degree=4, basis=basis).fit_transform(X_xp)
    assert out.device == X_xp.device
    np.testing.assert_array_equal(to_numpy(out), expected, strict=True)


# ------------------------------------------------------------ the perceptrons


@pytest.mark.parametrize("Estimator", [Perceptron, MulticlassPerceptron])
def test_perceptrons_refuse_array_api_input(Estimator):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)  # separable: the fits converge
    with sklearn.config_context(**DISPATCH):
        est = Estimator()
        with pytest.raises(ValueError, match="does not support array API inputs"):
            est.fit(xps.asarray(X), y)
        assert not hasattr(est, "coef_")
        with pytest.raises(ValueError, match="y is a array_api_strict array"):
            est.fit(X, xps.asarray(y))
        with pytest.raises(ValueError, match="sample_weight is a array_api_strict"):
            est.fit(X, y, sample_weight=xps.asarray(np.ones(20)))
        with pytest.raises(ValueError, match="does not support array API inputs"):
            est.partial_fit(xps.asarray(X), y, classes=[0, 1])
        est.fit(X, y)  # NumPy input still works with dispatch on
        for method in (est.predict, est.decision_function):
            with pytest.raises(ValueError, match="does not support array API"):
                method(xps.asarray(X))
        with pytest.raises(ValueError, match="does not support array API"):
            est.score(xps.asarray(X), y)
        np.testing.assert_array_equal(est.predict(X), Estimator().fit(X, y).predict(X))


# ------------------------------------------------------------------ the network

ACTIVATIONS = ["relu", "identity", "tanh", "logistic"]


def _network(n_features=5, n_hidden=7, n_outputs=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(41, n_features)).astype(dtype)
    Y = rng.normal(size=(41, n_outputs)).astype(dtype)
    sw = rng.uniform(0, 2, size=41).astype(dtype)
    sw[3] = 0
    params = (
        rng.normal(size=(n_features, n_hidden)).astype(dtype),
        rng.normal(size=n_hidden).astype(dtype),
        rng.normal(size=(n_hidden, n_outputs)).astype(dtype),
        rng.normal(size=n_outputs).astype(dtype),
    )
    return X, Y, sw, params


def _strict(*arrays, device=None):
    return tuple(xps.asarray(a, device=device) for a in arrays)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_loss_grad_equals_numpy_math(activation, n_outputs):
    X, Y, sw, params = _network(n_outputs=n_outputs)
    grads = tuple(
        np.empty_like(p) for p in (params[0], params[1], params[2], params[3])
    )
    ws = _two_layer_math.Workspace(16, X.shape[1], 7, n_outputs, X.dtype)
    expected_loss = _two_layer_math.loss_grad(X, Y, sw, params, grads, activation, ws)
    loss, got = net.loss_grad(xps, *_strict(X, Y, sw), _strict(*params), activation)
    assert loss.shape == ()
    np.testing.assert_allclose(float(loss), expected_loss, rtol=1e-12)
    for g, e in zip(got, grads, strict=True):
        np.testing.assert_allclose(to_numpy(g), e, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_loss_grad_matches_finite_differences(activation):
    X, Y, sw, params = _network(n_outputs=2, seed=1)
    X_, Y_, sw_ = _strict(X, Y, sw)
    _, grads = net.loss_grad(xps, X_, Y_, sw_, _strict(*params), activation)
    rng = np.random.default_rng(2)
    eps = 1e-6
    for k, (param, grad) in enumerate(zip(params, grads, strict=True)):
        grad = to_numpy(grad)
        for index in rng.choice(param.size, size=min(6, param.size), replace=False):
            index = np.unravel_index(index, param.shape)
            values = []
            for sign in (1, -1):
                moved = [p.copy() for p in params]
                moved[k][index] += sign * eps
                loss, _ = net.loss_grad(xps, X_, Y_, sw_, _strict(*moved), activation)
                values.append(float(loss))
            numeric = (values[0] - values[1]) / (2 * eps)
            assert numeric == pytest.approx(grad[index], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_equals_numpy_math(activation):
    X, _, _, (W1, b1, W2, b2) = _network()
    expected = _two_layer_math.predict(X, W1, b1, W2, b2, activation)
    got = net.forward(xps, *_strict(X, W1, b1, W2, b2), activation)
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_math_keeps_float32(dtype, activation, strict_device):
    X, Y, sw, params = _network(dtype=dtype)
    args = _strict(X, Y, sw, device=strict_device)
    params = _strict(*params, device=strict_device)
    loss, grads = net.loss_grad(xps, *args, params, activation)
    expected = xps.float32 if dtype == np.float32 else xps.float64
    for array in (loss, *grads, net.forward(xps, args[0], *params, activation)):
        assert array.dtype == expected
        assert array.device == strict_device
    theta = net.flatten(xps, *params)
    grad = net.flatten(xps, *grads)
    state = {"n_steps": 0, "m": xps.zeros_like(theta), "v": xps.zeros_like(theta)}
    for solver in ("gd", "sgd", "adam"):
        settings = {
            "solver": solver, "activation": activation, "learning_rate": 1e-3,
            "alpha": 1e-2, "momentum": 0.9, "batch_size": 8,
        }  # fmt: skip
        state["velocity"] = xps.zeros_like(theta)
        new, _, loss = net.epoch(
            xps, *args, theta, state, sizes=(5, 7, 2), settings=settings
        )
        assert new.dtype == expected and loss.dtype == expected
        assert new.device == strict_device
    assert grad.dtype == expected


def test_flatten_is_the_numpy_layout():
    _, _, _, params = _network(n_features=3, n_hidden=4, n_outputs=2)
    theta = to_numpy(net.flatten(xps, *_strict(*params)))
    W1, b1, W2, b2 = params
    np.testing.assert_array_equal(
        theta, np.concatenate([W1.ravel(), W2.ravel(), b1, b2])
    )
    back = net.unflatten(xps, xps.asarray(theta), 3, 4, 2)
    for got, expected in zip(back, params, strict=True):
        np.testing.assert_array_equal(to_numpy(got), expected)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_steps_equal_numpy_solvers(alpha):
    rng = np.random.default_rng(3)
    theta, grad = rng.normal(size=50), rng.normal(size=50)
    velocity, m, v = rng.normal(size=50), rng.normal(size=50), rng.uniform(size=50)
    n_weights, rate = 30, 0.05
    t_, g_ = _strict(theta, grad)

    expected = theta.copy()
    penalty = _solvers.gd_step(expected, grad.copy(), n_weights, alpha, rate)
    got, got_penalty = net.gd_step(xps, t_, g_, n_weights, alpha, rate)
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-14)
    assert float(got_penalty) == pytest.approx(penalty, rel=1e-13)

    expected, expected_v = theta.copy(), velocity.copy()
    penalty = _solvers.momentum_step(
        expected, grad.copy(), n_weights, alpha, rate, 0.9, expected_v
    )
    got, got_v, got_penalty = net.momentum_step(
        xps, t_, g_, n_weights, alpha, rate, 0.9, xps.asarray(velocity)
    )
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-14)
    np.testing.assert_allclose(to_numpy(got_v), expected_v, rtol=1e-14)
    assert float(got_penalty) == pytest.approx(penalty, rel=1e-13)

    expected, expected_m, expected_v = theta.copy(), m.copy(), v.copy()
    penalty = _solvers.adam_step(
        expected, grad.copy(), n_weights, alpha, rate, 7, expected_m, expected_v
    )
    got, got_m, got_v, got_penalty = net.adam_step(
        xps, t_, g_, n_weights, alpha, rate, 7, xps.asarray(m), xps.asarray(v)
    )
    for g, e in ((got, expected), (got_m, expected_m), (got_v, expected_v)):
        np.testing.assert_allclose(to_numpy(g), e, rtol=1e-13)
    assert float(got_penalty) == pytest.approx(penalty, rel=1e-13)


def _standardized(y, sw):
    """The NumPy path's target standardization, written out."""
    weights = sw / sw.sum()
    mean = weights @ y
    scale = float(np.sqrt(np.mean(weights @ (y - mean) ** 2)))
    return (y - mean) / scale, mean, scale


@pytest.mark.parametrize(
    "solver, batch_size, shuffle",
    [("adam", 16, True), ("sgd", 16, True), ("adam", 10, False), ("gd", "auto", True)],
)
def test_one_epoch_equals_the_numpy_estimator(solver, batch_size, shuffle):
    # Same random_state: same initial weights (drawn on the host) and same
    # shuffling, so one epoch gives the NumPy estimator's parameters to rounding.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = np.column_stack([np.abs(X[:, 0]), X[:, 1] * X[:, 2]])
    sw = rng.uniform(0.5, 2, size=50)
    params = {
        "n_hidden": 6, "solver": solver, "batch_size": batch_size, "alpha": 0.01,
        "shuffle": shuffle, "random_state": 0, "learning_rate": 0.01,
    }  # fmt: skip
    est = TwoLayerReLURegressor(**params, max_iter=1)
    if solver == "gd":
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y, sample_weight=sw)
    else:
        est.partial_fit(X, y, sample_weight=sw)

    random = check_random_state(0)
    theta = net.initial_theta(3, 6, 2, "relu", np.float64, random)
    size = 50 if batch_size == "auto" else batch_size
    order = random.permutation(50) if shuffle and solver != "gd" else None
    Y, mean, scale = _standardized(y, sw)
    zeros = xps.zeros((theta.size,), dtype=xps.float64)
    state = {"n_steps": 0, "velocity": zeros, "m": zeros, "v": zeros}
    settings = {
        "solver": solver, "activation": "relu", "learning_rate": 0.01,
        "alpha": 0.01 / float(sw.sum()), "momentum": 0.9, "batch_size": size,
    }  # fmt: skip
    theta, state, loss = net.epoch(
        xps, *_strict(X, Y, sw), xps.asarray(theta), state, sizes=(3, 6, 2),
        settings=settings, order=None if order is None else xps.asarray(order),
    )  # fmt: skip
    W1, b1, W2, b2 = (to_numpy(a) for a in net.unflatten(xps, theta, 3, 6, 2))
    np.testing.assert_allclose(W1, est.W1_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b1, est.b1_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W2 * scale, est.w2_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b2 * scale + mean, est.b2_, rtol=1e-10, atol=1e-12)
    assert float(loss) * scale**2 == pytest.approx(est.loss_curve_[0], rel=1e-10)
    assert state["n_steps"] == (1 if solver == "gd" else -(-50 // size))


@pytest.fixture(scope="module")
def fitted_networks():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 4))
    y1 = np.abs(X[:, 0]) + X[:, 1]
    y2 = np.column_stack([y1, X[:, 2] ** 2])
    models = {}
    for name, y in (("1d", y1), ("2d", y2)):
        for dtype in (np.float64, np.float32):
            reg = TwoLayerReLURegressor(
                8, solver="lbfgs", alpha=0.1, max_iter=2000, random_state=0
            )
            models[name, dtype] = reg.fit(X.astype(dtype), y.astype(dtype))
    return X, y1, y2, models


@pytest.mark.parametrize("target", ["1d", "2d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_and_loss_gradient_on_array_api_input(
    fitted_networks, target, dtype, strict_device
):
    X, y1, y2, models = fitted_networks
    reg = models[target, dtype]
    y = y1 if target == "1d" else y2
    X, y = X.astype(dtype), y.astype(dtype)
    sw = np.linspace(0.5, 1.5, X.shape[0]).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    X_, y_, sw_ = _strict(X, y, sw, device=strict_device)
    with sklearn.config_context(**DISPATCH):
        pred = reg.predict(X_)
        loss, grads = reg.loss_gradient(X_, y_, sample_weight=sw_)
    assert pred.device == strict_device
    np.testing.assert_allclose(to_numpy(pred), reg.predict(X), rtol=rtol, atol=rtol)
    expected_loss, expected = reg.loss_gradient(X, y, sample_weight=sw)
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected_loss, rel=rtol)
    assert sorted(grads) == sorted(expected)
    for name, value in grads.items():
        assert value.device == strict_device
        assert value.shape == np.shape(expected[name])
        np.testing.assert_allclose(
            to_numpy(value), expected[name], rtol=10 * rtol, atol=10 * rtol
        )


def test_loss_gradient_errors_on_array_api_input(fitted_networks):
    X, y1, _, models = fitted_networks
    reg = models["1d", np.float64]
    X_ = xps.asarray(X)
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match="y must have 80 rows"):
            reg.loss_gradient(X_, xps.asarray(y1[:10]))
        with pytest.raises(ValueError, match="1 output"):
            reg.loss_gradient(X_, xps.asarray(np.column_stack([y1, y1])))
        bad = y1.copy()
        bad[0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            reg.loss_gradient(X_, xps.asarray(bad))
        with pytest.raises(ValueError, match="at least one non-zero"):
            reg.loss_gradient(X_, xps.asarray(y1), sample_weight=xps.zeros(80))
        with pytest.raises(ValueError, match="features"):
            reg.predict(xps.asarray(X[:, :3]))


def test_lbfgs_refuses_array_api_input(fitted_networks):
    X, y1, _, _ = fitted_networks
    reg = TwoLayerReLURegressor(4, solver="lbfgs", random_state=0, max_iter=5000)
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match="solver='lbfgs' does not support array"):
            reg.fit(xps.asarray(X), y1)
        assert not hasattr(reg, "W1_")
        # y follows X: NumPy X with a y of another namespace trains on the host
        reg.fit(X, xps.asarray(y1))
    expected = TwoLayerReLURegressor(
        4, solver="lbfgs", random_state=0, max_iter=5000
    ).fit(X, y1)
    np.testing.assert_array_equal(reg.W1_, expected.W1_)


def _training_data(n_samples=90, n_outputs=1, seed=9):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 4))
    y = np.abs(X[:, 0]) + X[:, 1] * X[:, 2]
    if n_outputs == 2:
        y = np.column_stack([y, np.sin(X[:, 3])])
    sw = rng.uniform(0.5, 2.0, size=n_samples)
    sw[4] = 0.0
    return X, 50 + 10 * y, sw


def _numpy_copy(value):
    return to_numpy(value) if namespace_name(value) != "numpy" else np.asarray(value)


def _assert_network_equal(got, expected, rtol):
    for name in ("W1_", "b1_", "w2_", "b2_"):
        np.testing.assert_allclose(
            _numpy_copy(getattr(got, name)), getattr(expected, name),
            rtol=rtol, atol=rtol, err_msg=name,
        )  # fmt: skip
    for name in ("loss_curve_", "validation_loss_curve_", "validation_scores_"):
        curve, reference = getattr(got, name), getattr(expected, name)
        if reference is None:
            assert curve is None
            continue
        assert all(type(value) is float for value in curve)
        np.testing.assert_allclose(curve, reference, rtol=rtol, err_msg=name)
    for name in ("n_iter_", "t_", "n_outputs_", "n_features_in_", "y_scale_"):
        assert getattr(got, name) == getattr(expected, name), name


TRAINING_PARAMS = [
    {"solver": "gd", "learning_rate": 0.05},
    {"solver": "sgd", "batch_size": 16},
    {"solver": "sgd", "batch_size": 16, "shuffle": False, "alpha": 0.5},
    {"solver": "adam", "batch_size": 20},
    {"solver": "adam", "early_stopping": True, "validation_fraction": 0.2},
    {"solver": "adam", "activation": "tanh", "tol": 0.0, "n_iter_no_change": 3},
]


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("params", TRAINING_PARAMS, ids=str)
def test_fit_in_namespace_equals_numpy_fit(params, n_outputs, strict_device):
    # Same random_state: the same initial weights, shuffling and validation
    # split, drawn on the host; the same arithmetic in float64 up to rounding.
    X, y, sw = _training_data(n_outputs=n_outputs)
    params = {"n_hidden": 6, "max_iter": 25, "random_state": 0, **params}
    with warnings.catch_warnings():
        # 25 iterations are far from convergence on purpose (short test); both
        # paths warn alike, which test_convergence_warning_in_namespace checks
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = TwoLayerReLURegressor(**params).fit(X, y, sample_weight=sw)
        with sklearn.config_context(**DISPATCH):
            reg = TwoLayerReLURegressor(**params)
            reg.fit(*_strict(X, y, sw, device=strict_device))
            pred = reg.predict(xps.asarray(X, device=strict_device))
    for name in ("W1_", "b1_", "w2_", "b2_", "_theta", "_y_mean"):
        value = getattr(reg, name)
        assert namespace_name(value) == "array_api_strict", name
        assert value.device == strict_device, name
        assert value.dtype == xps.float64, name
    _assert_network_equal(reg, expected, rtol=1e-9)
    assert pred.device == strict_device
    np.testing.assert_allclose(to_numpy(pred), expected.predict(X), rtol=1e-9)


def test_convergence_warning_in_namespace():
    X, y, _ = _training_data()
    reg = TwoLayerReLURegressor(4, solver="gd", max_iter=3, random_state=0)
    with sklearn.config_context(**DISPATCH):
        with pytest.warns(ConvergenceWarning, match="max_iter=3"):
            reg.fit(*_strict(X, y))
    assert reg.n_iter_ == 3


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_and_warm_start_in_namespace(solver, strict_device):
    X, y, sw = _training_data()
    params = {"n_hidden": 5, "solver": solver, "batch_size": 25, "random_state": 0}
    host = TwoLayerReLURegressor(**params)
    with sklearn.config_context(**DISPATCH):
        reg = TwoLayerReLURegressor(**params)
        for start in (0, 30, 60):
            rows = slice(start, start + 30)
            host.partial_fit(X[rows], y[rows], sample_weight=sw[rows])
            reg.partial_fit(*_strict(X[rows], y[rows], sw[rows], device=strict_device))
        assert namespace_name(reg._adam_m) == "array_api_strict"
        _assert_network_equal(reg, host, rtol=1e-9)
        assert reg._n_steps == host._n_steps

        params = {**params, "warm_start": True, "max_iter": 4, "tol": 0.0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 4 epochs
            host = TwoLayerReLURegressor(**params).fit(X, y)
            host.fit(X, y)
            reg = TwoLayerReLURegressor(**params).fit(*_strict(X, y))
            reg.fit(*_strict(X, y))
    assert len(reg.loss_curve_) == 8
    _assert_network_equal(reg, host, rtol=1e-9)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_float32_stays_float32_in_namespace(solver, strict_device):
    X, y, sw = (a.astype(np.float32) for a in _training_data())
    params = {"n_hidden": 5, "solver": solver, "max_iter": 200, "random_state": 0}
    params["learning_rate"] = 0.05 if solver == "gd" else 0.01
    with warnings.catch_warnings():
        # 200 iterations, enough to compare, not all to converge (gd)
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = TwoLayerReLURegressor(**params).fit(X, y, sample_weight=sw)
        with sklearn.config_context(**DISPATCH):
            reg = TwoLayerReLURegressor(**params)
            reg.fit(*_strict(X, y, sw, device=strict_device))
            pred = reg.predict(xps.asarray(X, device=strict_device))
    for value in (reg.W1_, reg.b1_, reg.w2_, reg.b2_, reg._theta, pred):
        assert value.dtype == xps.float32
        assert value.device == strict_device
    # float32 rounding differs between the paths (compiled kernels, blocked
    # sums): the fits agree to float32 accuracy, not to the bit
    np.testing.assert_allclose(
        to_numpy(pred), expected.predict(X), rtol=2e-3, atol=2e-3 * float(y.std())
    )


def test_verbose_and_stop_in_namespace(capsys):
    X, y, _ = _training_data()
    params = {"n_hidden": 4, "solver": "adam", "max_iter": 3, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs
        TwoLayerReLURegressor(**params, verbose=True).fit(X, y)
        expected = capsys.readouterr().out
        with sklearn.config_context(**DISPATCH):
            TwoLayerReLURegressor(**params, verbose=True).fit(*_strict(X, y))
    got = capsys.readouterr().out
    assert got.count("Epoch ") == 3
    # the losses agree to rounding, printed with 8 decimals
    assert got.splitlines()[0][:20] == expected.splitlines()[0][:20]


@pytest.mark.skipif(
    not hasattr(TwoLayerReLURegressor, "set_callbacks"),
    reason="callbacks need scikit-learn >= 1.9",
)
def test_callbacks_in_namespace():
    from test_two_layer import _Watcher

    X, y, _ = _training_data()
    params = {"n_hidden": 4, "solver": "sgd", "max_iter": 50, "random_state": 0}
    watcher = _Watcher(stop_at=2)
    reg = TwoLayerReLURegressor(**params).set_callbacks(watcher)
    with sklearn.config_context(**DISPATCH):
        reg.fit(*_strict(X, y))
    assert reg.n_iter_ == 2 and watcher.epochs == 2
    assert namespace_name(reg.W1_) == "array_api_strict"


def _interrupt_epoch(monkeypatch, n):
    """Make the n-th epoch in the namespace raise KeyboardInterrupt."""
    calls = []
    original = net.epoch

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(net, "epoch", interrupting)


@pytest.mark.parametrize("fitted", [False, True])
@pytest.mark.parametrize("failure", ["interrupt", "divergence", "zero_weights"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_fit_in_namespace_leaves_the_estimator_as_it_was(
    monkeypatch, method, failure, fitted
):
    X, y, _ = _training_data()
    reg = TwoLayerReLURegressor(
        4, solver="sgd", max_iter=5, random_state=0, warm_start=True
    )
    with sklearn.config_context(**DISPATCH), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs
        if fitted:
            reg.fit(*_strict(X, y))
        before = {
            name: to_numpy(value) if hasattr(value, "__dlpack__") else value
            for name, value in vars(reg).items()
        }
        sw = None
        if failure == "interrupt":
            _interrupt_epoch(monkeypatch, 2 if method == "fit" else 1)
            error = KeyboardInterrupt
        elif failure == "divergence":
            X, error = X * 1e200, ValueError
        else:
            sw, error = xps.zeros(X.shape[0], dtype=xps.float64), ValueError
        with pytest.raises(error):
            getattr(reg, method)(*_strict(X, y), sample_weight=sw)
    after = vars(reg)
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(to_numpy(after[name]), value, err_msg=name)
        else:
            assert after[name] == value, name


def test_bad_input_in_namespace_is_refused():
    X, y, _ = _training_data()
    reg = TwoLayerReLURegressor(4, solver="adam", random_state=0)
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            reg.fit(xps.asarray(X), xps.asarray(y[:-1]))
        bad = X.copy()
        bad[3, 1] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            reg.fit(xps.asarray(bad), xps.asarray(y))
        with pytest.raises(ValueError, match="at least one non-zero"):
            reg.fit(*_strict(X, y, np.zeros(X.shape[0])))
        with pytest.raises(ValueError, match="partial_fit does not support early"):
            reg.set_params(early_stopping=True).partial_fit(*_strict(X, y))
    assert not hasattr(reg, "W1_")


def test_divergence_in_namespace_names_the_cause():
    X, y, _ = _training_data()
    reg = TwoLayerReLURegressor(4, solver="gd", learning_rate=1e3, random_state=0)
    with sklearn.config_context(**DISPATCH):
        with pytest.raises(ValueError, match=r"gd fit diverged.*learning_rate"):
            reg.fit(*_strict(X, y))
        with pytest.raises(ValueError, match="features reach"):
            reg.fit(*_strict(X * 1e200, y))
    assert not hasattr(reg, "W1_")


def test_fitted_in_namespace_refuses_other_inputs(strict_device):
    X, y, _ = _training_data()
    reg = TwoLayerReLURegressor(4, solver="adam", max_iter=3000, random_state=0)
    with sklearn.config_context(**DISPATCH):
        reg.fit(*_strict(X, y, device=strict_device))
        with pytest.raises(ValueError, match="must use the same namespace"):
            reg.predict(X)
        with pytest.raises(ValueError, match="must use the same namespace"):
            reg.loss_gradient(X, y)
        loss, grads = reg.loss_gradient(*_strict(X, y, device=strict_device))
        assert grads["W1"].device == strict_device
        score = reg.score(*_strict(X, y, device=strict_device))
    assert isinstance(loss, float) and isinstance(score, float)
    assert score > 0.5
    with pytest.raises(ValueError, match="needs array_api_dispatch=True"):
        reg.predict(X)
    # a fit on NumPy data takes the model back to the host
    reg.set_params(warm_start=True).fit(X, y)
    assert isinstance(reg.W1_, np.ndarray)


def _network_estimators():
    yield TwoLayerReLURegressor(4, solver="adam", max_iter=3000, random_state=0)
    yield TwoLayerReLURegressor(
        3, solver="sgd", early_stopping=True, max_iter=3000, random_state=0
    )


@pytest.mark.parametrize(
    "array_namespace, device_name, dtype_name",
    list(yield_namespace_device_dtype_combinations()),
)
@pytest.mark.parametrize(
    "check", [check_array_api_input, check_array_api_input_and_values]
)
@pytest.mark.parametrize("estimator", list(_network_estimators()), ids=repr)
def test_scikit_learn_array_api_checks_on_the_network(
    estimator, check, array_namespace, device_name, dtype_name
):
    # with values: the fitted attributes, predictions and score agree with
    # the NumPy fit (sample weights included)
    check(
        type(estimator).__name__,
        estimator,
        array_namespace=array_namespace,
        device_name=device_name,
        dtype_name=dtype_name,
        check_sample_weight=True,
    )


@pytest.mark.parametrize("device_name", ["cpu", "cuda"])
@pytest.mark.parametrize("solver", ["gd", "adam"])
def test_network_fit_on_torch(device_name, solver):
    xp, device = _array_api_for_tests("torch", device_name, "float64")
    X, y, sw = _training_data(n_outputs=2)
    params = {"n_hidden": 6, "solver": solver, "max_iter": 20, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 iterations
        expected = TwoLayerReLURegressor(**params).fit(X, y, sample_weight=sw)
        with sklearn.config_context(**DISPATCH):
            reg = TwoLayerReLURegressor(**params)
            reg.fit(*(xp.asarray(a, device=device) for a in (X, y, sw)))
    assert reg.W1_.device == xp.asarray(X, device=device).device
    _assert_network_equal(reg, expected, rtol=1e-9)


@pytest.mark.parametrize("device_name", ["cpu", "cuda"])
def test_network_predict_on_torch(fitted_networks, device_name):
    xp, device = _array_api_for_tests("torch", device_name, "float32")
    X, _, _, models = fitted_networks
    reg = models["2d", np.float32]
    X_xp = xp.asarray(X.astype(np.float32), device=device)
    with sklearn.config_context(**DISPATCH):
        pred = reg.predict(X_xp)
    assert pred.device == X_xp.device
    assert pred.dtype == xp.float32
    np.testing.assert_allclose(
        to_numpy(pred), reg.predict(X.astype(np.float32)), rtol=1e-5, atol=1e-5
    )
