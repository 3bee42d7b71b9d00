"""autodiff.save / autodiff.load: round trips, and refusal (with nothing executed) of
truncated, altered, foreign and malicious files."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import tracemalloc
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.serialization import CheckpointError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_round_trip_of_nested_structures(tmp_path: Path) -> None:
    shared = autodiff.randn(3, 2)
    obj = {
        "tensor": shared,
        "again": shared,  # the same object twice: one tensor in the file, one object back
        "scalar": autodiff.tensor(3.5),
        "empty": autodiff.zeros(0, 4),
        "list": [1, -2, 2.5, float("inf"), float("-inf"), "text", None, True, False],
        "tuple": (1, (2, "x"), []),
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "int_keys": {0: "zero", 5: "five", (1, 2): "pair", None: "none", 1.5: "float"},
        "size": autodiff.Size([2, 3]),
        "dtype": autodiff.float16,
        "device": autodiff.device("cpu"),
        "big": 2**70,
    }
    autodiff.save(obj, tmp_path / "obj.pt")
    loaded = autodiff.load(tmp_path / "obj.pt")
    assert loaded["tensor"] is loaded["again"]
    np.testing.assert_array_equal(loaded["tensor"].numpy(), shared.numpy())
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 3.5
    assert loaded["empty"].shape == (0, 4)
    assert loaded["list"] == obj["list"]
    assert loaded["tuple"] == (1, (2, "x"), [])
    assert isinstance(loaded["ordered"], OrderedDict) and list(loaded["ordered"]) == ["b", "a"]
    assert type(loaded["int_keys"]) is dict and loaded["int_keys"] == obj["int_keys"]
    assert isinstance(loaded["size"], autodiff.Size) and loaded["size"] == (2, 3)
    assert loaded["dtype"] is autodiff.float16
    assert loaded["device"] == autodiff.device("cpu")
    assert loaded["big"] == 2**70
    nan = autodiff.load(_save_bytes(float("nan")))
    assert math.isnan(nan)


def _save_bytes(obj: Any) -> io.BytesIO:
    buffer = io.BytesIO()
    autodiff.save(obj, buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips_exactly(dtype: str, device: str) -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((4, 3)) * 50
    if dtype == "bool":
        values = values > 0
    tensor = autodiff.tensor(values, device="cpu").to(getattr(autodiff, dtype))
    try:
        tensor = tensor.to(device)
    except (RuntimeError, KeyError, TypeError):
        pytest.skip(f"{device} has no {dtype}")
    loaded = autodiff.load(_save_bytes(tensor))
    assert loaded.dtype is tensor.dtype and loaded.device == tensor.device
    np.testing.assert_array_equal(loaded.cpu().numpy(), tensor.cpu().numpy())


def test_requires_grad_and_parameters_are_restored() -> None:
    leaf = autodiff.ones(2, requires_grad=True)
    parameter = nn.Parameter(autodiff.zeros(3))
    frozen = nn.Parameter(autodiff.zeros(1), requires_grad=False)
    loaded = autodiff.load(_save_bytes([leaf, parameter, frozen, leaf * 2]))
    assert loaded[0].requires_grad and loaded[0].is_leaf and type(loaded[0]) is autodiff.Tensor
    assert isinstance(loaded[1], nn.Parameter) and loaded[1].requires_grad
    assert isinstance(loaded[2], nn.Parameter) and not loaded[2].requires_grad
    assert loaded[3].requires_grad and loaded[3].is_leaf  # saved detached, as torch.save does


class _Affine(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(autodiff.randn(n_in, n_out))
        self.bias = nn.Parameter(autodiff.randn(n_out))

    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        return x @ self.weight + self.bias


def test_model_state_dict_round_trip_gives_the_same_outputs(tmp_path: Path) -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(_Affine(4, 8), _Affine(8, 2))
    autodiff.save(model.state_dict(), tmp_path / "model.pt")
    other = nn.Sequential(_Affine(4, 8), _Affine(8, 2))
    state = autodiff.load(tmp_path / "model.pt")
    assert isinstance(state, OrderedDict) and list(state) == list(model.state_dict())
    other.load_state_dict(state)
    x = autodiff.randn(5, 4)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())


def test_map_location(device: str) -> None:
    tensor = autodiff.arange(6.0).reshape(2, 3)
    buffer = _save_bytes({"t": tensor})
    for target in (device, autodiff.device(device) if ":" in device else device,
                   {"cpu": device}):
        buffer.seek(0)
        loaded = autodiff.load(buffer, map_location=target)["t"]
        assert loaded.device == autodiff.zeros(1, device=device).device
        np.testing.assert_array_equal(loaded.cpu().numpy(), tensor.numpy())
    buffer.seek(0)
    seen = []
    loaded = autodiff.load(buffer, map_location=lambda t, where: seen.append(where) or t * 2)
    assert seen == ["cpu"] and loaded["t"].tolist() == (tensor * 2).tolist()
    # Saved on the device, loaded back there by default, or moved to the CPU on request.
    on_device = _save_bytes(tensor.to(device))
    assert autodiff.load(on_device).device == autodiff.zeros(1, device=device).device
    on_device.seek(0)
    assert autodiff.load(on_device, map_location="cpu").device == autodiff.device("cpu")


def test_the_autodiff_format_refuses_objects_and_leaves_no_file(tmp_path: Path) -> None:
    class Thing:
        pass

    target = tmp_path / "bad.pt"
    for bad in (Thing(), {1, 2}, {"key": lambda: None}, {object(): 1}):
        with pytest.raises(TypeError, match=r"autodiff\.save: cannot save"):
            autodiff.save(bad, target, format="autodiff")
    assert os.listdir(tmp_path) == []  # neither the target nor a temporary file


def test_objects_go_to_the_torch_format_and_unpicklable_ones_leave_no_file(tmp_path: Path) -> None:
    class Thing:
        pass

    autodiff.save({1, 2}, tmp_path / "set.pt")  # the autodiff format has no sets
    assert zipfile.ZipFile(tmp_path / "set.pt").namelist()[0] == "set/data.pkl"
    assert autodiff.load(tmp_path / "set.pt") == {1, 2}
    with pytest.raises(AttributeError, match="Can't pickle local object"):
        autodiff.save(Thing(), tmp_path / "thing.pt")
    with pytest.raises(pickle.PicklingError):
        autodiff.save({"key": lambda: None}, tmp_path / "lambda.pt")
    assert os.listdir(tmp_path) == ["set.pt"]


def test_save_into_a_missing_directory_is_refused_as_torch_does(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "deeper"
    with pytest.raises(RuntimeError, match=f"^Parent directory {missing} does not exist.$"):
        autodiff.save({"w": autodiff.ones(2)}, missing / "ck.pt")
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=f"^Parent directory {missing} does not exist.$"):
        torch.save({"w": torch.ones(2)}, missing / "ck.pt")


def test_truncated_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    autodiff.save({"w": autodiff.randn(50, 50), "b": autodiff.randn(50)}, path)
    data = path.read_bytes()
    for size in (0, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(CheckpointError, match="is not a valid autodiff checkpoint"):
            autodiff.load(path)


def test_altered_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    autodiff.save({"w": autodiff.randn(20, 20)}, path)
    data = path.read_bytes()
    header_at = data.index(b'{"format"')
    tensor_at = data.index(b"autodiff/data/0") + len("autodiff/data/0") + 10
    for position in (header_at + 3, header_at + 40, tensor_at, tensor_at + 700):
        altered = bytearray(data)
        altered[position] ^= 0xFF
        path.write_bytes(bytes(altered))
        with pytest.raises(CheckpointError, match="is not a valid autodiff checkpoint"):
            autodiff.load(path)


class _Payload:
    """A pickle that would create a marker file when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (self.marker, "w"))


