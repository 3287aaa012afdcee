"""Timing helpers shared by the benchmark scripts.

Two callables are timed alternately, so that a slow spell of the machine
touches both, and the ratio of their median times is reported.
"""

import time

import numpy as np


def interleaved_medians(ours, theirs, repeats=7, warmup=1, number=1):
    """Median wall time of ``ours()`` and ``theirs()``, run alternately.

    Each measurement times ``number`` calls in a row and counts their mean, so
    that calls far shorter than the clock's resolution can be timed.
    """
    for _ in range(warmup):
        ours()
        theirs()
    times_ours, times_theirs = [], []
    for _ in range(repeats):
        times_ours.append(_time_calls(ours, number))
        times_theirs.append(_time_calls(theirs, number))
    return float(np.median(times_ours)), float(np.median(times_theirs))


def _time_calls(function, number):
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number


def report(case, ours, theirs, target=None):
    """Print one case: both medians, the ratio ours / scikit-learn, the target."""
    ratio = ours / theirs
    scale, unit = (1e6, "us") if max(ours, theirs) < 1e-3 else (1e3, "ms")
    line = (
        f"{case:<55} ours {ours * scale:9.1f} {unit}  "
        f"sklearn {theirs * scale:9.1f} {unit}"
    )
    line += f"  ratio {ratio:5.2f}"
    if target is not None:
        line += f"  (target <= {target:.2f}: {'met' if ratio <= target else 'MISSED'})"
    print(line, flush=True)
    return ratio
