"""The docstring examples of PyTorch's torch.nn modules, nn.utils, nn.init, torch.optim
(optimizers, lr_scheduler, swa_utils), torch.distributions and torch.autograd.functional /
forward_ad / graph, run with ``torch`` bound to autodiff and checked against PyTorch 2.13's
recorded results: values, shapes and dtypes of what each statement returns and of the names it
leaves bound, printed output, module reprs, parameter names and shapes, state_dict keys,
gradients, and exceptions (type and message).  Inputs and module parameters are the same
numbers in both libraries (see nn_docstring_examples/harness.py); values PyTorch draws at
random are compared by kind only.  torch is not needed here: rerun
``python -m tests.compat.nn_docstring_examples.generate`` with torch installed to re-record.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.compat.nn_docstring_examples.harness import (
    ArrayStore,
    Runner,
    compare,
    digest,
    from_json,
    preset_names,
)

HERE = Path(__file__).parent / "nn_docstring_examples"
_EXAMPLES = json.loads((HERE / "examples.json").read_text())
BLOCKS = _EXAMPLES["blocks"]
_EXPECTED: list | None = None
_RUNNER: list[Runner] = []

RUN_SLOW = os.environ.get("AUTODIFF_SLOW_EXAMPLES") == "1"


def _expected(index: int):
    global _EXPECTED
    if _EXPECTED is None:
        with np.load(HERE / "expected.npz") as packed:
            loaded = ArrayStore(dict(packed))
        with gzip.open(HERE / "expected.json.gz", "rt") as file:
            _EXPECTED = [from_json(record, loaded) for record in json.load(file)]
    return _EXPECTED[index]


def _runner() -> Runner:
    if not _RUNNER:
        _RUNNER.append(Runner("autodiff"))
    return _RUNNER[0]


# Blocks whose results differ from PyTorch's, with the reason (strict: an entry that starts to
# pass must leave the list).
XFAIL: dict[str, str] = {
    "torch.nn.modules.batchnorm.SyncBatchNorm.convert_sync_batchnorm":
        "autodiff.distributed has no new_group (process subgroups)",
    "torch.nn.modules.batchnorm.SyncBatchNorm":
        "autodiff.distributed has no new_group (process subgroups)",
    "torch.nn.modules.lazy.LazyModuleMixin":
        "lazy modules (nn.LazyLinear, UninitializedParameter) are not implemented",
    "torch.nn.modules.loss.CrossEntropyLoss":
        "NumPy-style keyword aliases (Tensor.sum(axis=1)) are not accepted",
    "torch.nn.modules.pooling.FractionalMaxPool2d": "nn.FractionalMaxPool2d is not implemented",
    "torch.nn.modules.pooling.FractionalMaxPool3d": "nn.FractionalMaxPool3d is not implemented",
    "torch.nn.utils.rnn.unpad_sequence":
        "deliberate: autodiff's unpad_sequence leaves its input as it was, PyTorch's transposes "
        "a time-major input in place (tests/nn/test_packed_sequence.py)",
}


def _params() -> list:
    params = []
    for index, block in enumerate(BLOCKS):
        reason = XFAIL.get(block["name"])
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(index, marks=marks, id=f"{index}-{block['name']}"))
    return params


@pytest.mark.parametrize("index", _params())
def test_docstring_example(index: int) -> None:
    block = BLOCKS[index]
    if block["slow"] and not RUN_SLOW:
        pytest.skip("large example (set AUTODIFF_SLOW_EXAMPLES=1 to run it)")
    block = dict(block, preset=preset_names(block, _EXAMPLES["modules"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        actual = digest(_runner().run(block))
    differences = compare(_expected(index), [], actual)
    source = "\n".join(block["chunks"])
    assert not differences, f"{block['name']}:\n{source}\n" + "\n".join(differences[:20])
