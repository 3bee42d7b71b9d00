"""torch._higher_order_ops.foreach_map: a pointwise function applied across lists of tensors,
run eagerly (PyTorch's eager path: its polyfill, foreach_map_fn)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["foreach_map"]


def foreach_map(op: Callable[..., Any], *operands: Any, **kwargs: Any) -> Any:
    """`op` applied to the i-th element of each list or tuple operand, other operands passed
    to every call as they are: the list of the results (of tuples where `op` returns tuples).
    The lists are walked together and stop with the shortest, as PyTorch's eager foreach_map
    does; without a list operand, `op(*operands)` once. Keyword arguments go to every call
    (PyTorch's eager path drops them, so `foreach_map(torch.add, xs, ys, alpha=2)` adds
    `alpha * ys` here where PyTorch adds `ys`). The calls are recorded as ops are: gradients
    flow through them (PyTorch's operator asks for a traced function when one is needed)."""
    if not any(isinstance(operand, (list, tuple)) for operand in operands):
        return op(*operands, **kwargs)
    columns = [operand if isinstance(operand, (list, tuple)) else itertools.repeat(operand)
               for operand in operands]
    return [op(*row, **kwargs) for row in zip(*columns)]
