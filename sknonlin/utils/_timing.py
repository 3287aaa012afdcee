"""Timing two implementations of the same job against each other.

Shared by the scripts in ``benchmarks/`` and the speed example of the gallery,
so that every speed figure of the package is measured the same way: the two
callables run alternately, the one that goes first swapping at each repeat,
so that a slow spell of the machine or a warm cache touches both alike, and
the median of each one's times is kept.
"""

import time

import numpy as np


def interleaved_medians(ours, theirs, *, repeats=7, warmup=1, clock=time.perf_counter):
    """Median wall time of ``ours()`` and ``theirs()``, run alternately.

    Parameters
    ----------
    ours, theirs : callable
        The two jobs, called without arguments.

    repeats : int, default=7
        Timed calls of each.

    warmup : int, default=1
        Untimed calls of each first (numba compiles the package's kernels on
        first use; caches fill).

    clock : callable, default=time.perf_counter
        Returns the time in seconds.

    Returns
    -------
    seconds_ours, seconds_theirs : float
        The median time of a call of each.
    """
    for _ in range(warmup):
        ours()
        theirs()
    times = {"ours": [], "theirs": []}
    pair = [("ours", ours), ("theirs", theirs)]
    for repeat in range(repeats):
        for name, job in pair if repeat % 2 == 0 else pair[::-1]:
            start = clock()
            job()
            times[name].append(clock() - start)
    return float(np.median(times["ours"])), float(np.median(times["theirs"]))
