"""Export fitted sknonlin estimators to ONNX with skl2onnx.

Importing this module registers a converter for each estimator with skl2onnx
(a shape calculator and a converter, and a parser for the classifiers), so
that :func:`skl2onnx.to_onnx` converts them alone and inside scikit-learn
pipelines and column transformers. It needs the ``onnx`` extra:
``pip install "sknonlin[onnx]"``.

What the converted models output:

* :class:`~sknonlin.PolynomialFeatureMap`: the features, shape
  (N, ``n_output_features_``), always dense.
* :class:`~sknonlin.TwoLayerReLURegressor`: the predictions, shape
  (N, ``n_outputs_``): one column for a 1-D target, as scikit-learn's
  regressors are converted.
* :class:`~sknonlin.Perceptron` and :class:`~sknonlin.MulticlassPerceptron`:
  ``label``, the predicted labels from ``classes_``, and ``scores``, the
  ``decision_function`` (shape (N,) for two classes, (N, n_classes) otherwise).
  The scores are not probabilities, so no ZipMap is added; the ``zipmap``
  option that pipelines set on classifiers is accepted and changes nothing.

float32 input is computed in float32; float64 and integer input in float64.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> import sknonlin.onnx  # registers the converters
>>> from sknonlin import PolynomialFeatureMap
>>> X = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
>>> onx = to_onnx(PolynomialFeatureMap(degree=2).fit(X), X[:1])
>>> session = ort.InferenceSession(onx.SerializeToString())
>>> session.run(None, {"X": X})[0]
array([[1., 0., 1., 0., 0., 1.],
       [1., 2., 3., 4., 6., 9.]], dtype=float32)
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:
    from onnx import TensorProto, helper
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int32TensorType,
        Int64TensorType,
        StringTensorType,
    )
except ImportError as error:  # pragma: no cover
    raise ImportError(
        'sknonlin.onnx needs skl2onnx and onnxruntime: pip install "sknonlin[onnx]"'
    ) from error

from sknonlin import (
    MulticlassPerceptron,
    Perceptron,
    PolynomialFeatureMap,
    TwoLayerReLURegressor,
)
from sknonlin._polynomial import _range_map as _polynomial_range_map

__all__ = ["MIN_OPSET", "register_converters"]

#: The oldest ONNX opset the converters write graphs for.
MIN_OPSET = 13

# The dtype each input type is computed in: integers become float64, as the
# estimators convert them.
_COMPUTE_DTYPES = {
    FloatTensorType: np.dtype(np.float32),
    DoubleTensorType: np.dtype(np.float64),
    Int64TensorType: np.dtype(np.float64),
    Int32TensorType: np.dtype(np.float64),
}
_FLOAT_TENSOR_TYPES = {
    np.dtype(np.float32): FloatTensorType,
    np.dtype(np.float64): DoubleTensorType,
}
_PROTO_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.bool_): TensorProto.BOOL,
}


# -- shared by the converters ------------------------------------------------


def _alias(estimator_class):
    """The name an estimator's converter is registered under."""
    return "Sknonlin" + estimator_class.__name__


def _check_input(operator):
    """Check a fitted model and its inputs; return the compute dtype and ``N``.

    The inputs' widths must add up to ``n_features_in_``. Several inputs (one
    per column of a data frame) are concatenated, computed in float64 if their
    types differ.
    """
    model = operator.raw_operator
    check_is_fitted(model)
    name = type(model).__name__
    n_columns = 0
    for variable in operator.inputs:
        kind = type(variable.type)
        if kind not in _COMPUTE_DTYPES:
            raise ValueError(
                f"{name} can be converted for float, double or integer input, "
                f"not {kind.__name__} (input {variable.raw_name!r})."
            )
        shape = variable.type.shape
        width = shape[1] if shape is not None and len(shape) == 2 else None
        if n_columns is not None and isinstance(width, int):
            n_columns += width
        else:
            n_columns = None
    if n_columns is not None and n_columns != model.n_features_in_:
        raise ValueError(
            f"The input has {n_columns} features, but {name} is expecting "
            f"{model.n_features_in_} features as input."
        )
    return _compute_dtype(operator), operator.inputs[0].get_first_dimension()


