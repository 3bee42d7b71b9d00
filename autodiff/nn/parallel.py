"""`nn.parallel.DistributedDataParallel`: data-parallel training on `autodiff.distributed`.

Each rank runs the same model on its own slice of the batch. At construction rank 0's
parameters and buffers are broadcast, so every rank starts alike. During backward each
parameter's post-accumulate-grad hook marks it ready; parameters are grouped in buckets (reverse
registration order, about `bucket_cap_mb` each), and as soon as a bucket's gradients are all in,
they are copied into one flat buffer and a non-blocking all-reduce of it starts, while backward
goes on with the earlier layers. Buckets start in index order on every rank (collectives must
match across ranks). The hook that completes the last bucket waits for all of them, divides by
the world size (an average, as PyTorch) and points each `.grad` at its slice of the reduced
buffer (`gradient_as_bucket_view=True`: clone a `.grad` you keep across steps) or copies it
into each `.grad` (the default). After `optimizer.step()` every rank holds the same parameters.

The engine has no "backward finished" callback (PyTorch's queue_callback); the end of the
gradient sync is the last expected parameter hook instead. So every parameter that requires
grad must get a gradient in every synchronised backward, or `find_unused_parameters=True` must
say which did not (found by walking the graph from the forward's outputs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backends import Device
from backends import comm as backend_comm

from .. import distributed as dist
from ..distributed.collectives import _DTYPE_NAMES, _exchange
from ..grad_mode import is_grad_enabled, no_grad
from ..node import AccumulateGrad
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from .data_parallel import DataParallel, data_parallel
from .modules.module import Module

# torch.nn.parallel's names: DataParallel and data_parallel live in data_parallel.py.
__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss. "
)


class _Bucket:
    """Parameters of one dtype and device whose gradients are all-reduced together."""

    def __init__(self, index: int, params: list[Tensor]) -> None:
        self.index = index
        self.params = params
        self.backend = params[0]._backend
        self.dtype = params[0].dtype.name
        self.slices: list[tuple[int, int]] = []
        offset = 0
        for param in params:
            self.slices.append((offset, offset + param.numel()))
            offset += param.numel()
        self.numel = offset
        self.shapes = [tuple(param._data.shape) for param in params]
        self.pending = len(params)
        self.what = f"DistributedDataParallel (gradient bucket {index})"
        self.flat: Any = None
        self.work: dist.Work | None = None

    def gather(self) -> Any:
        """One flat buffer holding the bucket's gradients (zeros for a parameter without one)."""
        backend = self.backend
        pieces = [param._grad._data if param._grad is not None
                  else backend.zeros(param._data.shape, self.dtype) for param in self.params]
        return backend_comm.flatten_concat(backend, pieces)  # a copy: the bucket owns it

    def scatter(self, used: list[bool] | None, positions: list[int], as_views: bool) -> None:
        """Hand each parameter its slice of the reduced buffer: as its .grad (a view of the
        buffer, `gradient_as_bucket_view=True`) or copied into its .grad (a new one where it
        had none), as PyTorch's reducer does."""
        backend = self.backend
        views = backend_comm.split_views(self.flat, self.slices, self.shapes)
        for param, view, position in zip(self.params, views, positions):
            if used is not None and not used[position]:
                continue  # no rank gave it a gradient: leave .grad as it is (None)
            grad = param._grad
            if grad is None:
                param._grad = _wrap(view if as_views else backend.asarray(view, copy=True),
                                    backend)
            else:
                if as_views:
                    grad._data = view
                else:
                    backend.setitem(grad._data, (...,), view)
                grad._bump_version()


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training over the default process group (see the
    module docstring). `forward` calls `module`; gradients of the backward that follows are
    averaged over ranks, unless the forward ran under `no_sync()`."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        if static_graph:
            raise RuntimeError(_STATIC_GRAPH)
        group = dist.process_group._default_group(process_group)
        self.module = module
        self.process_group = group
        self.device_type, self.device_ids, self.output_device = _placement(
            module, device_ids, output_device)
        self.dim = dim  # as in PyTorch, used only by `scatter`/`gather` of multi-device input
        if check_reduction:
            # PyTorch's reducer (and this one) always makes sure the reduction completes.
            warn("The `check_reduction` argument in `DistributedDataParallel` module "
                 "is deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2**20)
        _verify_same_model(group, module)
        # Listed once, as PyTorch does (walking the modules on every forward costs more than
        # a small model's step).
        self._module_buffers = list(module.buffers())
        with no_grad():
            _broadcast_coalesced(group, list(module.parameters()), self.bucket_bytes_cap)
            _broadcast_coalesced(group, self._module_buffers, self.bucket_bytes_cap)
        params: list[Tensor] = [param for param in module.parameters() if param.requires_grad]
        self.reducer = _Reducer(group, params, self.bucket_bytes_cap, find_unused_parameters,
                                gradient_as_bucket_view)

    def _set_static_graph(self) -> None:
        raise RuntimeError(_STATIC_GRAPH)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        reducer = self.reducer
        reducer.check_prior_reduction_finished()
        if self.broadcast_buffers and self._module_buffers:
            with no_grad():
                _broadcast_coalesced(self.process_group, self._module_buffers,
                                     self.bucket_bytes_cap)
        if self.device_ids:  # PyTorch moves the inputs to the module's device first
            target = Device(self.device_type, self.device_ids[0])
            inputs, kwargs = _to_device(inputs, target), _to_device(kwargs, target)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            reducer.prepare_for_backward(output)
        else:
            reducer.expect_hooks = False  # whether to sync is decided by each forward
        return output

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backwards of forwards run inside accumulate into .grad locally, with no
        communication; the first synchronised backward after them averages the sums."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


class _Reducer:
    """The gradient side of DDP (PyTorch's Reducer): buckets, the hooks, the all-reduces.

    Per-iteration state lives here, in a plain object: a forward and a backward change it
    without going through Module.__setattr__."""

    def __init__(self, group: Any, params: list[Tensor], cap: int, find_unused: bool,
                 as_bucket_view: bool) -> None:
        self.group = group
        self.params = params
        self.find_unused = find_unused
        self.as_bucket_view = as_bucket_view
        self.position = {id(param): position for position, param in enumerate(params)}
        self.buckets = _assign_buckets(params, cap)
        self.bucket_of = {id(param): bucket for bucket in self.buckets for param in bucket.params}
        self.bucket_positions = [[self.position[id(param)] for param in bucket.params]
                                 for bucket in self.buckets]
        self.expect_hooks = False
        self.reset()
        self.handles = [param.register_post_accumulate_grad_hook(self.hook) for param in params]

    def reset(self) -> None:
        for bucket in self.buckets:
            bucket.pending = len(bucket.params)
            bucket.flat = None
            bucket.work = None
        self.ready = [False] * len(self.params)
        self.ready_count = 0
        self.next_bucket = 0
        self.unused: list[int] = []
        self.used_map: Any = None
        self.used_work: dist.Work | None = None

    # ----------------------------------------------------------------------------- forward
    def check_prior_reduction_finished(self) -> None:
        if self.expect_hooks and self.ready_count > 0:
            self.expect_hooks = False
            raise RuntimeError(_UNFINISHED)
        if self.ready_count or self.next_bucket:
            self.reset()

    def prepare_for_backward(self, output: Any) -> None:
        self.expect_hooks = True
        if self.find_unused:
            self.unused = _unused_positions(output, self.params, self.position)

    # ----------------------------------------------------------------------------- backward
    def hook(self, param: Tensor) -> None:
        if not self.expect_hooks:
            return  # a forward under no_sync(), or a backward not preceded by our forward
        if self.ready_count == 0 and self.find_unused:
            self.start_used_map()
            for position in self.unused:
                self.mark_ready(position)
        self.mark_ready(self.position[id(param)])

    def start_used_map(self) -> None:
        """Which parameters got a gradient on some rank: an all-reduce (max) of 0/1 flags."""
        unused = set(self.unused)
        backend = self.params[0]._backend
        self.used_map = backend.asarray(
            [0 if position in unused else 1 for position in range(len(self.params))],
            dtype="int32")
        self.used_work = self.group.all_reduce(
            self.used_map, "max", "DistributedDataParallel (unused parameters)", _nothing)

    def mark_ready(self, position: int) -> None:
        if self.ready[position]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. This error is caused by one of "
                f"the following reasons: parameter {position} was used in more than one "
                f"reentrant backward pass or was marked ready both as unused and as used."
            )
        self.ready[position] = True
        self.ready_count += 1
        bucket = self.bucket_of[id(self.params[position])]
        bucket.pending -= 1
        if bucket.pending == 0:
            self.launch_ready_buckets()
        else:
            for started in self.buckets[:self.next_bucket]:
                started.work.is_completed()  # type: ignore[union-attr]  # lets MPI progress

    def launch_ready_buckets(self) -> None:
        buckets = self.buckets
        while self.next_bucket < len(buckets) and buckets[self.next_bucket].pending == 0:
            bucket = buckets[self.next_bucket]
            bucket.flat = bucket.gather()
            bucket.work = self.group.all_reduce(bucket.flat, "sum", bucket.what, _nothing)
            self.next_bucket += 1
        if self.next_bucket == len(buckets):
            self.finish()

    def finish(self) -> None:
        """All buckets started: wait for them, average, and hand the gradients back."""
        self.expect_hooks = False
        used = None
        if self.used_work is not None:
            self.used_work.wait()
            used = [bool(flag) for flag in self.params[0]._backend.tolist(self.used_map)]
        size = self.group.size
        for bucket, positions in zip(self.buckets, self.bucket_positions):
            bucket.work.wait()  # type: ignore[union-attr]
            backend_comm.divide_(bucket.flat, size)
            bucket.scatter(used, positions, self.as_bucket_view)
        self.reset()


