"""`backward()` and `grad()`: they normalise their arguments (the starting gradients, `inputs`)
and call the one engine entry, `engine.run_backward`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine import run_backward
from ..tensor import Tensor, _wrap
from ..user_warnings import first_time, warn

_TensorOrTensors = Tensor | Sequence[Tensor]


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, Tensor):
        return (value,)
    return tuple(value)


def _make_grads(outputs: tuple[Tensor, ...], grads: tuple[Any, ...]) -> list[Any]:
    """The starting gradient of each output: given (checked) or implicit ones for scalars."""
    if len(grads) != len(outputs):
        raise RuntimeError(
            "grad can be implicitly created only for scalar outputs"
            if not grads else
            f"got {len(grads)} tensors and {len(outputs)} gradients"
        )
    result: list[Tensor | None] = []
    for index, (output, grad) in enumerate(zip(outputs, grads)):
        if grad is None:
            if not output._requires_grad:
                # PyTorch reports "does not require grad" (below) before "only for scalar".
                result.append(None)
                continue
            if output.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not output.dtype.is_floating_point:
                raise RuntimeError(
                    "grad can be implicitly created only for real scalar outputs but got "
                    f"{output.dtype}"
                )
            backend = output._backend
            grad = _wrap(backend.ones(output._data.shape, backend.dtype_name(output._data)),
                         backend)
        elif isinstance(grad, Tensor):
            if grad._data.shape != output._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{index}] has a shape of {grad.shape} and "
                    f"output[{index}] has a shape of {output.shape}."
                )
            if grad._backend is not output._backend:
                raise RuntimeError(
                    f"Mismatch in device: grad_output[{index}] is on {grad.device} and "
                    f"output[{index}] is on {output.device}."
                )
            # PyTorch casts a gradient to its output's dtype (validate_outputs), so a float64
            # or integer `gradient=` still leaves a float32 leaf's .grad float32; a leaf casts
            # to its grad_dtype instead (None: keeps the gradient's dtype).
            target = output.dtype if output._grad_fn is not None else \
                output.accumulated_grad_dtype()
            if target is not None and grad.dtype != target:
                grad = grad.to(target)
        else:
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(grad).__name__}"
            )
        result.append(grad)
    return result


def _check_requires_grad(outputs: tuple[Tensor, ...]) -> None:
    for index, output in enumerate(outputs):
        if not output._requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )


def backward(
    tensors: _TensorOrTensors,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """Add d(tensors)/d(leaf) into each leaf's `.grad` (only those in `inputs`, when given)."""
    if (type(tensors) is Tensor and grad_tensors is None and grad_variables is None
            and inputs is None and not create_graph and tensors._requires_grad
            and tensors.numel() == 1 and tensors._backend.is_floating(tensors._data.dtype)):
        # `loss.backward()`, the common call: the checks below would all pass.
        backend = tensors._backend
        data = tensors._data
        ones = _wrap(backend.ones(data.shape, backend.dtype_name(data)), backend)
        run_backward((tensors,), (ones,), bool(retain_graph), False)
        return
    outputs = _as_tuple(tensors)
    if grad_variables is not None:
        grad_tensors = grad_variables
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for tensor in inputs:
            if not tensor._requires_grad:  # PyTorch's check here is retain_grad's
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    start = _make_grads(outputs, grads)
    _check_requires_grad(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_once()
    run_backward(outputs, start, retain_graph, create_graph, inputs, accumulate_grad=True)


_warned: list[bool] = []


def _warn_create_graph_once() -> None:
    """PyTorch warns once per process (TORCH_WARN_ONCE)."""
    if first_time(_warned):
        warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after use "
            "to break the cycle and avoid the leak.",
            UserWarning,
            stacklevel=3,
        )


def grad(
    outputs: _TensorOrTensors,
    inputs: _TensorOrTensors,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` w.r.t. `inputs`, returned; no `.grad` is touched.
    `only_inputs` is deprecated and ignored in PyTorch; False warns as there."""
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if not only_inputs:
        warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    output_tuple = _as_tuple(outputs)
    input_tuple = _as_tuple(inputs)
    if not input_tuple:
        raise RuntimeError("grad requires non-empty inputs.")
    if any(type(tensor) is not Tensor for tensor in (*output_tuple, *input_tuple)):
        from ..masked import maskedtensor

        masked = maskedtensor.graph_tensors
        output_tuple, input_tuple, masks = masked(output_tuple), masked(input_tuple), \
            maskedtensor.masks(input_tuple)
        if grad_outputs is not None:
            grad_outputs = masked(_as_tuple(grad_outputs))
        if any(mask is not None for mask in masks):
            gradients = grad(output_tuple, input_tuple, grad_outputs, retain_graph,
                             create_graph, only_inputs, allow_unused, is_grads_batched,
                             materialize_grads)
            return maskedtensor.with_masks(gradients, masks)
    for tensor in input_tuple:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(tensor).__name__}")
        if tensor.is_nested:
            raise NotImplementedError(
                "autograd.grad(): autodiff does not take nested tensors as inputs; call "
                "backward() on a dense result (to_padded_tensor, a component) and read the "
                "nested leaf's .grad")
        if not tensor._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = (_as_tuple(grad_outputs) if grad_outputs is not None
             else (None,) * len(output_tuple))
    start = _make_grads(output_tuple, grads)
    _check_requires_grad(output_tuple)
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(output_tuple, start, retain_graph, create_graph, input_tuple,
                            accumulate_grad=False)
    assert captured is not None
    result = []
    for index, (tensor, gradient) in enumerate(zip(input_tuple, captured)):
        if gradient is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                backend = tensor._backend
                zeros = backend.zeros(tensor._data.shape, backend.dtype_name(tensor._data))
                gradient = _wrap(zeros, backend)
        result.append(gradient)
    return tuple(result)


def _batched_grad(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool | None,
                  materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """grad(is_grads_batched=True): dim 0 of each grad_output is a batch of vectors; one
    backward pass under vmap gives a batch of gradients (None where an input is unused)."""
    from ..func.vmap import vmap

    if grad_outputs is None:
        raise RuntimeError("grad(is_grads_batched=True) needs grad_outputs")
    batch = _as_tuple(grad_outputs)
    unused: set[int] = set()

    def one(*vectors: Tensor) -> tuple[Tensor, ...]:
        result = grad(outputs, inputs, vectors, retain_graph=True, create_graph=create_graph,
                      allow_unused=allow_unused, materialize_grads=materialize_grads)
        out = []
        for index, (gradient, tensor) in enumerate(zip(result, _as_tuple(inputs))):
            if gradient is None:
                unused.add(index)
                backend = tensor._backend
                gradient = _wrap(backend.zeros(tensor._data.shape,
                                               backend.dtype_name(tensor._data)), backend)
            out.append(gradient)
        return tuple(out)

    gradients = vmap(one)(*batch)
    return tuple(None if index in unused else gradient
                 for index, gradient in enumerate(gradients))
