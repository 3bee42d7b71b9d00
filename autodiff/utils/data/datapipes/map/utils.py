"""SequenceWrapper: a sequence or mapping as a MapDataPipe."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .....user_warnings import warn
from ..datapipe import MapDataPipe

__all__ = ["SequenceWrapperMapDataPipe"]


class SequenceWrapperMapDataPipe(MapDataPipe[Any]):
    """`dp[i]` is `sequence[i]`, of a deep copy made once unless `deepcopy=False`."""

    def __init__(self, sequence: Sequence[Any] | Mapping[Any, Any], deepcopy: bool = True
                 ) -> None:
        self.sequence = sequence
        if deepcopy:
            try:
                self.sequence = copy.deepcopy(sequence)
            except TypeError:
                warn("The input sequence can not be deepcopied, please be aware of "
                     "in-place modification would affect source data", stacklevel=2)

    def __getitem__(self, index: Any) -> Any:
        return self.sequence[index]

    def __len__(self) -> int:
        return len(self.sequence)