def test_pickle_payloads_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(str(marker)), protocol=2)
    # A bare pickle file (read as PyTorch's legacy format).
    (tmp_path / "plain.pt").write_bytes(payload)
    # A zip laid out like torch.save's, with the pickle inside.
    with zipfile.ZipFile(tmp_path / "torchlike.pt", "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")
    for name in ("plain.pt", "torchlike.pt"):
        with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL (io|builtins)\.open was not an"
                                                         " allowed global"):
            autodiff.load(tmp_path / name)
    # Our own layout, with the pickle where the header belongs and where tensor bytes go: the
    # format is never unpickled, whatever weights_only says.
    with zipfile.ZipFile(tmp_path / "header.pt", "w") as archive:
        archive.writestr("autodiff/header.json", payload)
    header = {"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
              "tensors": [{"dtype": "float32", "shape": [4], "device": "cpu",
                           "requires_grad": False, "parameter": False}]}
    with zipfile.ZipFile(tmp_path / "data.pt", "w") as archive:
        archive.writestr("autodiff/header.json", json.dumps(header))
        archive.writestr("autodiff/data/0", payload)
    for name in ("header.pt", "data.pt"):
        for weights_only in (True, False):
            with pytest.raises(CheckpointError, match="is not a valid autodiff checkpoint"):
                autodiff.load(tmp_path / name, weights_only=weights_only)
    assert not marker.exists()


