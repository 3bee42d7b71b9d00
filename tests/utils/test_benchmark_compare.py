"""torch.utils.benchmark's Compare and Fuzzer against PyTorch's: the same Measurement times
print the same tables, and the same seed draws the same parameters and tensor layouts."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

import autodiff
from autodiff.utils import benchmark

torch = pytest.importorskip("torch")
from torch.utils.benchmark.utils import common as torch_common  # noqa: E402


def _pair(times: list[float], number: int = 1, **spec: Any) -> tuple[Any, Any]:
    """One measurement twice: autodiff's and PyTorch's, with the same raw times."""
    fields: dict[str, Any] = {"stmt": "f(x)", "setup": "pass", "label": None, "sub_label": None,
              "description": None, "env": None, "num_threads": 1, **spec}
    ours = benchmark.Measurement(number, list(times), dict(fields))
    theirs = torch_common.Measurement(number, list(times), torch_common.TaskSpec(**fields))
    return ours, theirs


def _grid(seed: int, *, envs: tuple[str | None, ...] = (None,), labels: tuple[str, ...] = ("A",),
          threads: tuple[int, ...] = (1, 2), noisy: bool = False, scale: float = 1e-6,
          drop: int = 0) -> tuple[list[Any], list[Any]]:
    rng = random.Random(seed)
    ours: list[Any] = []
    theirs: list[Any] = []
    cells = list(itertools.product(labels, envs, threads, ("[1, 1]", "[64, 256]"),
                                   ("mul/sum", "bmm", "einsum")))
    for label, env, n, sub_label, description in cells[drop:]:
        base = scale * rng.uniform(0.5, 400)
        count = rng.choice((1, 3, 7, 20))
        spread = 0.6 if noisy and rng.random() < 0.5 else 0.01
        times = [base * (1 + spread * rng.random()) for _ in range(count)]
        a, b = _pair(times, number=rng.choice((1, 10, 100)), label=label, env=env,
                     num_threads=n, sub_label=sub_label, description=description,
                     stmt=f"{description}(x)")
        ours.append(a)
        theirs.append(b)
    return ours, theirs


def _configure(compare: Any, options: tuple[str, ...]) -> None:
    for option in options:
        if option == "rowwise":
            compare.colorize(rowwise=True)
        else:
            getattr(compare, option)()


OPTIONS = [(), ("trim_significant_figures",), ("colorize",), ("rowwise",),
           ("highlight_warnings",),
           ("trim_significant_figures", "colorize", "highlight_warnings")]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "+".join(o) or "plain")
@pytest.mark.parametrize("seed", range(4))
def test_compare_prints_pytorchs_table(seed: int, options: tuple[str, ...]) -> None:
    ours, theirs = _grid(seed, noisy=seed % 2 == 1, scale=(1e-9, 1e-6, 1e-3, 1.0)[seed])
    mine, reference = benchmark.Compare(ours), torch.utils.benchmark.Compare(theirs)
    _configure(mine, options)
    _configure(reference, options)
    assert str(mine) == str(reference)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "+".join(o) or "plain")
def test_compare_envs_labels_and_missing_cells(options: tuple[str, ...]) -> None:
    ours, theirs = _grid(7, envs=("environment A: mul/sum", "environment B: bmm"),
                         labels=("Batched dot", "Other"), noisy=True, drop=3)
    mine, reference = benchmark.Compare(ours[:5]), torch.utils.benchmark.Compare(theirs[:5])
    mine.extend_results(ours[5:])
    reference.extend_results(theirs[5:])
    _configure(mine, options)
    _configure(reference, options)
    assert str(mine) == str(reference)
    assert str(mine).count("Times are in") == 2


def test_compare_merges_replicates_of_one_task() -> None:
    first, first_torch = _pair([3e-6, 3.2e-6], number=10, label="L", description="d")
    again, again_torch = _pair([2.9e-6] * 5, number=1, label="L", description="d")
    other, other_torch = _pair([9e-6], label="L", description="e")
    mine = benchmark.Compare([first, again, other])
    mine.trim_significant_figures()
    reference = torch.utils.benchmark.Compare([first_torch, again_torch, other_torch])
    reference.trim_significant_figures()
    assert str(mine) == str(reference)
    (merged,) = [m for m in benchmark.Measurement.merge([first, again])]
    assert merged.number_per_run == 1 and len(merged.times) == 7


def test_measurement_statistics_match_pytorchs() -> None:
    rng = random.Random(0)
    for count in (1, 2, 4, 9, 40):
        times = [1e-5 * (1 + rng.random() * rng.choice((0.001, 0.05, 0.3, 1.0)))
                 for _ in range(count)]
        ours, theirs = _pair(times, number=3)
        assert ours.significant_figures == theirs.significant_figures
        assert ours.has_warnings == theirs.has_warnings
        assert ours.median == pytest.approx(theirs.median, rel=1e-12)
        assert ours.iqr == pytest.approx(theirs.iqr, rel=1e-9, abs=1e-18)
        assert ours.env is theirs.env is None
        assert ours.as_row_name == theirs.as_row_name


def test_compare_print_and_bad_results(capsys: pytest.CaptureFixture[str]) -> None:
    ours, _ = _grid(1)
    compare = benchmark.Compare(ours)
    compare.print()
    assert capsys.readouterr().out == str(compare) + "\n"
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`, got <class"):
        compare.extend_results([1])  # type: ignore[list-item]


def _fuzzers(module: Any, seed: int) -> Any:
    m = module  # autodiff.utils.benchmark or torch.utils.benchmark
    return m.Fuzzer(
        parameters=[
            m.FuzzedParameter("k0", minval=1, maxval=1000, distribution="loguniform"),
            m.FuzzedParameter("k1", minval=1, maxval=64, distribution="uniform", strict=True),
            m.FuzzedParameter("f", minval=0.0, maxval=2.5, distribution="uniform"),
            m.FuzzedParameter("d", distribution={1: 0.2, 2: 0.3, 3: 0.5}),
            m.FuzzedParameter("k2", distribution={m.ParameterAlias("k0"): 0.5, 7: 0.5}),
            m.FuzzedParameter("s", minval=1, maxval=3, distribution="uniform"),
        ],
        tensors=[
            m.FuzzedTensor("x", size=("k0", "k1", "k2"), steps=(1, "s", 1), dim_parameter="d",
                           min_elements=16, max_elements=50000, max_allocation_bytes=400000,
                           probability_contiguous=0.4),
            m.FuzzedTensor("y", size=("k1", 3), dtype=m_dtype(m)),
        ],
        constraints=[lambda params: params["k0"] + params["k1"] > 3],
        seed=seed,
    )


def m_dtype(module: Any) -> Any:
    return (autodiff if module is benchmark else torch).int16


@pytest.mark.parametrize("seed", [0, 1, 12345, 2 ** 32 - 1])
def test_fuzzer_draws_pytorchs_parameters_and_layouts(seed: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # PyTorch 2.13 rejects normalized custom distributions (its check is inverted); its
    # sampling is what is compared, so the reference skips that check.
    from torch.utils.benchmark.utils import fuzzer as torch_fuzzer
    monkeypatch.setattr(torch_fuzzer.FuzzedParameter, "_check_distribution",
                        lambda self, distribution: distribution)
    ours = list(_fuzzers(benchmark, seed).take(12))
    theirs = list(_fuzzers(torch.utils.benchmark, seed).take(12))
    for (tensors, properties, params), (t_tensors, t_properties, t_params) in zip(ours, theirs):
        assert params == {k: (float(v) if isinstance(v, float) else int(v))
                          for k, v in t_params.items()}
        for name in ("x", "y"):
            mine, reference = properties[name], t_properties[name]
            assert mine["order"] == tuple(int(i) for i in reference["order"])
            assert mine["steps"] == reference["steps"]
            assert mine["numel"] == reference["numel"] == tensors[name].numel()
            assert mine["is_contiguous"] == reference["is_contiguous"]
            assert mine["is_contiguous"] == tensors[name].is_contiguous()
            assert mine["dtype"] == reference["dtype"] == str(tensors[name].dtype)
            assert tuple(tensors[name].shape) == tuple(t_tensors[name].shape)
            assert tensors[name].stride() == t_tensors[name].stride()
        assert 16 <= tensors["x"].numel() <= 50000
        assert params["k0"] + params["k1"] > 3


def test_fuzzer_tensor_values_are_reproducible_and_in_range() -> None:
    a = [t for t, _, _ in _fuzzers(benchmark, 3).take(3)]
    b = [t for t, _, _ in _fuzzers(benchmark, 3).take(3)]
    for first, second in zip(a, b):
        assert first["x"].equal(second["x"])
        assert bool(((first["x"] >= 0) & (first["x"] < 1)).all())
        assert bool(((first["y"] >= 1) & (first["y"] < 127)).all())


def test_fuzzer_errors() -> None:
    with pytest.raises(AssertionError, match="Unknown distribution: normal"):
        benchmark.FuzzedParameter("a", 1, 2, distribution="normal")
    with pytest.raises(AssertionError, match="Distribution is not normalized"):
        benchmark.FuzzedParameter("a", distribution={1: 0.5, 2: 0.4})
    with pytest.raises(AssertionError, match="'minval' must be None"):
        benchmark.FuzzedParameter("a", minval=1, distribution={1: 1.0})
    with pytest.raises(ValueError, match="Duplicate names in parameters and tensors"):
        benchmark.Fuzzer([benchmark.FuzzedParameter("x", 1, 2, "uniform")],
                         [benchmark.FuzzedTensor("x", size=(1,))])
    cycle = benchmark.Fuzzer(
        [benchmark.FuzzedParameter("a", distribution={benchmark.ParameterAlias("b"): 1.0}),
         benchmark.FuzzedParameter("b", distribution={benchmark.ParameterAlias("a"): 1.0})], [])
    with pytest.raises(ValueError, match="ParameterAlias cycle detected"):
        next(cycle.take(1))
    never = benchmark.Fuzzer([benchmark.FuzzedParameter("n", 1, 4, "uniform")],
                             [benchmark.FuzzedTensor("x", size=("n",), min_elements=5)])
    with pytest.raises(ValueError, match=r"Failed to generate a set of valid parameters\."):
        next(never.take(1))
    assert never.rejection_rate == 1.0


def test_compare_names_a_missing_env_beside_others() -> None:
    # PyTorch fails on this table (it sorts None beside strings); autodiff names the env.
    with_env, _ = _pair([1e-6], label="L", description="d", env="A")
    without, _ = _pair([2e-6], label="L", description="d", sub_label="other")
    table = str(benchmark.Compare([with_env, without]))
    assert "(A)" in table and "(Unspecified env)" in table


@pytest.mark.parametrize("spread", [0.01, 0.15, 0.35, 0.8])
def test_measurement_repr_warnings_match_pytorchs(spread: float) -> None:
    # The warning's wording changes at PyTorch's thresholds: 10% and 25% of the median.
    times = [1e-5 * (1 + spread * i / 7) for i in range(8)]
    ours, theirs = _pair(times, number=10, label="L", sub_label="s", description="d")
    assert repr(ours).splitlines()[1:] == repr(theirs).splitlines()[1:]
