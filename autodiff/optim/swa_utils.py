"""Stochastic weight averaging and exponential moving averages of a model's weights:
`AveragedModel` (a copy of the model whose parameters are the running average of the model's),
`update_bn` (recompute BatchNorm statistics for averaged weights with one pass over the data)
and `SWALR` (anneal each group's lr to a constant SWA lr), with the averaging rules
`get_swa_avg_fn` / `get_ema_avg_fn` (one tensor at a time) and their multi-tensor forms."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

from ..creation import tensor
from ..dtypes import int64
from ..foreach import FUNCTIONS
from ..grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..tensor import Tensor
from .lr_scheduler.base import LRScheduler, format_param, warn_get_lr_called_outside_step
from .optimizer import Optimizer

ParamList = list[Tensor] | tuple[Tensor, ...]

_foreach_lerp_ = FUNCTIONS["_foreach_lerp_"]
_foreach_sub = FUNCTIONS["_foreach_sub"]
_foreach_addcdiv_ = FUNCTIONS["_foreach_addcdiv_"]
_foreach_add_ = FUNCTIONS["_foreach_add_"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[ParamList, ParamList, Any], None]:
    """An in-place exponential moving average of lists of tensors: ema = decay * ema +
    (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list: ParamList, current_param_list: ParamList, _: Any) -> None:
        if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
            _foreach_lerp_(ema_param_list, current_param_list, 1 - decay)
        else:
            for ema, current in zip(ema_param_list, current_param_list, strict=True):
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[ParamList, ParamList, Any], None]:
    """An in-place running mean of lists of tensors: averaged += (current - averaged) /
    (num_averaged + 1)."""

    @no_grad()
    def swa_update(averaged_param_list: ParamList, current_param_list: ParamList,
                   num_averaged: Tensor | int) -> None:
        if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
            _foreach_lerp_(averaged_param_list, current_param_list,
                                   1 / (num_averaged + 1))
        else:
            differences = _foreach_sub(current_param_list, averaged_param_list)
            if isinstance(num_averaged, Tensor):
                _foreach_addcdiv_(averaged_param_list, differences,
                                          [num_averaged + 1] * len(averaged_param_list))
            else:
                _foreach_add_(averaged_param_list, differences,
                                      alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """decay * ema + (1 - decay) * current, one tensor at a time."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """averaged + (current - averaged) / (num_averaged + 1), one tensor at a time."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor,
                   num_averaged: Tensor | int) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A deep copy of `model` whose parameters (and buffers, with `use_buffers=True`) are the
    average of the model's over the `update_parameters` calls: by default their running mean
    (SWA), or what `avg_fn` (per tensor) or `multi_avg_fn` (per list) computes."""

    n_averaged: Tensor

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[[ParamList, ParamList, Any], None] | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            own: Iterable[Tensor] = itertools.chain(self.module.parameters(),
                                                    self.module.buffers())
            theirs: Iterable[Tensor] = itertools.chain(model.parameters(), model.buffers())
        else:
            own, theirs = self.parameters(), model.parameters()
        averaged_list: list[Tensor] = []
        current_list: list[Tensor] = []
        first = bool(self.n_averaged == 0)
        for averaged, current in zip(own, theirs):
            current = current.detach().to(averaged.device)
            averaged_list.append(averaged.detach())
            current_list.append(current)
            if first:
                averaged.detach().copy_(current)
        if self.n_averaged > 0:
            if self.avg_fn is not None and self.multi_avg_fn is None:
                for averaged, current in zip(averaged_list, current_list, strict=True):
                    averaged.copy_(self.avg_fn(averaged, current,
                                               self.n_averaged.to(averaged.device)))
            else:
                for group_averaged, group_current in _by_device_and_dtype(averaged_list,
                                                                          current_list):
                    device = group_averaged[0].device
                    count = self.n_averaged.to(device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(group_averaged, group_current, count)
                    elif device.type == "cuda":  # PyTorch's foreach kernels' devices
                        get_swa_multi_avg_fn()(group_averaged, group_current, count)
                    else:
                        # One tensor at a time, as PyTorch does on the CPU (an integer buffer
                        # gets the float mean, truncated by the copy).
                        average = get_swa_avg_fn()
                        for averaged, current in zip(group_averaged, group_current,
                                                     strict=True):
                            averaged.copy_(average(averaged, current, count))
        if not self.use_buffers:
            # Without averaging them, the buffers follow the source model.
            for own_buffer, their_buffer in zip(self.module.buffers(), model.buffers(),
                                                strict=True):
                own_buffer.detach().copy_(their_buffer.detach().to(own_buffer.device))
        self.n_averaged += 1


def _by_device_and_dtype(averaged: list[Tensor],
                         current: list[Tensor]) -> list[tuple[list[Tensor], list[Tensor]]]:
    groups: dict[tuple[str, Any], tuple[list[Tensor], list[Tensor]]] = {}
    for own, theirs in zip(averaged, current, strict=True):
        group = groups.setdefault((str(own.device), own.dtype), ([], []))
        group[0].append(own)
        group[1].append(theirs)
    return list(groups.values())


@no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running statistics of every BatchNorm layer of `model` with one pass over
    `loader` (a batch that is a list or tuple gives its first item), as a cumulative average."""
    momenta: dict[_BatchNorm, Any] = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from its value to `swa_lr` over `anneal_epochs` steps ("cos" or
    "linear"), then keep it there."""

    def __init__(self, optimizer: Optimizer, swa_lr: float, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for value, group in zip(format_param("swa_lr", optimizer, swa_lr),
                                optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: Any, swa_lr: Any, alpha: float) -> Any:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[Any]:
        # Each step recovers the lr before annealing from the group's current lr, so a group
        # whose lr another scheduler changed still reaches swa_lr.
        warn_get_lr_called_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]
