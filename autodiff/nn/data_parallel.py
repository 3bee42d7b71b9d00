"""`nn.DataParallel` and `nn.parallel.data_parallel`: one process, the batch split over the
accelerators of one machine.

Where no accelerator is available (no CUDA GPU) PyTorch's DataParallel only wraps the module:
`device_ids` is `[]` whatever was asked, and forward calls the module itself. With CUDA GPUs,
each forward scatters the inputs' tensors along `dim` over `device_ids`, runs a replica of the
module on each (its parameters copied there by differentiable device transfers, so backward sums
every replica's gradient into the module's own parameters; the replica on `device_ids[0]` uses
them directly) and gathers the outputs on `output_device`. The replicas run one after another
in the calling thread, where PyTorch runs one thread each: the same values and gradients.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from itertools import chain
from typing import Any

from backends import Device

from .. import cuda
from ..autograd.profiler import record_function
from ..ops.joining import cat
from ..tensor import Tensor
from ..user_warnings import warn
from .modules.module import Module, Registry

__all__ = ["DataParallel", "data_parallel"]


def available_device_type() -> str | None:
    """The accelerator type DataParallel spreads over (PyTorch's _get_available_device_type):
    "cuda" with a CUDA GPU, None otherwise."""
    return "cuda" if cuda.is_available() else None


def device_count(device_type: str) -> int:
    return cuda.device_count()


class DataParallel(Module):
    """Runs `module` on slices of the batch, one per device in `device_ids` (all by
    default), and gathers the outputs on `output_device` (default `device_ids[0]`). Without
    an accelerator it runs the module as it is."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        device_type = available_device_type()
        if device_type is None:
            self.module = module
            self.device_ids: list[int] = []
            return
        if device_ids is None:
            device_ids = list(range(device_count(device_type)))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device_index(device_type, device) for device in device_ids]
        self.output_device = _device_index(device_type, output_device)
        self.src_device_obj = Device(device_type, self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        with record_function("DataParallel.forward"):
            if not self.device_ids:
                return self.module(*inputs, **kwargs)
            _check_placement(self.module, self.src_device_obj)
            scattered, module_kwargs = self.scatter(inputs, kwargs, self.device_ids)
            if not scattered and not module_kwargs:
                scattered = [()]
                module_kwargs = [{}]
            if len(self.device_ids) == 1:
                return self.module(*scattered[0], **module_kwargs[0])
            replicas = self.replicate(self.module, self.device_ids[:len(scattered)])
            outputs = self.parallel_apply(replicas, scattered, module_kwargs)
            return self.gather(outputs, self.output_device)

    def replicate(self, module: Module, device_ids: Sequence[int]) -> list[Module]:
        device_type = self.src_device_obj.type
        return [_replica(module, Device(device_type, index)) for index in device_ids]

    def scatter(self, inputs: tuple[Any, ...], kwargs: dict[str, Any] | None,
                device_ids: Sequence[int]) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        return _scatter_kwargs(inputs, kwargs, self._devices(device_ids), self.dim)

    def parallel_apply(self, replicas: Sequence[Module], inputs: Sequence[Any],
                       kwargs: Sequence[dict[str, Any]]) -> list[Any]:
        return [replica(*args, **options)
                for replica, args, options in zip(replicas, inputs, kwargs)]

    def gather(self, outputs: list[Any], output_device: int) -> Any:
        device = self._devices([output_device])[0]
        return _gather(outputs, device, self.dim)

    def _devices(self, indices: Sequence[int]) -> list[Device]:
        device_type = self.src_device_obj.type
        return [Device("cpu") if index == -1 else Device(device_type, index)
                for index in indices]


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None,
                  output_device: Any = None, dim: int = 0,
                  module_kwargs: dict[str, Any] | None = None) -> Any:
    """`module(*inputs)` run as DataParallel runs it, without the wrapper module."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    device_type = available_device_type()
    if device_type is None:
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = list(range(device_count(device_type)))
    if output_device is None:
        output_device = device_ids[0]
    parallel = DataParallel.__new__(DataParallel)
    Module.__init__(parallel)
    parallel.module = module
    parallel.dim = dim
    parallel.device_ids = [_device_index(device_type, device) for device in device_ids]
    parallel.output_device = _device_index(device_type, output_device)
    parallel.src_device_obj = Device(device_type, parallel.device_ids[0])
    _check_placement(module, parallel.src_device_obj)
    scattered, options = parallel.scatter(inputs, module_kwargs, parallel.device_ids)
    if not scattered and not options:
        scattered, options = [()], [{}]
    if len(parallel.device_ids) == 1:
        return module(*scattered[0], **options[0])
    replicas = parallel.replicate(module, parallel.device_ids[:len(scattered)])
    return parallel.gather(parallel.parallel_apply(replicas, scattered, options),
                           parallel.output_device)


def _device_index(device_type: str, device: Any) -> int:
    """PyTorch's _get_device_index(device, optional=True) for DataParallel's arguments: an
    int as it is, a device (or its name) of `device_type` by its index (the CPU: -1)."""
    if isinstance(device, str):
        device = Device(device)
    if isinstance(device, Device):
        if device.type == "cpu":
            return -1
        if device.type != device_type:
            raise ValueError(f"Expected a {device_type} device, but got: {device}")
        return cuda.current_device() if device.index is None else device.index
    return int(device)


def _check_placement(module: Module, device: Device) -> None:
    for tensor in chain(module.parameters(), module.buffers()):
        if tensor.device != device:
            raise RuntimeError(
                "module must have its parameters and buffers on device "
                f"{device} (device_ids[0]) but found one of them on device: {tensor.device}")


def _scatter(value: Any, devices: list[Device], dim: int) -> list[Any]:
    """`value` split for each device: tensors chunked along `dim` and moved, tuples, lists
    and dicts taken apart and rebuilt, anything else the same object for every device (as
    PyTorch's scatter; fewer pieces than devices when a tensor has fewer slices)."""
    if isinstance(value, Tensor):
        chunks = value.chunk(len(devices), dim)
        return [chunk.to(device) for chunk, device in zip(chunks, devices)]
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return [type(value)(*parts) for parts in zip(*[_scatter(item, devices, dim)
                                                      for item in value])]
    if isinstance(value, tuple) and value:
        return list(zip(*[_scatter(item, devices, dim) for item in value]))
    if isinstance(value, list) and value:
        return [list(parts) for parts in zip(*[_scatter(item, devices, dim) for item in value])]
    if isinstance(value, dict) and value:
        return [type(value)(parts) for parts in zip(*[_scatter(item, devices, dim)
                                                      for item in value.items()])]
    return [value for _ in devices]


def _scatter_kwargs(inputs: tuple[Any, ...], kwargs: dict[str, Any] | None,
                    devices: list[Device], dim: int
                    ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    scattered: list[Any] = _scatter(inputs, devices, dim) if inputs else []
    options: list[Any] = _scatter(kwargs, devices, dim) if kwargs else []
    if len(scattered) < len(options):
        scattered.extend(() for _ in range(len(options) - len(scattered)))
    elif len(options) < len(scattered):
        options.extend({} for _ in range(len(scattered) - len(options)))
    return [tuple(part) for part in scattered], options


def _replica(module: Module, device: Device) -> Module:
    """A copy of `module` whose parameters and buffers are their transfers to `device` (the
    same tensors where they already are there): gradients reach the originals."""
    memo: dict[int, Module] = {}

    def copy_module(original: Module) -> Module:
        if id(original) in memo:
            return memo[id(original)]
        replica = copy.copy(original)
        memo[id(original)] = replica
        state = replica.__dict__
        state["_parameters"] = Registry()
        state["_buffers"] = Registry({name: None if buffer is None else buffer.to(device)
                                      for name, buffer in original._buffers.items()})
        state["_modules"] = Registry({name: None if child is None else copy_module(child)
                                      for name, child in original._modules.items()})
        for name, parameter in original._parameters.items():
            state[name] = None if parameter is None else parameter.to(device)
        return replica

    return copy_module(module)


def _gather(outputs: list[Any], device: Device, dim: int) -> Any:
    """The replicas' outputs as one: tensors concatenated along `dim` on `device` (0-d ones
    stacked, with PyTorch's warning), containers gathered item by item."""
    first = outputs[0]
    if isinstance(first, Tensor):
        if all(output.dim() == 0 for output in outputs) and dim == 0:
            warn("Was asked to gather along dimension 0, but all input tensors were "
                 "scalars; will instead unsqueeze and return a vector.", stacklevel=2)
            outputs = [output.unsqueeze(0) for output in outputs]
        return cat([output.to(device) for output in outputs], dim)
    if first is None:
        return None
    if isinstance(first, dict):
        if not all(len(first) == len(output) for output in outputs):
            raise ValueError("All dicts must have the same number of keys")
        return type(first)((key, _gather([output[key] for output in outputs], device, dim))
                           for key in first)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(_gather(list(parts), device, dim) for parts in zip(*outputs)))
    return type(first)(_gather(list(parts), device, dim) for parts in zip(*outputs))
