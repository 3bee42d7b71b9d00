"""autodiff.distributed.checkpoint (DCP) in one process: save and load in place, Stateful
values, the errors (wrapped in CheckpointException), the FQN-keyed state dicts of a model and
its optimizers, and the torch.save conversions; the state dicts' keys against PyTorch's."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import pytest

import autodiff as torch
import autodiff.distributed.checkpoint as dcp
from autodiff import nn
from autodiff.distributed.checkpoint.format_utils import dcp_to_torch_save, torch_save_to_dcp
from autodiff.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
    set_state_dict,
)

pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled")


def _trained() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = torch.optim.Adam([{"params": model[0].parameters()},
                                  {"params": model[2].parameters(), "lr": 0.5}], lr=0.1)
    model(torch.randn(5, 4)).sum().backward()
    optimizer.step()
    return model, optimizer


class App:
    """A Stateful holder, as the recipe's AppState."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer

    def state_dict(self) -> dict[str, Any]:
        model_state, optim_state = get_state_dict(self.model, self.optimizer)
        return {"model": model_state, "optim": optim_state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        set_state_dict(self.model, self.optimizer, model_state_dict=state_dict["model"],
                       optim_state_dict=state_dict["optim"])


def test_save_and_load_in_place(tmp_path: Path) -> None:
    state = {"weights": torch.arange(6.0).reshape(2, 3), "step": 7,
             "nested": {"list": [1, 2.5, "x"], "groups": [{"lr": 0.1, "t": torch.ones(2)}]}}
    metadata = dcp.save(state, checkpoint_id=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".metadata", "__0_0.distcp"]
    assert sorted(metadata.state_dict_metadata) == [
        "nested.groups.0.lr", "nested.groups.0.t", "nested.list", "step", "weights"]
    entry = metadata.state_dict_metadata["weights"]
    assert isinstance(entry, dcp.TensorStorageMetadata) and entry.size == (2, 3)
    assert isinstance(metadata.state_dict_metadata["step"], dcp.BytesStorageMetadata)
    target = {"weights": torch.zeros(2, 3), "step": 0,
              "nested": {"list": [], "groups": [{"lr": 0.0, "t": torch.zeros(2)}]}}
    weights, t = target["weights"], target["nested"]["groups"][0]["t"]
    dcp.load(target, checkpoint_id=str(tmp_path))
    assert target["weights"] is weights and torch.equal(weights, state["weights"])
    assert target["nested"]["groups"][0]["t"] is t and t.tolist() == [1.0, 1.0]
    assert target["step"] == 7 and target["nested"]["list"] == [1, 2.5, "x"]
    assert target["nested"]["groups"][0]["lr"] == 0.1
    partial = {"step": 0}  # keys only in the checkpoint are left out
    dcp.load(partial, storage_reader=dcp.FileSystemReader(tmp_path))
    assert partial == {"step": 7}


def test_stateful_model_and_optimizer(tmp_path: Path) -> None:
    model, optimizer = _trained()
    dcp.save({"app": App(model, optimizer)}, checkpoint_id=tmp_path)
    fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    fresh_optimizer = torch.optim.Adam([{"params": fresh[0].parameters()},
                                        {"params": fresh[2].parameters(), "lr": 0.5}], lr=0.1)
    dcp.load({"app": App(fresh, fresh_optimizer)}, checkpoint_id=tmp_path)
    for saved, loaded in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(saved, loaded)
    saved_state, loaded_state = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert saved_state["param_groups"] == loaded_state["param_groups"]
    for index, entry in saved_state["state"].items():
        for name, value in entry.items():
            assert torch.equal(value, loaded_state["state"][index][name]), (index, name)


def test_errors_are_wrapped_and_change_nothing(tmp_path: Path) -> None:
    dcp.save({"a": torch.ones(3)}, checkpoint_id=tmp_path)
    target = {"a": torch.zeros(3), "b": torch.zeros(1)}
    with pytest.raises(dcp.CheckpointException) as caught:
        dcp.load(target, checkpoint_id=tmp_path)
    assert not isinstance(caught.value, Exception)  # a BaseException, as in PyTorch
    error, _ = caught.value.failures[0]
    assert type(error) is RuntimeError
    assert str(error) == "Missing key in checkpoint state_dict: b."
    text = str(caught.value)
    assert text.startswith("CheckpointException ranks:dict_keys([0])\n"
                           "Traceback (most recent call last): (RANK 0)\n")
    assert text.endswith("RuntimeError: Missing key in checkpoint state_dict: b.\n")
    assert target["a"].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(dcp.CheckpointException) as caught:
        dcp.load({"a": torch.zeros(4)}, checkpoint_id=tmp_path)
    assert str(caught.value.failures[0][0]) == (
        "Size mismatch between saved torch.Size([3]) and current: torch.Size([4]) for a")
    with pytest.raises(RuntimeError, match=r"^`checkpoint_id` must be specified if "
                                           r"storage_reader/storage_writer is None\.$"):
        dcp.save({"a": torch.ones(1)})
    with pytest.raises(dcp.CheckpointException) as caught:
        dcp.save({"a": torch.ones(1)},
                 storage_writer=dcp.FileSystemWriter(tmp_path, overwrite=False))
    assert str(caught.value.failures[0][0]) == (
        "Checkpoint already exists and self.overwrite=False.")
    with pytest.raises(NotImplementedError, match="planner"):
        dcp.save({"a": torch.ones(1)}, checkpoint_id=tmp_path, planner=object())


def test_warns_outside_a_process_group(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dcp.save({"a": torch.ones(1)}, checkpoint_id=tmp_path)
        dcp.load({"a": torch.ones(1)}, checkpoint_id=tmp_path, no_dist=True)
    assert [str(w.message) for w in caught] == [
        "torch.distributed is disabled, unavailable or uninitialized, assuming the intent is to "
        f"{action} in a single process." for action in ("save", "load")]
    assert {w.filename for w in caught} == {__file__}


def test_optimizer_state_dict_by_fqn() -> None:
    model, optimizer = _trained()
    model_state, optim_state = get_state_dict(model, optimizer)
    assert list(model_state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(optim_state["state"]) == list(model_state)
    assert [group["params"] for group in optim_state["param_groups"]] == [
        ["0.weight", "0.bias"], ["2.weight", "2.bias"]]
    assert optim_state["param_groups"][1]["lr"] == 0.5
    flat = get_optimizer_state_dict(model, optimizer,
                                    options=StateDictOptions(flatten_optimizer_state_dict=True))
    assert flat["state.2.bias.exp_avg"] is optim_state["state"]["2.bias"]["exp_avg"]
    assert flat["param_groups.2.weight.lr"] == 0.5
    other = torch.optim.Adam([{"params": model[0].parameters()},
                              {"params": model[2].parameters()}], lr=0.3)
    set_optimizer_state_dict(model, other, flat)
    assert other.param_groups[1]["lr"] == 0.5 and other.param_groups[0]["lr"] == 0.1
    assert torch.equal(other.state[model[2].bias]["exp_avg"],
                       optimizer.state[model[2].bias]["exp_avg"])


def test_a_fresh_optimizer_gets_state_without_moving_the_parameters() -> None:
    model = nn.Linear(3, 2)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    optim_state = get_optimizer_state_dict(model, optimizer)
    assert sorted(optim_state["state"]) == ["bias", "weight"]
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert all(p.grad is None for p in model.parameters())
    for old, param in zip(before, model.parameters()):
        assert torch.equal(old, param)


def test_model_state_dict_options_and_wrappers() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[1].bias.requires_grad_(False)
    assert list(get_model_state_dict(model, options=StateDictOptions(
        ignore_frozen_params=True))) == ["0.weight", "0.bias", "1.weight"]
    assert list(get_model_state_dict(torch.compile(model))) == [
        "0.weight", "0.bias", "1.weight", "1.bias"]
    assert next(iter(get_model_state_dict(nn.DataParallel(model)))) == "module.0.weight"
    offloaded = get_model_state_dict(model, options=StateDictOptions(cpu_offload=True))
    assert all(t.device.type == "cpu" for t in offloaded.values())
    incompatible = set_model_state_dict(model, {"0.weight": torch.zeros(2, 2)},
                                        options=StateDictOptions(strict=False))
    assert incompatible.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert (model[0].weight == 0).all()
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0\.bias"'):
        set_model_state_dict(model, {"0.weight": torch.zeros(2, 2)})
    compiled = torch.compile(model)
    set_model_state_dict(compiled, {k: torch.ones_like(v) for k, v in
                                    get_model_state_dict(model).items()})
    assert (model[1].bias == 1).all()
    with pytest.raises(NotImplementedError, match="broadcast_from_rank0"):
        get_model_state_dict(model, options=StateDictOptions(broadcast_from_rank0=True))


def test_torch_save_conversions(tmp_path: Path) -> None:
    model, optimizer = _trained()
    dcp.save({"app": App(model, optimizer)}, checkpoint_id=tmp_path / "dcp")
    dcp_to_torch_save(tmp_path / "dcp", tmp_path / "full.pt")
    full = torch.load(tmp_path / "full.pt")
    assert list(full["app"]) == ["model", "optim"]
    groups = full["app"]["optim"]["param_groups"]
    assert isinstance(groups, list) and groups[1]["params"] == ["2.weight", "2.bias"]
    assert torch.equal(full["app"]["model"]["2.bias"], model[2].bias)
    torch_save_to_dcp(tmp_path / "full.pt", tmp_path / "again")
    target = {"app": {"model": {"2.bias": torch.zeros(2)}}}
    dcp.load(target, checkpoint_id=tmp_path / "again")
    assert torch.equal(target["app"]["model"]["2.bias"], model[2].bias)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_state_dict_keys_match_pytorch() -> None:
    import torch as pytorch
    from torch.distributed.checkpoint import state_dict as pytorch_state_dict

    def build(library: Any) -> tuple[Any, Any]:
        model = library.nn.Sequential(library.nn.Linear(2, 2), library.nn.Linear(2, 1))
        optimizer = library.optim.Adam([{"params": model[0].parameters()},
                                        {"params": [model[1].weight], "lr": 0.5}])
        return model, optimizer

    options = StateDictOptions(flatten_optimizer_state_dict=True)
    ours = get_state_dict(*build(torch), options=options)
    theirs = pytorch_state_dict.get_state_dict(
        *build(pytorch), options=pytorch_state_dict.StateDictOptions(
            flatten_optimizer_state_dict=True))
    assert list(ours[0]) == list(theirs[0])
    assert list(ours[1]) == list(theirs[1])
    nested = get_optimizer_state_dict(*build(torch))
    pytorch_nested = pytorch_state_dict.get_optimizer_state_dict(*build(pytorch))
    assert nested["param_groups"] == pytorch_nested["param_groups"]
    assert {k: list(v) for k, v in nested["state"].items()} == {
        k: list(v) for k, v in pytorch_nested["state"].items()}


def test_async_save_writes_a_copy_in_a_thread(tmp_path: Path) -> None:
    weights = torch.arange(4.0)
    future = dcp.async_save({"w": weights, "step": 3}, checkpoint_id=tmp_path)
    weights.mul_(0)  # after the call: the checkpoint keeps what it was given
    metadata = future.result()
    assert isinstance(metadata, dcp.Metadata) and sorted(metadata.state_dict_metadata) == [
        "step", "w"]
    target = {"w": torch.zeros(4), "step": 0}
    dcp.load(target, checkpoint_id=tmp_path)
    assert target["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and target["step"] == 3
    failing = dcp.async_save({"w": weights},
                             storage_writer=dcp.FileSystemWriter(tmp_path, overwrite=False))
    with pytest.raises(dcp.CheckpointException):
        failing.result()
    with pytest.raises(NotImplementedError, match="thread"):
        dcp.async_save({"w": weights}, checkpoint_id=tmp_path,
                       async_checkpointer_type=dcp.AsyncCheckpointerType.PROCESS)
