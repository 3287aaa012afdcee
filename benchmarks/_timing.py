"""Timing helpers shared by the benchmark scripts.

Two callables are timed alternately, so that a slow spell of the machine
touches both, and the ratio of their median times is reported. The timing
itself is ``sknonlin.utils._timing.interleaved_medians``, which the speed
example of the gallery uses too.
"""

from sknonlin.utils._timing import interleaved_medians as _interleaved_medians

__all__ = ["interleaved_medians", "report"]


def interleaved_medians(ours, theirs, *, repeats=7, warmup=1, number=1):
    """Median wall time of one call of ``ours()`` and ``theirs()``, run alternately.

    Each measurement times ``number`` calls in a row and counts their mean, so
    that calls far shorter than the clock's resolution can be timed.
    """
    if number == 1:
        return _interleaved_medians(ours, theirs, repeats=repeats, warmup=warmup)

    def repeated(function):
        def run():
            for _ in range(number):
                function()

        return run

    seconds_ours, seconds_theirs = _interleaved_medians(
        repeated(ours), repeated(theirs), repeats=repeats, warmup=warmup
    )
    return seconds_ours / number, seconds_theirs / number


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
