# Adapted from pytorch/pytorch, docs/source/notes/serialization.md ("Serialization semantics"):
# saving tensors and views, state dicts, the file format, mmap, skip_data and weights_only.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the note's doctests gathered into one
# program whose outputs are assertions; files go to the working folder; the FakeTensorMode
# snippet left out; the storage sizes the note prints are not asserted (autodiff has no storage
# objects, and saves a lone slice compactly); a class of the program's own is what
# weights_only refuses and allowlists; CHECK lines at the end.
import zipfile
from collections import OrderedDict

import autodiff as torch

torch.manual_seed(0)

# ---- Saving and loading tensors ----
t = torch.tensor([1., 2.])
torch.save(t, 'tensor.pt')
loaded = torch.load('tensor.pt')
print(loaded)
assert torch.equal(loaded, t) and repr(loaded) == "tensor([1., 2.])"

d = {'a': torch.tensor([1., 2.]), 'b': torch.tensor([3., 4.])}
torch.save(d, 'tensor_dict.pt')
loaded = torch.load('tensor_dict.pt')
print(loaded)
assert repr(loaded) == "{'a': tensor([1., 2.]), 'b': tensor([3., 4.])}"

# ---- Views survive ----
numbers = torch.arange(1, 10)
evens = numbers[1::2]
torch.save([numbers, evens], 'tensors.pt')
loaded_numbers, loaded_evens = torch.load('tensors.pt')
loaded_evens *= 2
print(loaded_numbers)
assert loaded_numbers.tolist() == [1, 4, 3, 8, 5, 12, 7, 16, 9]

large = torch.arange(1, 1000)
small = large[0:5]
torch.save(small, 'small.pt')
loaded_small = torch.load('small.pt')
assert loaded_small.tolist() == [1, 2, 3, 4, 5]

large = torch.arange(1, 1000)
small = large[0:5]
torch.save(small.clone(), 'small.pt')
loaded_small = torch.load('small.pt')
assert loaded_small.tolist() == [1, 2, 3, 4, 5]

# ---- Modules ----
bn = torch.nn.BatchNorm1d(3, track_running_stats=True)
print(list(bn.named_parameters()))
print(list(bn.named_buffers()))
assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                    "num_batches_tracked"]
print(bn.state_dict())
assert repr(bn.state_dict()) == (
    "OrderedDict([('weight', tensor([1., 1., 1.])), ('bias', tensor([0., 0., 0.])), "
    "('running_mean', tensor([0., 0., 0.])), ('running_var', tensor([1., 1., 1.])), "
    "('num_batches_tracked', tensor(0))])"), repr(bn.state_dict())
torch.save(bn.state_dict(), 'bn.pt')
bn_state_dict = torch.load('bn.pt')
new_bn = torch.nn.BatchNorm1d(3, track_running_stats=True)
print(new_bn.load_state_dict(bn_state_dict))
assert new_bn.num_batches_tracked.dtype == torch.int64


class MyModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l0 = torch.nn.Linear(4, 2)
        self.l1 = torch.nn.Linear(2, 1)

    def forward(self, input):
        out0 = self.l0(input)
        out0_relu = torch.nn.functional.relu(out0)
        return self.l1(out0_relu)


m = MyModule()
print(m.state_dict())
assert isinstance(m.state_dict(), OrderedDict)
torch.save(m.state_dict(), 'mymodule.pt')
m_state_dict = torch.load('mymodule.pt')
new_m = MyModule()
print(new_m.load_state_dict(m_state_dict))
x = torch.randn(3, 4)
assert torch.equal(new_m(x), m(x))

# ---- The file format ----
# A whole module is pickled: autodiff writes PyTorch's format for it (its own format, used for
# state dicts, holds no objects), the format this section of the note describes.
torch.save(m, 'whole.pt')
whole = torch.load('whole.pt', weights_only=False)
assert torch.equal(whole(x), m(x))
with zipfile.ZipFile('whole.pt') as archive:
    names = archive.namelist()
print(names)
prefix = names[0].split('/')[0]
assert f"{prefix}/data.pkl" in names and f"{prefix}/version" in names
assert f"{prefix}/byteorder" in names
storages = sorted(name for name in names if name.startswith(f"{prefix}/data/"))
assert storages == [f"{prefix}/data/{index}" for index in range(4)], storages
with open('whole.pt', 'rb') as file:
    raw = file.read()
with zipfile.ZipFile('whole.pt') as archive:
    for info in archive.infolist():
        if info.filename in storages:
            # The data of each storage starts at a multiple of 64 bytes.
            start = info.header_offset + 30 + len(info.filename.encode()) + \
                int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
            assert start % 64 == 0, (info.filename, start)

# ---- Layout control: mmap and skip_data ----
mapped = torch.load('mymodule.pt', mmap=True)
assert all(torch.equal(mapped[key], value) for key, value in m.state_dict().items())

with torch.serialization.skip_data():
    torch.save(m.state_dict(), 'skipped.pt')
with torch.serialization.skip_data():
    empty = torch.load('skipped.pt')
assert list(empty) == list(m.state_dict()) and empty['l0.weight'].shape == (2, 4)

# ---- weights_only ----


class Config:
    def __init__(self, rate):
        self.rate = rate


torch.save({'weights': torch.ones(2), 'config': Config(0.5)}, 'with_config.pt')
try:
    torch.load('with_config.pt')
except Exception as error:  # pickle.UnpicklingError
    message = str(error)
    print(type(error).__name__, message.splitlines()[0])
    assert type(error).__name__ == "UnpicklingError"
    assert message.startswith("Weights only load failed. This file can still be loaded"), message
    # (PyTorch 2 names the class with its module, where the note's example does not.)
    assert "Unsupported global: GLOBAL __main__.Config was not an allowed global by default. " \
        "Please use `torch.serialization.add_safe_globals([__main__.Config])` or the " \
        "`torch.serialization.safe_globals([__main__.Config])` context manager to allowlist " \
        "this global if you trust this class/function." in message, message
else:
    raise AssertionError("weights_only loaded an unknown class")

print(torch.serialization.get_unsafe_globals_in_checkpoint('with_config.pt'))
assert torch.serialization.get_unsafe_globals_in_checkpoint('with_config.pt') == \
    ['__main__.Config']
with torch.serialization.safe_globals([Config]):
    assert Config in torch.serialization.get_safe_globals()
    loaded = torch.load('with_config.pt')
assert loaded['config'].rate == 0.5
assert Config not in torch.serialization.get_safe_globals()
torch.serialization.add_safe_globals([Config])
assert torch.load('with_config.pt')['config'].rate == 0.5
torch.serialization.clear_safe_globals()
assert Config not in torch.serialization.get_safe_globals()
assert torch.load('with_config.pt', weights_only=False)['config'].rate == 0.5

# ---- Config ----
config = torch.utils.serialization.config
assert config.save.compute_crc32 is True and config.save.storage_alignment == 64
assert config.load.mmap is False
config.load.mmap = True
mapped = torch.load('mymodule.pt')
config.load.mmap = False
assert torch.equal(mapped['l1.bias'], m.l1.bias.detach())
print("CHECK loaded_evens_sum", float(loaded_evens.sum().item()))
print("CHECK bn_var_sum", new_bn.running_var.sum().item())
