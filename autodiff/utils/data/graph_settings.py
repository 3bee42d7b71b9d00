"""Settings applied across a DataPipe graph (torch.utils.data.graph_settings): sharding,
shuffling on or off, and the seeds of its random DataPipes. The DataLoader applies them."""

from __future__ import annotations

import inspect
from typing import Any

from ...user_warnings import warn
from .datapipes.iter.sharding import SHARDING_PRIORITIES, _ShardingIterDataPipe
from .graph import DataPipeGraph, traverse_dps
from .sampler import random_seed

__all__ = [
    "apply_random_seed", "apply_sharding", "apply_shuffle_seed", "apply_shuffle_settings",
    "get_all_graph_pipes",
]


def get_all_graph_pipes(graph: DataPipeGraph) -> list[Any]:
    """Every DataPipe of the graph, once, depth first from the root."""
    results: list[Any] = []
    seen: set[int] = set()

    def walk(graph: DataPipeGraph) -> None:
        for datapipe_id, (datapipe, sub_graph) in graph.items():
            if datapipe_id not in seen:
                seen.add(datapipe_id)
                results.append(datapipe)
                walk(sub_graph)

    walk(graph)
    return results


def _is_sharding_datapipe(datapipe: Any) -> bool:
    return isinstance(datapipe, _ShardingIterDataPipe) or (
        hasattr(datapipe, "apply_sharding") and inspect.ismethod(datapipe.apply_sharding))


def apply_sharding(datapipe: Any, num_of_instances: int, instance_id: int,
                   sharding_group: SHARDING_PRIORITIES = SHARDING_PRIORITIES.DEFAULT) -> Any:
    """Tell the sharding DataPipes of the graph (`sharding_filter`) which share is this
    instance's: every `num_of_instances`-th element from `instance_id`. Two sharding DataPipes
    on one path would lose data, and raise."""
    pending: list[tuple[DataPipeGraph, Any]] = [(traverse_dps(datapipe), None)]
    while pending:
        graph, previous = pending.pop()
        for pipe, sub_graph in graph.values():
            applied = None
            if _is_sharding_datapipe(pipe):
                if previous is not None:
                    raise RuntimeError(
                        "Sharding twice on a single pipeline is likely unintended and will cause "
                        f"data loss. Sharding already applied to {previous} while trying to "
                        f"apply to {pipe}")
                if len(inspect.signature(pipe.apply_sharding).parameters) < 3:
                    pipe.apply_sharding(num_of_instances, instance_id)
                else:
                    pipe.apply_sharding(num_of_instances, instance_id,
                                        sharding_group=sharding_group)
                applied = pipe
            pending.append((sub_graph, applied if applied is not None else previous))
    return datapipe


def _is_shuffle_datapipe(datapipe: Any) -> bool:
    return (hasattr(datapipe, "set_shuffle") and hasattr(datapipe, "set_seed")
            and inspect.ismethod(datapipe.set_shuffle) and inspect.ismethod(datapipe.set_seed))


def apply_shuffle_settings(datapipe: Any, shuffle: bool | None = None) -> Any:
    """Switch every shuffling DataPipe of the graph on or off (None: leave them). Asked to
    shuffle a graph without one, a Shuffler is added at the end."""
    if shuffle is None:
        return datapipe
    shufflers = [pipe for pipe in get_all_graph_pipes(traverse_dps(datapipe))
                 if _is_shuffle_datapipe(pipe)]
    if not shufflers and shuffle:
        warn("`shuffle=True` was set, but the datapipe does not contain a `Shuffler`. "
             "Adding one at the end. Be aware that the default buffer size might not "
             "be sufficient for your task.", stacklevel=2)
        datapipe = datapipe.shuffle()
        shufflers = [datapipe]
    for shuffler in shufflers:
        shuffler.set_shuffle(shuffle)
    return datapipe


def apply_shuffle_seed(datapipe: Any, rng: Any) -> Any:
    warn("`apply_shuffle_seed` is deprecated since 1.12 and will be removed in the "
         "future releases. Please use `apply_random_seed` instead.", FutureWarning,
         stacklevel=2)
    return apply_random_seed(datapipe, rng)


def _is_random_datapipe(datapipe: Any) -> bool:
    return hasattr(datapipe, "set_seed") and inspect.ismethod(datapipe.set_seed)


def apply_random_seed(datapipe: Any, rng: Any) -> Any:
    """Give each random DataPipe of the graph (one with `set_seed`) a seed drawn from `rng`
    (a Generator), in graph order, so copies of the graph seeded alike agree."""
    seen: set[int] = set()
    for pipe in get_all_graph_pipes(traverse_dps(datapipe)):
        if id(pipe) not in seen and _is_random_datapipe(pipe):
            seen.add(id(pipe))
            pipe.set_seed(random_seed(rng))
    return datapipe
