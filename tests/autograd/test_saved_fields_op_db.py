"""Every op table entry whose node PyTorch names the same: the node's `_saved_<name>` and
`_raw_saved_<name>` attributes are PyTorch's, and so are their values (a saved input is the very
input Tensor where PyTorch's is; numbers, tuples and None of PyTorch's types). Needs PyTorch
(skipped without it). The nodes listed in EXPECTED_DIFFERENCES show other names, each for the
reason given; their entries are strict xfails, so one that starts to match must leave the list.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.autograd.torch_op_db import on_torch
from tests.op_db import OP_DB, OpInfo

torch = pytest.importorskip("torch")

# Nodes whose saved attributes differ from PyTorch's, and why.
NOT_DECLARED = ("saved names not declared yet: the op keeps what it saved only in saved_tensors "
                "and ctx attributes, not under derivatives.yaml's names")
EXPECTED_DIFFERENCES: dict[str, str] = {}

CASES = [pytest.param(info, id=info.name,
                      marks=[pytest.mark.xfail(strict=True,
                                               reason=EXPECTED_DIFFERENCES[info.grad_fn])]
                      if info.grad_fn in EXPECTED_DIFFERENCES else [])
         for info in OP_DB if info.grad_fn]


def _run(info: OpInfo, library: Any, op: Any) -> tuple[list[Any], Any]:
    rng = np.random.default_rng(0)
    low, high = info.domain
    arrays = [rng.uniform(low, high, size=shape) for shape in info.samples[0].shapes]
    count = info.grad_inputs if info.grad_inputs is not None else len(arrays)
    inputs = [library.tensor(array, dtype=library.float64, requires_grad=index < count)
              for index, array in enumerate(arrays)]
    out = op(*inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    return inputs, out.grad_fn


def _saved_names(node: Any) -> set[str]:
    return {name for name in dir(node) if name.startswith(("_saved_", "_raw_saved_"))}


def _same(ours: Any, theirs: Any, our_inputs: list[Any], their_inputs: list[Any]) -> bool:
    """Whether a saved value is PyTorch's: the same Tensor input (or none), values, shape and
    dtype; numbers, tuples and None of the same types. PyTorch shows a negative dim it saved
    as an unsigned 64-bit number (dim -1 as 2**64 - 1, a conversion bug); autodiff shows the
    dim wrapped into [0, rank), so a wrapped dim counts as the same."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, autodiff.Tensor):
            return False
        their_input = [index for index, x in enumerate(their_inputs) if x is theirs]
        our_input = [index for index, x in enumerate(our_inputs) if x is ours]
        if their_input != our_input or tuple(ours.shape) != tuple(theirs.shape):
            return False
        if str(ours.dtype) != str(theirs.dtype):
            return False
        return bool(np.allclose(np.asarray(ours.detach().tolist()),
                                np.asarray(theirs.detach().tolist()), equal_nan=True))
    if isinstance(theirs, (tuple, list)):
        return (type(ours) is type(theirs) and len(ours) == len(theirs)
                and all(_same(a, b, our_inputs, their_inputs) for a, b in zip(ours, theirs)))
    if isinstance(theirs, torch.dtype):
        return str(ours) == str(theirs)
    if type(theirs) is int and theirs >= 2**63 and type(ours) is int:
        dim = theirs - 2**64
        ranks = {tensor.dim() for tensor in our_inputs}
        return ours == dim or any(ours == dim + rank + extra for rank in ranks
                                  for extra in (0, 1))
    if type(ours) is not type(theirs):
        return False
    if isinstance(theirs, float):
        return math.isclose(ours, theirs) or (math.isnan(ours) and math.isnan(theirs))
    return bool(ours == theirs)


@pytest.mark.parametrize("info", CASES)
def test_saved_attributes_match_pytorch(info: OpInfo) -> None:
    their_op = on_torch(info.op, torch)
    if their_op is None:
        pytest.skip("the entry's function has no PyTorch counterpart to call")
    try:
        their_inputs, their_node = _run(info, torch, their_op)
    except Exception as error:  # the entry's text is autodiff's own (an alias, a helper)
        pytest.skip(f"the entry does not run on PyTorch: {type(error).__name__}")
    if their_node is None or their_node.name() != info.grad_fn:
        pytest.skip("PyTorch records another node")
    our_inputs, our_node = _run(info, autodiff, info.op)
    assert _saved_names(our_node) == _saved_names(their_node)
    for name in sorted(_saved_names(their_node)):
        if name.startswith("_raw_saved_"):
            continue
        ours, theirs = getattr(our_node, name), getattr(their_node, name)
        assert _same(ours, theirs, our_inputs, their_inputs), (name, ours, theirs)