def _compute_dtype(operator):
    return np.result_type(*(_COMPUTE_DTYPES[type(v.type)] for v in operator.inputs))


class _Graph:
    """Add the nodes and constants of one operator to a skl2onnx container.

    Parameters
    ----------
    scope, operator, container : skl2onnx objects
        As passed to a converter.
    """

    def __init__(self, scope, operator, container):
        self.scope = scope
        self.operator = operator
        self.container = container
        self._constants = {}
        opset = container.target_opset
        if opset is not None and opset < MIN_OPSET:
            raise ValueError(
                f"{type(operator.raw_operator).__name__} can be converted with "
                f"target_opset >= {MIN_OPSET}, got target_opset={opset}."
            )

    def node(self, op_type, inputs, output=None, **attrs):
        """Add one node; return the name of its output."""
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output

    def constant(self, value, dtype=None):
        """Name of an initializer holding ``value`` (as ``dtype``); shared if equal.

        Integers become int64, arrays of str ONNX string tensors.
        """
        value = np.asarray(value, dtype=dtype)
        if value.dtype.kind in "iu":
            value = value.astype(np.int64)
        if value.dtype.kind in "UO":
            proto = TensorProto.STRING
            content = [str(s).encode("utf-8") for s in value.ravel()]
            key = (proto, value.shape, tuple(content))
        else:
            proto = _PROTO_TYPES[value.dtype]
            content = value.ravel()
            key = (proto, value.shape, value.tobytes())
        if key not in self._constants:
            name = self.scope.get_unique_variable_name("c")
            self.container.add_initializer(name, proto, list(value.shape), content)
            self._constants[key] = name
        return self._constants[key]

    def cast(self, name, dtype):
        return self.node("Cast", [name], to=_PROTO_TYPES[np.dtype(dtype)])

    def input_as(self, dtype):
        """The operator's inputs as one tensor of ``dtype``."""
        names = []
        for variable in self.operator.inputs:
            name = variable.full_name
            if type(variable.type) is not _FLOAT_TENSOR_TYPES[np.dtype(dtype)]:
                name = self.cast(name, dtype)
            names.append(name)
        if len(names) == 1:
            return names[0]
        return self.node("Concat", names, axis=1)

    def ones(self, X, dtype):
        """A ``(1, N)`` row of ones, ``N`` the number of rows of ``X``."""
        n_rows = self.node("Gather", [self.node("Shape", [X]), self.constant([0])])
        shape = self.node("Concat", [self.constant([1]), n_rows], axis=0)
        one = helper.make_tensor("one", _PROTO_TYPES[np.dtype(dtype)], [1], [1])
        return self.node("ConstantOfShape", [shape], value=one)


# -- PolynomialFeatureMap ----------------------------------------------------
#
# Every output term is built as the kernels build it: a lower-degree *parent*
# term times one *factor*. For the monomial basis the parent is the term
# without one power of its smallest feature x_a, and the factor is x_a; for
# the orthogonal bases the parent is the term without all of x_a, and the
# factor is P_p(t_a), the basis polynomial of x_a mapped to [-1, 1]. The graph
# computes the terms degree by degree (gather the parents and the factors,
# multiply, append) from the public ``powers_``, so the same multiplications
# give the same values.

# The three-term recurrences as the kernels write them:
# P_{p+1} = (a_p t P_p - b_p P_{p-1}) / c_p, with (a_p, b_p, c_p) below.
_RECURRENCES = {
    # (p + 1) P_{p+1} = (2p + 1) t P_p - p P_{p-1}
    "legendre": lambda p: (2 * p + 1, p, p + 1),
    # T_{p+1} = 2 t T_p - T_{p-1}
    "chebyshev": lambda p: (2, 1, None),
}


def _fitted_basis(model):
    """The basis the fitted map's ``transform`` uses (stored at fit)."""
    return model._basis


def _range_map(model, dtype):
    """``shift`` and ``scale`` of ``t = (x - shift) * scale``, as ``transform``.

    Each feature's training range [min, max] maps to [-1, 1]; a constant
    feature maps to t = 0.
    """
    shift, scale = _polynomial_range_map(model.data_min_, model.data_max_)
    return shift.astype(dtype), scale.astype(dtype)


