"""`AdaptiveLogSoftmaxWithLoss`: the adaptive softmax of Grave et al. for many classes. Frequent
classes (below the first cutoff) are scored by the head; each later cluster of classes gets one
head entry (the cluster's probability) and its own small projection (a tail), which only the
rows whose target falls in that cluster go through."""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Sequence
from typing import Any, cast

from ...creation import tensor, zeros
from ...ops.joining import cat
from ...ops.minmax import argmax
from ...tensor import Tensor
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Returns (output, loss): each row's log-probability of its target and the mean negative
    log-likelihood. `log_prob` gives every class's log-probability, `predict` the most likely
    class."""

    head: Linear
    tail: ModuleList

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an "
                "increasing order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [*cutoffs, n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device,
                           dtype=dtype)
        self.tail = ModuleList()
        for index in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (index + 1)))
            size = self.cutoffs[index + 1] - self.cutoffs[index]
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection.children():
                cast(Linear, layer).reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        target_dim = target_.dim()
        if target_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError(
                    "Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(
                    "1D target tensor expects 2D input tensors, but found inputs with size "
                    f"{input_.shape}")
        elif target_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(
                    "0D target tensor expects 1D input tensors, but found inputs with size "
                    f"{input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        batch_size = target.shape[0]
        targets = [int(value) for value in target.tolist()]  # rows are routed on the host
        output = zeros(batch_size, dtype=input.dtype, device=input.device)
        gather_indices = [0] * batch_size
        used_rows = 0
        bounds = [0, *self.cutoffs]
        for cluster, (low, high) in enumerate(itertools.pairwise(bounds)):
            rows = [row for row, value in enumerate(targets) if low <= value < high]
            if not rows:
                continue
            if cluster == 0:
                for row in rows:
                    gather_indices[row] = targets[row]
            else:
                row_index = tensor(rows, device=input.device)
                relative = tensor([targets[row] - low for row in rows], device=input.device)
                cluster_output = self.tail[cluster - 1](input.index_select(0, row_index))
                for row in rows:
                    gather_indices[row] = self.shortlist_size + cluster - 1
                local = F.log_softmax(cluster_output, dim=1).gather(1, relative.unsqueeze(1))
                output = output.index_add(0, row_index, local.squeeze(1))  # disjoint rows
            used_rows += len(rows)
        if used_rows != batch_size:
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{min(targets)}, {max(targets)}] were found. ")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        picked = head_logprob.gather(1, tensor(gather_indices, device=input.device).unsqueeze(1))
        output = output + picked.squeeze()
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = F.log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for index in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[index](input), dim=1)
            pieces.append(cluster_logprob
                          + head_logprob[:, self.shortlist_size + index].unsqueeze(1))
        return cat(pieces, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probability of every class, (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (the tails are run only for the rows whose most
        likely head entry is a cluster)."""
        head_output = self.head(input)
        output = argmax(head_output, dim=1)
        outside = output >= self.shortlist_size
        if not bool(outside.any()):
            return output
        if bool(outside.all()):
            return argmax(self._get_full_log_prob(input, head_output), dim=1)
        rows = [row for row, flag in enumerate(outside.tolist()) if flag]
        row_index = tensor(rows, device=input.device)
        log_prob = self._get_full_log_prob(input.index_select(0, row_index),
                                           head_output.index_select(0, row_index))
        predicted = argmax(log_prob, dim=1).tolist()
        result = output.tolist()
        for row, value in zip(rows, predicted):
            result[row] = value
        return tensor(result, device=input.device)