def _nothing() -> None:
    pass


def _assign_buckets(params: list[Tensor], cap: int) -> list[_Bucket]:
    """Buckets of about `cap` bytes, in reverse parameter order (the order gradients arrive),
    one open bucket per (device, dtype)."""
    buckets: list[list[Tensor]] = []
    open_buckets: dict[tuple[Any, str], tuple[list[Tensor], list[int]]] = {}
    for param in reversed(params):
        key = (param._backend, param.dtype.name)
        if key not in open_buckets:
            members: list[Tensor] = []
            buckets.append(members)
            open_buckets[key] = (members, [0])
        members, size = open_buckets[key]
        members.append(param)
        size[0] += param.numel() * param.element_size()
        if size[0] >= cap:
            del open_buckets[key]
    return [_Bucket(index, members) for index, members in enumerate(buckets)]


def _broadcast_coalesced(group: Any, tensors: list[Tensor], cap: int) -> None:
    """Rank 0's values into `tensors` on every rank: one broadcast per bucket of tensors."""
    if not tensors:
        return
    for bucket in _assign_buckets(tensors, cap):
        backend = bucket.backend
        flat = backend.concat([backend.reshape(t._data, (-1,)) for t in bucket.params])
        flat_tensor = _wrap(flat, backend)
        dist.broadcast(flat_tensor, src=0)
        if group.rank != 0:
            for tensor, (start, stop) in zip(bucket.params, bucket.slices):
                backend.setitem(tensor._data, (...,), backend.reshape(
                    backend.getitem(flat_tensor._data, slice(start, stop)), tensor._data.shape))
                tensor._bump_version()


