"""Datasets (Stack, Concat, Chain, Subset, IterableDataset), samplers (lazy RandomSampler,
SubsetRandomSampler, WeightedRandomSampler, BatchSampler) and collation, against PyTorch's
behaviour (values, structure, error types and messages)."""

from __future__ import annotations

import collections
import itertools
import tracemalloc
from typing import Any, NamedTuple

import numpy as np
import pytest

import autodiff
from autodiff.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    Generator,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
)
from autodiff.utils.data._utils.collate import collate, default_collate_fn_map


class Range(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Any:
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def test_module_paths_of_pytorch_are_importable() -> None:
    from autodiff.utils.data import dataloader, dataset, distributed, sampler
    from autodiff.utils.data._utils import collate as collate_module

    assert dataloader.DataLoader is DataLoader and dataset.Subset is Subset
    assert sampler.RandomSampler is RandomSampler and collate_module.default_collate is \
        default_collate
    assert distributed.DistributedSampler is autodiff.utils.data.DistributedSampler
    assert autodiff.Generator is Generator


def test_dataset_base_classes() -> None:
    with pytest.raises(NotImplementedError, match=r"Subclasses of Dataset should implement "
                       r"__getitem__\."):
        Dataset()[0]
    with pytest.raises(TypeError, match="has no len"):
        len(Dataset())
    with pytest.raises(TypeError, match="Can't instantiate abstract class IterableDataset"):
        IterableDataset()  # type: ignore[abstract]
    assert isinstance(Range(2) + Range(3), ChainDataset)
    assert list(Range(2) + Range(3)) == [0, 1, 0, 1, 2]
    concat = TensorDataset(autodiff.arange(3)) + TensorDataset(autodiff.arange(10, 12))
    assert isinstance(concat, ConcatDataset) and concat[3][0].item() == 10


def test_concat_dataset() -> None:
    data = ConcatDataset([range(3), range(10, 12)])
    assert len(data) == 5 and data.cumulative_sizes == [3, 5]
    assert [data[i] for i in range(5)] == [0, 1, 2, 10, 11] and data[-1] == 11
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset "
                       "length"):
        data[-6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Range(2)])
    with pytest.warns(FutureWarning, match="`cummulative_sizes` attribute is renamed"):
        assert data.cummulative_sizes == [3, 5]


def test_chain_dataset() -> None:
    chain = ChainDataset([Range(2), Range(3)])
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([range(3)]))  # type: ignore[list-item]


def test_stack_dataset() -> None:
    keyed = StackDataset(a=range(3), b=range(10, 13))
    assert keyed[1] == {"a": 1, "b": 11} and len(keyed) == 3
    assert keyed.__getitems__([0, 2]) == [{"a": 0, "b": 10}, {"a": 2, "b": 12}]
    positional = StackDataset(range(3), TensorDataset(autodiff.arange(3.0)))
    assert positional[2][0] == 2 and positional[2][1][0].item() == 2.0
    assert [sample[0] for sample in positional.__getitems__([1, 0])] == [1, 0]
    batch = next(iter(DataLoader(keyed, batch_size=3)))
    assert batch["a"].tolist() == [0, 1, 2] and batch["b"].tolist() == [10, 11, 12]
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(range(2), range(3))
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(range(2), b=range(2))


def test_subset_getitems_and_subclass_check() -> None:
    class Batched(Dataset):
        def __getitems__(self, indices: list[int]) -> list[int]:
            return [100 + i for i in indices]

        def __len__(self) -> int:
            return 10

    assert Subset(Batched(), [5, 7]).__getitems__([1, 0]) == [107, 105]
    assert Subset(range(10), [5, 7]).__getitems__([1]) == [7]

    class Broken(Subset):
        def __getitem__(self, index: Any) -> Any:
            return 0

    with pytest.raises(NotImplementedError, match="Broken overrides __getitem__ but not "
                       "__getitems__"):
        Broken(range(3), [0])


