# Adapted from pytorch/tutorials, prototype_source/maskedtensor_sparsity.py ("(Prototype)
# MaskedTensor Sparsity"; the text as kept in PyTorchKorea/tutorials-kr).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`;
# `is_sparse` is read as the property it is (PyTorch 2.13's MaskedTensor.is_sparse() raises
# "'bool' object is not callable"); the bare expressions are printed; assertions and CHECK lines.
import warnings

import autodiff as torch
from autodiff.masked import masked_tensor

# Disable prototype warnings and such
warnings.filterwarnings(action='ignore', category=UserWarning)

# Sparse COO tensors
values = torch.tensor([[0, 0, 3], [4, 0, 5]])
mask = torch.tensor([[False, False, True], [False, False, True]])
mt = masked_tensor(values, mask)
sparse_coo_mt = mt.to_sparse_coo()

print("mt:\n", mt)
print("mt (sparse coo):\n", sparse_coo_mt)
print("mt data (sparse coo):\n", sparse_coo_mt.get_data())
assert sparse_coo_mt.is_sparse_coo() and sparse_coo_mt.get_data()._nnz() == 2
assert sparse_coo_mt.get_data().to_dense().tolist() == [[0, 0, 3], [0, 0, 5]]

# Sparse CSR tensors
mt_sparse_csr = mt.to_sparse_csr()

print("mt (sparse csr):\n", mt_sparse_csr)
print("mt data (sparse csr):\n", mt_sparse_csr.get_data())
assert mt_sparse_csr.is_sparse_csr()
assert mt_sparse_csr.get_data().crow_indices().tolist() == [0, 1, 2]
assert mt_sparse_csr.get_data().values().tolist() == [3, 5]

# Supported Operations: unary
print(mt.sin())
print("CHECK sin_02", mt.sin().get_data()[0, 2].item())

# Binary
i = [[0, 1, 1],
     [2, 0, 2]]
v1 = [3, 4, 5]
v2 = [20, 30, 40]
m = torch.tensor([True, False, True])

s1 = torch.sparse_coo_tensor(i, v1, (2, 3))
s2 = torch.sparse_coo_tensor(i, v2, (2, 3))
mask = torch.sparse_coo_tensor(i, m, (2, 3))

mt1 = masked_tensor(s1, mask)
mt2 = masked_tensor(s2, mask)

print("mt1:\n", mt1)
print("mt2:\n", mt2)

quotient = torch.div(mt2, mt1)
product = torch.mul(mt1, mt2)
print("torch.div(mt2, mt1):\n", quotient)
print("torch.mul(mt1, mt2):\n", product)
assert quotient.is_sparse_coo() and product.is_sparse_coo()
for index, value in enumerate(quotient.get_data().values().tolist()):
    print(f"CHECK div_{index}", value)
for index, value in enumerate(product.get_data().values().tolist()):
    print(f"CHECK mul_{index}", value)

# Reductions
print(mt)
print("mt.sum():\n", mt.sum())
print("mt.sum(dim=1):\n", mt.sum(dim=1))
print("mt.amin():\n", mt.amin())
print("CHECK sum", mt.sum().get_data().item())
print("CHECK amin", mt.amin().get_data().item())
assert mt.sum(dim=1).get_data().tolist() == [3, 5]

# MaskedTensor Helper Methods
v = [[3, 0, 0],
     [0, 4, 5]]
m = [[True, False, False],
     [False, True, True]]

mt = masked_tensor(torch.tensor(v), torch.tensor(m))
print(mt)

mt_sparse_coo = mt.to_sparse_coo()
mt_sparse_csr = mt.to_sparse_csr()
mt_dense = mt_sparse_coo.to_dense()

print("mt_dense.is_sparse: ", mt_dense.is_sparse)
print("mt_sparse_coo.is_sparse: ", mt_sparse_coo.is_sparse)
print("mt_sparse_csr.is_sparse: ", mt_sparse_csr.is_sparse)
print("mt_dense.is_sparse_coo: ", mt_dense.is_sparse_coo())
print("mt_sparse_coo.is_sparse_coo: ", mt_sparse_coo.is_sparse_coo())
print("mt_sparse_csr.is_sparse_coo: ", mt_sparse_csr.is_sparse_coo())
print("mt_dense.is_sparse_csr: ", mt_dense.is_sparse_csr())
print("mt_sparse_coo.is_sparse_csr: ", mt_sparse_coo.is_sparse_csr())
print("mt_sparse_csr.is_sparse_csr: ", mt_sparse_csr.is_sparse_csr())
assert (mt_dense.is_sparse, mt_sparse_coo.is_sparse, mt_sparse_csr.is_sparse) == (False, True, True)
assert mt_sparse_csr.to_dense().get_data().tolist() == [[3, 0, 0], [0, 4, 5]]
assert mt_dense.get_data().tolist() == [[3, 0, 0], [0, 4, 5]]

# Appendix: sparse COO construction
values = torch.tensor([[0, 0, 3], [4, 0, 5]]).to_sparse()
mask = torch.tensor([[False, False, True], [False, False, True]]).to_sparse()
mt = masked_tensor(values, mask)

print("values:\n", values)
print("mask:\n", mask)
print("mt:\n", mt)

i = [[0, 1, 1],
     [2, 0, 2]]
v = [3, 4, 5]
m = torch.tensor([True, False, True])
values = torch.sparse_coo_tensor(i, v, (2, 3))
mask = torch.sparse_coo_tensor(i, m, (2, 3))
mt2 = masked_tensor(values, mask)

print("values:\n", values)
print("mask:\n", mask)
print("mt2:\n", mt2)

print("mt data:\n", mt.get_data())
print("mt2 data:\n", mt2.get_data())
assert mt.get_data()._nnz() == 2 and mt2.get_data()._nnz() == 3
assert repr(mt) == repr(mt2)

# Appendix: sparse CSR construction
crow_indices = torch.tensor([0, 2, 4])
col_indices = torch.tensor([0, 1, 0, 1])
values = torch.tensor([1, 2, 3, 4])
mask_values = torch.tensor([True, False, False, True])

csr = torch.sparse_csr_tensor(crow_indices, col_indices, values, dtype=torch.double)
mask = torch.sparse_csr_tensor(crow_indices, col_indices, mask_values, dtype=torch.bool)
mt = masked_tensor(csr, mask)

print("mt:\n", mt)
print("mt data:\n", mt.get_data())
assert mt.is_sparse_csr() and mt.get_data().dtype == torch.float64
assert mt.get_data().values().tolist() == [1.0, 2.0, 3.0, 4.0]
