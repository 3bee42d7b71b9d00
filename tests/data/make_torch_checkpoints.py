"""Writes the PyTorch-made files under tests/data/torch/, read by the tests on machines without
PyTorch (CI has none). Run with PyTorch and safetensors installed:

    python tests/data/make_torch_checkpoints.py

state.pt / legacy.pt   one object of every kind `torch.load(weights_only=True)` allows, in the
                       zip format and in the format before PyTorch 1.6; `expected.json` says
                       what each entry holds
module.pt              a whole torch.nn.Linear (refused by weights_only loads)
model.pt / model.safetensors / model.json
                       the state dict of Embedding -> LayerNorm -> Linear, and the model's output
                       on fixed input
"""

from __future__ import annotations

import collections
import json
import pathlib

import safetensors.torch
import torch

HERE = pathlib.Path(__file__).resolve().parent / "torch"


def _state() -> dict[str, object]:
    torch.manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "float32": torch.randn(3, 4),
        "float64": torch.randn(2, dtype=torch.float64),
        "float16": torch.randn(5).half(),
        "int64": torch.arange(-3, 3),
        "int32": torch.arange(4, dtype=torch.int32) * -7,
        "int16": torch.tensor([-300, 300], dtype=torch.int16),
        "int8": torch.tensor([-128, 127], dtype=torch.int8),
        "uint8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "base": base,
        "row": base[1],
        "column": base[:, 2],
        "transposed": base.t(),
        "block": base[1:3, 2:5],
        "parameter": torch.nn.Parameter(torch.ones(2, 2)),
        "frozen": torch.nn.Parameter(torch.zeros(3), requires_grad=False),
        "leaf": torch.ones(2, requires_grad=True),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "device": torch.device("cpu"),
        "set": {1, 2},
        "bytes": b"\x00\x01\xff",
        "nested": [1, (2.5, "x"), None, True, float("inf")],
        "big": 2**70,
        "complex": 1 + 2j,
    }


def _describe(obj: dict[str, object]) -> dict[str, object]:
    tensors = {}
    for name, value in obj.items():
        if isinstance(value, torch.Tensor):
            tensors[name] = {
                "dtype": str(value.dtype).removeprefix("torch."),
                "shape": list(value.shape),
                "values": value.detach().double().tolist(),
                "requires_grad": value.requires_grad,
                "parameter": isinstance(value, torch.nn.Parameter),
            }
    return {"tensors": tensors, "shared": ["base", "row", "column", "transposed", "block"]}


def _model() -> torch.nn.Module:
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.LayerNorm(4),
                               torch.nn.Linear(4, 3))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    state = _state()
    torch.save(state, HERE / "state.pt")
    torch.save(state, HERE / "legacy.pt", _use_new_zipfile_serialization=False)
    (HERE / "expected.json").write_text(json.dumps(_describe(state), indent=1) + "\n")
    torch.save(torch.nn.Linear(2, 2), HERE / "module.pt")
    model = _model()
    torch.save(model.state_dict(), HERE / "model.pt")
    safetensors.torch.save_file(model.state_dict(), HERE / "model.safetensors",
                                metadata={"format": "pt"})
    indices = [[1, 2, 3], [9, 0, 5]]
    with torch.no_grad():
        output = model(torch.tensor(indices))
    (HERE / "model.json").write_text(json.dumps({"input": indices, "output": output.tolist()})
                                     + "\n")


if __name__ == "__main__":
    main()