def _term_plan(powers, monomial):
    """Parents and factors that build the output terms, degree by degree.

    Parameters
    ----------
    powers : ndarray of shape (n_output_features, n_features)
        The exponents of the output terms (``powers_``).
    monomial : bool
        Whether the factors are the features or basis polynomials.

    Returns
    -------
    levels : list of tuple of ndarray
        One ``(parents, features, exponents)`` per degree, in increasing
        order. For each new term of that degree: its parent's position among
        the terms computed so far (0 is the constant 1; each degree's terms
        are appended in order), and its factor's feature ``a`` and power
        ``p`` (1 for monomials).
    outputs : ndarray of int64
        Position of each output column among the computed terms.
    """
    # A term is the tuple of its (feature, power) pairs, by feature.
    rows, features = np.nonzero(powers)
    pairs = list(zip(features.tolist(), powers[rows, features].tolist(), strict=True))
    ends = np.cumsum(np.count_nonzero(powers, axis=1)).tolist()
    terms = [
        tuple(pairs[start:end]) for start, end in zip([0, *ends], ends, strict=False)
    ]

    degree = {(): 0}
    plan = {}  # term -> (parent, feature, power); parents are planned first
    for output in terms:
        stack = [output]
        while stack:
            term = stack[-1]
            if term in degree:
                stack.pop()
                continue
            (a, p), rest = term[0], term[1:]
            power = 1 if monomial else p
            parent = ((a, p - 1), *rest) if power < p else rest
            if parent not in degree:
                stack.append(parent)
                continue
            degree[term] = degree[parent] + power
            plan[term] = (parent, a, power)
            stack.pop()

    # Each degree's terms are appended together, after all lower degrees.
    order = sorted(plan, key=degree.__getitem__)
    position = {(): 0, **{term: i + 1 for i, term in enumerate(order)}}
    blocks = {}
    for term in order:
        parent, a, power = plan[term]
        blocks.setdefault(degree[term], []).append((position[parent], a, power))
    levels = [
        tuple(np.array(column, dtype=np.int64) for column in zip(*block, strict=True))
        for block in blocks.values()
    ]
    outputs = np.array([position[term] for term in terms], dtype=np.int64)
    return levels, outputs


def _orthogonal_factors(graph, XT, model, dtype, max_power):
    """``[P_1(t); ...; P_max_power(t)]`` stacked, shape (n * max_power, N).

    As in the kernel, each step of the recurrence is computed in float64 from
    the values of the previous steps as stored, in ``dtype``.
    """
    shift, scale = _range_map(model, dtype)
    t = graph.node("Sub", [XT, graph.constant(shift[:, np.newaxis])])
    t = graph.node("Mul", [t, graph.constant(scale[:, np.newaxis])])
    widen = dtype != np.float64
    t64 = graph.cast(t, np.float64) if widen else t
    stored = [t]
    previous, current = None, t64  # P_0 = 1 is folded into the constants
    recurrence = _RECURRENCES[_fitted_basis(model)]
    for p in range(1, max_power):
        a, b, c = recurrence(p)
        value = graph.node("Mul", [graph.constant(float(a)), t64])
        value = graph.node("Mul", [value, current])
        if previous is None:
            subtrahend = graph.constant(float(b))  # b P_0 = b
        elif b == 1:
            subtrahend = previous
        else:
            subtrahend = graph.node("Mul", [graph.constant(float(b)), previous])
        value = graph.node("Sub", [value, subtrahend])
        if c is not None:
            value = graph.node("Div", [value, graph.constant(float(c))])
        if widen:
            stored.append(graph.cast(value, dtype))
            value = graph.cast(stored[-1], np.float64)
        else:
            stored.append(value)
        previous, current = current, value
    if len(stored) == 1:
        return t
    return graph.node("Concat", stored, axis=0)


