"""The timing helper shared by the benchmarks and the speed example."""

import pytest

from sknonlin.utils._timing import interleaved_medians


class FakeClock:
    """A clock that each job advances by its own duration."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def job(self, name, durations, log):
        durations = iter(durations)

        def run():
            log.append(name)
            self.now += next(durations)

        return run


@pytest.mark.parametrize("warmup", [0, 1, 2])
def test_order_alternates_after_the_warmup(warmup):
    clock, log = FakeClock(), []
    interleaved_medians(
        clock.job("a", [1.0] * 10, log),
        clock.job("b", [1.0] * 10, log),
        repeats=4,
        warmup=warmup,
        clock=clock,
    )
    assert log == ["a", "b"] * warmup + ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_medians_of_the_timed_calls_only():
    clock, log = FakeClock(), []
    # the warm-up calls (first duration of each) are slow and not counted
    ours = clock.job("a", [100.0, 3.0, 1.0, 2.0, 50.0, 4.0], log)
    theirs = clock.job("b", [100.0, 10.0, 30.0, 20.0, 40.0, 0.5], log)
    t_ours, t_theirs = interleaved_medians(ours, theirs, repeats=5, clock=clock)
    assert t_ours == 3.0  # median of 3, 1, 2, 50, 4
    assert t_theirs == 20.0  # median of 10, 30, 20, 40, 0.5
    assert isinstance(t_ours, float) and isinstance(t_theirs, float)
