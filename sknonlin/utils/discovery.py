"""Find the package's public estimators by walking its modules."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator


def all_estimators():
    """Return every public estimator class defined in sknonlin.

    The package's modules are imported and searched, so an estimator is found
    as soon as it is written, without a hand-kept list.

    Returns
    -------
    estimators : list of (str, type)
        Pairs of class name and class, sorted by name.

    See Also
    --------
    sklearn.utils.discovery.all_estimators : The same for scikit-learn.

    Examples
    --------
    >>> from sknonlin.utils import all_estimators
    >>> import sknonlin
    >>> all(name in sknonlin.__all__ for name, _ in all_estimators())
    True
    """
    import sknonlin

    found = {}
    for module_info in pkgutil.walk_packages(sknonlin.__path__, prefix="sknonlin."):
        # sknonlin.onnx holds converters, needs an optional extra, and
        # registers with skl2onnx when imported.
        if ".tests" in module_info.name or module_info.name.startswith("sknonlin.onnx"):
            continue
        module = importlib.import_module(module_info.name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                not name.startswith("_")
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("sknonlin")
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    return sorted(found.items())