def test_subset_of_tensor_dataset_gathers_the_same_rows(device: str) -> None:
    x = autodiff.arange(20.0, device=device).reshape(10, 2)
    dataset = Subset(Subset(TensorDataset(x, autodiff.arange(10, device=device)), [9, 7, 5, 3,
                                                                                   1]), [4, 0, 2])
    fast = next(iter(DataLoader(dataset, batch_size=3)))
    rows = [dataset[i] for i in range(3)]
    assert fast[1].tolist() == [1, 9, 5] and fast[0].device == x.device
    np.testing.assert_array_equal(fast[0].cpu().numpy(), np.stack([r[0].cpu().numpy()
                                                                   for r in rows]))


def test_collated_rows_of_a_tensor_that_requires_grad_stay_differentiable() -> None:
    weights = autodiff.ones(4, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(weights), batch_size=2)))
    assert batch[0].grad_fn is not None and batch[0].grad_fn.name() == "StackBackward0"
    batch[0].sum().backward()
    assert weights.grad.tolist() == [[1, 1], [1, 1], [0, 0], [0, 0]]


# ----------------------------------------------------------------------------- samplers
def test_random_sampler_draws_lazily() -> None:
    sampler = RandomSampler(range(1000), replacement=True, num_samples=10**10, generator=0)
    assert len(sampler) == 10**10
    tracemalloc.start()
    try:
        first = list(itertools.islice(iter(sampler), 100))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20 and len(first) == 100 and all(0 <= i < 1000 for i in first)
    loader = DataLoader(range(1000), batch_size=64, sampler=sampler)
    assert len(loader) == 156250000
    assert next(iter(loader)).shape == (64,)


def test_random_sampler_epochs_and_num_samples() -> None:
    sampler = RandomSampler(range(7), generator=Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(7)) and first != second
    longer = list(RandomSampler(range(4), num_samples=10, generator=1))
    assert len(longer) == 10 and sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got "
                       "replacement=1"):
        RandomSampler(range(3), replacement=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                       "got num_samples=0"):
        RandomSampler(range(0))


def test_subset_random_sampler() -> None:
    sampler = SubsetRandomSampler([5, 6, 7, 8], generator=Generator().manual_seed(2))
    drawn = list(sampler)
    assert sorted(drawn) == [5, 6, 7, 8] and len(sampler) == 4
    assert list(SubsetRandomSampler([5, 6, 7, 8], generator=Generator().manual_seed(2))) == drawn


def test_weighted_random_sampler() -> None:
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=Generator().manual_seed(0))
    assert sampler.weights.dtype is autodiff.float64
    counts = collections.Counter(sampler)
    assert counts[0] == 0 and 0.7 < counts[2] / 4000 < 0.8
    once = list(WeightedRandomSampler([1.0, 5.0, 0.0, 2.0], 4, replacement=False, generator=3))
    assert sorted(once) == [0, 1, 2, 3] and once[-1] == 2  # zero weight comes last
    for weights, message in [
            ([0.0, 0.0], r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
            ([-1.0, 1.0], r"invalid multinomial distribution \(encountering probability entry "
                          r"< 0\)"),
            ([float("inf"), 1.0], r"invalid multinomial distribution \(encountering "
                                  r"probability entry = infinity or NaN\)")]:
        with pytest.raises(RuntimeError, match=message):
            list(WeightedRandomSampler(weights, 2))
    with pytest.raises(RuntimeError, match=r"cannot sample n_sample > prob_dist.size\(-1\) "
                       "samples without replacement"):
        list(WeightedRandomSampler([1.0, 2.0], 3, replacement=False))
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights "
                       r"have shape \(1, 1\)"):
        WeightedRandomSampler([[1.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0], 1, replacement=0)  # type: ignore[arg-type]


def test_batch_sampler() -> None:
    batches = list(BatchSampler(SequentialSampler(range(10)), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(range(10), 3, drop_last=True)) == batches[:3]
    assert len(BatchSampler(range(10), 3, False)) == 4
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got "
                       "drop_last=1"):
        BatchSampler(range(3), 2, 1)  # type: ignore[arg-type]


def test_sampler_messages_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    data = torch.utils.data
    ours = autodiff.utils.data
    cases = [("RandomSampler", (range(3),), {"replacement": 1}),
             ("RandomSampler", (range(0),), {}),
             ("WeightedRandomSampler", ([[1.0]], 2), {}),
             ("WeightedRandomSampler", ([1.0], 0), {}),
             ("BatchSampler", (range(3), 0, False), {})]
    for name, args, kwargs in cases:
        with pytest.raises(Exception) as theirs:
            getattr(data, name)(*args, **kwargs)
        with pytest.raises(Exception) as mine:
            getattr(ours, name)(*args, **kwargs)
        assert type(mine.value) is type(theirs.value) and str(mine.value) == str(theirs.value)
    for weights, replacement in [([0.0, 0.0], True), ([-1.0, 1.0], True), ([1.0], False)]:
        with pytest.raises(RuntimeError) as theirs:
            list(data.WeightedRandomSampler(weights, 2, replacement))
        with pytest.raises(RuntimeError) as mine:
            list(ours.WeightedRandomSampler(weights, 2, replacement))
        assert str(mine.value) == str(theirs.value)


# ----------------------------------------------------------------------------- collate
class Point(NamedTuple):
    x: int
    name: str


def _structure(value: Any) -> Any:
    """A comparable form: tensors as (dtype name, nested list)."""
    if hasattr(value, "dtype") and hasattr(value, "tolist") and hasattr(value, "shape"):
        return (str(value.dtype).rsplit(".", maxsplit=1)[-1], value.tolist())
    if isinstance(value, dict):
        return {key: _structure(item) for key, item in value.items()}, type(value).__name__
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_structure(item) for item in value]
    return value


