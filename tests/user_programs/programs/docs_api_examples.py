# Adapted from the docstring examples of pytorch/pytorch's commonly used APIs: torch/optim/
# lr_scheduler.py (SequentialLR, ChainedScheduler, LambdaLR, MultiStepLR, OneCycleLR,
# ReduceLROnPlateau), torch/nn/utils/rnn.py (pad_sequence, pack_sequence, pack_padded_sequence,
# pad_packed_sequence, unpad_sequence, unpack_sequence), torch/utils/data/sampler.py
# (WeightedRandomSampler, BatchSampler), torch/nn/utils/parametrize.py and
# torch/distributions (kl_divergence, TransformedDistribution).
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; each docstring's `>>>` lines run on
# a small model, their outputs as assertions; the schedulers' lr sequences are CHECK lines.
import math

import autodiff as torch
import autodiff.nn as nn
from autodiff.distributions import (
    Categorical,
    Normal,
    TransformedDistribution,
    kl_divergence,
)
from autodiff.distributions.transforms import AffineTransform, ExpTransform
from autodiff.nn.utils import parametrize
from autodiff.nn.utils.rnn import (
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from autodiff.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
)
from autodiff.utils.data import BatchSampler, SequentialSampler, WeightedRandomSampler

torch.manual_seed(0)
model = nn.Linear(2, 1)


def lrs(scheduler, optimizer, steps, metric=None):
    seen = []
    for _ in range(steps):
        seen.append(round(optimizer.param_groups[0]["lr"], 8))
        optimizer.step()
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric)
    return seen


# ---- lr_scheduler ----
optimizer = torch.optim.SGD(model.parameters(), lr=1.)
scheduler1 = ConstantLR(optimizer, factor=0.1, total_iters=2)
scheduler2 = ExponentialLR(optimizer, gamma=0.9)
scheduler = SequentialLR(optimizer, schedulers=[scheduler1, scheduler2], milestones=[2])
seen = lrs(scheduler, optimizer, 5)
print("SequentialLR", seen)
assert seen == [0.1, 0.1, 1.0, 0.9, 0.81], seen

optimizer = torch.optim.SGD(model.parameters(), lr=1.)
scheduler1 = ConstantLR(optimizer, factor=0.1, total_iters=2)
scheduler2 = ExponentialLR(optimizer, gamma=0.9)
scheduler = ChainedScheduler([scheduler1, scheduler2], optimizer=optimizer)
seen = lrs(scheduler, optimizer, 5)
print("ChainedScheduler", seen)
assert seen == [0.1, 0.09, 0.81, 0.729, 0.6561], seen

optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
scheduler = LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)
seen = lrs(scheduler, optimizer, 4)
assert seen == [0.05, 0.0475, 0.045125, 0.04286875], seen

optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
scheduler = MultiStepLR(optimizer, milestones=[2, 4], gamma=0.1)
seen = lrs(scheduler, optimizer, 6)
assert seen == [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005], seen

optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = OneCycleLR(optimizer, max_lr=0.01, total_steps=10)
seen = lrs(scheduler, optimizer, 10)
print("OneCycleLR", seen)
print("CHECK onecycle_sum", sum(seen))
print("CHECK onecycle_momentum", optimizer.param_groups[0]["momentum"])

optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = ReduceLROnPlateau(optimizer, 'min', patience=1)
seen = lrs(scheduler, optimizer, 6, metric=1.0)
print("ReduceLROnPlateau", seen)
assert seen == [0.1, 0.1, 0.1, 0.01, 0.01, 0.001], seen
assert scheduler.get_last_lr() == [optimizer.param_groups[0]["lr"]]

# ---- nn.utils.rnn ----
a = torch.ones(25, 300)
b = torch.ones(22, 300)
c = torch.ones(15, 300)
assert pad_sequence([a, b, c]).size() == torch.Size([25, 3, 300])

a = torch.tensor([1, 2, 3])
b = torch.tensor([4, 5])
c = torch.tensor([6])
packed = pack_sequence([a, b, c])
print(packed)
assert packed.data.tolist() == [1, 4, 6, 2, 5, 3] and packed.batch_sizes.tolist() == [3, 2, 1]
assert [t.tolist() for t in unpack_sequence(packed)] == [[1, 2, 3], [4, 5], [6]]

