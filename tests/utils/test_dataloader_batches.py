"""How a single-process DataLoader fetches a map-style dataset's batches: a dataset with
`__getitems__` is asked for each batch's list of indices and the collate function gets what it
returns (PyTorch's fetcher, compared with PyTorch where installed); a TensorDataset under the
built-in samplers and the default collate gathers each batch with index arrays cut from the
sampler's draw, which gives the batches, the order and the generator's state the list of
indices gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    Generator,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)


class _Recording(Dataset):
    """A dataset that answers whole batches and records what it was asked."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.asked: list[Any] = []

    def __getitem__(self, index: int) -> int:
        raise AssertionError("a dataset with __getitems__ is asked for whole batches")

    def __getitems__(self, indices: list[int]) -> dict[str, Any]:
        self.asked.append(indices)
        return {"rows": [10 * index for index in indices]}  # not a list of samples

    def __len__(self) -> int:
        return self.size


def _run_getitems(loader_class: Any, dataset: Any, **options: Any) -> tuple[list[Any], list[Any]]:
    collated: list[Any] = []

    def collate(batch: Any) -> int:
        collated.append(batch)
        return len(collated)

    results = list(loader_class(dataset, collate_fn=collate, **options))
    assert results == list(range(1, len(results) + 1))
    return dataset.asked, collated


@pytest.mark.parametrize("options", [
    {"batch_size": 4}, {"batch_size": 3, "drop_last": True},
    {"batch_size": 2, "sampler": [5, 1, 4, 0, 2]},
])
def test_getitems_gets_the_batch_indices_and_collate_its_result(options: dict) -> None:
    asked, collated = _run_getitems(DataLoader, _Recording(10), **options)
    order = options.get("sampler", list(range(10)))
    size = options["batch_size"]
    expected = [list(order[start:start + size]) for start in range(0, len(order), size)]
    if options.get("drop_last"):
        expected = [batch for batch in expected if len(batch) == size]
    assert asked == expected
    assert all(type(indices) is list for indices in asked)
    assert collated == [{"rows": [10 * index for index in indices]} for indices in expected]
    torch = pytest.importorskip("torch")
    torch_asked, torch_collated = _run_getitems(torch.utils.data.DataLoader, _Recording(10),
                                                **options)
    assert torch_asked == asked and torch_collated == collated


def test_getitems_dataset_without_batching_uses_getitem() -> None:
    """batch_size=None: one sample per index, through __getitem__ (as PyTorch)."""

    class Items(_Recording):
        def __getitem__(self, index: int) -> int:
            return index * 2

    dataset = Items(3)
    assert [int(item) for item in DataLoader(dataset, batch_size=None)] == [0, 2, 4]
    assert dataset.asked == []


def _rows(device: str, size: int) -> TensorDataset:
    features = autodiff.arange(float(2 * size), device=device).reshape(size, 2)
    return TensorDataset(features, autodiff.arange(size, device=device))


def _batches_by_lists(dataset: TensorDataset, sampler: Any, batch_size: int,
                      drop_last: bool) -> list[list[Any]]:
    out = []
    for indices in BatchSampler(sampler, batch_size, drop_last):
        rows = [dataset[index] for index in indices]
        out.append([np.stack([row[column].cpu().numpy() for row in rows]) for column in (0, 1)])
    return out


@pytest.mark.parametrize("sampler_options, batch_size, drop_last", [
    ({}, 64, False),  # one permutation: batches are views of it
    ({}, 7, True),
    ({"replacement": True}, 20, False),  # chunks of 32: batches across chunk boundaries
    ({"replacement": True, "num_samples": 101}, 64, True),
    ({"replacement": True, "num_samples": 101}, 64, False),
    ({"num_samples": 250}, 30, False),  # permutations one after another, the last one cut
    ({"num_samples": 200}, 50, False),  # a whole number of permutations: the extra one drawn
    (None, 16, False),  # SequentialSampler
])
def test_tensor_dataset_batches_equal_the_indexed_rows(device: str, sampler_options: Any,
                                                       batch_size: int, drop_last: bool) -> None:
    dataset = _rows(device, 100)

    def sampler() -> Any:
        if sampler_options is None:
            return SequentialSampler(dataset)
        return RandomSampler(dataset, generator=Generator().manual_seed(3), **sampler_options)

    loader = DataLoader(dataset, sampler=sampler(), batch_size=batch_size, drop_last=drop_last)
    got = list(loader)
    expected = _batches_by_lists(dataset, sampler(), batch_size, drop_last)
    assert len(got) == len(expected) == len(loader)
    for batch, (features, targets) in zip(got, expected):
        assert type(batch) is list and len(batch) == 2
        assert batch[0].device == dataset.tensors[0].device
        assert batch[1].dtype == autodiff.int64 and batch[0].dtype == autodiff.float32
        np.testing.assert_array_equal(batch[0].cpu().numpy(), features)
        np.testing.assert_array_equal(batch[1].cpu().numpy(), targets)


def test_shuffled_epochs_move_the_generator_as_the_index_lists_do() -> None:
    dataset = _rows("cpu", 50)
    generator, twin = Generator().manual_seed(7), Generator().manual_seed(7)
    loader = DataLoader(dataset, batch_size=16, shuffle=True, generator=generator)
    sampler = BatchSampler(RandomSampler(dataset, generator=twin), 16, False)
    for _ in range(3):
        # (the loader draws its workers' base seed first each epoch, as PyTorch does)
        autodiff.randint(0, 2**63 - 1, (1,), generator=twin)
        batches = [batch[1].tolist() for batch in loader]
        assert batches == list(sampler)
    assert generator.get_state().tolist() == twin.get_state().tolist()


def test_rows_of_a_tensor_that_requires_grad_are_stacked() -> None:
    """The gather does not record a graph: a tensor that requires grad takes the general
    path (its rows indexed and stacked, as PyTorch)."""
    weights = autodiff.arange(8.0).reshape(4, 2).requires_grad_()
    batch = next(iter(DataLoader(TensorDataset(weights), batch_size=3, shuffle=True,
                                 generator=Generator().manual_seed(0))))
    assert batch[0].grad_fn is not None and batch[0].grad_fn.name() == "StackBackward0"
    with autodiff.no_grad():
        batch = next(iter(DataLoader(TensorDataset(weights), batch_size=3)))
    assert batch[0].grad_fn is None and batch[0].tolist() == [[0, 1], [2, 3], [4, 5]]