def _write_archive(path: Path, header: Any, data: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("autodiff/header.json",
                         header if isinstance(header, str) else json.dumps(header))
        for name, blob in (data or {}).items():
            archive.writestr(name, blob)


@pytest.mark.parametrize("header, data, message", [
    ({"format": "other", "version": 1, "root": None, "tensors": []}, {},
     "does not name the autodiff.save format"),
    ({"format": "autodiff.save", "version": 99, "root": None, "tensors": []}, {},
     "format version 99 is not supported"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 3}, "tensors": []}, {},
     "tensor reference 3 out of range"),
    ({"format": "autodiff.save", "version": 1, "root": {"__reduce__": ["os.system", "ls"]},
      "tensors": []}, {}, "unknown node kind '__reduce__'"),
    ({"format": "autodiff.save", "version": 1, "root": {"float": "1e9999"}, "tensors": []}, {},
     "invalid float"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "object", "shape": [1]}]}, {}, "invalid tensor entry"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [4]}]}, {}, "has no autodiff/data/0"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [4]}]}, {"autodiff/data/0": b"\0" * 15},
     "autodiff/data/0 holds 15 bytes; 4 elements of float32 need 16"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [-4]}]}, {"autodiff/data/0": b""},
     "invalid shape"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "bool", "shape": [2]}]}, {"autodiff/data/0": b"\x01\x07"},
     "bool data holds bytes other than 0 and 1"),
    ('{"format": "autodiff.save", "version": 1, "root": NaN, "tensors": []}', {},
     "non-standard JSON constant NaN"),
    ("[" * 100000 + "]" * 100000, {}, "corrupted"),
    # Tampered entries: each refused as a damaged file, not with a plain RuntimeError.
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "int64", "shape": [1], "requires_grad": True}]},
     {"autodiff/data/0": b"\0" * 8}, "dtype int64 is marked requires_grad"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [1], "device": "tpu:0"}]},
     {"autodiff/data/0": b"\0" * 4}, "invalid device 'tpu:0'"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [1], "device": 3}]},
     {"autodiff/data/0": b"\0" * 4}, "invalid device 3"),
    ({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
      "tensors": [{"dtype": "float32", "shape": [1], "parameter": "yes"}]},
     {"autodiff/data/0": b"\0" * 4}, "invalid tensor entry"),
    # Views of a storage: each must lie inside it, with its dtype.
    ({"format": "autodiff.save", "version": 2, "root": {"tensor": 0},
      "storages": [{"dtype": "float32", "numel": 4}],
      "tensors": [{"dtype": "float32", "shape": [3], "storage": 0, "strides": [2],
                   "offset": 0}]},
     {"autodiff/storage/0": b"\0" * 16}, "reaches past its storage"),
    ({"format": "autodiff.save", "version": 2, "root": {"tensor": 0},
      "storages": [{"dtype": "float32", "numel": 4}],
      "tensors": [{"dtype": "int32", "shape": [2], "storage": 0, "strides": [1],
                   "offset": 0}]},
     {"autodiff/storage/0": b"\0" * 16}, "does not match its storage's dtype"),
    ({"format": "autodiff.save", "version": 2, "root": {"tensor": 0},
      "storages": [{"dtype": "float32", "numel": 4}],
      "tensors": [{"dtype": "float32", "shape": [2], "storage": 1, "strides": [1],
                   "offset": 0}]},
     {"autodiff/storage/0": b"\0" * 16}, "invalid tensor entry"),
    ({"format": "autodiff.save", "version": 2, "root": {"tensor": 0},
      "storages": [{"dtype": "float32", "numel": 4}],
      "tensors": [{"dtype": "float32", "shape": [2], "storage": 0, "strides": [-1],
                   "offset": 3}]},
     {"autodiff/storage/0": b"\0" * 16}, "invalid tensor entry"),
    ({"format": "autodiff.save", "version": 2, "root": {"tensor": 0},
      "storages": [{"dtype": "float32", "numel": 4}], "tensors": []},
     {"autodiff/storage/0": b"\0" * 12}, "storage/0 holds 12 bytes"),
    ({"format": "autodiff.save", "version": 2, "root": None,
      "storages": [{"dtype": "float32", "numel": -1}], "tensors": []}, {},
     "invalid storage entry"),
    ({"format": "autodiff.save", "version": 3, "root": None, "tensors": []}, {},
     "format version 3 is not supported"),
])
def test_malformed_archives_are_refused_with_the_reason(tmp_path: Path, header: Any,
                                                        data: dict[str, bytes],
                                                        message: str) -> None:
    path = tmp_path / "crafted.pt"
    _write_archive(path, header, data)
    with pytest.raises(CheckpointError, match=message) as caught:
        autodiff.load(path)
    assert type(caught.value) is CheckpointError


