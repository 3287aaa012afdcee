"""Utilities for working with the package's estimators."""

from sknonlin.utils.discovery import all_estimators

__all__ = ["all_estimators"]
