"""Test-session set-up shared by the test suite and the doctests.

Tests of a behaviour that only newer scikit-learn releases have are skipped on
older ones, with the version and the reason in the skip message. Mark such a
test with::

    @pytest.mark.requires_sklearn("1.9", reason="callbacks exist from 1.9")

or test ``sknonlin._compat.sklearn_version_at_least("1.9")`` inside it.
``docs/install.rst`` lists what each supported version lacks.
"""

import importlib.util
import os

import pytest

# scikit-learn's array API check (run with NumPy inputs for every estimator) is
# skipped unless SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# sknonlin/onnx.py needs the optional onnx extra; without it, its doctests
# cannot even be collected.
collect_ignore = []
if any(importlib.util.find_spec(name) is None for name in ("skl2onnx", "onnxruntime")):
    collect_ignore.append("sknonlin/onnx.py")

# The array API path needs scikit-learn's array API helpers; where they are
# missing (older scikit-learn) every input takes the NumPy path, and the array
# API tests and the GPU section's doctest do not apply.
from sknonlin._compat import ARRAY_API_AVAILABLE  # noqa: E402 (after SCIPY_ARRAY_API)

if not ARRAY_API_AVAILABLE:
    # the GPU section is a test path of its own, which collect_ignore does not
    # cover: its doctest is skipped in pytest_collection_modifyitems instead
    collect_ignore += ["tests/test_array_api.py"]

# Tests kept in modules without the marker, each with the scikit-learn version
# it needs and why. Every entry must name a collected test (checked below).
NEEDS_NEWER_SKLEARN = {
    "tests/test_polynomial.py::test_sparse_equals_polynomial_features": (
        "1.9",
        "without the sparse_interface setting, the map returns a sparse array "
        "for a sparse array input, where PolynomialFeatures, the oracle here, "
        "returns a sparse matrix",
    ),
}

# Tests that still let a ConvergenceWarning through (an error in this suite),
# filtered explicitly until their module asserts or avoids the warning.
# Delete each entry as its test is fixed.
LETS_CONVERGENCE_WARNING_THROUGH = set()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "requires_sklearn(version, reason): skip the test where scikit-learn is "
        "older than version",
    )


def _skip_reason(version, reason):
    return f"needs scikit-learn >= {version}: {reason}"


def pytest_collection_modifyitems(config, items):
    from sknonlin._compat import SKLEARN_VERSION, sklearn_version_at_least

    seen = set()
    for item in items:
        if not ARRAY_API_AVAILABLE and item.nodeid.startswith("docs/scaling_out.rst"):
            item.add_marker(
                pytest.mark.skip(
                    reason="the GPU section needs scikit-learn's array API helpers "
                    f"(found scikit-learn {SKLEARN_VERSION})"
                )
            )
        base_id = item.nodeid.split("[", 1)[0]
        marks = [
            (m.args[0], m.kwargs.get("reason", ""))
            for m in item.iter_markers("requires_sklearn")
        ]
        if base_id in NEEDS_NEWER_SKLEARN:
            seen.add(base_id)
            marks.append(NEEDS_NEWER_SKLEARN[base_id])
        if base_id in LETS_CONVERGENCE_WARNING_THROUGH:
            seen.add(base_id)
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore::sklearn.exceptions.ConvergenceWarning"
                )
            )
        for version, reason in marks:
            if not sklearn_version_at_least(version):
                message = _skip_reason(version, reason)
                item.add_marker(
                    pytest.mark.skip(reason=f"{message} (found {SKLEARN_VERSION})")
                )
    # A renamed or removed test must leave the tables too. Checked when whole
    # files were collected, not a selection of tests.
    selected = config.getoption("keyword") or config.getoption("markexpr")
    if selected or any("::" in arg for arg in config.args):
        return
    collected_files = {item.nodeid.split("::", 1)[0] for item in items}
    stale = {
        test_id
        for test_id in {*NEEDS_NEWER_SKLEARN, *LETS_CONVERGENCE_WARNING_THROUGH}
        if test_id.split("::", 1)[0] in collected_files and test_id not in seen
    }
    if stale:
        raise pytest.UsageError(f"conftest.py names tests that do not exist: {stale}")
