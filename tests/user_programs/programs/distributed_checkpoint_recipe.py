# Adapted from pytorch/tutorials, recipes_source/distributed_checkpoint_recipe.rst ("Getting
# Started with Distributed Checkpoint (DCP)").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; one process
# and no process group (the recipe's "non-distributed" style) in place of eight GPUs, so the
# toy model is not wrapped in FSDP and there is no setup, cleanup or mp.spawn; the input is on
# the CPU; the saving, loading, non-FSDP loading and format-conversion snippets run one after
# another in the same program, the conversion back to DCP with torch_save_to_dcp (the recipe
# calls dcp_to_torch_save twice); assertions and CHECK lines at the end.
import os

import autodiff as torch
import autodiff.distributed.checkpoint as dcp
import autodiff.nn as nn
from autodiff.distributed.checkpoint.format_utils import dcp_to_torch_save, torch_save_to_dcp
from autodiff.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from autodiff.distributed.checkpoint.stateful import Stateful

CHECKPOINT_DIR = "checkpoint"
torch.manual_seed(0)


class AppState(Stateful):
    """This is a useful wrapper for checkpointing the Application State. Since this object is
    compliant with the Stateful protocol, DCP will automatically call state_dict/load_stat_dict as
    needed in the dcp.save/load APIs.

    Note: We take advantage of this wrapper to hande calling distributed state dict methods on the
    model and optimizer.
    """

    def __init__(self, model, optimizer=None):
        self.model = model
        self.optimizer = optimizer

    def state_dict(self):
        # this line automatically manages FSDP FQN's, as well as sets the default state dict type
        # to FSDP.SHARDED_STATE_DICT
        model_state_dict, optimizer_state_dict = get_state_dict(self.model, self.optimizer)
        return {
            "model": model_state_dict,
            "optim": optimizer_state_dict
        }

    def load_state_dict(self, state_dict):
        # sets our state dicts on the model and optimizer, now that we've loaded
        set_state_dict(
            self.model,
            self.optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optim"]
        )


class ToyModel(nn.Module):
    def __init__(self):
        super(ToyModel, self).__init__()
        self.net1 = nn.Linear(16, 16)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(16, 8)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


# ---- Saving ----
def run_fsdp_checkpoint_save_example():
    model = ToyModel()

    loss_fn = nn.MSELoss()  # noqa: F841 (the recipe makes it and never uses it)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)

    optimizer.zero_grad()
    model(torch.rand(8, 16)).sum().backward()
    optimizer.step()

    state_dict = {"app": AppState(model, optimizer)}
    dcp.save(state_dict, checkpoint_id=CHECKPOINT_DIR)
    return model, optimizer


saved_model, saved_optimizer = run_fsdp_checkpoint_save_example()
files = sorted(os.listdir(CHECKPOINT_DIR))
print(files)
assert ".metadata" in files and any(name.endswith(".distcp") for name in files), files


# ---- Loading, into the same kind of model and optimizer (with the Stateful wrapper) ----
def run_fsdp_checkpoint_load_example():
    model = ToyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)

    state_dict = {"app": AppState(model, optimizer)}
    dcp.load(
        state_dict=state_dict,
        checkpoint_id=CHECKPOINT_DIR,
    )
    return model, optimizer


model, optimizer = run_fsdp_checkpoint_load_example()
for (name, saved), loaded in zip(saved_model.state_dict().items(), model.state_dict().values()):
    assert torch.equal(saved, loaded), name
saved_state = saved_optimizer.state_dict()["state"]
loaded_state = optimizer.state_dict()["state"]
assert saved_state.keys() == loaded_state.keys() and len(loaded_state) == 4
for index in saved_state:
    for key in ("step", "exp_avg", "exp_avg_sq"):
        assert torch.equal(saved_state[index][key], loaded_state[index][key]), (index, key)
assert optimizer.state_dict()["param_groups"][0]["lr"] == 0.1

# Loading in place: the state dicts get_state_dict makes are filled with the saved values
model = ToyModel()
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
model_state_dict, optimizer_state_dict = get_state_dict(model, optimizer)
state_dict = {"app": {"model": model_state_dict, "optim": optimizer_state_dict}}
before = model_state_dict["net1.weight"]
dcp.load(state_dict=state_dict, checkpoint_id=CHECKPOINT_DIR)
assert state_dict["app"]["model"]["net1.weight"] is before  # the same tensor, filled in place
assert torch.equal(before, saved_model.net1.weight)
print(sorted(state_dict["app"]["optim"]["state"]))
assert torch.equal(state_dict["app"]["optim"]["state"]["net2.bias"]["exp_avg"],
                   saved_state[3]["exp_avg"])
set_state_dict(model, optimizer, model_state_dict=state_dict["app"]["model"],
               optim_state_dict=state_dict["app"]["optim"])
assert torch.equal(optimizer.state_dict()["state"][0]["exp_avg_sq"], saved_state[0]["exp_avg_sq"])


# ---- Loading into a non-FSDP model, outside any process group ----
def run_checkpoint_load_example():
    # create the non FSDP-wrapped toy model
    model = ToyModel()
    state_dict = {
        "model": model.state_dict(),
    }

    # since no progress group is initialized, DCP will disable any collectives.
    dcp.load(
        state_dict=state_dict,
        checkpoint_id=f"{CHECKPOINT_DIR}_model",
    )
    model.load_state_dict(state_dict["model"])
    return model


dcp.save({"model": saved_model.state_dict()}, checkpoint_id=f"{CHECKPOINT_DIR}_model")
model = run_checkpoint_load_example()
x = torch.rand(4, 16)
assert torch.equal(model(x), saved_model(x))

# A key missing from the checkpoint is an error
try:
    dcp.load({"model": ToyModel().state_dict(), "extra": torch.zeros(2)},
             checkpoint_id=f"{CHECKPOINT_DIR}_model")
except dcp.CheckpointException as error:  # wraps the RuntimeError of the missing key
    print(type(error).__name__)
    assert "extra" in str(error), str(error)
else:
    raise AssertionError("a key missing from the checkpoint was accepted")

# ---- Formats ----
TORCH_SAVE_CHECKPOINT_DIR = "torch_save_checkpoint.pth"

# convert dcp model to torch.save (assumes checkpoint was generated as above)
dcp_to_torch_save(CHECKPOINT_DIR, TORCH_SAVE_CHECKPOINT_DIR)
converted = torch.load(TORCH_SAVE_CHECKPOINT_DIR)
print(sorted(converted["app"]))
assert torch.equal(converted["app"]["model"]["net2.weight"], saved_model.net2.weight)
assert torch.equal(converted["app"]["optim"]["state"]["net1.weight"]["exp_avg"],
                   saved_state[0]["exp_avg"])

# converts the torch.save model back to DCP
torch_save_to_dcp(TORCH_SAVE_CHECKPOINT_DIR, f"{CHECKPOINT_DIR}_new")
state_dict = {"app": {"model": ToyModel().state_dict()}}
dcp.load(state_dict, checkpoint_id=f"{CHECKPOINT_DIR}_new")
assert torch.equal(state_dict["app"]["model"]["net1.bias"], saved_model.net1.bias)

print("CHECK loaded_entries", len(loaded_state))
print("CHECK lr", optimizer.state_dict()["param_groups"][0]["lr"])