def _convert_polynomial_feature_map(scope, operator, container):
    """Write the graph of a fitted :class:`~sknonlin.PolynomialFeatureMap`.

    The terms are computed as rows of the transposed data, so that each
    gather copies contiguous rows.
    """
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    dtype = _compute_dtype(operator)
    X = graph.input_as(dtype)
    XT = graph.node("Transpose", [X], perm=[1, 0])
    powers = model.powers_
    monomial = _fitted_basis(model) == "monomial"
    levels, outputs = _term_plan(powers, monomial)
    max_power = int(powers.max(initial=0))
    if monomial or max_power == 0:
        factors = XT
    else:
        factors = _orthogonal_factors(graph, XT, model, dtype, max_power)

    n_features = powers.shape[1]
    terms = graph.ones(X, dtype)
    for parents, features, exponents in levels:
        rows = features if monomial else (exponents - 1) * n_features + features
        block = graph.node("Gather", [factors, graph.constant(rows)], axis=0)
        if parents.any():
            # (a parent that is the constant 1 leaves its factor as it is)
            parent = graph.node("Gather", [terms, graph.constant(parents)], axis=0)
            block = graph.node("Mul", [parent, block])
        terms = graph.node("Concat", [terms, block], axis=0)
    terms = graph.node("Gather", [terms, graph.constant(outputs)], axis=0)
    graph.node("Transpose", [terms], output=operator.outputs[0].full_name, perm=[1, 0])


def _polynomial_feature_map_shape(operator):
    """Output type: (N, ``n_output_features_``), in the compute dtype."""
    model = operator.raw_operator
    dtype, n_rows = _check_input(operator)
    operator.outputs[0].type = _FLOAT_TENSOR_TYPES[dtype](
        [n_rows, model.n_output_features_]
    )


# -- TwoLayerReLURegressor ---------------------------------------------------
#
# The forward pass g(X W1 + b1) w2 + b2 with the fitted parameters, which are
# in the target's units.

# The ONNX operator of each activation g; the identity needs none.
_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid", "identity": None}


def _fitted_activation(model):
    """The activation the fitted network's ``predict`` uses."""
    return model.activation


def _output_layer(model):
    """``w2_`` and ``b2_`` as a 2-D matrix and a 1-D vector."""
    w2 = model.w2_.reshape(model.w2_.shape[0], -1)
    return w2, np.asarray(model.b2_, dtype=w2.dtype).reshape(-1)


def _convert_two_layer_regressor(scope, operator, container):
    """Write the graph of a fitted :class:`~sknonlin.TwoLayerReLURegressor`."""
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    dtype = _compute_dtype(operator)
    X = graph.input_as(dtype)
    w2, b2 = _output_layer(model)
    hidden = graph.node("MatMul", [X, graph.constant(model.W1_, dtype)])
    hidden = graph.node("Add", [hidden, graph.constant(model.b1_, dtype)])
    op_type = _ACTIVATIONS[_fitted_activation(model)]
    if op_type is not None:
        hidden = graph.node(op_type, [hidden])
    output = graph.node("MatMul", [hidden, graph.constant(w2, dtype)])
    graph.node(
        "Add", [output, graph.constant(b2, dtype)], output=operator.outputs[0].full_name
    )


def _two_layer_regressor_shape(operator):
    """Output type: (N, ``n_outputs_``), one column for a 1-D target."""
    model = operator.raw_operator
    dtype, n_rows = _check_input(operator)
    activation = _fitted_activation(model)
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation={activation!r} cannot be converted; the converter "
            f"knows {sorted(_ACTIVATIONS)}."
        )
    n_outputs = _output_layer(model)[0].shape[1]
    operator.outputs[0].type = _FLOAT_TENSOR_TYPES[dtype]([n_rows, n_outputs])


# -- Perceptron and MulticlassPerceptron -------------------------------------
#
# Two outputs: ``label``, taken from ``classes_``, and ``scores``, the
# decision function. With two classes the score is 1-D, positive means
# classes_[1] and zero means classes_[0]; otherwise the first largest score
# wins, as in ``predict``.