def test_deeply_nested_structures() -> None:
    nested: Any = []
    for _ in range(90):
        nested = [nested]
    assert autodiff.load(_save_bytes(nested)) == nested
    for _ in range(20):
        nested = [nested]
    with pytest.raises(ValueError, match="nested deeper than"):
        autodiff.save(nested, io.BytesIO())


def test_save_to_a_path_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "ck.pt"
    autodiff.save({"v": 1}, str(path))
    autodiff.save({"v": 2}, path)
    assert autodiff.load(str(path)) == {"v": 2}
    assert os.listdir(tmp_path) == ["ck.pt"]


# ----------------------------------------------------------------------------- compression bombs
_BOMB = 80 << 20  # bytes a crafted member inflates to


def deflated(prefix: bytes, size: int, fill: bytes = b"\0") -> tuple[bytes, int]:
    """Raw deflate data of `prefix` then `fill` bytes up to `size` bytes, and their CRC-32."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = fill * (1 << 20)
    parts, crc = [compressor.compress(prefix)], zlib.crc32(prefix)
    remaining = size - len(prefix)
    while remaining > 0:
        piece = chunk[:remaining]
        parts.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        remaining -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def zip_bytes(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive assembled by hand, each member (name, data as stored, method: 0 stored or
    8 deflated, CRC-32, declared size) written exactly as given, true or not."""
    body, directory = b"", b""
    for name, data, method, crc, declared in members:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data),
                            declared, len(encoded), 0) + encoded + data
        directory += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                                 len(data), declared, len(encoded), 0, 0, 0, 0, 0,
                                 offset) + encoded
    return body + directory + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members),
                                          len(members), len(directory), len(body), 0)


def peak_bytes(function: Any) -> int:
    """The most memory `function` holds at once (tracemalloc: Python and NumPy allocations)."""
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _load_refused(path: Path) -> None:
    with pytest.raises(CheckpointError, match="is not a valid autodiff checkpoint"):
        autodiff.load(path)


def test_compressed_members_are_checked_before_they_are_inflated(tmp_path: Path) -> None:
    header = json.dumps({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
                         "tensors": [{"dtype": "float32", "shape": [4]}]}).encode()
    bomb, bomb_crc = deflated(b"", _BOMB)
    cases = {
        # The data member inflates to 80 MiB, and says so: 16 bytes were expected.
        "honest_data.pt": [("autodiff/header.json", header, 0, zlib.crc32(header), len(header)),
                           ("autodiff/data/0", bomb, 8, bomb_crc, _BOMB)],
        # The data member declares the expected 16 bytes but would inflate to 80 MiB.
        "lying_data.pt": [("autodiff/header.json", header, 0, zlib.crc32(header), len(header)),
                          ("autodiff/data/0", bomb, 8, bomb_crc, 16)],
    }
    padded, padded_crc = deflated(header, _BOMB, b" ")  # valid JSON, then 80 MiB of blanks
    cases["header.pt"] = [("autodiff/header.json", padded, 8, padded_crc, _BOMB)]
    for name, members in cases.items():
        path = tmp_path / name
        path.write_bytes(zip_bytes(members))
        assert path.stat().st_size < 200_000
        assert peak_bytes(lambda path=path: _load_refused(path)) < 4 << 20, name