def _batches() -> list[list[Any]]:
    return [
        [0, 1, 2], [0.5, 1.5], [True, False], ["a", "b"], [b"x", b"y"],
        [(1, "a"), (2, "b")], [[1, 2], [3, 4]], [Point(1, "p"), Point(2, "q")],
        [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
        [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
        [range(2), range(2)],
        [np.float64(1), np.float64(2)], [np.int32(1), np.int32(2)], [np.bool_(True)],
        [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
        [np.str_("s"), np.str_("t")],
    ]


def test_default_collate_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for batch in _batches():
        ours = _structure(default_collate(batch))
        theirs = _structure(torch.utils.data.default_collate(batch))
        assert ours == theirs, batch


def test_default_collate_values() -> None:
    batch = default_collate([{"x": autodiff.ones(2), "id": 1, "w": 0.5, "s": "a"},
                             {"x": autodiff.zeros(2), "id": 2, "w": 1.5, "s": "b"}])
    assert batch["x"].tolist() == [[1, 1], [0, 0]] and batch["id"].dtype is autodiff.int64
    assert batch["w"].dtype is autodiff.float64 and batch["s"] == ["a", "b"]
    assert default_collate([np.float32(1.5)]).dtype is autodiff.float32
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                       "arrays, numbers, dicts or lists; found <U1"):
        default_collate([np.array(["a"])])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                       "size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])
    # The registry is open: a type of one's own.
    custom = {**default_collate_fn_map, Point: lambda batch, collate_fn_map: len(batch)}
    assert collate([Point(1, "a"), Point(2, "b")], collate_fn_map=custom) == 2


def test_default_convert_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    cases = [np.float64(3), (np.zeros(2), 1), {"a": np.ones(1)}, "s", [np.array(["a"])],
             Point(np.int64(1), "n"), [np.arange(3)], 7]
    for case in cases:
        ours, theirs = default_convert(case), torch.utils.data.default_convert(case)
        if isinstance(theirs, list) and theirs and isinstance(theirs[0], np.ndarray):
            assert isinstance(ours[0], np.ndarray)
            continue
        assert _structure(ours) == _structure(theirs), case
    single = list(DataLoader([np.arange(2), np.arange(2, 4)], batch_size=None))
    assert [item.tolist() for item in single] == [[0, 1], [2, 3]]
    assert isinstance(single[0], autodiff.Tensor)
