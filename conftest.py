"""Test-session set-up shared by the test suite and the doctests."""

import os

# scikit-learn's array API check (run with NumPy inputs for every estimator) is
# skipped unless SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