def test_a_member_that_deflate_cannot_produce_is_refused(tmp_path: Path) -> None:
    header = json.dumps({"format": "autodiff.save", "version": 1, "root": {"tensor": 0},
                         "tensors": [{"dtype": "float32", "shape": [1 << 28]}]}).encode()
    path = tmp_path / "claims.pt"
    path.write_bytes(zip_bytes([
        ("autodiff/header.json", header, 0, zlib.crc32(header), len(header)),
        ("autodiff/data/0", b"\x03\x00", 8, 0, 1 << 30),  # 2 bytes claiming to be 1 GiB
    ]))
    assert peak_bytes(lambda: _load_refused(path)) < 1 << 20


def test_mmap_loads_the_autodiff_format(tmp_path: Path) -> None:
    path = tmp_path / "ck.pt"
    weights = autodiff.randn(64, 32)
    autodiff.save({"w": weights, "n": 3}, path)
    loaded = autodiff.load(path, mmap=True)
    np.testing.assert_array_equal(loaded["w"].numpy(), weights.numpy())
    loaded["w"].mul_(2)  # copy-on-write: the file is unchanged
    np.testing.assert_array_equal(autodiff.load(path)["w"].numpy(), weights.numpy())
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        autodiff.load(io.BytesIO(path.read_bytes()), mmap=True)


def test_pytorch_load_options_on_the_autodiff_format(tmp_path: Any) -> None:
    path = tmp_path / "t.pt"
    autodiff.save({"w": autodiff.ones(2)}, path)
    assert autodiff.load(path, weights_only=False)["w"].tolist() == [1.0, 1.0]
    assert autodiff.load(path, mmap=False)["w"].tolist() == [1.0, 1.0]
    # A pickle module makes the load a weights_only=False one, as in PyTorch; the format has no
    # pickle, so the file loads the same.
    assert autodiff.load(path, None, pickle)["w"].tolist() == [1.0, 1.0]
    with pytest.warns(UserWarning, match=r"pickle_load_args only works if `weights_only=False`"):
        autodiff.load(path, encoding="latin1")


def test_tensors_that_share_memory_share_it_when_loaded(tmp_path: Path) -> None:
    """PyTorch's serialization note: saving keeps views' relationships (one storage written)."""
    numbers = autodiff.arange(1, 10)
    evens = numbers[1::2]
    matrix = autodiff.arange(12.0).reshape(3, 4)
    path = tmp_path / "views.pt"
    autodiff.save({"numbers": numbers, "evens": evens, "matrix": matrix,
                   "transposed": matrix.t(), "row": matrix[1], "alone": matrix[2].clone()},
                  path)
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        header = json.loads(archive.read("autodiff/header.json"))
    assert names == ["autodiff/data/5", "autodiff/header.json", "autodiff/storage/0",
                     "autodiff/storage/1"]
    assert header["version"] == 2
    loaded = autodiff.load(path)
    loaded["evens"] *= 2
    assert loaded["numbers"].tolist() == [1, 4, 3, 8, 5, 12, 7, 16, 9]
    assert loaded["transposed"].stride() == (1, 4)
    assert loaded["transposed"].tolist() == matrix.t().tolist()
    loaded["row"].zero_()
    assert loaded["matrix"][1].tolist() == [0.0] * 4 and loaded["transposed"][:, 1].sum() == 0
    assert loaded["alone"].tolist() == [8.0, 9.0, 10.0, 11.0]
    mapped = autodiff.load(path, mmap=True)
    assert mapped["evens"].tolist() == [2, 4, 6, 8]


def test_a_lone_view_is_saved_compactly_in_version_1(tmp_path: Path) -> None:
    large = autodiff.arange(1, 1000)
    path = tmp_path / "small.pt"
    autodiff.save(large[0:5], path)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("autodiff/data/0").file_size == 5 * 8
        assert json.loads(archive.read("autodiff/header.json"))["version"] == 1
    assert autodiff.load(path).tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("format", ["autodiff", "torch"])
