"""sknonlin: nonlinear models from first principles, scikit-learn compatible.

The package follows a lecture on nonlinearity: a fixed polynomial feature map,
a two-layer network with a ReLU between its layers, and the perceptron in its
binary and multiclass forms. Every estimator is a scikit-learn estimator and
composes with ``Pipeline`` and ``GridSearchCV``.
"""

from sknonlin._perceptron import MulticlassPerceptron, Perceptron
from sknonlin._polynomial import PolynomialFeatureMap
from sknonlin._two_layer import TwoLayerReLURegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "MulticlassPerceptron",
    "Perceptron",
    "PolynomialFeatureMap",
    "TwoLayerReLURegressor",
    "__version__",
]
