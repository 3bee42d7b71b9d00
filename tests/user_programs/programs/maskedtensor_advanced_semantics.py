# Adapted from pytorch/tutorials, prototype_source/maskedtensor_advanced_semantics.py
# ("(Prototype) MaskedTensor Advanced Semantics").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the random mask is a fixed one so
# the numbers are PyTorch's; the bare expression at the end is printed; assertions and CHECK
# lines after each part.
import warnings

import numpy as np

import autodiff as torch
from autodiff.masked import masked_tensor

# Disable prototype warnings and such
warnings.filterwarnings(action='ignore', category=UserWarning)

# MaskedTensor vs NumPy's MaskedArray
data = torch.arange(5.)
mask = torch.tensor([True, True, False, True, False])
npm0 = np.ma.masked_array(data.numpy(), (~mask).numpy())
npm1 = np.ma.masked_array(data.numpy(), (mask).numpy())

print("npm0:\n", npm0)
print("npm1:\n", npm1)
print("npm0 + npm1:\n", npm0 + npm1)

mt0 = masked_tensor(data, mask)
mt1 = masked_tensor(data, ~mask)
print("mt0:\n", mt0)
print("mt1:\n", mt1)

failed = False
try:
    mt0 + mt1
except ValueError as e:
    print("mt0 + mt1 failed. Error: ", e)
    failed = "Input masks must match" in str(e)
assert failed

t0 = mt0.to_tensor(0)
t1 = mt1.to_tensor(0)
mt2 = masked_tensor(t0 + t1, mt0.get_mask() & mt1.get_mask())

print("t0:\n", t0)
print("t1:\n", t1)
print("mt2 (t0 + t1):\n", mt2)
assert t0.tolist() == [0.0, 1.0, 0.0, 3.0, 0.0]
assert repr(mt2) == ("MaskedTensor(\n  [      --,       --,       --,       --,       --]\n)")

# Reduction Semantics
data = torch.arange(12, dtype=torch.float).reshape(3, 4)
mask = torch.tensor([[True, False, True, True], [False, False, False, False],
                     [True, True, False, True]])
mt = masked_tensor(data, mask)

print("data:\n", data)
print("mask:\n", mask)
print("mt:\n", mt)

for name in ("sum", "mean", "prod", "amin", "amax"):
    reduced = getattr(torch, name)(mt, 1)
    print(f"torch.{name}:\n", reduced)
    assert reduced.get_mask().tolist() == [True, False, True]
    print(f"CHECK {name}_row0", reduced.get_data()[0].item())
    print(f"CHECK {name}_row2", reduced.get_data()[2].item())

data0 = torch.arange(10.).reshape(2, 5)
data1 = torch.arange(10.).reshape(2, 5) + 10
mask0 = torch.tensor([[True, True, False, False, False], [False, False, False, True, True]])
mask1 = torch.tensor([[False, False, False, True, True], [True, True, False, False, False]])
npm0 = np.ma.masked_array(data0.numpy(), (mask0).numpy())
npm1 = np.ma.masked_array(data1.numpy(), (mask1).numpy())

print("npm0:", npm0)
print("npm1:", npm1)

print("(npm0 + npm1).sum(0):\n", (npm0 + npm1).sum(0))
print("npm0.sum(0) + npm1.sum(0):\n", npm0.sum(0) + npm1.sum(0))

mt0 = masked_tensor(data0, ~mask0)
mt1 = masked_tensor(data1, ~mask1)

total = (mt0.to_tensor(0) + mt1.to_tensor(0)).sum(0)
print(total)
assert total.tolist() == [15.0, 17.0, 38.0, 21.0, 23.0]
for column, value in enumerate(total.tolist()):
    print(f"CHECK to_tensor_sum_{column}", value)
