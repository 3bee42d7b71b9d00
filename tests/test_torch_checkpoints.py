"""PyTorch's checkpoint formats: files written by torch.save load with no PyTorch and no code run,
files written by autodiff.save(format="torch") open in torch.load(weights_only=True), whole
objects are pickled and refused by default, and damaged or hostile files are refused."""

from __future__ import annotations

import io
import json
import math
import pathlib
import pickle
import subprocess
import sys
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.serialization import CheckpointError
from autodiff.serialization.pickler import StorageRecord, StorageTable, TorchName, TorchPickler

from .test_serialization import deflated, peak_bytes, zip_bytes

DATA = pathlib.Path(__file__).resolve().parent / "data" / "torch"
ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECTED = json.loads((DATA / "expected.json").read_text())


def _check_state(state: dict[str, Any]) -> None:
    """`state` holds what tests/data/torch/expected.json says state.pt holds."""
    for name, entry in EXPECTED["tensors"].items():
        tensor = state[name]
        assert tensor.dtype is getattr(autodiff, entry["dtype"]), name
        assert list(tensor.shape) == entry["shape"], name
        assert tensor.requires_grad == entry["requires_grad"], name
        assert isinstance(tensor, nn.Parameter) == entry["parameter"], name
        np.testing.assert_array_equal(tensor.detach().double().numpy(),
                                      np.array(entry["values"], dtype=np.float64).reshape(
                                          entry["shape"]))
    assert type(state["ordered"]) is OrderedDict and list(state["ordered"].items()) == [
        ("b", 1), ("a", 2)]
    assert type(state["size"]) is autodiff.Size and state["size"] == (2, 3)
    assert state["dtype"] is autodiff.float16
    assert state["device"] == autodiff.device("cpu")
    assert state["set"] == {1, 2} and state["bytes"] == b"\x00\x01\xff"
    assert state["nested"] == [1, (2.5, "x"), None, True, math.inf]
    assert state["big"] == 2**70 and state["complex"] == 1 + 2j


def _check_views_share_memory(state: dict[str, Any]) -> None:
    state["base"][1, 2] = -1.0  # written through one tensor, read through the others
    assert state["row"][2].item() == -1.0
    assert state["column"][1].item() == -1.0
    assert state["transposed"][2, 1].item() == -1.0
    assert state["block"][0, 0].item() == -1.0


@pytest.mark.parametrize("name", ["state.pt", "legacy.pt"])
def test_a_file_written_by_torch_loads(name: str) -> None:
    state = autodiff.load(DATA / name)
    _check_state(state)
    _check_views_share_memory(state)


def test_files_written_by_torch_load_with_no_torch_importable() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"  # `import torch` raises ImportError
        "import autodiff\n"
        "for name in ('state.pt', 'legacy.pt', 'model.pt', 'model.safetensors'):\n"
        f"    autodiff.load({str(DATA)!r} + '/' + name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert out.stdout.strip() == "['torch']"  # only the blocking entry


def _model() -> nn.Module:
    return nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 3))


