"""Random numbers: `autodiff.Generator` (torch.Generator), the default generators, seeding
(`manual_seed`, `seed`, `autodiff.random`, `autodiff.cuda`), and `generator=` on every function
that draws. The streams are the backends' own (not PyTorch's), so what is compared with PyTorch
is the contract: types, seeds, errors, and that a seed or a restored state repeats the numbers.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
import autodiff.nn.init as init
from autodiff.utils.data import DataLoader, RandomSampler, TensorDataset, random_split
from tests.autograd._compare import assert_same, error_of, plain

DEFAULT_SEED = 67280421310721


def _values(tensor: autodiff.Tensor) -> list[Any]:
    return tensor.tolist()  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- Generator
def test_generator_api_as_torch() -> None:
    def scenario(lib: Any) -> Any:
        generator = lib.Generator()
        first = generator.initial_seed()
        same = generator.manual_seed(5) is generator
        negative = lib.Generator().manual_seed(-1).initial_seed()
        state = generator.get_state()
        restored = generator.set_state(state) is generator
        return [first, same, generator.initial_seed(), negative, str(state.dtype),
                str(state.device), state.ndim, state.requires_grad, restored,
                str(generator.device), str(lib.default_generator.device),
                lib.manual_seed(3) is lib.default_generator, lib.initial_seed(),
                error_of(lambda: generator.manual_seed(1.5)),
                error_of(lambda: generator.manual_seed("3")),
                error_of(lambda: generator.manual_seed(2**64)),
                lib.Generator().manual_seed(2**64 - 1).initial_seed(),
                lib.Generator().manual_seed(-(2**63)).initial_seed(),
                error_of(lambda: generator.manual_seed(-(2**63) - 1)),
                error_of(lambda: lib.manual_seed(2**64)),
                lib.manual_seed(1.5).initial_seed(),
                error_of(lambda: generator.set_state([1, 2])),
                error_of(lambda: generator.set_state(lib.zeros(3))),
                error_of(lambda: generator.set_state(lib.zeros(3, dtype=lib.uint8)))]

    log = plain(scenario(autodiff))
    assert log[0] == DEFAULT_SEED and log[3] == 2**64 - 1
    assert log[-1] == ("RuntimeError", "Expected a PCG64 generator state of size 45 but found "
                                       "the input RNG state size to be 3")
    torch = pytest.importorskip("torch")
    expected = plain(scenario(torch))
    assert_same(log[:-1], expected[:-1])
    # The size in the message is each algorithm's own (mt19937's 5056 bytes in PyTorch).
    assert expected[-1] == ("RuntimeError", "Expected a CPUGeneratorImplState of size 5056 but "
                                            "found the input RNG state size to be 3")


def test_seed_takes_one_from_the_system() -> None:
    generator = autodiff.Generator()
    seeds = {generator.seed() for _ in range(3)}
    assert len(seeds) == 3 and all(0 <= seed < 2**64 for seed in seeds)
    assert generator.initial_seed() in seeds
    chosen = autodiff.seed()
    assert autodiff.initial_seed() == chosen
    assert autodiff.random.initial_seed() == chosen


DRAWS: dict[str, Callable[[Any, str], Any]] = {
    "rand": lambda g, d: autodiff.rand(2, 3, generator=g, device=d),
    "randn": lambda g, d: autodiff.randn((4,), generator=g, device=d, dtype=autodiff.float64),
    "randint": lambda g, d: autodiff.randint(-5, 5, (6,), generator=g, device=d),
    "randint_high": lambda g, d: autodiff.randint(7, (3,), generator=g, device=d),
    "randperm": lambda g, d: autodiff.randperm(9, generator=g, device=d),
    "rand_like": lambda g, d: autodiff.rand_like(autodiff.zeros(3, device=d), generator=g),
    "randn_like": lambda g, d: autodiff.randn_like(autodiff.zeros(3, device=d), generator=g),
    "uniform_": lambda g, d: init.uniform_(autodiff.empty(5, device=d), -2, 3, generator=g),
    "normal_": lambda g, d: init.normal_(autodiff.empty(5, device=d), 1, 2, generator=g),
    "xavier_uniform_": lambda g, d: init.xavier_uniform_(autodiff.empty(3, 4, device=d),
                                                         generator=g),
    "xavier_normal_": lambda g, d: init.xavier_normal_(autodiff.empty(3, 4, device=d),
                                                       generator=g),
    "kaiming_uniform_": lambda g, d: init.kaiming_uniform_(autodiff.empty(3, 4, device=d),
                                                           generator=g),
    "kaiming_normal_": lambda g, d: init.kaiming_normal_(autodiff.empty(3, 4, device=d),
                                                         generator=g),
}


@pytest.mark.parametrize("name", DRAWS)
def test_a_generator_repeats_its_numbers_and_leaves_the_default_alone(name: str,
                                                                      device: str) -> None:
    draw = DRAWS[name]
    generator = autodiff.Generator(device).manual_seed(11)
    default = autodiff.Generator._default(autodiff.empty(0, device=device)._backend)
    before = default.get_state()
    first = draw(generator, device)
    assert first.device == autodiff.device(device)
    assert default.get_state().tolist() == before.tolist()  # the default stream did not move
    second = draw(generator, device)
    assert _values(second) != _values(first)  # the stream moved on
    assert _values(draw(generator.manual_seed(11), device)) == _values(first)
    state = generator.get_state()
    again = draw(generator, device)
    generator.set_state(state)
    assert _values(draw(generator, device)) == _values(again)
    assert _values(draw(generator.clone_state(), device)) == _values(draw(generator, device))


def test_values_have_the_distributions_asked_for() -> None:
    generator = autodiff.Generator().manual_seed(0)
    uniform = autodiff.rand(20000, generator=generator)
    assert uniform.min().item() >= 0 and uniform.max().item() < 1
    assert abs(uniform.mean().item() - 0.5) < 0.01
    normal = autodiff.randn(20000, generator=generator, dtype=autodiff.float64)
    assert abs(normal.mean().item()) < 0.03 and abs(normal.std().item() - 1) < 0.03
    integers = autodiff.randint(3, 6, (1000,), generator=generator)
    assert integers.dtype is autodiff.int64 and set(integers.tolist()) == {3, 4, 5}
    assert sorted(autodiff.randperm(50, generator=generator).tolist()) == list(range(50))


def test_a_generator_of_another_device_of_the_same_type_draws_there_and_moves() -> None:
    generator = autodiff.Generator("strict:0").manual_seed(4)
    out = autodiff.rand(3, generator=generator, device="strict:1")
    assert out.device == autodiff.device("strict:1")
    assert _values(out) == _values(autodiff.rand(3, generator=generator.manual_seed(4),
                                                 device="strict:0"))


@pytest.mark.parametrize(("generator_device", "target_device", "expected"), [
    ("cpu", "strict:1", "strict"), ("strict:1", "cpu", "cpu")])
def test_a_generator_of_another_device_type_is_refused(generator_device: str,
                                                       target_device: str,
                                                       expected: str) -> None:
    generator = autodiff.Generator(generator_device)
    found = autodiff.device(generator_device).type
    message = f"Expected a '{expected}' device type for generator but found '{found}'"
    target = autodiff.zeros(2, device=target_device)
    for call in (lambda: autodiff.rand(2, generator=generator, device=target_device),
                 lambda: autodiff.randperm(2, generator=generator, device=target_device),
                 lambda: autodiff.randn_like(target, generator=generator),
                 lambda: init.normal_(target, generator=generator)):
        with pytest.raises(RuntimeError, match=f"^{message}$"):
            call()
    assert target.tolist() == [0.0, 0.0]  # refused before anything was written


def test_a_generator_that_is_not_one_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^rand\(\): argument 'generator' must be "
                                        r"torch\.Generator, not int$"):
        autodiff.rand(2, generator=3)
    torch = pytest.importorskip("torch")
    # PyTorch's wording where its message is the one-signature form.
    assert error_of(lambda: init.uniform_(autodiff.zeros(2), generator=3)) == \
        error_of(lambda: torch.nn.init.uniform_(torch.zeros(2), generator=3))


# ----------------------------------------------------------------------------- default generators
def test_manual_seed_seeds_every_device_and_returns_the_cpu_generator(device: str) -> None:
    generator = autodiff.manual_seed(21)
    assert generator is autodiff.default_generator is autodiff.random.default_generator
    first = _values(autodiff.randn(4, device=device))
    autodiff.random.manual_seed(21)
    assert _values(autodiff.randn(4, device=device)) == first


def test_rng_state_round_trip() -> None:
    state = autodiff.get_rng_state()
    first = _values(autodiff.rand(5))
    autodiff.set_rng_state(state)
    assert _values(autodiff.rand(5)) == first
    autodiff.random.set_rng_state(autodiff.random.get_rng_state())


def test_fork_rng_restores_the_cpu_and_the_devices_asked_for() -> None:
    autodiff.manual_seed(0)
    with autodiff.random.fork_rng(devices=[1], device_type="strict"):
        inside = (_values(autodiff.rand(3)), _values(autodiff.rand(3, device="strict:1")))
    assert (_values(autodiff.rand(3)), _values(autodiff.rand(3, device="strict:1"))) == inside
    with autodiff.random.fork_rng(enabled=False):
        moved = _values(autodiff.rand(3))
    assert _values(autodiff.rand(3)) != moved
    with pytest.warns(UserWarning, match="STRICT reports that you have 2 available devices"), \
            autodiff.random.fork_rng(device_type="strict"):
        autodiff.rand(1, device="strict:0")
    with autodiff.random.fork_rng():  # CUDA by default: none here, so only the CPU
        autodiff.rand(1)
    with pytest.raises(RuntimeError, match=r"^torch has no module of `tpu`"), \
            autodiff.random.fork_rng(device_type="tpu"):
        pass


def test_default_seeds_as_pytorch() -> None:
    """The CPU's default generator starts from a seed of the system's; the other devices' from
    PyTorch's default seed (as CUDA's do)."""
    code = ("import autodiff; print(autodiff.initial_seed(), "
            "autodiff.Generator._default(autodiff.zeros(0, device='strict:1')._backend)"
            ".initial_seed())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] != runs[1][0]
    assert runs[0][1] == runs[1][1] == str(DEFAULT_SEED)


# ----------------------------------------------------------------------------- data
def test_data_samplers_take_an_autodiff_generator() -> None:
    assert autodiff.utils.data.Generator is autodiff.Generator
    dataset = TensorDataset(autodiff.arange(20))
    orders = [[int(batch[0].tolist()[0]) for batch in DataLoader(
        dataset, shuffle=True, generator=autodiff.Generator().manual_seed(seed))]
        for seed in (1, 1, 2)]
    assert orders[0] == orders[1] != orders[2] and sorted(orders[0]) == list(range(20))
    parts = random_split(dataset, [5, 15], generator=autodiff.Generator().manual_seed(3))
    assert sorted(parts[0].indices + parts[1].indices) == list(range(20))
    sampler = RandomSampler(dataset, replacement=True, num_samples=30,
                            generator=autodiff.Generator().manual_seed(0))
    drawn = list(sampler)
    assert len(drawn) == 30 and all(0 <= index < 20 for index in drawn)
    assert list(sampler) != drawn  # the generator moved on between epochs


def test_thread_safe_generator_is_a_thread_workers_own() -> None:
    from types import SimpleNamespace

    from autodiff.utils.data._utils import worker

    assert autodiff.thread_safe_generator() is None  # the main process: the default generator
    generator = autodiff.Generator().manual_seed(3)
    previous = worker._worker_info
    try:
        for method, rng, expected in (("multiprocessing", None, None),
                                      ("thread", None, None),
                                      ("thread", SimpleNamespace(torch_generator=generator),
                                       generator)):
            worker._worker_info = worker.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None,
                                                    rng=rng, worker_method=method)
            assert autodiff.thread_safe_generator() is expected
    finally:
        worker._worker_info = previous
    draws = autodiff.randint(0, 10, (5,), generator=autodiff.thread_safe_generator())
    assert draws.shape == (5,)
