"""torch.utils.benchmark's Timer: blocked_autorange and adaptive_autorange, on a clock that
advances only when the statement runs (so block sizes and counts are exact)."""

from __future__ import annotations

import pytest

import autodiff
from autodiff.utils.benchmark import Measurement, Timer


class Clock:
    """Each run of the statement `clock.tick()` takes `step` seconds; nothing else does."""

    def __init__(self, step: float, jitter: tuple[float, ...] = (0.0,)) -> None:
        self.now = 0.0
        self.step = step
        self.jitter = jitter
        self.runs = 0

    def tick(self) -> None:
        self.now += self.step * (1 + self.jitter[self.runs % len(self.jitter)])
        self.runs += 1

    def __call__(self) -> float:
        return self.now


def _timer(module: object, clock: Clock) -> object:
    return module.Timer("clock.tick()", globals={"clock": clock}, timer=clock)  # type: ignore[attr-defined]


def test_blocked_autorange_sizes_blocks_until_the_overhead_is_negligible() -> None:
    clock = Clock(1e-3)  # 1 ms a run: one run is already 1e-6 of overhead (1 ns) and >= 0.2 ms
    calls: list[tuple[int, float]] = []
    measurement = _timer(autodiff.utils.benchmark, clock).blocked_autorange(
        callback=lambda number, seconds: calls.append((number, seconds)))
    assert isinstance(measurement, Measurement)
    assert measurement.number_per_run == 1
    assert len(measurement.times) == len(calls) == 200  # blocks until 0.2 s have passed
    assert measurement.median == pytest.approx(1e-3)
    # A statement of 1 us needs blocks of 1000 runs to take 0.2 ms
    measurement = _timer(autodiff.utils.benchmark, Clock(1e-6)).blocked_autorange()
    assert measurement.number_per_run == 1000 and len(measurement.times) in (200, 201)


def test_adaptive_autorange_stops_when_the_spread_is_small() -> None:
    steady = _timer(autodiff.utils.benchmark, Clock(1e-2)).adaptive_autorange()
    assert len(steady.times) == 4 and steady.meets_confidence()  # more than 3 blocks, no spread
    noisy = _timer(autodiff.utils.benchmark, Clock(1e-2, (0.0, 0.5))).adaptive_autorange(
        max_run_time=0.5)
    assert not noisy.meets_confidence() and sum(noisy.raw_times) > 0.5  # stopped by max_run_time


def test_timer_restores_the_thread_count() -> None:
    before = autodiff.get_num_threads()
    Timer("pass", num_threads=1).blocked_autorange(min_run_time=0.001)
    assert autodiff.get_num_threads() == before


@pytest.mark.parametrize("step", [1e-3, 1e-6, 3e-5])
@pytest.mark.parametrize("jitter", [(0.0,), (0.0, 0.5, 0.1)])
def test_autoranges_match_pytorch(step: float, jitter: tuple[float, ...]) -> None:
    torch_benchmark = pytest.importorskip("torch.utils.benchmark")

    for run in ("blocked", "adaptive"):
        results = []
        for module in (autodiff.utils.benchmark, torch_benchmark):
            timer = _timer(module, Clock(step, jitter))
            measurement = (timer.blocked_autorange(min_run_time=0.05) if run == "blocked"
                           else timer.adaptive_autorange(max_run_time=0.3))
            results.append((measurement.number_per_run, len(measurement.times),
                            measurement.meets_confidence()))
        assert results[0] == results[1], run


def _repr_body(measurement: object) -> list[str]:
    """The repr without its first line (which names the class and its address)."""
    return repr(measurement).splitlines()[1:]


@pytest.mark.parametrize("jitter", [(0.0,), (0.0, 0.05), (0.0, 0.3), (0.0, 2.0)])
def test_measurement_repr_is_pytorchs(jitter: tuple[float, ...]) -> None:
    """Median, IQR from four measurements on, the per-measurement wording and the warnings."""
    torch_benchmark = pytest.importorskip("torch.utils.benchmark")
    for make in (lambda m, c: m.Timer("clock.tick()", globals={"clock": c}, timer=c,
                                      setup="\n    a = 1\n    b = 2\n", description="two"),
                 lambda m, c: m.Timer("clock.tick()\nclock.tick()", globals={"clock": c},
                                      timer=c, sub_label="pair"),
                 lambda m, c: m.Timer("clock.tick()", globals={"clock": c}, timer=c,
                                      label="tick", setup="a = 1")):
        for run in ("blocked", "timeit"):
            bodies = []
            for module in (autodiff.utils.benchmark, torch_benchmark):
                timer = make(module, Clock(3e-5, jitter))
                measurement = (timer.blocked_autorange(min_run_time=0.05) if run == "blocked"
                               else timer.timeit(100))
                bodies.append(_repr_body(measurement))
            assert bodies[0] == bodies[1]


def test_measurement_repr_without_torch() -> None:
    clock = Clock(2e-6)
    timer = Timer("clock.tick()", setup="\n        a = 1\n        b = 2\n",
                  globals={"clock": clock}, timer=clock)
    assert _repr_body(timer.timeit(1000)) == [
        "clock.tick()", "setup:", "  a = 1", "  b = 2", "", "  2.00 us",
        "  1 measurement, 1000 runs , 1 thread"]
    clock = Clock(1e-3, (0.0, 1.0))
    measurement = Timer("clock.tick()", globals={"clock": clock}, timer=clock,
                        num_threads=2).blocked_autorange(min_run_time=0.05)
    body = _repr_body(measurement)
    assert body[0] == "clock.tick()" and body[1].startswith("  Median: ")
    assert body[2].startswith("  IQR:    ") and body[2].endswith(" ms (1.00 to 2.00)")
    assert body[3].endswith(" runs per measurement, 2 threads")
    spread = measurement.iqr / measurement.median * 100
    assert spread >= 50
    assert body[4:] == [f"  WARNING: Interquartile range is {spread:.1f}% of the median "
                        "measurement.", "           This suggests significant environmental "
                        "influence."]


def test_timer_dedents_its_code_and_provides_torch() -> None:
    """As PyTorch's Timer: indented block strings run, and `torch` is this library."""
    timer = Timer(stmt="""
        z = x * y
    """, setup="""
        x = torch.ones((128,))
        y = torch.ones((128,))
    """, num_threads=1)
    measurement = timer.timeit(5)
    assert measurement.stmt == "z = x * y"
    assert measurement.setup == "x = torch.ones((128,))\ny = torch.ones((128,))"
    seen: dict[str, object] = {}
    Timer("seen['torch'] = torch", globals={"seen": seen}).timeit(1)
    assert seen["torch"] is autodiff
    Timer("seen['torch'] = torch", globals={"seen": seen, "torch": 7}).timeit(1)
    assert seen["torch"] == 7


def test_timer_refuses_a_statement_that_is_not_text() -> None:
    with pytest.raises(ValueError, match=r"^Currently only a `str` stmt is supported\.$"):
        Timer(lambda: None)  # type: ignore[arg-type]
