"""PyTorch's own ``>>>`` docstring examples (torch.*, Tensor methods, nn.functional, linalg,
special, fft) replayed on autodiff and compared with the outcomes PyTorch 2.13 gave, recorded
in ``docstring_examples.json`` by ``record_docstring_examples.py``: each line's value (dtype,
shape, values, and the repr where the values agree exactly), what it printed, or the exception
type and message it raised. Random draws are the same seeded numbers on both sides; blocks with
random-valued results compare dtypes, shapes and exceptions only. torch is not needed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import autodiff
from tests.compat.docstring_examples import compare_block, run_block

_FIXTURE = json.loads(Path(__file__).with_name("docstring_examples.json").read_text())

# Blocks autodiff does not yet run as PyTorch does, each with what differs.
KNOWN = {
    "torch.Event": "torch.Event (accelerator events) is not provided",
    "torch.hash_tensor": "torch.hash_tensor is not provided (its result is uint64, a dtype "
                         "autodiff lacks)",
    "torch.narrow_copy": "torch 2.13's CPU build refuses narrow_copy of a sparse tensor (its "
                         "own docstring shows it working); autodiff follows the documentation",
    "torch.nn.functional.fractional_max_pool2d": "fractional_max_pool2d is not provided",
    "torch.nn.functional.fractional_max_pool2d_with_indices":
        "fractional_max_pool2d is not provided",
    "torch.nn.functional.fractional_max_pool3d": "fractional_max_pool3d is not provided",
    "torch.nn.functional.fractional_max_pool3d_with_indices":
        "fractional_max_pool3d is not provided",
    "torch.set_flush_denormal": "the array libraries cannot flush denormals: autodiff answers "
                                "False, as PyTorch on a CPU without the mode",
}


# Blocks whose examples take autodiff seconds each (3-D convolutions of a 3.2-million-element
# input); AUTODIFF_DOCSTRING_EXAMPLES=all runs them too.
HEAVY = {"torch.nn.functional.conv3d", "torch.nn.functional.conv_transpose3d"}
_ALL = os.environ.get("AUTODIFF_DOCSTRING_EXAMPLES") == "all"


def _marks(name: str) -> list[Any]:
    if name in KNOWN:
        return [pytest.mark.xfail(reason=KNOWN[name], strict=True)]
    if name in HEAVY and not _ALL:
        return [pytest.mark.skip(reason="seconds of 3-D convolution: set "
                                        "AUTODIFF_DOCSTRING_EXAMPLES=all to run it")]
    return []


def _blocks() -> list[Any]:
    return [pytest.param(block, id=block["name"], marks=_marks(block["name"]))
            for block in _FIXTURE["blocks"]]


def test_fixture_is_pytorchs() -> None:
    assert _FIXTURE["torch"].startswith("2.13")
    assert len(_FIXTURE["blocks"]) > 400
    assert set(KNOWN) <= {block["name"] for block in _FIXTURE["blocks"]}


@pytest.mark.parametrize("block", _blocks())
def test_docstring_example(block: dict[str, Any]) -> None:
    actual = run_block(autodiff, block["sources"])
    problems = compare_block(block, actual, block["sources"], set(block["loose"]))
    assert not problems, "\n".join(problems)
