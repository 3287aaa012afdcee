"""Timing helpers shared by the benchmark scripts.

Two callables are timed alternately, so that a slow spell of the machine
touches both, and the ratio of their median times is reported. The timing
itself is ``sknonlin.utils._timing.interleaved_medians``, which the speed
example of the gallery uses too.
"""

from sknonlin.utils._timing import interleaved_medians

__all__ = ["interleaved_medians", "report"]


def report(case, ours, theirs, target=None):
    """Print one case: both medians, the ratio ours / scikit-learn, the target."""
    ratio = ours / theirs
    line = f"{case:<55} ours {ours * 1e3:9.1f} ms  sklearn {theirs * 1e3:9.1f} ms"
    line += f"  ratio {ratio:5.2f}"
    if target is not None:
        line += f"  (target <= {target:.2f}: {'met' if ratio <= target else 'MISSED'})"
    print(line, flush=True)
    return ratio
