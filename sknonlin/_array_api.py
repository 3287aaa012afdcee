"""Inputs of any array API namespace (``array_api_dispatch=True``): shared helpers.

With ``sklearn.config_context(array_api_dispatch=True)``, an estimator that supports
the array API computes in the namespace of its input (a PyTorch tensor, a CuPy
array, an array-api-strict array) and on its device. NumPy input, with dispatch on
or off, keeps the compiled NumPy paths.

The scikit-learn helpers used for this are private; they come through
``sknonlin._compat``. Where the installed scikit-learn lacks them, every input
takes the NumPy path.
"""

import numpy as np
from sklearn import get_config

from sknonlin._compat import (
    ARRAY_API_AVAILABLE,
    _is_numpy_namespace,
    check_same_namespace,
    get_namespace_and_device,
    supported_float_dtypes,
)
from sknonlin._compat import (
    check_sample_weight_in_namespace as _check_sample_weight,
)

__all__ = [
    "ARRAY_API_AVAILABLE",
    "_check_sample_weight",
    "check_same_namespace",
    "float_dtypes",
    "input_namespace",
    "multiply_into",
    "refuse_array_api_input",
    "to_host",
]


def input_namespace(*arrays):
    """Namespace and device of ``arrays`` when the array API path applies.

    Returns ``(xp, device)`` when array API dispatch is on and the arrays (None,
    lists and sparse matrices left aside) belong to a namespace other than NumPy;
    ``(None, None)`` otherwise, which means "take the NumPy path".
    """
    if not (ARRAY_API_AVAILABLE and get_config()["array_api_dispatch"]):
        return None, None
    xp, is_array_api, device = get_namespace_and_device(*arrays)
    if not is_array_api or _is_numpy_namespace(xp):
        return None, None
    return xp, device


def float_dtypes(xp, device):
    """The floating dtypes the estimators compute in: float64 where the device
    has it, then float32."""
    supported = supported_float_dtypes(xp, device)
    return tuple(dtype for dtype in supported if dtype in (xp.float64, xp.float32))


def multiply_into(a, b, out):
    """``out[...] = a * b``, without a temporary where the library allows it.

    The array API has no ``out=`` argument; PyTorch and CuPy have one, which
    saves allocating the product and copying it (the same multiplication, so
    the same bits).
    """
    library = type(out).__module__.split(".")[0]
    if library == "torch":
        import torch

        torch.mul(a, b, out=out)
    elif library == "cupy":
        import cupy

        cupy.multiply(a, b, out=out)
    else:
        out[...] = a * b


def to_host(array):
    """A NumPy copy of an array of any namespace and device."""
    if hasattr(array, "cpu"):  # torch
        array = array.cpu()
    if hasattr(array, "get"):  # cupy
        return array.get()
    return np.from_dlpack(array).copy()


def refuse_array_api_input(estimator, reason, **arrays):
    """Raise a ``ValueError`` if any of ``arrays`` is a non-NumPy array API input.

    For the estimators, or methods, that run on NumPy arrays only: with array
    API dispatch on, an input of another namespace is refused before any
    compiled kernel sees it, with ``reason`` and how to convert the input.
    """
    if not (ARRAY_API_AVAILABLE and get_config()["array_api_dispatch"]):
        return
    for name, array in arrays.items():
        xp, _ = input_namespace(array)
        if xp is not None:
            raise ValueError(
                f"{type(estimator).__name__} does not support array API inputs "
                f"here: {name} is a {xp.__name__} array, but {reason}. Convert "
                "the inputs to NumPy arrays first: X.cpu().numpy() for a "
                "PyTorch tensor, cupy.asnumpy(X) for a CuPy array."
            )