@pytest.mark.parametrize("name", ["model.pt", "model.safetensors"])
def test_torch_and_hugging_face_weights_give_torchs_outputs(name: str) -> None:
    expected = json.loads((DATA / "model.json").read_text())
    model = _model()
    state = autodiff.load(DATA / name)
    if name.endswith(".safetensors"):
        state = autodiff.utils.safetensors.load_file(DATA / name)
    model.load_state_dict(state)
    output = model(autodiff.tensor(expected["input"]))
    np.testing.assert_allclose(output.detach().numpy(), expected["output"], rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- writing
def _every_kind() -> dict[str, Any]:
    base = autodiff.arange(24.0).reshape(4, 6)
    state: dict[str, Any] = {
        name: autodiff.tensor(entry["values"], dtype=getattr(autodiff, entry["dtype"])).reshape(
            entry["shape"])
        for name, entry in EXPECTED["tensors"].items()}
    state.update(base=base, row=base[1], column=base[:, 2], transposed=base.t(),
                 block=base[1:3, 2:5], parameter=nn.Parameter(autodiff.ones(2, 2)),
                 frozen=nn.Parameter(autodiff.zeros(3), requires_grad=False),
                 leaf=autodiff.ones(2, requires_grad=True),
                 ordered=OrderedDict([("b", 1), ("a", 2)]), size=autodiff.Size([2, 3]),
                 dtype=autodiff.float16, device=autodiff.device("cpu"), set={1, 2},
                 bytes=b"\x00\x01\xff", nested=[1, (2.5, "x"), None, True, math.inf],
                 big=2**70, complex=1 + 2j)
    return state


def test_the_torch_format_round_trips() -> None:
    buffer = io.BytesIO()
    autodiff.save(_every_kind(), buffer, format="torch")
    buffer.seek(0)
    state = autodiff.load(buffer)
    _check_state(state)
    _check_views_share_memory(state)
    names = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert names[:4] == ["archive/data.pkl", "archive/.format_version",
                         "archive/.storage_alignment", "archive/byteorder"]


def test_storages_are_aligned_for_mmap(tmp_path: Path) -> None:
    path = tmp_path / "aligned.pt"
    autodiff.save({f"w{i}": autodiff.randn(i + 1, 3) for i in range(5)}, path, format="torch")
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name_length, extra_length = np.frombuffer(
                data[info.header_offset + 26:info.header_offset + 30], dtype="<u2")
            start = info.header_offset + 30 + int(name_length) + int(extra_length)
            assert start % 64 == 0, info.filename
            assert data[start:start + info.file_size] == archive.read(info)


def test_torch_opens_what_autodiff_writes(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "ours.pt"
    autodiff.save(_every_kind(), path, format="torch")
    state = torch.load(path, weights_only=True)
    for name, entry in EXPECTED["tensors"].items():
        tensor = state[name]
        assert str(tensor.dtype) == f"torch.{entry['dtype']}", name
        assert tensor.requires_grad == entry["requires_grad"], name
        assert isinstance(tensor, torch.nn.Parameter) == entry["parameter"], name
        assert tensor.detach().double().tolist() == entry["values"], name
    pointer = state["base"].untyped_storage().data_ptr()
    for name in EXPECTED["shared"]:
        assert state[name].untyped_storage().data_ptr() == pointer, name
    assert state["transposed"].stride() == (1, 6) and state["block"].storage_offset() == 8
    assert type(state["ordered"]) is OrderedDict and state["size"] == torch.Size([2, 3])
    assert state["dtype"] is torch.float16 and state["device"] == torch.device("cpu")
    assert state["set"] == {1, 2} and state["bytes"] == b"\x00\x01\xff"
    assert state["big"] == 2**70 and state["complex"] == 1 + 2j


def test_a_tensor_inside_a_graph_saves_as_the_leaf_it_loads_as() -> None:
    x = autodiff.ones(3, requires_grad=True)
    buffer = io.BytesIO()
    autodiff.save({"y": x * 2}, buffer, format="torch")
    buffer.seek(0)
    y = autodiff.load(buffer)["y"]
    assert y.requires_grad and y.is_leaf and y.tolist() == [2.0, 2.0, 2.0]


class _Tagged(autodiff.Tensor):
    """A user's Tensor subclass."""


def test_tensor_subclasses_and_python_attributes_round_trip() -> None:
    plain = autodiff.ones(2)
    plain.note = "kept"
    parameter = nn.Parameter(autodiff.zeros(2))
    parameter.tag = 7
    tagged = _Tagged([1.0, 2.0])
    tagged.unit = "m"
    buffer = io.BytesIO()
    autodiff.save({"plain": plain, "parameter": parameter, "tagged": tagged}, buffer,
                  format="torch")
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError,
                       match=_escaped("GLOBAL tests.test_torch_checkpoints._Tagged")):
        autodiff.load(buffer)
    buffer.seek(0)
    with autodiff.serialization.safe_globals([_Tagged]):
        loaded = autodiff.load(buffer)
    assert loaded["plain"].note == "kept" and type(loaded["plain"]) is autodiff.Tensor
    assert loaded["parameter"].tag == 7 and isinstance(loaded["parameter"], nn.Parameter)
    assert type(loaded["tagged"]) is _Tagged and loaded["tagged"].unit == "m"
    assert loaded["tagged"].tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------- every nn layer
# How to build each layer, with either library (`lib` is autodiff or torch). A layer that builds
# with no arguments needs no entry; any other layer autodiff gains must get one here.
LAYERS: dict[str, Any] = {
    "Linear": lambda lib: lib.nn.Linear(3, 4),
    "LayerNorm": lambda lib: lib.nn.LayerNorm(4),
    "Embedding": lambda lib: lib.nn.Embedding(10, 3, padding_idx=0),
    "BCELoss": lambda lib: lib.nn.BCELoss(weight=lib.ones(3) * 0.5),
    "NLLLoss": lambda lib: lib.nn.NLLLoss(weight=lib.ones(3) * 2),
    "CrossEntropyLoss": lambda lib: lib.nn.CrossEntropyLoss(weight=lib.ones(3) * 3),
    "BCEWithLogitsLoss": lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.ones(3) * 4),
    "Sequential": lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.LayerNorm(3)),
    "ModuleList": lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 3), lib.nn.Linear(3, 1)]),
    "ModuleDict": lambda lib: lib.nn.ModuleDict({"a": lib.nn.Linear(2, 3)}),
    "DataParallel": lambda lib: lib.nn.DataParallel(lib.nn.Linear(2, 3)),
    # Vision layers: the ones with parameters or buffers, then the stateless ones.
    "Conv1d": lambda lib: lib.nn.Conv1d(2, 4, 3),
    "Conv2d": lambda lib: lib.nn.Conv2d(2, 4, 3, groups=2, bias=False),
    "Conv3d": lambda lib: lib.nn.Conv3d(2, 3, 2),
    "ConvTranspose1d": lambda lib: lib.nn.ConvTranspose1d(2, 4, 3),
    "ConvTranspose2d": lambda lib: lib.nn.ConvTranspose2d(2, 4, 3, groups=2),
    "ConvTranspose3d": lambda lib: lib.nn.ConvTranspose3d(2, 3, 2),
    "BatchNorm1d": lambda lib: lib.nn.BatchNorm1d(3),
    "BatchNorm2d": lambda lib: lib.nn.BatchNorm2d(3, affine=False),
    "BatchNorm3d": lambda lib: lib.nn.BatchNorm3d(3),
    "InstanceNorm1d": lambda lib: lib.nn.InstanceNorm1d(3, affine=True),
    "InstanceNorm2d": lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True),
    "InstanceNorm3d": lambda lib: lib.nn.InstanceNorm3d(3),
    "GroupNorm": lambda lib: lib.nn.GroupNorm(2, 4),
    "LocalResponseNorm": lambda lib: lib.nn.LocalResponseNorm(2),
    "MaxPool1d": lambda lib: lib.nn.MaxPool1d(2),
    "MaxPool2d": lambda lib: lib.nn.MaxPool2d(2),
    "MaxPool3d": lambda lib: lib.nn.MaxPool3d(2),
    "AvgPool1d": lambda lib: lib.nn.AvgPool1d(2),
    "AvgPool2d": lambda lib: lib.nn.AvgPool2d(2),
    # Sequence layers.
    "RNN": lambda lib: lib.nn.RNN(3, 4, num_layers=2, nonlinearity="relu"),
    "LSTM": lambda lib: lib.nn.LSTM(3, 4, bidirectional=True, proj_size=2),
    "GRU": lambda lib: lib.nn.GRU(3, 4, bias=False, batch_first=True),
    "RNNBase": lambda lib: lib.nn.RNNBase("GRU", 3, 4),
    "RNNCell": lambda lib: lib.nn.RNNCell(3, 4),
    "LSTMCell": lambda lib: lib.nn.LSTMCell(3, 4),
    "GRUCell": lambda lib: lib.nn.GRUCell(3, 4, bias=False),
    "RNNCellBase": lambda lib: lib.nn.RNNCellBase(3, 4, True, 2),
    "MultiheadAttention": lambda lib: lib.nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True),
    "TransformerEncoderLayer": lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8),
    "TransformerDecoderLayer": lambda lib: lib.nn.TransformerDecoderLayer(4, 2, 8,
                                                                         norm_first=True),
    "TransformerEncoder": lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True), 2),
    "TransformerDecoder": lambda lib: lib.nn.TransformerDecoder(
        lib.nn.TransformerDecoderLayer(4, 2, 8), 2, norm=lib.nn.LayerNorm(4)),
    "Transformer": lambda lib: lib.nn.Transformer(4, 2, 1, 1, 8, batch_first=True),
    "AvgPool3d": lambda lib: lib.nn.AvgPool3d(2),
    "LPPool1d": lambda lib: lib.nn.LPPool1d(2, 2),
    "LPPool2d": lambda lib: lib.nn.LPPool2d(2, 2),
    "LPPool3d": lambda lib: lib.nn.LPPool3d(2, 2),
    "AdaptiveAvgPool1d": lambda lib: lib.nn.AdaptiveAvgPool1d(2),
    "AdaptiveAvgPool2d": lambda lib: lib.nn.AdaptiveAvgPool2d(2),
    "AdaptiveAvgPool3d": lambda lib: lib.nn.AdaptiveAvgPool3d(2),
    "AdaptiveMaxPool1d": lambda lib: lib.nn.AdaptiveMaxPool1d(2),
    "AdaptiveMaxPool2d": lambda lib: lib.nn.AdaptiveMaxPool2d(2),
    "AdaptiveMaxPool3d": lambda lib: lib.nn.AdaptiveMaxPool3d(2),
    "MaxUnpool1d": lambda lib: lib.nn.MaxUnpool1d(2),
    "MaxUnpool2d": lambda lib: lib.nn.MaxUnpool2d(2),
    "MaxUnpool3d": lambda lib: lib.nn.MaxUnpool3d(2),
    "Unfold": lambda lib: lib.nn.Unfold(2),
    "Fold": lambda lib: lib.nn.Fold((4, 4), 2),
    "PixelShuffle": lambda lib: lib.nn.PixelShuffle(2),
    "PixelUnshuffle": lambda lib: lib.nn.PixelUnshuffle(2),
    "ChannelShuffle": lambda lib: lib.nn.ChannelShuffle(2),
    "Upsample": lambda lib: lib.nn.Upsample(scale_factor=2),
    "AdaptiveLogSoftmaxWithLoss": lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(
        8, 20, [4, 10], div_value=2.0, head_bias=True),
    "Bilinear": lambda lib: lib.nn.Bilinear(2, 3, 4),
    "EmbeddingBag": lambda lib: lib.nn.EmbeddingBag(10, 3, mode="max", padding_idx=2),
    "PReLU": lambda lib: lib.nn.PReLU(3),
    "RMSNorm": lambda lib: lib.nn.RMSNorm((2, 3)),
    "Threshold": lambda lib: lib.nn.Threshold(0.1, 20.0),
    "Unflatten": lambda lib: lib.nn.Unflatten(1, (2, 2)),
    "MultiMarginLoss": lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(3)),
    "MultiLabelSoftMarginLoss": lambda lib: lib.nn.MultiLabelSoftMarginLoss(weight=lib.ones(3)),
    "ParameterList": lambda lib: lib.nn.ParameterList([lib.ones(2), lib.zeros(3)]),
    "ParameterDict": lambda lib: lib.nn.ParameterDict({"a": lib.ones(2), "b": lib.zeros(3)}),
    **{f"{kind}{d}d": (lambda lib, kind=kind, d=d: getattr(lib.nn, f"{kind}{d}d")(1))
       for kind in ("ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad")
       for d in (1, 2, 3)},
    **{f"ConstantPad{d}d": (lambda lib, d=d: getattr(lib.nn, f"ConstantPad{d}d")(1, 0.5))
       for d in (1, 2, 3)},
}
_LAYER_NAMES = sorted(name for name in dir(nn) if isinstance(getattr(nn, name), type)
                      and issubclass(getattr(nn, name), nn.Module) and name != "Module"
                      and name != "Parameter")