seq = torch.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
lens = [2, 1, 3]
packed = pack_padded_sequence(seq, lens, batch_first=True, enforce_sorted=False)
print(packed)
assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
assert packed.batch_sizes.tolist() == [3, 2, 1]
assert packed.sorted_indices.tolist() == [2, 0, 1]
assert packed.unsorted_indices.tolist() == [1, 2, 0]
seq_unpacked, lens_unpacked = pad_packed_sequence(packed, batch_first=True)
assert torch.equal(seq_unpacked, seq) and lens_unpacked.tolist() == [2, 1, 3]

a = torch.ones(25, 300)
b = torch.ones(22, 300)
c = torch.ones(15, 300)
sequences = [a, b, c]
padded_sequences = pad_sequence(sequences)
lengths = torch.as_tensor([v.size(0) for v in sequences])
unpadded_sequences = unpad_sequence(padded_sequences, lengths)
assert all(torch.allclose(s, u) for s, u in zip(sequences, unpadded_sequences))

rnn = nn.GRU(input_size=2, hidden_size=3, batch_first=True)
inputs = torch.arange(18.0).reshape(3, 3, 2) / 10
packed = pack_padded_sequence(inputs, [3, 1, 2], batch_first=True, enforce_sorted=False)
output, hidden = rnn(packed)
unpacked, lengths = pad_packed_sequence(output, batch_first=True)
assert unpacked.shape == (3, 3, 3) and lengths.tolist() == [3, 1, 2]
assert torch.equal(unpacked[1, 1:], torch.zeros(2, 3))  # padding past each length
assert torch.allclose(hidden[0, 1], unpacked[1, 0])  # the last real step of each sequence

# ---- Samplers ----
assert list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False)) == \
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
assert list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True)) == \
    [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
drawn = list(WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement=True))
assert len(drawn) == 5 and all(0 <= index < 6 for index in drawn)
drawn = list(WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, replacement=False))
assert len(set(drawn)) == 5
assert list(WeightedRandomSampler([0.0, 1.0, 0.0], 4)) == [1, 1, 1, 1]


# ---- parametrize ----
class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).T


m = nn.Linear(5, 5)
parametrize.register_parametrization(m, "weight", Symmetric())
print(torch.allclose(m.weight, m.weight.T))
assert torch.allclose(m.weight, m.weight.T)
A = m.weight.detach().clone()
assert parametrize.is_parametrized(m, "weight")
with parametrize.cached():
    assert m.weight is m.weight
try:
    m.weight = A  # Symmetric has no right_inverse
except RuntimeError as error:
    assert str(error) == "parametrization Symmetric does not implement right_inverse.", error
else:
    raise AssertionError("a parametrization without right_inverse was assigned to")
parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
assert not parametrize.is_parametrized(m) and torch.allclose(m.weight, A)

# ---- distributions ----
p = Normal(torch.tensor([0.0]), torch.tensor([1.0]))
q = Normal(torch.tensor([1.0]), torch.tensor([2.0]))
kl = kl_divergence(p, q)
print("CHECK kl_normal", kl.item())
assert math.isclose(kl.item(), math.log(2) + (1 + 1) / 8 - 0.5, rel_tol=1e-6)
categorical = Categorical(probs=torch.tensor([0.25, 0.25, 0.25, 0.25]))
assert math.isclose(categorical.entropy().item(), math.log(4), rel_tol=1e-6)
log_normal = TransformedDistribution(Normal(torch.tensor(0.0), torch.tensor(1.0)),
                                     [ExpTransform()])
print("CHECK lognormal_logprob", log_normal.log_prob(torch.tensor(2.0)).item())
scaled = TransformedDistribution(Normal(torch.tensor(0.0), torch.tensor(1.0)),
                                 [AffineTransform(loc=1.0, scale=3.0)])
assert math.isclose(scaled.log_prob(torch.tensor(1.0)).item(),
                    -math.log(3.0) - 0.5 * math.log(2 * math.pi), rel_tol=1e-6)
