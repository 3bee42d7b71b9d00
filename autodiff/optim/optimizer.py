"""`Optimizer`: the base of every optimizer. Holds parameter groups (each a dict of options
plus its 'params'), per-parameter state, and saves/loads both in PyTorch's state_dict format.

Subclasses update the parameters in `step()` directly on their backend arrays, in place and on
the parameters' own device: no graph is recorded and no temporary Tensor objects are made.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ..creation import tensor as _tensor
from ..grad_mode import enable_grad
from ..nn.modules.module import _zero_grad, typename
from ..tensor import Tensor, _wrap


class _RequiredParameter:
    """Marks a default that every parameter group must set (e.g. a learning rate)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _RequiredParameter()


class Optimizer:
    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {typename(params)}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + typename(param)
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    + name
                )
            param_group.setdefault(name, default)
        if param_group.get("differentiable"):
            raise RuntimeError(
                f"{type(self).__name__}(differentiable=True) is not supported: autodiff's "
                "optimizers update the parameters in place outside the graph, so a step cannot "
                "be differentiated")
        ids = [id(param) for param in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        existing = {id(param) for group in self.param_groups for param in group["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                _zero_grad(param, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------------- state
    def _zeros_like(self, param: Tensor) -> Tensor:
        backend = param._backend
        return _wrap(backend.zeros(param._data.shape, backend.dtype_name(param._data)), backend)

    @staticmethod
    def _step_tensor() -> Tensor:
        """state['step']: a 0-d float tensor on the CPU, as PyTorch keeps it (no device sync to
        read it)."""
        return _tensor(0.0)

    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{options..., 'params': [index, ...]}]},
        parameters replaced by their position across groups (PyTorch's format). The state
        tensors are the live ones, not copies."""
        mapping: dict[int, int] = {}
        start = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for index, param in enumerate(group["params"], start):
                mapping.setdefault(id(param), index)
            packed["params"] = [mapping[id(param)] for param in group["params"]]
            start += len(packed["params"])
            packed_groups.append(packed)
        packed_state = {
            (mapping[id(key)] if isinstance(key, Tensor) else key): value
            for key, value in self.state.items()
        }
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore groups' options and per-parameter state; state tensors are copied onto each
        parameter's device (floating ones cast to its dtype; 'step' is kept as saved)."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(group["params"]) != len(saved["params"])
               for group, saved in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = {
            saved_id: param
            for group, saved in zip(groups, saved_groups)
            for saved_id, param in zip(saved["params"], group["params"])
        }
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value, None)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def gradient_with_decay(grad: Any, param: Any, maximize: bool, weight_decay: float) -> Any:
    """The gradient array a step uses: negated to maximize, plus L2 weight decay (a new
    array when either applies: the parameter's .grad is never changed)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad


def lerp_(start: Any, end: Any, weight: float) -> None:
    """start.lerp_(end, weight) on arrays, in place, from the nearer end as PyTorch computes
    it."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start -= end
        start *= 1 - weight
        start += end


def _cast_state(param: Tensor, value: Any, key: Any) -> Any:
    """A copy of a saved state value placed like `param` (PyTorch's policy)."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.detach().clone()
        if param.is_floating_point() and value.is_floating_point():
            return value.detach().to(param.device, param.dtype, copy=True)
        return value.detach().to(param.device, copy=True)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, key) for v in value)
    return value
