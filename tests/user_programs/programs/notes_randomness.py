# Adapted from pytorch/pytorch, docs/source/notes/randomness.md ("Reproducibility"): seeding
# every generator, cuDNN and deterministic-algorithm switches, and DataLoader workers seeded
# through worker_init_fn and a Generator.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; a small synthetic dataset whose items
# draw from NumPy's and Python's generators in the workers; two loaders with the same seed give
# the same batches and a third with another seed does not; assertions at the end.
import random

import numpy
import numpy as np

import autodiff as torch
from autodiff.utils.data import DataLoader, Dataset

torch.manual_seed(0)
random.seed(0)
np.random.seed(0)

first = torch.rand(3)
torch.manual_seed(0)
assert torch.equal(torch.rand(3), first)

torch.backends.cudnn.benchmark = False
torch.use_deterministic_algorithms(True)
assert torch.are_deterministic_algorithms_enabled()
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(False)
assert not torch.are_deterministic_algorithms_enabled()
torch.use_deterministic_algorithms(True, warn_only=True)
assert torch.is_deterministic_algorithms_warn_only_enabled()
torch.use_deterministic_algorithms(False)


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    numpy.random.seed(worker_seed)
    random.seed(worker_seed)


class Noisy(Dataset):
    """Items drawn from NumPy's, Python's and autodiff's generators in the worker."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return torch.tensor([float(index), numpy.random.rand(), random.random(),
                             torch.rand(()).item()])


def batches(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    loader = DataLoader(Noisy(), batch_size=4, shuffle=True, num_workers=2,
                        worker_init_fn=seed_worker, generator=g)
    return [batch for batch in loader]


once, again, other = batches(0), batches(0), batches(1)
assert len(once) == 2 and all(batch.shape == (4, 4) for batch in once)
assert all(torch.equal(a, b) for a, b in zip(once, again))  # reproducible, noise included
assert not all(torch.equal(a, b) for a, b in zip(once, other))
indices = sorted(int(value) for batch in once for value in batch[:, 0])
assert indices == list(range(8))
# each worker seeded its own NumPy generator differently: no two items drew the same value
numpy_draws = [float(value) for batch in once for value in batch[:, 1]]
assert len(set(numpy_draws)) == 8, numpy_draws
print("shuffled order", [int(value) for batch in once for value in batch[:, 0]])
