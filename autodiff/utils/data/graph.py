"""The graph of a DataPipe pipeline (torch.utils.data.graph): `traverse_dps(dp)` maps
`id(dp)` to `(dp, graph of the DataPipes it reads from)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...user_warnings import warn
from .datapipes.datapipe import IterDataPipe, MapDataPipe, _DataPipeSerializationWrapper

__all__ = ["traverse", "traverse_dps"]

DataPipe = IterDataPipe[Any] | MapDataPipe[Any]
DataPipeGraph = dict[int, tuple[Any, "DataPipeGraph"]]


def _sources(datapipe: Any) -> list[Any]:
    """The DataPipes a DataPipe holds in its state (what its pickling carries), directly or
    inside lists, tuples, sets and dicts, in the order pickling meets them."""
    # The DataLoader's wrapper pickles its DataPipe into bytes: look at the DataPipe itself.
    state = datapipe._datapipe if isinstance(datapipe, _DataPipeSerializationWrapper) \
        else datapipe.__getstate__()
    found: list[Any] = []
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, (IterDataPipe, MapDataPipe)):
            if value is not datapipe and id(value) not in seen:
                seen.add(id(value))
                found.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item)

    walk(state)
    return found


def traverse_dps(datapipe: Any) -> DataPipeGraph:
    """The graph of DataPipes that `datapipe` reads from, itself at the root."""
    return _traverse_helper(datapipe, set())


def traverse(datapipe: Any, only_datapipe: bool | None = None) -> DataPipeGraph:
    message = ("`traverse` function is deprecated and will be removed after 1.13. Please use "
               "`traverse_dps` instead.")
    if not only_datapipe:
        message += " And, the behavior will be changed to the equivalent of `only_datapipe=True`."
    warn(message, FutureWarning, stacklevel=2)
    return _traverse_helper(datapipe, set())


def _traverse_helper(datapipe: Any, cache: set[int]) -> DataPipeGraph:
    if not isinstance(datapipe, (IterDataPipe, MapDataPipe)):
        raise RuntimeError(
            f"Expected `IterDataPipe` or `MapDataPipe`, but {type(datapipe)} is found")
    datapipe_id = id(datapipe)
    if datapipe_id in cache:
        return {}
    cache.add(datapipe_id)
    graph: DataPipeGraph = {datapipe_id: (datapipe, {})}
    for source in _sources(datapipe):
        graph[datapipe_id][1].update(_traverse_helper(source, cache.copy()))
    return graph
