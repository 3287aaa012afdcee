"""Timing helpers shared by the benchmark scripts.

Two callables are timed alternately, so that a slow spell of the machine
touches both, and the ratio of their median times is reported.
"""

import time

import numpy as np


def interleaved_medians(ours, theirs, repeats=7, warmup=1):
    """Median wall time of ``ours()`` and ``theirs()``, run alternately."""
    for _ in range(warmup):
        ours()
        theirs()
    times_ours, times_theirs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        times_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        times_theirs.append(time.perf_counter() - start)
    return float(np.median(times_ours)), float(np.median(times_theirs))


def report(case, ours, theirs, target=None):
    """Print one case: both medians, the ratio ours / scikit-learn, the target."""
    ratio = ours / theirs
    line = f"{case:<55} ours {ours * 1e3:9.1f} ms  sklearn {theirs * 1e3:9.1f} ms"
    line += f"  ratio {ratio:5.2f}"
    if target is not None:
        line += f"  (target <= {target:.2f}: {'met' if ratio <= target else 'MISSED'})"
    print(line, flush=True)
    return ratio
