"""Test-session set-up shared by the test suite and the doctests."""

import importlib.util
import os

# scikit-learn's array API check (run with NumPy inputs for every estimator) is
# skipped unless SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# sknonlin/onnx.py needs the optional onnx extra; without it, its doctests
# cannot even be collected.
collect_ignore = []
if any(importlib.util.find_spec(name) is None for name in ("skl2onnx", "onnxruntime")):
    collect_ignore.append("sknonlin/onnx.py")
