"""scikit-learn's estimator checks over every public estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import sknonlin
from sknonlin.utils import all_estimators

# Checks an estimator is known to fail, with the reason. Keep this short: a check
# goes here only with a reason a scikit-learn maintainer would accept.
_PERCEPTRON_SAMPLE_WEIGHT_REASON = (
    "sample_weight scales the update of a sample, which is not the same as "
    "visiting the sample that many times: once a copy is classified correctly, "
    "the next copies make no update."
)
_PERCEPTRON_EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": _PERCEPTRON_SAMPLE_WEIGHT_REASON,
    "check_sample_weight_equivalence_on_sparse_data": _PERCEPTRON_SAMPLE_WEIGHT_REASON,
}
EXPECTED_FAILED_CHECKS = {
    "MulticlassPerceptron": _PERCEPTRON_EXPECTED_FAILED_CHECKS,
    "Perceptron": _PERCEPTRON_EXPECTED_FAILED_CHECKS,
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


ESTIMATORS = [cls() for _, cls in all_estimators()]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_estimator_is_exported():
    exported = {name for name in sknonlin.__all__ if not name.startswith("__")}
    discovered = {name for name, _ in all_estimators()}
    assert discovered <= exported


@pytest.mark.parametrize("name", sorted(n for n, _ in all_estimators()))
def test_estimator_has_numpydoc_sections(name):
    cls = dict(all_estimators())[name]
    doc = cls.__doc__
    for section in ("Parameters", "Attributes", "Examples"):
        assert f"\n    {section}\n    ---" in doc, f"{name} lacks {section}"