def _labels(model):
    """``classes_`` as an array an ONNX tensor can hold, and its tensor type."""
    classes = model.classes_
    kind = classes.dtype.kind
    if kind == "b":
        return classes.astype(np.bool_), BooleanTensorType
    if kind == "f":
        return classes.astype(np.float64), DoubleTensorType
    if kind == "U" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        return classes.astype(str), StringTensorType
    integers = kind in "iu" or (
        kind == "O"
        and all(
            isinstance(c, (int, np.integer)) and not isinstance(c, bool)
            for c in classes
        )
    )
    int64 = np.iinfo(np.int64)
    if integers and all(int64.min <= int(c) <= int64.max for c in classes):
        return np.array([int(c) for c in classes], dtype=np.int64), Int64TensorType
    raise ValueError(
        f"The labels classes_={classes.tolist()!r} of this {type(model).__name__} "
        "cannot be held in an ONNX tensor: use int64, float, bool or str labels."
    )


def _parse_perceptron(scope, model, inputs, custom_parsers=None):
    """Declare the classifier's operator and its outputs ``label`` and ``scores``."""
    check_is_fitted(model)
    operator = scope.declare_local_operator(_alias(type(model)), model)
    operator.inputs = inputs
    _, label_type = _labels(model)
    operator.outputs.append(scope.declare_local_variable("label", label_type()))
    operator.outputs.append(
        scope.declare_local_variable("scores", inputs[0].type.__class__())
    )
    return operator.outputs


def _convert_perceptron(scope, operator, container):
    """Write the graph of a fitted ``Perceptron`` or ``MulticlassPerceptron``."""
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    dtype = _compute_dtype(operator)
    X = graph.input_as(dtype)
    label, scores = (variable.full_name for variable in operator.outputs)
    raw = graph.node("MatMul", [X, graph.constant(model.coef_.T, dtype)])
    raw = graph.node("Add", [raw, graph.constant(model.intercept_, dtype)])
    n_columns = model.coef_.shape[0]
    if n_columns > 2:
        # ArgMax picks the first of equal maxima, as predict does.
        index = graph.node("ArgMax", [raw], axis=1, keepdims=0)
        graph.node("Identity", [raw], output=scores)
    else:
        if n_columns == 2:
            # the score of classes_[1] minus that of classes_[0], in that order
            first = graph.node("Gather", [raw, graph.constant([0])], axis=1)
            second = graph.node("Gather", [raw, graph.constant([1])], axis=1)
            raw = graph.node("Sub", [second, first])
        graph.node("Reshape", [raw, graph.constant([-1])], output=scores)
        positive = graph.node("Greater", [scores, graph.constant(0, dtype)])
        index = graph.cast(positive, np.int64)
    classes, _ = _labels(model)
    graph.node("Gather", [graph.constant(classes), index], output=label)


def _perceptron_shape(operator):
    """Output types: ``label`` (N,) and ``scores`` (N,) or (N, n_classes)."""
    model = operator.raw_operator
    dtype, n_rows = _check_input(operator)
    _, label_type = _labels(model)
    operator.outputs[0].type = label_type([n_rows])
    n_columns = model.coef_.shape[0]
    shape = [n_rows, n_columns] if n_columns > 2 else [n_rows]
    operator.outputs[1].type = _FLOAT_TENSOR_TYPES[dtype](shape)


# -- registration ------------------------------------------------------------


def register_converters():
    """Register the converters of every sknonlin estimator with skl2onnx.

    Importing :mod:`sknonlin.onnx` calls it; calling it again changes nothing.
    After that, :func:`skl2onnx.to_onnx` converts the estimators, alone or as
    steps of scikit-learn pipelines and column transformers.
    """
    update_registered_converter(
        PolynomialFeatureMap,
        _alias(PolynomialFeatureMap),
        _polynomial_feature_map_shape,
        _convert_polynomial_feature_map,
    )
    update_registered_converter(
        TwoLayerReLURegressor,
        _alias(TwoLayerReLURegressor),
        _two_layer_regressor_shape,
        _convert_two_layer_regressor,
    )
    for classifier in (Perceptron, MulticlassPerceptron):
        update_registered_converter(
            classifier,
            _alias(classifier),
            _perceptron_shape,
            _convert_perceptron,
            parser=_parse_perceptron,
            # Pipelines set zipmap on every classifier they convert; with no
            # probabilities to zip, it changes nothing here.
            options={"zipmap": [True, False]},
        )


register_converters()