def _build(name: str, lib: Any) -> Any:
    if name in LAYERS:
        return LAYERS[name](lib)
    try:
        return getattr(lib.nn, name)()
    except TypeError as error:
        pytest.fail(f"nn.{name} needs arguments: give it an entry in LAYERS ({error})")


@pytest.mark.parametrize("name", _LAYER_NAMES)
def test_every_layer_state_dict_round_trips_with_torch(name: str, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    autodiff.manual_seed(0)
    ours, theirs = _build(name, autodiff), _build(name, torch)
    # autodiff -> torch
    autodiff.save(ours.state_dict(), tmp_path / "ours.pt", format="torch")
    theirs.load_state_dict(torch.load(tmp_path / "ours.pt", weights_only=True))
    _assert_same_state(ours.state_dict(), theirs.state_dict())
    # torch -> autodiff (changed first, so the load has something to do)
    with torch.no_grad():
        for value in theirs.state_dict().values():
            value.add_(1)
    torch.save(theirs.state_dict(), tmp_path / "theirs.pt")
    ours.load_state_dict(autodiff.load(tmp_path / "theirs.pt"))
    _assert_same_state(ours.state_dict(), theirs.state_dict())


def _assert_same_state(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert list(ours) == list(theirs)
    for key, value in ours.items():
        assert str(value.dtype) == str(theirs[key].dtype), key
        np.testing.assert_array_equal(value.numpy(), theirs[key].numpy(), err_msg=key)


# ----------------------------------------------------------------------------- placement
def test_map_location_and_mmap(device: str, tmp_path: Path) -> None:
    path = tmp_path / "ck.pt"
    state = _every_kind()
    try:
        autodiff.zeros(1, dtype=autodiff.float16, device=device)
    except (RuntimeError, KeyError, TypeError):
        del state["float16"]  # a device without float16 (array-api-strict)
    autodiff.save(state, path, format="torch")
    target = autodiff.zeros(1, device=device).device
    for location in (device, autodiff.device(device), {"cpu": device}):
        loaded = autodiff.load(path, map_location=location)
        for name in EXPECTED["tensors"].keys() & state.keys():
            assert loaded[name].device == target, name
            np.testing.assert_array_equal(loaded[name].detach().cpu().numpy(),
                                          state[name].detach().numpy())
    seen: list[str] = []

    def to_device(storage: autodiff.Tensor, location: str) -> autodiff.Tensor:
        seen.append(location)
        return storage.to(device)

    loaded = autodiff.load(path, map_location=to_device)
    assert set(seen) == {"cpu"} and loaded["base"].device == target
    np.testing.assert_array_equal(loaded["block"].cpu().numpy(), state["block"].numpy())
    mapped = autodiff.load(path, mmap=True)
    _check_views_share_memory(mapped)  # copy-on-write: the file stays as it was
    assert autodiff.load(path)["base"][1, 2].item() == 8.0
    with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
        autodiff.load(DATA / "legacy.pt", mmap=True)


def test_a_cuda_location_without_cuda_says_what_to_do(tmp_path: Path) -> None:
    if autodiff.cuda.is_available():
        pytest.skip("this machine has CUDA")
    buffer = io.BytesIO()
    table = StorageTable()
    record, _, _ = table.add(autodiff.ones(2))
    record.location = "cuda:0"
    TorchPickler(buffer, 2, table).dump(_Reduce(
        (TorchName("torch._utils", "_rebuild_tensor_v2"),
         (record, 0, (2,), (1,), False, OrderedDict()))))
    path = tmp_path / "gpu.pt"
    path.write_bytes(zip_bytes([("archive/data.pkl", buffer.getvalue(), 0, _crc(buffer.getvalue()),
                                 len(buffer.getvalue())),
                                ("archive/data/0", b"\0" * 8, 0, _crc(b"\0" * 8), 8)]))
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        autodiff.load(path)
    assert autodiff.load(path, map_location="cpu").tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- whole objects
def test_whole_modules_and_optimizers_are_pickled_and_refused_by_default(tmp_path: Path) -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = autodiff.optim.Adam(model.parameters(), lr=0.1)
    model(autodiff.randn(5, 3)).sum().backward()
    optimizer.step()
    autodiff.save({"model": model, "optimizer": optimizer}, tmp_path / "whole.pt")
    message = ("Unsupported global: GLOBAL autodiff.nn.modules.container.Sequential was not an "
               "allowed global by default. Please use `torch.serialization.add_safe_globals("
               "[autodiff.nn.modules.container.Sequential])` or the `torch.serialization."
               "safe_globals([autodiff.nn.modules.container.Sequential])` context manager")
    with pytest.raises(pickle.UnpicklingError, match=_escaped(message)):
        autodiff.load(tmp_path / "whole.pt")
    x = autodiff.randn(2, 3)
    loaded = autodiff.load(tmp_path / "whole.pt", weights_only=False)
    np.testing.assert_array_equal(loaded["model"](x).detach().numpy(),
                                  model(x).detach().numpy())
    assert loaded["optimizer"].param_groups[0]["params"][0] is loaded["model"][0].weight
    # Allowlisted, the model loads with weights_only=True (the optimizer never does: its state
    # is a defaultdict, which PyTorch's weights-only unpickler cannot fill either).
    autodiff.save(model, tmp_path / "model.pt")
    classes = [nn.Sequential, nn.Linear, nn.ReLU]
    with autodiff.serialization.safe_globals(classes):
        again = autodiff.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(again(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(pickle.UnpicklingError):  # the context manager took them back
        autodiff.load(tmp_path / "model.pt")
    autodiff.serialization.add_safe_globals(classes)
    try:
        assert set(classes) <= set(autodiff.serialization.get_safe_globals())
        autodiff.load(tmp_path / "model.pt")
        message = ("Can only SETITEMS for dict, collections.OrderedDict, collections.Counter, "
                   "but got <class 'collections.defaultdict'>")
        with autodiff.serialization.safe_globals([autodiff.optim.Adam,
                                                  __import__("collections").defaultdict, dict]), \
                pytest.raises(pickle.UnpicklingError, match=_escaped(message)):
            autodiff.load(tmp_path / "whole.pt")
    finally:
        autodiff.serialization.clear_safe_globals()
    assert autodiff.serialization.get_safe_globals() == []
    # Training continues the same from the loaded optimizer.
    for opt, net in ((optimizer, model), (loaded["optimizer"], loaded["model"])):
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
    np.testing.assert_array_equal(loaded["model"][0].weight.detach().numpy(),
                                  model[0].weight.detach().numpy())


def test_torch_refuses_our_whole_objects_and_we_refuse_its_with_the_same_words() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(pickle.UnpicklingError) as ours:
        autodiff.load(DATA / "module.pt")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(DATA / "module.pt")
    assert str(ours.value) == str(theirs.value)
    buffer = io.BytesIO()
    autodiff.save(nn.Linear(2, 2), buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError,
                       match=_escaped("GLOBAL autodiff.nn.modules.linear.Linear")):
        torch.load(buffer)


def test_safe_globals_are_checked_as_torch_checks_them() -> None:
    for bad, error, message in (
        ((nn.Linear, "a", "b"), ValueError, "Expected tuple of length 2 (global, str of callable "
                                            "full path), but got tuple of length: 3"),
        ((nn.Linear, 3), TypeError, "Expected second item in tuple to be str of callable full "
                                    "path, but got: <class 'int'>"),
    ):
        with autodiff.serialization.safe_globals([bad]), pytest.raises(error, match=_escaped(
                message)):
            autodiff.load(DATA / "state.pt")
    # The (object, "name") form maps a name in the file to an object of ours.
    with autodiff.serialization.safe_globals([(nn.Linear, "torch.nn.modules.linear.Linear")]):
        assert autodiff.serialization.get_safe_globals() == [
            (nn.Linear, "torch.nn.modules.linear.Linear")]


# ----------------------------------------------------------------------------- refusals
class _Reduce:
    """Pickles as the given reduce value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> Any:
        return self.value


def _crc(data: bytes) -> int:
    return __import__("zlib").crc32(data)


def _torch_zip(path: Path, pickled: bytes, storages: dict[str, bytes] | None = None) -> Path:
    members = [("archive/data.pkl", pickled, 0, _crc(pickled), len(pickled))]
    for key, data in (storages or {}).items():
        members.append((f"archive/data/{key}", data, 0, _crc(data), len(data)))
    path.write_bytes(zip_bytes(members))
    return path


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_hostile_pickles_are_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cases = {
        "posix.system": (pickle.dumps(_Reduce((__import__("os").system, (f"touch {marker}",))),
                                      protocol=2),
                         "Trying to load unsupported GLOBAL posix.system whose module posix is "
                         "blocked."),
        "eval": (pickle.dumps(_Reduce((eval, ("1",))), protocol=2),
                 "Unsupported global: GLOBAL eval was not an allowed global by default."),
        "open": (pickle.dumps(_Reduce((open, (str(marker), "w"))), protocol=4),
                 "GLOBAL io.open was not an allowed global by default."),
    }
    for name, (payload, message) in cases.items():
        path = _torch_zip(tmp_path / f"{name}.pt", payload)
        with pytest.raises(pickle.UnpicklingError, match=_escaped(message)):
            autodiff.load(path)
    assert not marker.exists()


def test_opcodes_outside_plain_data_are_refused(tmp_path: Path) -> None:
    cases = {
        # APPEND onto something that is not a list (an OrderedDict made by REDUCE)
        "append": (b"\x80\x02ccollections\nOrderedDict\n)RK\x01a.", "Can only append to lists"),
        # SETITEM onto a list
        "setitem": (b"\x80\x02]K\x01K\x02s.", "Can only SETITEM for dict"),
        # NEWOBJ of an allowed but non-class global
        "newobj": (b"\x80\x02ctorch\ndevice\n)\x81.", "Can only create new object"),
        # BUILD on a list
        "build": (b"\x80\x02]}b.", "Can only build"),
        # an out-of-band buffer (protocol 5)
        "buffer": (b"\x80\x05\x97.", "Unsupported operand 151"),
    }
    for name, (payload, message) in cases.items():
        path = _torch_zip(tmp_path / f"{name}.pt", payload)
        with pytest.raises(pickle.UnpicklingError, match=_escaped(message)):
            autodiff.load(path)


def _tensor_pickle(storage_key: str, numel: int, offset: int, size: tuple[int, ...],
                   stride: tuple[int, ...], requires_grad: Any = False, dtype: str = "float32",
                   hooks: Any = None) -> bytes:
    record = StorageRecord(storage_key, np.zeros(numel, dtype=dtype), dtype, "cpu")
    buffer = io.BytesIO()
    TorchPickler(buffer, 2, StorageTable()).dump(_Reduce((
        TorchName("torch._utils", "_rebuild_tensor_v2"),
        (record, offset, size, stride, requires_grad,
         OrderedDict() if hooks is None else hooks))))
    return buffer.getvalue()


@pytest.mark.parametrize("pickled, storage, message", [
    (_tensor_pickle("0", 4, 0, (4,), (1,)), b"\0" * 15,
     "archive/data/0 holds 15 bytes; 4 elements of float32 need 16"),
    (_tensor_pickle("0", 4, 0, (4,), (1,)), None, "the archive has no archive/data/0"),
    (_tensor_pickle("0", 4, 2, (2, 2), (2, 1)), b"\0" * 16,
     "setStorage: sizes [2, 2], strides [2, 1], storage offset 2, and itemsize 4 requiring a "
     "storage size of 24 are out of bounds for storage of size 16"),
    (_tensor_pickle("0", 4, -1, (4,), (1,)), b"\0" * 16, "invalid storage offset -1"),
    (_tensor_pickle("0", 2, 0, (2,), (1,), requires_grad=True, dtype="int64"), b"\0" * 16,
     "a tensor of dtype torch.int64 requires grad"),
    (_tensor_pickle("0", 2, 0, (2,), (1,), requires_grad="yes"), b"\0" * 8,
     "requires_grad must be a bool"),
    (_tensor_pickle("0", 2, 0, (2,), (1,), hooks=OrderedDict([(1, 2)])), b"\0" * 8,
     "saved with backward hooks"),
    (_tensor_pickle("../0", 2, 0, (2,), (1,)), b"\0" * 8, "the archive has no archive/data/../0"),
    (_tensor_pickle("0", 2, 0, (2,), (1,), dtype="bool"), b"\x00\x05",
     "bool data holds bytes other than 0 and 1"),
    (b"\x80\x02ctorch\nuint16\n.", None, "torch.uint16: autodiff has no dtype torch.uint16"),
    (b"\x80\x02ctorch\nComplexFloatStorage\n.", None, "autodiff has no dtype torch.complex64"),
    (b"\x80\x02ctorch.serialization\n_get_layout\nX\x10\x00\x00\x00torch.sparse_csr\x85R.", None,
     "autodiff has no layout 'torch.sparse_csr'"),
    (b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00tpuK\x00\x86R.", None, "torch.device('tpu', 0)"),
    (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x0a\x00\x00\x00zlib_codec\x86R.", None,
     "_codecs.encode is allowed only for latin-1 text"),
    (b"\x80\x02]K\x01", None, "the pickle data is truncated"),
    (b"\x80\x02h\x05.", None, "memo 5 is not set"),
])
def test_damaged_torch_files_are_refused_with_the_reason(tmp_path: Path, pickled: bytes,
                                                         storage: bytes | None,
                                                         message: str) -> None:
    path = _torch_zip(tmp_path / "bad.pt", pickled, None if storage is None else {"0": storage})
    with pytest.raises(CheckpointError, match=_escaped(message)):
        autodiff.load(path)


def test_a_big_endian_checkpoint_is_swapped(tmp_path: Path) -> None:
    values = np.array([1.5, -2.0, 3.25], dtype=">f4")
    pickled = _tensor_pickle("0", 3, 0, (3,), (1,))
    members = [("archive/data.pkl", pickled, 0, _crc(pickled), len(pickled)),
               ("archive/byteorder", b"big", 0, _crc(b"big"), 3),
               ("archive/data/0", values.tobytes(), 0, _crc(values.tobytes()), 12)]
    (tmp_path / "big.pt").write_bytes(zip_bytes(members))
    assert autodiff.load(tmp_path / "big.pt").tolist() == [1.5, -2.0, 3.25]
    members[1] = ("archive/byteorder", b"middle", 0, _crc(b"middle"), 6)
    (tmp_path / "odd.pt").write_bytes(zip_bytes(members))
    with pytest.raises(CheckpointError, match="Unknown endianness type: middle"):
        autodiff.load(tmp_path / "odd.pt")


def test_compressed_torch_members_are_checked_before_they_are_inflated(tmp_path: Path) -> None:
    pickled = _tensor_pickle("0", 4, 0, (4,), (1,))
    bomb, bomb_crc = deflated(b"", 80 << 20)
    padded, padded_crc = deflated(pickled, 80 << 20, b"\0")
    for name, members in {
        "storage.pt": [("archive/data.pkl", pickled, 0, _crc(pickled), len(pickled)),
                       ("archive/data/0", bomb, 8, bomb_crc, 80 << 20)],
        "pickle.pt": [("archive/data.pkl", padded, 8, padded_crc, 80 << 20)],
    }.items():
        path = tmp_path / name
        path.write_bytes(zip_bytes(members))

        def refused(path: Path = path) -> None:
            with pytest.raises(CheckpointError):
                autodiff.load(path)

        assert peak_bytes(refused) < 4 << 20, name


def test_truncated_torch_files_are_refused(tmp_path: Path) -> None:
    for name in ("state.pt", "legacy.pt"):
        data = (DATA / name).read_bytes()
        for size in (10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
            path = tmp_path / f"cut-{size}-{name}"
            path.write_bytes(data[:size])
            with pytest.raises(CheckpointError):
                autodiff.load(path)


def test_a_torchscript_archive_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "script.pt", "w") as archive:
        archive.writestr("script/data.pkl", pickle.dumps(1, protocol=2))
        archive.writestr("script/constants.pkl", pickle.dumps((), protocol=2))
    with pytest.raises(CheckpointError, match="TorchScript archive"):
        autodiff.load(tmp_path / "script.pt")


# ----------------------------------------------------------------------------- arguments
def test_load_and_save_arguments_as_torch_takes_them(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                                           "pickle_module is specified"):
        autodiff.load(DATA / "state.pt", pickle_module=pickle, weights_only=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        autodiff.load(DATA / "state.pt", encoding="latin1")
    assert [str(w.message) for w in caught] == [
        "pickle_load_args only works if `weights_only=False`."]
    # pickle_module given: weights_only defaults to False, and the arguments reach the unpickler
    state = autodiff.load(DATA / "state.pt", pickle_module=pickle, encoding="latin1")
    _check_state(state)
    with pytest.raises(ValueError, match="unknown format 'onnx'"):
        autodiff.save({}, tmp_path / "x.pt", format="onnx")
    with pytest.raises(ValueError, match=r"pickle_module=.* is not supported"):
        autodiff.save({}, tmp_path / "x.pt", pickle_module=json)
    with pytest.raises(AttributeError, match="expected 'f' to be string, path, or a file-like "
                                             "object with a 'write' attribute"):
        autodiff.save({}, 3)
    buffer = io.BytesIO()
    autodiff.save({"w": autodiff.ones(2)}, buffer, format="torch", pickle_protocol=4)
    buffer.seek(0)
    assert autodiff.load(buffer)["w"].tolist() == [1.0, 1.0]
