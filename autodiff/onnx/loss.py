"""ONNX forms of losses: nll_loss (and so cross_entropy's last step) as ONNX's
NegativeLogLikelihoodLoss, whose weighted mean divides by the summed weights as PyTorch's."""

from __future__ import annotations

from typing import Any

from .convert import Unsupported, converts, dtype_of, operand, output
from .graph import Graph, Record


@converts("NllLoss", "NllLoss2d")
def _nll_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, target, weight = record.args
    if x.ndim < 2:
        raise Unsupported("an unbatched (C,) input")
    dtype = dtype_of(output(record))
    inputs = [operand(g, x, dtype), operand(g, target, "int64")]
    if weight is not None:
        inputs.append(operand(g, weight, dtype))
    return [g.node("NegativeLogLikelihoodLoss", inputs, reduction=record.kwargs["reduction"],
                   ignore_index=int(record.kwargs["ignore_index"]))]
