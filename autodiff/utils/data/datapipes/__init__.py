"""DataPipes (torch.utils.data.datapipes): the base classes, their decorators, and the
built-in DataPipes of `iter` and `map` (importing them registers their functional forms)."""

from . import iter, map