def test_skip_data_writes_zeros_and_reads_nothing(tmp_path: Path, format: str) -> None:
    state = {"w": autodiff.arange(6.0).reshape(2, 3), "mask": autodiff.tensor([True, False])}
    path = tmp_path / "skipped.pt"
    with autodiff.serialization.skip_data():
        autodiff.save(state, path, format=format)
    written = autodiff.load(path)  # outside skip_data: the zeros written in place of the bytes
    assert written["w"].tolist() == [[0.0] * 3] * 2 and written["mask"].tolist() == [False] * 2
    autodiff.save(state, path, format=format)
    with autodiff.serialization.skip_data():
        skipped = autodiff.load(path)
    assert skipped["w"].shape == (2, 3) and skipped["w"].dtype == autodiff.float32
    assert skipped["mask"].dtype == autodiff.bool
    assert autodiff.load(path)["w"].tolist() == state["w"].tolist()


def test_unsafe_globals_in_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "objects.pt"
    autodiff.save({"weights": autodiff.ones(2), "counter": _Counter(3), "layer": nn.Linear(2, 1)},
                  path)
    found = autodiff.serialization.get_unsafe_globals_in_checkpoint(path)
    assert f"{__name__}._Counter" in found
    assert "autodiff.nn.modules.linear.Linear" in found  # pickled under autodiff's name
    assert "torch._utils._rebuild_tensor_v2" not in found and "collections.OrderedDict" not in found
    with autodiff.serialization.safe_globals([_Counter]):
        assert f"{__name__}._Counter" not in \
            autodiff.serialization.get_unsafe_globals_in_checkpoint(path)
    plain = tmp_path / "plain.pt"
    autodiff.save({"weights": autodiff.ones(2)}, plain)
    assert autodiff.serialization.get_unsafe_globals_in_checkpoint(plain) == []
    (tmp_path / "text.pt").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"Expected input to be a checkpoint returned by "
                                         r"torch\.save"):
        autodiff.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "text.pt")


class _Counter:
    def __init__(self, count: int) -> None:
        self.count = count


def test_serialization_config(tmp_path: Path) -> None:
    config = autodiff.utils.serialization.config
    assert (config.load.mmap, config.save.storage_alignment) == (False, 64)
    path = tmp_path / "aligned.pt"
    config.save.storage_alignment = 4096
    try:
        autodiff.save({"w": autodiff.ones(3)}, path, format="torch")
    finally:
        config.save.storage_alignment = 64
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if "/data/" in i.filename)
        alignment = archive.read(next(n for n in archive.namelist()
                                      if n.endswith(".storage_alignment")))
    raw = path.read_bytes()
    extra = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    assert (info.header_offset + 30 + len(info.filename) + extra) % 4096 == 0
    assert alignment == b"4096"
    config.load.mmap = True
    try:
        assert autodiff.load(path)["w"].tolist() == [1.0] * 3
    finally:
        config.load.mmap = False


# ----------------------------------------------------------------------------- from_file
def test_from_file_copies_or_maps_the_bytes(tmp_path: Path) -> None:
    path = str(tmp_path / "storage.pt")
    autodiff.arange(10, dtype=autodiff.float64).numpy().tofile(path)
    copied = autodiff.from_file(path, shared=False, size=10, dtype=autodiff.float64)
    assert copied.tolist() == [float(i) for i in range(10)]
    copied[0] = 100.0  # a copy: the file keeps its bytes
    assert autodiff.from_file(path, size=1, dtype=autodiff.float64).item() == 0.0
    mapped = autodiff.from_file(path, shared=True, size=10, dtype=autodiff.float64)
    mapped[0] = -1.0  # a mapping: the write reaches the file
    del mapped
    assert autodiff.from_file(path, size=2, dtype=autodiff.float64).tolist() == [-1.0, 1.0]
    assert autodiff.from_file(path, size=2).dtype is autodiff.float32
    assert tuple(autodiff.from_file(path).shape) == (0,)
    grown = autodiff.from_file(path, True, 12, dtype=autodiff.float64)  # the file grows
    assert tuple(grown.shape) == (12,) and os.path.getsize(path) == 96
    with pytest.raises(RuntimeError, match=r"^file <.*> size <96> is smaller than the required "
                                           r"mapping size <160>$"):
        autodiff.from_file(path, size=20, dtype=autodiff.float64)
    with pytest.raises(RuntimeError, match=r"^unable to open file <.*missing\.pt> in read-only "
                                           r"mode: No such file or directory \(2\)$"):
        autodiff.from_file(str(tmp_path / "missing.pt"), size=2)
