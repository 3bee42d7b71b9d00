"""safetensors: autodiff.utils.safetensors (shaped like safetensors.torch) and autodiff.save/load
by the ".safetensors" name; Hugging Face weights load into modules."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.utils import safetensors as st

pytest.importorskip("safetensors")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _tensors() -> dict[str, autodiff.Tensor]:
    rng = np.random.default_rng(0)
    out = {}
    for dtype in DTYPES:
        values = rng.standard_normal((2, 3)) * 50
        out[dtype] = autodiff.tensor(values > 0 if dtype == "bool" else values).to(
            getattr(autodiff, dtype))
    out["scalar"] = autodiff.tensor(1.5)
    out["empty"] = autodiff.zeros(0, 2)
    return out


def test_files_and_bytes_round_trip(tmp_path: Path) -> None:
    tensors = _tensors()
    st.save_file(tensors, tmp_path / "t.safetensors", metadata={"format": "pt"})
    for loaded in (st.load_file(tmp_path / "t.safetensors"),
                   st.load(st.save(tensors)),
                   autodiff.load(tmp_path / "t.safetensors")):
        assert set(loaded) == set(tensors)
        for name, tensor in tensors.items():
            assert loaded[name].dtype is tensor.dtype and loaded[name].shape == tensor.shape
            np.testing.assert_array_equal(loaded[name].numpy(), tensor.numpy())
    # autodiff.save picks the format by the name; safetensors' own reader opens the file.
    autodiff.save({"w": autodiff.ones(2, 2)}, tmp_path / "w.safetensors")
    from safetensors.numpy import load_file

    assert load_file(tmp_path / "w.safetensors")["w"].tolist() == [[1, 1],
                                                                                     [1, 1]]


def test_load_file_on_a_device(device: str, tmp_path: Path) -> None:
    st.save_file({"w": autodiff.arange(4.0)}, tmp_path / "w.safetensors")
    loaded = st.load_file(tmp_path / "w.safetensors", device=device)["w"]
    assert loaded.device == autodiff.zeros(1, device=device).device
    assert loaded.cpu().tolist() == [0.0, 1.0, 2.0, 3.0]
    via_load = autodiff.load(tmp_path / "w.safetensors", map_location=device)["w"]
    assert via_load.device == loaded.device
    with pytest.raises(RuntimeError, match="Loading safetensors file with dict map_location is "
                                           "not supported"):
        autodiff.load(tmp_path / "w.safetensors", map_location={"cpu": device})
    with pytest.raises(RuntimeError, match="Loading safetensors file with callable "
                                           "map_location is not supported"):
        autodiff.load(tmp_path / "w.safetensors", map_location=lambda s, loc: s)


def test_a_linear_embedding_layernorm_model_loads_hugging_face_weights(tmp_path: Path) -> None:
    """Weights saved by safetensors' own NumPy writer, as a Hugging Face checkpoint is."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(1)
    weights = {
        "0.weight": rng.standard_normal((10, 4)).astype(np.float32),
        "1.weight": rng.standard_normal(4).astype(np.float32),
        "1.bias": rng.standard_normal(4).astype(np.float32),
        "2.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "2.bias": rng.standard_normal(3).astype(np.float32),
    }
    save_file(weights, tmp_path / "model.safetensors")
    model = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 3))
    model.load_state_dict(st.load_file(tmp_path / "model.safetensors"))
    indices = np.array([[1, 2], [9, 0]])
    hidden = weights["0.weight"][indices].astype(np.float64)
    normed = (hidden - hidden.mean(-1, keepdims=True)) / np.sqrt(hidden.var(-1, keepdims=True)
                                                                 + 1e-5)
    normed = normed * weights["1.weight"] + weights["1.bias"]
    expected = normed @ weights["2.weight"].T + weights["2.bias"]
    output = model(autodiff.tensor(indices)).detach().numpy()
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def test_what_safetensors_torch_refuses_is_refused(tmp_path: Path) -> None:
    shared = autodiff.ones(4)
    with pytest.raises(RuntimeError, match=r"Some tensors share memory, this will lead to "
                                           r"duplicate memory on disk"):
        st.save_file({"a": shared, "b": shared[1:]}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match=re.escape("Key `a` is invalid, expected torch.Tensor "
                                                   "but received <class 'int'>")):
        st.save({"a": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=re.escape("Expected a dict of [str, torch.Tensor]")):
        st.save([autodiff.ones(1)])  # type: ignore[arg-type]
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as torch_save_file

    with pytest.raises(RuntimeError, match=r"Some tensors share memory"):
        torch_save_file({"a": torch.ones(4), "b": torch.ones(4)[1:]} | {
            "c": (w := torch.ones(4)), "d": w[1:]}, tmp_path / "y.safetensors")


def test_dtypes_autodiff_has_not_are_named(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "C64", "shape": [2], "data_offsets": [0, 16]}}).encode()
    header += b" " * (-len(header) % 8)
    data = struct.pack("<Q", len(header)) + header + b"\0" * 16
    (tmp_path / "c64.safetensors").write_bytes(data)
    message = "tensor 'w' has dtype C64, which autodiff has no dtype for"
    with pytest.raises(TypeError, match=message):
        st.load_file(tmp_path / "c64.safetensors")
    with pytest.raises(TypeError, match=message):
        st.load(data)


def test_bfloat16_files(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
                         "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    # 1.5 and -2.25 in bfloat16 (the top halves of their float32 bit patterns), then 1.0
    data = struct.pack("<Q", len(header)) + header + bytes.fromhex("c03f10c0") + struct.pack(
        "<f", 1.0)
    (tmp_path / "bf16.safetensors").write_bytes(data)
    for loaded in (st.load_file(tmp_path / "bf16.safetensors"), st.load(data)):
        assert loaded["w"].dtype is autodiff.bfloat16 and loaded["w"].tolist() == [1.5, -2.25]
        assert loaded["b"].tolist() == [1.0]
    st.save_file({"w": loaded["w"]}, tmp_path / "ours.safetensors")
    assert st.load_file(tmp_path / "ours.safetensors")["w"].tolist() == [1.5, -2.25]
    torch_load = pytest.importorskip("safetensors.torch").load_file
    pytest.importorskip("torch")
    theirs = torch_load(tmp_path / "ours.safetensors")["w"]
    assert str(theirs.dtype) == "torch.bfloat16" and theirs.tolist() == [1.5, -2.25]
