"""Datasets, samplers, DataLoader (batching, shuffling determinism, drop_last, collate) and
random_split."""

from __future__ import annotations

from typing import Any, NamedTuple

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
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

N = 23


def _tensors(device: str = "cpu") -> tuple[autodiff.Tensor, autodiff.Tensor]:
    x = autodiff.arange(N * 3, dtype=autodiff.float32).reshape(N, 3).to(device)
    y = autodiff.arange(N).to(device)
    return x, y


class RowDataset(Dataset):
    """The same rows as _tensors(), served one sample at a time (the generic path)."""

    def __init__(self, device: str = "cpu") -> None:
        self.x = np.arange(N * 3, dtype=np.float32).reshape(N, 3)
        self.device = device

    def __getitem__(self, index: int) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        return (autodiff.tensor(self.x[index], device=self.device),
                autodiff.tensor(index, device=self.device))

    def __len__(self) -> int:
        return N


def _rows(loader: DataLoader) -> list[list[int]]:
    return [batch[1].cpu().tolist() for batch in loader]


def test_sequential_batches_cover_the_dataset_in_order(device: str) -> None:
    loader = DataLoader(TensorDataset(*_tensors(device)), batch_size=5)
    batches = list(loader)
    assert len(loader) == 5 and len(batches) == 5
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    x, y = batches[1]
    assert isinstance(batches[1], list)  # tuples collate to lists, as in PyTorch
    assert y.cpu().tolist() == [5, 6, 7, 8, 9] and x.device == y.device
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(15, 30).reshape(5, 3))
    dropping = DataLoader(TensorDataset(*_tensors(device)), batch_size=5, drop_last=True)
    assert len(dropping) == 4 and sum(len(b[1]) for b in dropping) == 20


def test_fast_path_equals_collating_sample_by_sample(device: str) -> None:
    for shuffle, drop_last in [(False, False), (True, False), (True, True)]:
        fast = DataLoader(TensorDataset(*_tensors(device)), batch_size=4, shuffle=shuffle,
                          drop_last=drop_last, generator=Generator().manual_seed(3))
        slow = DataLoader(RowDataset(device), batch_size=4, shuffle=shuffle,
                          drop_last=drop_last, generator=Generator().manual_seed(3))
        for (x_fast, y_fast), (x_slow, y_slow) in zip(fast, slow, strict=True):
            assert x_fast.dtype is x_slow.dtype and y_fast.dtype is y_slow.dtype
            np.testing.assert_array_equal(x_fast.cpu().numpy(), x_slow.cpu().numpy())
            np.testing.assert_array_equal(y_fast.cpu().numpy(), y_slow.cpu().numpy())


def test_shuffle_is_deterministic_per_seed_and_new_each_epoch() -> None:
    dataset = TensorDataset(*_tensors())
    seeded = DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator().manual_seed(0))
    first, second = _rows(seeded), _rows(seeded)
    # A permutation: every row once.
    assert sorted(row for batch in first for row in batch) == list(range(N))
    assert first != second  # a new order each epoch
    again = DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator().manual_seed(0))
    assert _rows(again) == first and _rows(again) == second
    other = DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator().manual_seed(1))
    assert _rows(other) != first
    # An int seed works too; without a generator, autodiff.manual_seed decides.
    assert _rows(DataLoader(dataset, batch_size=4, shuffle=True, generator=0)) == first
    autodiff.manual_seed(11)
    unseeded = _rows(DataLoader(dataset, batch_size=4, shuffle=True))
    autodiff.manual_seed(11)
    assert _rows(DataLoader(dataset, batch_size=4, shuffle=True)) == unseeded


def test_collate_of_dicts_numbers_strings_and_namedtuples() -> None:
    class Point(NamedTuple):
        x: float
        label: str

    class Records(Dataset):
        def __getitem__(self, index: int) -> dict[str, Any]:
            return {"feature": autodiff.full((2,), float(index)), "id": index,
                    "weight": index / 2, "name": f"n{index}", "point": Point(index * 1.0, "p")}

        def __len__(self) -> int:
            return 5

    batch = next(iter(DataLoader(Records(), batch_size=3)))
    assert batch["feature"].tolist() == [[0, 0], [1, 1], [2, 2]]
    assert batch["id"].dtype is autodiff.int64 and batch["id"].tolist() == [0, 1, 2]
    assert batch["weight"].dtype is autodiff.float64 and batch["weight"].tolist() == [0, .5, 1]
    assert batch["name"] == ["n0", "n1", "n2"]
    assert isinstance(batch["point"], Point) and batch["point"].label == ("p", "p", "p")
    assert default_collate([np.ones(2), np.zeros(2)]).tolist() == [[1, 1], [0, 0]]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size, but "
                       r"got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([autodiff.ones(2), autodiff.ones(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object()])


def test_custom_collate_batch_sampler_and_no_batching() -> None:
    dataset = RowDataset()
    loader = DataLoader(dataset, batch_size=6, collate_fn=lambda batch: len(batch))
    assert list(loader) == [6, 6, 6, 5]
    sampler = BatchSampler(SequentialSampler(dataset), batch_size=10, drop_last=False)
    assert [b[1].tolist() for b in DataLoader(dataset, batch_sampler=sampler)][1] == \
        list(range(10, 20))
    single = list(DataLoader(dataset, batch_size=None))
    assert len(single) == N and single[4][1].item() == 4
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_sampler=sampler, batch_size=3)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(dataset, sampler=SequentialSampler(dataset), shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        DataLoader(dataset, batch_size=0)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(dataset, num_workers=-1)


def test_random_sampler_with_replacement_and_num_samples() -> None:
    sampler = RandomSampler(range(5), replacement=True, num_samples=50, generator=4)
    drawn = list(sampler)
    assert len(drawn) == 50 and set(drawn) <= set(range(5)) and len(set(drawn)) > 1
    assert list(RandomSampler(range(5), replacement=True, num_samples=50, generator=4)) == drawn
    longer = list(RandomSampler(range(4), num_samples=10, generator=1))
    assert len(longer) == 10 and sorted(longer[:4]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(0))


def test_tensor_dataset_and_subset() -> None:
    x, y = _tensors()
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, autodiff.arange(3))
    dataset = TensorDataset(x, y)
    assert len(dataset) == N
    subset = Subset(RowDataset(), [3, 7, 9])
    assert len(subset) == 3 and subset[1][1].item() == 7


def test_random_split_lengths_fractions_and_determinism() -> None:
    dataset = RowDataset()
    parts = random_split(dataset, [10, 13], generator=Generator().manual_seed(0))
    assert [len(p) for p in parts] == [10, 13]
    indices = sorted(parts[0].indices + parts[1].indices)
    assert indices == list(range(N))
    same = random_split(dataset, [10, 13], generator=Generator().manual_seed(0))
    assert same[0].indices == parts[0].indices
    fractions = random_split(dataset, [0.5, 0.3, 0.2], generator=Generator().manual_seed(0))
    assert [len(p) for p in fractions] == [12, 7, 4]  # 11, 6, 4 and the remainder 2 spread
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(dataset, [10, 10])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(dataset, [0.5, 1.5, -1.0])
