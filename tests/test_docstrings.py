"""numpydoc validation of every public object's docstring.

Each exported estimator, each public method and property it defines, and each
public function of ``sknonlin.utils`` is validated with ``numpydoc.validate``.
Methods inherited from scikit-learn (``get_params``, ``score``,
``set_output``, the ``set_*_request`` methods…) carry scikit-learn's
docstrings, which scikit-learn validates itself; they are not checked here.
"""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sknonlin
import sknonlin.utils

numpydoc_validate = pytest.importorskip("numpydoc.validate")
docscrape = pytest.importorskip("numpydoc.docscrape")

# Checks skipped everywhere, with the reason.
IGNORED_EVERYWHERE = {
    # "Returns" names the returned object ("self : object"), as scikit-learn's
    # own docstrings do, so that the text can refer to it.
    "RT02",
    # The summary starts on the line of the opening quotes (PEP 257), which
    # older numpydoc releases (1.6 among them) report as GL01; scikit-learn
    # ignores it too.
    "GL01",
}
# Checks that apply to the class docstring only: a method's docstring is short
# and the class's docstring holds the extended summary, the cross-references
# and the examples.
IGNORED_FOR_MEMBERS = {"ES01", "SA01", "EX01"}

# Docstrings known to fail a check, with the check; each is an expected
# failure that turns into an error once fixed, so that the entry is removed.
KNOWN_FAILURES = {}


def _own_members(cls):
    """Public methods and properties that sknonlin itself defines on ``cls``."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        for klass in cls.__mro__:
            if name in vars(klass):
                defining = klass
                break
        if not defining.__module__.startswith("sknonlin"):
            continue  # scikit-learn's docstring, validated by scikit-learn
        member = vars(defining)[name]
        if isinstance(member, property | staticmethod | classmethod) or callable(
            member
        ):
            yield name


def _public_objects():
    for name in sorted(sknonlin.__all__):
        obj = getattr(sknonlin, name)
        if not inspect.isclass(obj):
            continue
        path = f"{obj.__module__}.{obj.__qualname__}"
        yield path, False
        for member in _own_members(obj):
            yield f"{path}.{member}", True
    for name in sorted(sknonlin.utils.__all__):
        obj = getattr(sknonlin.utils, name)
        yield f"{obj.__module__}.{obj.__qualname__}", False


def _params():
    for path, is_member in _public_objects():
        marks = ()
        if path in KNOWN_FAILURES:
            marks = pytest.mark.xfail(reason=KNOWN_FAILURES[path], strict=True)
        yield pytest.param(path, is_member, id=path, marks=marks)


def _errors(path, is_member):
    result = numpydoc_validate.validate(path)
    ignored = IGNORED_EVERYWHERE | (IGNORED_FOR_MEMBERS if is_member else set())
    return [(code, msg) for code, msg in result["errors"] if code not in ignored]


def test_public_objects_are_found():
    paths = [path for path, _ in _public_objects()]
    assert "sknonlin._two_layer.TwoLayerReLURegressor.loss_gradient" in paths
    assert "sknonlin._polynomial.PolynomialFeatureMap.powers_" in paths
    assert "sknonlin.utils.discovery.all_estimators" in paths
    # inherited from scikit-learn: not ours to validate
    assert "sknonlin._perceptron.Perceptron.get_params" not in paths


@pytest.mark.parametrize("path, is_member", list(_params()))
def test_docstring(path, is_member):
    errors = _errors(path, is_member)
    assert not errors, "\n".join(
        [f"{path}: numpydoc errors"] + [f"  {code}: {msg}" for code, msg in errors]
    )


def test_validation_catches_a_bad_docstring():
    assert {code for code, _ in _errors(f"{__name__}._badly_documented", False)} >= {
        "PR01",  # a parameter not documented
        "RT01",  # no Returns section
    }


def _badly_documented(alpha):
    """Do something."""
    return alpha


# -- every fitted attribute is documented ----------------------------------------


def _fit_data(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    if name == "Perceptron":
        return X, (X[:, 0] > 0).astype(int)
    if name == "MulticlassPerceptron":
        return X, np.digitize(X[:, 0], [-0.5, 0.5])
    return X, X @ [1.0, -2.0, 0.5]


@pytest.mark.parametrize("name, cls", sknonlin.utils.all_estimators())
def test_fitted_attributes_are_documented(name, cls):
    X, y = _fit_data(name)
    with warnings.catch_warnings():
        # a short fit: which attributes exist is tested, not convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = cls().set_params(**_short(cls)).fit(X, y)
    fitted = {
        attr
        for attr in vars(estimator)
        if attr.endswith("_") and not attr.startswith("_")
    }
    documented = {p.name for p in docscrape.ClassDoc(cls)["Attributes"]}
    documented = {part.strip() for name in documented for part in name.split(",")}
    assert fitted, name
    assert fitted <= documented, f"{name}: undocumented {sorted(fitted - documented)}"
    assert {"n_features_in_", "feature_names_in_"} <= documented


def _short(cls):
    return {"max_iter": 5} if "max_iter" in cls().get_params() else {}
