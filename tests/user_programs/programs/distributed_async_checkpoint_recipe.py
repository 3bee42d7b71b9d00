# Adapted from pytorch/tutorials, recipes_source/distributed_async_checkpoint_recipe.rst
# ("Asynchronous Saving with Distributed Checkpoint (DCP)").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; one process
# and no process group in place of eight GPUs, so the toy model is not wrapped in FSDP and there
# is no setup, cleanup or mp.spawn; AppState uses its own model and optimizer (the recipe's
# reads globals of those names); 4 steps on the CPU; the pinned-memory variant (GPU staging) is
# left out; each checkpoint is loaded back and checked against the state it snapshotted, while
# training went on; assertions and CHECK lines at the end.
import autodiff as torch
import autodiff.distributed.checkpoint as dcp
import autodiff.nn as nn
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


def run_fsdp_checkpoint_save_example():
    model = ToyModel()

    loss_fn = nn.MSELoss()  # noqa: F841 (the recipe makes it and never uses it)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)

    snapshots = []
    checkpoint_future = None
    for step in range(4):
        optimizer.zero_grad()
        model(torch.rand(8, 16)).sum().backward()
        optimizer.step()

        # waits for checkpointing to finish if one exists, avoiding queuing more then one
        # checkpoint request at a time
        if checkpoint_future is not None:
            checkpoint_future.result()

        state_dict = {"app": AppState(model, optimizer)}
        checkpoint_future = dcp.async_save(state_dict, checkpoint_id=f"{CHECKPOINT_DIR}_step{step}")
        snapshots.append({name: value.detach().clone()
                          for name, value in model.state_dict().items()})
        with torch.no_grad():  # changed at once: the checkpoint holds the state it was given
            model.net1.weight.mul_(0.5)
    metadata = checkpoint_future.result()
    return model, snapshots, metadata


model, snapshots, metadata = run_fsdp_checkpoint_save_example()
assert isinstance(metadata, dcp.Metadata)
assert "app.model.net1.weight" in metadata.state_dict_metadata
for step, snapshot in enumerate(snapshots):
    fresh = ToyModel()
    optimizer = torch.optim.Adam(fresh.parameters(), lr=0.1)
    dcp.load({"app": AppState(fresh, optimizer)}, checkpoint_id=f"{CHECKPOINT_DIR}_step{step}")
    for name, value in fresh.state_dict().items():
        assert torch.allclose(value, snapshot[name]), (step, name)
    assert int(optimizer.state_dict()["state"][0]["step"]) == step + 1

print("CHECK steps", len(snapshots))
print("CHECK last_step", int(optimizer.state_dict()["state"][0]["step"]))