def _verify_same_model(group: Any, module: Module) -> None:
    """Every rank must wrap the same parameters (count, shapes, dtypes), or all raise."""
    params = list(module.parameters())
    # Only ints in the hash: hash() of a str differs between processes.
    layout = tuple((tuple(param.shape), _DTYPE_NAMES.index(param.dtype.name)) for param in params)
    numel = sum(param.numel() for param in params)
    mine = [len(params), numel, hash(layout) & (2**62 - 1)]
    everyone = _exchange(group, mine, "DistributedDataParallel")
    if any(other != mine for other in everyone):
        ranks = ", ".join(f"rank {rank} has {count} parameters of {total} elements"
                          for rank, (count, total, _) in enumerate(everyone))
        raise dist.DistError(
            f"DistributedDataParallel expects the same model on every rank, but {ranks} "
            "(or their shapes or dtypes differ)"
        )


def _unused_positions(output: Any, params: list[Tensor], position: dict[int, int]) -> list[int]:
    """Positions of the parameters the graph of `output` does not reach."""
    stack: list[Any] = []
    reached: set[int] = set()
    pending = [output]
    while pending:
        value = pending.pop()
        if isinstance(value, Tensor):
            if value.grad_fn is not None:
                stack.append(value.grad_fn)
            elif value.requires_grad:
                reached.add(id(value))
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            reached.add(id(node.variable))
        for child, _ in node.next_functions:
            if child is not None:
                stack.append(child)
    return [position[id(param)] for param in params if id(param) not in reached]


def _placement(module: Module, device_ids: Any, output_device: Any
               ) -> tuple[str, list[int] | None, int | None]:
    """The module's device type and, for a module on one accelerator, device_ids and
    output_device as indices; PyTorch's errors for the combinations it refuses."""
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("device_ids can only be None or contain a single element.")
    devices = {param.device for param in module.parameters()}
    types = {device.type for device in devices}
    if len(types) != 1:
        raise ValueError("DistributedDataParallel's input module must be on the same type of "
                         f"devices, but input module parameters locate in {types}.")
    device_type = next(iter(types))
    if not device_ids or device_type == "cpu" or len(devices) > 1:
        if device_ids or output_device:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                f"{devices}.")
        return device_type, None, None
    indices = [_device_index(device_type, device) for device in device_ids]
    output = indices[0] if output_device is None else _device_index(device_type, output_device)
    return device_type, indices, output


def _device_index(device_type: str, device: Any) -> int:
    parsed = Device(device_type, device) if isinstance(device, int) else Device(device)
    return 0 if parsed.index is None else parsed.index


def _to_device(value: Any, device: Device) -> Any:
    """`value` with every Tensor in it (in tuples, lists and dicts) moved to `device`."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*(_to_device(item, device) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device) for item in value)
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    return value


_STATIC_GRAPH = (
    "DistributedDataParallel(static_graph=True) is not supported: it relies on running the "
    "gradient sync at the end of backward (to learn, in the first iteration, which parameters "
    "get no gradient and how often reentrant backwards touch each), and autodiff's engine has "
    "no end-of-backward callback. Parameters that get no gradient are handled by "
    "find_unused_parameters=True."
)
