"""`Optimizer`: the base of every optimizer. Holds parameter groups (each a dict of options
plus its 'params'), per-parameter state, saves/loads both in PyTorch's state_dict format, and
runs the step, state-dict and load-state-dict hooks.

Subclasses update the parameters in `step()` directly on their backend arrays, in place and on
the parameters' own device: no graph is recorded and no temporary Tensor objects are made. Each
update rule is written once over an array namespace `xp` (operators plus `xp.sqrt` and a few
more): with `differentiable=True` the same rule runs on the Tensors themselves, with grad mode
on, so autograd records the step (`update.operands`). `checks.py` holds the argument checks
they share.
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .. import dtypes
from ..creation import tensor as _tensor
from ..grad_mode import enable_grad
from ..nn.modules.module import _zero_grad, typename
from ..node import RemovableHandle
from ..tensor import Tensor, _wrap
from ..user_warnings import warn


class _RequiredParameter:
    """Marks a default that every parameter group must set (e.g. a learning rate)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _RequiredParameter()

# Hooks every optimizer runs around step(), before and after its own (PyTorch's order).
_global_step_pre_hooks: list[Callable[..., Any]] = []
_global_step_post_hooks: list[Callable[..., Any]] = []


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before every
    optimizer's step."""
    _global_step_pre_hooks.append(hook)
    return RemovableHandle(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None, after every optimizer's step."""
    _global_step_post_hooks.append(hook)
    return RemovableHandle(_global_step_post_hooks, hook)


def _register(hooks: list[Callable[..., Any]], hook: Callable[..., Any],
              prepend: bool = False) -> RemovableHandle:
    if prepend:
        hooks.insert(0, hook)
    else:
        hooks.append(hook)
    return RemovableHandle(hooks, hook)


class Optimizer:
    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_step_post_hooks: list[Callable[..., Any]] = []
        self._optimizer_state_dict_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_state_dict_post_hooks: list[Callable[..., Any]] = []
        self._optimizer_load_state_dict_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_load_state_dict_post_hooks: list[Callable[..., Any]] = []
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {typename(params)}"
            )
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, [])
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        # Options added to an optimizer after a checkpoint was written take their old
        # behaviour (PyTorch's per-class __setstate__ does the same, key by key).
        for group in self.param_groups:
            for name, value in self._option_defaults_on_load.items():
                group.setdefault(name, value)
            # Checkpoints from before 'step' was a tensor hold a number there.
            for param in group["params"]:
                param_state = self.state.get(param)
                if (self._step_is_tensor and param_state and "step" in param_state
                        and not isinstance(param_state["step"], Tensor)):
                    fused = bool(group.get("fused")) or bool(group.get("capturable"))
                    param_state["step"] = self._step_tensor(
                        float(param_state["step"]), param if fused else None, fused=fused)

    # Keys that older state dicts may lack, and the value that keeps their old behaviour.
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {}
    # state['step'] is a 0-d tensor (SparseAdam keeps a Python int, as PyTorch's).
    _step_is_tensor: ClassVar[bool] = True

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------------- step hooks
    @staticmethod
    def profile_hook_step(step: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a step function so it runs the global and per-optimizer step hooks."""
        @functools.wraps(step)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            optimizer = args[0]
            for pre_hook in (*_global_step_pre_hooks, *optimizer._optimizer_step_pre_hooks):
                result = pre_hook(optimizer, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
            out = step(*args, **kwargs)
            for post_hook in (*optimizer._optimizer_step_post_hooks, *_global_step_post_hooks):
                post_hook(optimizer, args, kwargs)
            return out

        wrapper.hooked = True  # type: ignore[attr-defined]
        return wrapper

    def _patch_step_function(self) -> None:
        # The class's own step is wrapped once, when its first instance is made (so a subclass
        # whose step calls super().step() runs the hooks once).
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = self.profile_hook_step(cls.step)  # type: ignore[method-assign]

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before step()."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None, after step()."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any],
                                     prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) -> None, before state_dict() builds its result."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any],
                                      prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, on state_dict()'s result."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                          prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, before load_state_dict() reads
        its (shallow-copied) argument."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any],
                                           prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) -> None, after load_state_dict()."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults).
        Parameters may be given as (name, tensor) pairs, as `named_parameters()` yields them:
        the names are kept in the group's 'param_names'."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [param[0] for param in params if isinstance(param, tuple)]
        param_group["params"] = [param[1] if isinstance(param, tuple) else param
                                 for param in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + typename(param)
                )
            if not self.defaults.get("differentiable") and not (param.is_leaf
                                                                or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    + name
                )
            param_group.setdefault(name, default)
        ids = [id(param) for param in param_group["params"]]
        if len(ids) != len(set(ids)):
            warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        existing: set[int] = set()
        for group in self.param_groups:
            existing.update(id(param) for param in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                with_names = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {with_names} to the optimizer"
                )
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's .grad: to None (the default), or to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                _zero_grad(param, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (each optimizer's own rule)."""
        raise NotImplementedError

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------------- state_dict
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{options..., 'params': [index, ...]}]},
        parameters replaced by their position across groups (PyTorch's format). The state
        tensors are the live ones, not copies."""
        for pre_hook in list(self._optimizer_state_dict_pre_hooks):
            pre_hook(self)
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
        state_dict: dict[str, Any] = {"state": packed_state, "param_groups": packed_groups}
        for post_hook in list(self._optimizer_state_dict_post_hooks):
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore groups' options and per-parameter state. State tensors are copied onto each
        parameter's device, floating ones cast to its dtype; 'step' is kept as saved (float32
        on the parameter's device for fused groups), as in PyTorch."""
        state_dict = state_dict.copy()
        for pre_hook in list(self._optimizer_load_state_dict_pre_hooks):
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
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
        fused_ids = {saved_id for saved in saved_groups
                     if saved.get("fused") or saved.get("capturable")
                     for saved_id in saved["params"]}
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value, None, key in fused_ids)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for post_hook in list(self._optimizer_load_state_dict_post_hooks):
            post_hook(self)

    # ------------------------------------------------------------------------- for subclasses
    def _zeros_like(self, param: Tensor) -> Tensor:
        backend = param._backend
        return _wrap(backend.zeros(param._data.shape, backend.dtype_name(param._data)), backend)

    def _full_like(self, param: Tensor, value: float) -> Tensor:
        backend = param._backend
        return _wrap(backend.full(param._data.shape, value, backend.dtype_name(param._data)),
                     backend)

    @staticmethod
    def _step_tensor(value: float = 0.0, param: Tensor | None = None, *,
                     fused: bool = False) -> Tensor:
        """A 0-d scalar-state tensor (state['step'], NAdam's mu_product, ...) as PyTorch keeps
        it: float32 (float64 when that is the default dtype), on the CPU (no device sync to
        read it) or, given `param`, on the parameter's device; float32 there when `fused`."""
        if fused:
            scalar_dtype = dtypes.float32
        else:
            scalar_dtype = (dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64
                            else dtypes.float32)
        device = None if param is None else param.device
        return _tensor(value, dtype=scalar_dtype, device=device)

def _cast_state(param: Tensor, value: Any, key: Any, fused: bool) -> Any:
    """A copy of a saved state value placed like `param` (PyTorch's policy)."""
    if isinstance(value, Tensor):
        if key == "step":
            if fused:
                return value.detach().to(param.device, dtypes.float32, copy=True)
            return value.detach().clone()
        if param.is_floating_point():
            return value.detach().to(param.device, param.dtype, copy=True)
        return value.detach().to(param.device, copy=True)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k, fused) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, key, fused) for v in value)
    return value
