"""The vmap rule PyTorch generates for an `autograd.Function` with `generate_vmap_rule=True`.

Under vmap, such a Function becomes another Function on the physical tensors (the examples
stacked along dim 0): its forward runs the class's forward on the examples (its ops batch at a
vmap level of its own), and its backward runs the class's setup_context and backward the same
way, on saved physical inputs and outputs, so gradients reach the physical tensors, where
autograd records them. The class's setup_context runs on a stand-in ctx (`ExampleCtx`) whose
saved tensors are batched; it must only save and mark, as PyTorch asks of it.
"""

from __future__ import annotations

from typing import Any

from ..batching.batched_tensor import make_batched, unwrap
from ..batching.levels import levels
from ..tensor import Tensor


class ExampleCtx:
    """The ctx a generated rule hands the class's setup_context and backward: it keeps what
    they save and the attributes they set; marks are recorded for the physical node."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()
        self.non_differentiable: tuple[Any, ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        raise RuntimeError("generate_vmap_rule=True: save_for_forward is not supported; define "
                           "a vmap staticmethod instead")

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def mark_dirty(self, *tensors: Any) -> None:
        raise RuntimeError("generate_vmap_rule=True does not support in-place autograd."
                           "Functions (mark_dirty); define a vmap staticmethod instead")


def _examples(values: Any, dims: tuple[int | None, ...], level: int) -> list[Any]:
    """Physical values as tensors batched at `level` (dim 0 for those with a dim)."""
    return [make_batched(value, level) if dim is not None and isinstance(value, Tensor)
            else value for value, dim in zip(values, dims)]


def _physical(value: Any, level: int, batch_size: int) -> Any:
    """A result of the examples as a physical tensor, its examples along dim 0."""
    if not isinstance(value, Tensor):
        return value
    inner, batched = unwrap(value, level)
    return inner if batched else inner.expand((batch_size, *inner.shape))


def generated(cls: Any) -> Any:
    """The Function on physical tensors that stands for `cls` under vmap (made once, kept on
    the class)."""
    made: Any = cls.__dict__.get("_generated_vmap_rule")
    if made is None:
        made = _generate(cls)
        type.__setattr__(cls, "_generated_vmap_rule", made)
    return made


def _generate(cls: Any) -> Any:
    from .function import Function

    def example_context(ctx: Any, inputs: tuple[Any, ...], output: Any, level: int
                        ) -> ExampleCtx:
        in_dims, _, _, *args = inputs
        outputs = output if isinstance(output, tuple) else (output,)
        example = ExampleCtx(tuple(ctx.needs_input_grad[3:]))
        example_outputs = tuple(_examples(outputs, (0,) * len(outputs), level))
        cls.setup_context(example, tuple(_examples(args, in_dims, level)),
                          example_outputs if isinstance(output, tuple) else example_outputs[0])
        ctx.marked = [index for index, item in enumerate(example_outputs)
                      if any(item is marked for marked in example.non_differentiable)]
        return example

    class Generated(Function):
        generate_vmap_rule = True  # nested vmaps generate again, one level each

        @staticmethod
        def forward(in_dims: tuple[int | None, ...], randomness: str, batch_size: int,
                    *args: Any) -> Any:
            level = levels.push(batch_size, randomness)
            try:
                output = cls.forward(*_examples(args, in_dims, level.number))
                if isinstance(output, tuple):
                    return tuple(_physical(item, level.number, batch_size) for item in output)
                return _physical(output, level.number, batch_size)
            finally:
                levels.pop(level)

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
            in_dims, randomness, batch_size, *args = inputs
            ctx.in_dims, ctx.randomness, ctx.batch_size = in_dims, randomness, batch_size
            ctx.arguments = [None if isinstance(arg, Tensor) else arg for arg in args]
            ctx.single = not isinstance(output, tuple)
            outputs = (output,) if ctx.single else output
            level = levels.push(batch_size, randomness)
            try:
                example = example_context(ctx, inputs, output, level.number)
            finally:
                levels.pop(level)
            ctx.mark_non_differentiable(*[outputs[index] for index in ctx.marked])
            ctx.set_materialize_grads(example.materialize_grads)
            ctx.save_for_backward(*[arg for arg in args if isinstance(arg, Tensor)], *outputs)

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            saved = list(ctx.saved_tensors)
            args = [saved.pop(0) if argument is None else argument
                    for argument in ctx.arguments]
            outputs = tuple(saved)
            level = levels.push(ctx.batch_size, ctx.randomness)
            try:
                inputs = (ctx.in_dims, ctx.randomness, ctx.batch_size, *args)
                example = example_context(ctx, inputs, outputs[0] if ctx.single else outputs,
                                          level.number)
                results = cls.backward(example, *_examples(grads, (0,) * len(grads),
                                                           level.number))
                results = results if isinstance(results, tuple) else (results,)
                physical: list[Any] = []
                for result, dim, arg in zip(results, ctx.in_dims, args):
                    if result is None or not isinstance(arg, Tensor):
                        physical.append(None)
                        continue
                    value = _physical(result, level.number, ctx.batch_size)
                    # an input the examples share gets the sum of their gradients
                    physical.append(value.sum(0) if dim is None else value)
            finally:
                levels.pop(level)
            return (None, None, None, *physical)

    Generated.__name__ = Generated.__qualname__ = f"{cls.__name__}VmapRule"
    return Generated
