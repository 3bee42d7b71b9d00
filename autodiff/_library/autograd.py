"""The autograd kernel of an operator with a registered backward (`register_autograd`): an
`autograd.Function` made for the operator, `GeneratedBackwardFor_<ns>_<name>_<overload>`, as
PyTorch names it, so its nodes are `GeneratedBackwardFor_mylib_crop_defaultBackward`.

Its forward runs the operator below autograd (`Operator.redispatch`) and the user's
`setup_context`; its backward the user's `backward`, or PyTorch's error when none was
registered. Tensors inside list arguments (`Tensor[]`) are inputs of the node one by one; the
user's functions see the lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..autograd.function import Function
from ..grad_mode import state as grad_state
from ..tensor import Tensor


@dataclass
class Info:
    """What `register_autograd` registered (both may change after the kernel is made)."""

    backward: Callable[..., Any] | None = None
    setup_context: Callable[..., Any] | None = None


@dataclass
class _Metadata:
    """The last input of the node: how the flat inputs make the arguments, the keyword-only
    arguments, and whether the operator returned a list."""

    lengths: tuple[int | None, ...]  # per argument: None, or the length of a Tensor list
    keyword: dict[str, Any]
    output_is_list: bool = field(default=False)


def _is_tensor_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        item is None or isinstance(item, Tensor) for item in value) and any(
        isinstance(item, Tensor) for item in value)


def _flatten(args: tuple[Any, ...]) -> tuple[list[Any], tuple[int | None, ...]]:
    flat: list[Any] = []
    lengths: list[int | None] = []
    for value in args:
        if _is_tensor_list(value):
            flat.extend(value)
            lengths.append(len(value))
        else:
            flat.append(value)
            lengths.append(None)
    return flat, tuple(lengths)


def _unflatten(flat: Any, lengths: tuple[int | None, ...]) -> tuple[Any, ...]:
    items = list(flat)
    args: list[Any] = []
    at = 0
    for length in lengths:
        if length is None:
            args.append(items[at])
            at += 1
        else:
            args.append(list(items[at:at + length]))
            at += length
    return tuple(args)


def make_autograd_impl(operator: Any, info: Info) -> Callable[[tuple[Any, ...], dict[str, Any]],
                                                               Any]:
    """The operator's autograd kernel: a node of the generated Function where an input
    requires grad (and grad mode is on), the operator below autograd otherwise."""
    overload = operator.overload
    has_keyword = bool(operator.keyword)

    def forward(ctx: Any, *flat_and_metadata: Any) -> Any:
        metadata: _Metadata = flat_and_metadata[-1]
        args = _unflatten(flat_and_metadata[:-1], metadata.lengths)
        result = operator.redispatch(args, metadata.keyword)
        if info.setup_context is not None:
            if has_keyword:
                info.setup_context(ctx=ctx, inputs=args, keyword_only_inputs=metadata.keyword,
                                   output=result)
            else:
                info.setup_context(ctx=ctx, inputs=args, output=result)
        if isinstance(result, list):
            metadata.output_is_list = True
            return tuple(result)
        return result

    def backward(ctx: Any, *grads: Any) -> Any:
        if info.backward is None:
            raise RuntimeError(f"Trying to backward through {overload} but no autograd formula "
                               "was registered. Please use register_autograd to add one.")
        metadata: _Metadata = ctx._pt_metadata
        flat_needs = ctx.needs_input_grad
        ctx.needs_input_grad = _unflatten(flat_needs[:-1], metadata.lengths)
        try:
            result = info.backward(ctx, *((list(grads),) if metadata.output_is_list else grads))
        finally:
            ctx.needs_input_grad = flat_needs
        if not isinstance(result, tuple):
            result = (result,)
        flat: list[Any] = []
        for value, length in zip(result, metadata.lengths):
            if length is None:
                flat.append(value)
            elif value is None:
                flat.extend([None] * length)
            else:
                flat.extend(value)
        flat.extend(result[len(metadata.lengths):])  # too many: the count check says so
        return (*flat, None)

    def forward_keeping_metadata(ctx: Any, *flat_and_metadata: Any) -> Any:
        ctx._pt_metadata = flat_and_metadata[-1]
        return forward(ctx, *flat_and_metadata)

    name = (f"GeneratedBackwardFor_{operator.qualname.replace('::', '_')}_"
            f"{overload._overloadname}")
    generated: Any = type(name, (Function,), {
        "forward": staticmethod(forward_keeping_metadata),
        "backward": staticmethod(backward),
        "__module__": "autodiff.autograd.function",
    })

    def autograd_impl(args: tuple[Any, ...], keyword: dict[str, Any]) -> Any:
        flat, lengths = _flatten(args)
        if not (grad_state.enabled and any(
                isinstance(item, Tensor) and item._requires_grad for item in flat)):
            return operator.redispatch(args, keyword)
        metadata = _Metadata(lengths, keyword)
        result = generated.apply(*flat, metadata)
        return list(result) if metadata.output_is_list else result

    return autograd_impl
