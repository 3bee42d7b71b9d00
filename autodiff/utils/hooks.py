"""`autodiff.utils.hooks` (torch.utils.hooks): the handle Module hooks return, and
`BackwardHook`, which gives a Module's full backward hooks their grad_input and grad_output.

Module hooks live in dicts keyed by each handle's id (so `prepend` can move one to the front and
`remove()` finds it in every dict it was entered in), as in PyTorch.

`BackwardHook` wraps the Tensors going into a Module and those coming out in
`BackwardHookFunction`, an identity autograd.Function: its node on the outputs sees the
gradients w.r.t. the outputs (grad_output, which the backward pre-hooks may replace), its node
on the inputs sees the gradients w.r.t. the inputs (grad_input, which the backward hooks may
replace) once the Module's own graph has run. Because the Function returns its inputs as they
are, its outputs are views that may not be modified in place while recording (PyTorch's error),
which is why a Module with full backward hooks may not work in place on its input or output.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from ..autograd.function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from ..user_warnings import warn

__all__ = ["BackwardHook", "RemovableHandle", "unserializable_hook"]


class RemovableHandle:
    """Returned by a hook registration: `remove()` takes the hook out of `hooks_dict` (and of
    the `extra_dict`s that hold flags about it). Usable as a context manager."""

    next_id: ClassVar[int] = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = [extra_dict] if isinstance(extra_dict, dict) else (extra_dict or [])
        self.extra_dict_ref = tuple(weakref.ref(extra) for extra in extras)

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for reference in self.extra_dict_ref:
            extra = reference()
            if extra is not None and self.id in extra:
                del extra[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def unserializable_hook(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a hook as one that is not to be saved (PyTorch warns about the others)."""
    function.__torch_unserializable__ = True  # type: ignore[attr-defined]
    return function


class BackwardHookFunction(Function):
    """The identity, as a graph node whose hooks BackwardHook uses."""

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        ctx.mark_non_differentiable(*[arg for arg in args if not arg.requires_grad])
        return args

    @staticmethod
    def backward(ctx: Any, *args: Any) -> Any:
        return args


class BackwardHook:
    """Calls a Module's backward pre-hooks with its grad_output and its full backward hooks
    with (grad_input, grad_output), each a tuple with None at the non-Tensor positions."""

    def __init__(self, module: Any, user_hooks: list[Callable[..., Any]],
                 user_pre_hooks: list[Callable[..., Any]]) -> None:
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.module = module
        self.grad_outputs: tuple[Any, ...] | None = None
        self.n_outputs = -1
        self.output_tensors_index: list[int] | None = None
        self.n_inputs = -1
        self.input_tensors_index: list[int] | None = None

    @staticmethod
    def _pack_with_none(indices: list[int], values: Any, size: int) -> tuple[Any, ...]:
        packed: list[Any] = [None] * size
        for index, value in zip(indices, values, strict=True):
            packed[index] = value
        return tuple(packed)

    @staticmethod
    def _unpack_none(indices: list[int], values: Any) -> tuple[Any, ...]:
        return tuple(values[index] for index in indices)

    def _set_user_hook(self, grad_fn: Any) -> None:
        def hook(grad_input: Any, _: Any) -> Any:
            if self.grad_outputs is None:
                # The gradient reached the inputs without passing through the outputs (a
                # double backward, say): there is no grad_output to report.
                return None
            assert self.input_tensors_index is not None
            result = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, result, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(result):
                    raise RuntimeError(
                        "Backward hook returned an invalid number of grad_input, got "
                        f"{len(out)}, but expected {len(result)}")
                result = out
            self.grad_outputs = None
            return self._unpack_none(self.input_tensors_index, result)

        grad_fn.register_hook(hook)

    def _apply_on_tensors(self, fn: Callable[[Any], None],
                          args: tuple[Any, ...]) -> tuple[Any, list[int] | None]:
        tensors_index = []
        tensors = []
        requires_grad = False
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensors_index.append(index)
                tensors.append(arg)
                requires_grad |= arg.requires_grad
        if not (requires_grad and is_grad_enabled()):
            return args, None
        new_tensors = BackwardHookFunction.apply(*tensors)
        if not new_tensors:
            raise RuntimeError(
                "Cannot set Module backward hook for a Module with no input Tensors.")
        grad_fns = [t.grad_fn for t in new_tensors if t.grad_fn is not None
                    and t.grad_fn.name() == "BackwardHookFunctionBackward"]
        if not grad_fns:
            raise RuntimeError(
                "Error while setting up backward hooks. Please open an issue with a code "
                "sample to reproduce this.")
        fn(grad_fns[0])
        arguments = list(args)
        for index, value in zip(tensors_index, new_tensors, strict=True):
            arguments[index] = value
        return (tuple(arguments) if type(args) is tuple else type(args)(*arguments),
                tensors_index)

    def setup_input_hook(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        result, input_index = self._apply_on_tensors(self._set_user_hook, args)
        self.n_inputs = len(args)
        self.input_tensors_index = input_index
        return result

    def setup_output_hook(self, args: Any) -> Any:
        def fn(grad_fn: Any) -> None:
            def hook(_: Any, grad_output: Any) -> Any:
                assert self.output_tensors_index is not None
                self.grad_outputs = self._pack_with_none(self.output_tensors_index,
                                                         grad_output, self.n_outputs)
                if self.user_pre_hooks:
                    expected = len(self.grad_outputs)
                    for user_pre_hook in self.user_pre_hooks:
                        replaced = user_pre_hook(self.module, self.grad_outputs)
                        if replaced is None:
                            continue
                        if len(replaced) != expected:
                            raise RuntimeError(
                                "Backward pre hook returned an invalid number of grad_output, "
                                f"got {len(replaced)}, but expected {expected}")
                        self.grad_outputs = replaced
                local_grad_outputs = self.grad_outputs
                if self.input_tensors_index is None:
                    # No input requires grad: the hooks fire now, with no grad_input.
                    warn(
                        "Full backward hook is firing when gradients are computed with respect "
                        "to module outputs since no inputs require gradients. See "
                        "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                        "#torch.nn.Module.register_full_backward_hook for more details.",
                        UserWarning, stacklevel=5)
                    grad_inputs = self._pack_with_none([], [], self.n_inputs)
                    for user_hook in self.user_hooks:
                        out = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if out is not None and not (isinstance(out, tuple)
                                                    and all(el is None for el in out)):
                            raise RuntimeError(
                                "Backward hook for Modules where no input requires gradient "
                                "should always return None or None for all gradients.")
                    self.grad_outputs = None
                if local_grad_outputs is not None:
                    return tuple(local_grad_outputs[i] for i in self.output_tensors_index)
                return None

            grad_fn.register_hook(hook)

        is_tuple = isinstance(args, tuple)
        if not is_tuple:
            args = (args,)
        result, output_index = self._apply_on_tensors(fn, args)
        self.n_outputs = len(args)
        self.output_tensors_index = output_index
        return result if is_tuple else result[0]
