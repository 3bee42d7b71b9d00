"""DataPipes: IterDataPipe/MapDataPipe with their functional forms, the single-iterator rule,
DataChunk, the decorators (functional_datapipe, non_deterministic,
guaranteed_datapipes_determinism, runtime_validation(_disabled), argument_validation),
DFIterDataPipe, the graph settings and DataLoader with DataPipes (sharding over workers)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from autodiff.utils.data import (
    DataChunk,
    DataLoader,
    DFIterDataPipe,
    Generator,
    IterDataPipe,
    MapDataPipe,
    argument_validation,
    functional_datapipe,
    guaranteed_datapipes_determinism,
    non_deterministic,
    runtime_validation,
    runtime_validation_disabled,
)
from autodiff.utils.data.datapipes.iter import IterableWrapper, Mapper, Shuffler
from autodiff.utils.data.datapipes.map import SequenceWrapper
from autodiff.utils.data.graph import traverse_dps
from autodiff.utils.data.graph_settings import (
    apply_random_seed,
    apply_sharding,
    apply_shuffle_settings,
    get_all_graph_pipes,
)

from .conftest import deadline  # noqa: F401


def add_one(x: int) -> int:
    return x + 1


def is_even(x: int) -> bool:
    return x % 2 == 0


def test_functional_chain_matches_pytorch() -> None:
    pipe = IterableWrapper(range(10)).map(add_one).filter(is_even).batch(2)
    batches = list(pipe)
    assert batches == [[2, 4], [6, 8], [10]] and isinstance(batches[0], DataChunk)
    assert len(IterableWrapper(range(10)).batch(3)) == 4
    assert list(IterableWrapper([[1, 2], [3]]).unbatch()) == [1, 2, 3]
    assert list(IterableWrapper(range(3)).zip(IterableWrapper("abc"))) == \
        [(0, "a"), (1, "b"), (2, "c")]
    assert list(IterableWrapper(range(2)).concat(IterableWrapper(range(5, 7)))) == [0, 1, 5, 6]
    assert list(IterableWrapper(range(3)).mux(IterableWrapper(range(10, 15)))) == \
        [0, 10, 1, 11, 2, 12]
    assert list(IterableWrapper([(1, 2), (3, 4)]).map(add_one, input_col=0)) == [(2, 2), (4, 4)]
    assert list(IterableWrapper(range(6)).groupby(is_even, group_size=3)) == \
        [[0, 2, 4], [1, 3, 5]]
    torch_iter = pytest.importorskip("torch.utils.data.datapipes.iter")
    theirs = torch_iter.IterableWrapper(range(10)).map(add_one).filter(is_even).batch(2)
    assert [list(batch) for batch in theirs] == [list(batch) for batch in batches]
    assert repr(pipe) == repr(theirs) == "BatcherIterDataPipe"
    assert sorted(IterDataPipe.functions) >= sorted(
        name for name in ("batch", "collate", "concat", "filter", "groupby", "map", "mux",
                          "sharding_filter", "shuffle", "unbatch", "zip"))


def test_map_datapipes() -> None:
    pipe = SequenceWrapper(range(10)).map(add_one)
    assert pipe[3] == 4 and len(pipe) == 10
    assert pipe.batch(4)[2] == [9, 10] and len(pipe.batch(4, drop_last=True)) == 2
    assert SequenceWrapper(range(3)).concat(SequenceWrapper(range(5, 7)))[4] == 6
    assert SequenceWrapper(range(3)).zip(SequenceWrapper("ab"))[1] == (1, "b")
    shuffled = SequenceWrapper(range(10)).shuffle().set_seed(0)
    assert sorted(shuffled) == list(range(10))
    assert isinstance(shuffled, IterDataPipe)
    with pytest.raises(AttributeError, match="'SequenceWrapperMapDataPipe' object has no "
                       "attribute 'nothing"):
        SequenceWrapper(range(3)).nothing  # noqa: B018


def test_shuffler_seeding_matches_pytorch() -> None:
    ours = list(IterableWrapper(range(20)).shuffle(buffer_size=5).set_seed(42))
    torch_iter = pytest.importorskip("torch.utils.data.datapipes.iter")
    theirs = list(torch_iter.IterableWrapper(range(20)).shuffle(buffer_size=5).set_seed(42))
    assert ours == theirs  # the same random.Random stream from the same seed
    assert list(IterableWrapper(range(5)).shuffle().set_shuffle(False)) == [0, 1, 2, 3, 4]


def test_single_iterator_per_datapipe() -> None:
    source = IterableWrapper(range(5))
    first = iter(source)
    assert next(first) == 0
    second = iter(source)
    assert next(second) == 0
    with pytest.raises(RuntimeError, match="This iterator has been invalidated because another "
                       "iterator has been created from the same IterDataPipe: "
                       r"IterableWrapperIterDataPipe\(deepcopy=True, iterable=range\(0, 5\)\)"):
        next(first)
    assert list(second) == [1, 2, 3, 4]


def test_reset_runs_for_each_new_iterator_and_errors_name_the_datapipe() -> None:
    class Counting(IterDataPipe[int]):
        def __init__(self) -> None:
            self.resets = 0

        def __iter__(self) -> Iterator[int]:
            yield from range(self.resets)

        def reset(self) -> None:
            self.resets += 1

    pipe = Counting()
    assert list(pipe) == [0] and list(pipe) == [0, 1] and pipe._number_of_samples_yielded == 2

    class Failing(IterDataPipe[int]):
        def __iter__(self) -> Iterator[int]:
            yield 1
            raise ValueError("broken")

    with pytest.raises(ValueError, match=r"broken\nThis exception is thrown by __iter__ of "
                       r"Failing\(\)"):
        list(Failing())


def test_data_chunk() -> None:
    chunk = DataChunk([1, 2, 3])
    assert chunk == [1, 2, 3] and chunk.items == [1, 2, 3]
    assert chunk.as_str("  ") == "  [1, 2, 3]" and list(chunk.raw_iterator()) == [1, 2, 3]


def test_functional_datapipe_registration() -> None:
    @functional_datapipe("times_ten_for_test")
    class TimesTen(IterDataPipe[int]):
        def __init__(self, source: IterDataPipe[int]) -> None:
            self.source = source

        def __iter__(self) -> Iterator[int]:
            for item in self.source:
                yield item * 10

    try:
        assert list(IterableWrapper(range(3)).times_ten_for_test()) == [0, 10, 20]
        assert "times_ten_for_test" in dir(IterableWrapper(range(1)))
        with pytest.raises(Exception, match="Unable to add DataPipe function name "
                           "times_ten_for_test as it is already taken"):
            functional_datapipe("times_ten_for_test")(TimesTen)
    finally:
        del IterDataPipe.functions["times_ten_for_test"]


def test_dataframe_pipes_refuse_tracing_clearly() -> None:
    with pytest.raises(RuntimeError, match="Collator with a dict of per-column conversions "
                       "collates DataFrames"):
        IterableWrapper([1]).collate({"a": add_one})

    class Frames(DFIterDataPipe):
        def __iter__(self) -> Iterator[Any]:
            yield from ()

    assert Frames()._is_dfpipe()
    with pytest.raises(RuntimeError, match="autodiff has no DataFrame tracing"):
        Frames().map(add_one)
    assert isinstance(Frames().batch(2), IterDataPipe)  # batch is never traced


def test_non_deterministic_and_guaranteed_determinism() -> None:
    @non_deterministic
    class Random(IterDataPipe[int]):
        def __iter__(self) -> Iterator[int]:
            yield 1

    assert list(Random()) == [1]
    with guaranteed_datapipes_determinism(), pytest.raises(
            TypeError, match="Random is non-deterministic, but you set "
                             "'guaranteed_datapipes_determinism'"):
        Random()
    assert list(Random()) == [1]  # the switch is back off

    @non_deterministic(lambda flag: flag)
    class Sometimes(IterDataPipe[int]):
        def __init__(self, flag: bool) -> None:
            self.flag = flag

        def __iter__(self) -> Iterator[int]:
            yield 2

    with guaranteed_datapipes_determinism():
        assert list(Sometimes(False)) == [2]
        with pytest.raises(TypeError, match="Sometimes is non-deterministic with the inputs"):
            Sometimes(True)
    with pytest.raises(TypeError, match="Only `IterDataPipe` can be decorated with "
                       "`non_deterministic`, but int is found"):
        non_deterministic(int)


def test_runtime_validation() -> None:
    class Ints(IterDataPipe[int]):
        def __init__(self, items: list[Any]) -> None:
            self.items = items

        @runtime_validation
        def __iter__(self) -> Iterator[int]:
            yield from self.items

    assert list(Ints([1, 2])) == [1, 2]
    with pytest.raises(RuntimeError, match=r"Expected an instance as subtype of int, but found "
                       r"a\(<class 'str'>\)"):
        list(Ints([1, "a"]))
    with pytest.raises(RuntimeError, match="but found True"):
        list(Ints([True]))  # bool is not int here, as in PyTorch's checks
    with runtime_validation_disabled():
        assert list(Ints([1, "a"])) == [1, "a"]

    def f(self: Any) -> Iterator[Any]:
        return iter(())

    with pytest.raises(TypeError, match="Can not decorate function f with 'runtime_validation'"):
        runtime_validation(f)


def test_argument_validation() -> None:
    class Ints(IterDataPipe[int]):
        def __iter__(self) -> Iterator[int]:
            yield 1

    class Strs(IterDataPipe[str]):
        def __iter__(self) -> Iterator[str]:
            yield "a"

    @argument_validation
    def consume(pipe: IterDataPipe[int], other: int = 0) -> str:
        return "ok"

    assert consume(Ints()) == "ok"
    with pytest.raises(TypeError, match="Expected argument 'pipe' as a IterDataPipe"):
        consume([1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected type of argument 'pipe' as a subtype of hint "
                       "int, but found str"):
        consume(Strs())  # type: ignore[arg-type]


def test_graph_traversal_and_settings() -> None:
    source = IterableWrapper(range(8))
    shuffled = source.shuffle()
    pipe = shuffled.sharding_filter().map(add_one)
    graph = traverse_dps(pipe)
    pipes = get_all_graph_pipes(graph)
    assert [type(p).__name__ for p in pipes] == [
        "MapperIterDataPipe", "ShardingFilterIterDataPipe", "ShufflerIterDataPipe",
        "IterableWrapperIterDataPipe"]
    apply_sharding(pipe, 2, 1)
    apply_shuffle_settings(pipe, shuffle=False)
    assert list(pipe) == [2, 4, 6, 8]
    apply_shuffle_settings(pipe, shuffle=True)
    apply_random_seed(pipe, Generator().manual_seed(0))
    first = list(pipe)
    apply_random_seed(pipe, Generator().manual_seed(0))
    # Shuffled before sharding: instance 1 takes every second element of the shuffled order.
    assert list(pipe) == first and len(first) == 4 and set(first) <= set(range(1, 9))
    apply_sharding(pipe, 2, 0)
    apply_random_seed(pipe, Generator().manual_seed(0))
    assert sorted(first + list(pipe)) == list(range(1, 9))
    with pytest.raises(RuntimeError, match="Sharding twice on a single pipeline"):
        apply_sharding(IterableWrapper(range(4)).sharding_filter().sharding_filter(), 2, 0)
    with pytest.warns(UserWarning, match="`shuffle=True` was set, but the datapipe does not "
                      "contain a `Shuffler`"):
        assert isinstance(apply_shuffle_settings(IterableWrapper(range(3)), shuffle=True),
                          Shuffler)


@pytest.mark.usefixtures("deadline")
@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_shards_a_datapipe_over_workers(num_workers: int) -> None:
    pipe = IterableWrapper(range(12)).shuffle().sharding_filter().map(add_one)
    loader = DataLoader(pipe, batch_size=3, num_workers=num_workers, shuffle=True,
                        generator=Generator().manual_seed(1))
    epochs = [[item for batch in loader for item in batch.tolist()] for _ in range(2)]
    for items in epochs:
        assert sorted(items) == list(range(1, 13))  # each element once, over all workers
    assert epochs[0] != epochs[1]
    unshuffled = DataLoader(IterableWrapper(range(6)).shuffle().sharding_filter(),
                            batch_size=None, num_workers=num_workers, shuffle=False)
    items = list(unshuffled)
    assert sorted(items) == list(range(6))
    if num_workers == 0:
        assert items == list(range(6))


def test_datapipes_pickle() -> None:
    pipe = IterableWrapper(range(5)).map(add_one).shuffle().set_seed(3)
    copy = pickle.loads(pickle.dumps(pipe))
    assert list(copy) == list(pipe)
    mapped = SequenceWrapper([1, 2]).map(add_one)
    assert pickle.loads(pickle.dumps(mapped))[1] == 3
    assert isinstance(Mapper(IterableWrapper([1]), add_one), IterDataPipe)
    assert isinstance(SequenceWrapper([1]), MapDataPipe)
