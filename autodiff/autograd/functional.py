"""`autograd.functional`: Jacobians, Hessians and vector products of whole functions, built on
`autograd.grad` (same names, arguments, results and errors as PyTorch's).

Cost: `vjp` is one backward pass. `jvp` is one forward pass with dual tensors (forward-mode AD,
`forward_ad.py`). `jacobian` of a function R^n -> R^m runs, in reverse mode, one backward pass
per output element (m passes; the forward runs once), and with `strategy="forward-mode"` one
forward pass per input element (n passes). `hessian` of a scalar function of n inputs is the
Jacobian of the gradient: one backward pass for the gradient, then n passes through the
recorded backward graph (reverse-over-reverse), or n forward passes with dual inputs through
the gradient's computation (forward-over-reverse, `outer_jacobian_strategy="forward-mode"`).
`hvp` uses the double-backward trick (a backward of a backward: about twice the cost of `vhp`);
prefer `vhp` over `hvp` for a symmetric Hessian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..creation import zeros_like
from ..dual import state as _dual_state
from ..grad_mode import enable_grad, set_grad_enabled
from ..grad_mode import state as _grad_state
from ..ops.joining import stack
from ..tensor import Tensor, _wrap
from . import forward_ad
from .gradients import grad as _grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# ----------------------------------------------------------------------------- helpers
def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(whether it was a tuple, the tuple), checking every element is a Tensor."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for index, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = (f"the value at index {index} has type {type(element)}" if is_tuple
                     else f"the given {arg_name} has type {type(element)}")
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but {where}."
            )
    return is_tuple, values


def _untuple(result: Any, was_tuple: Any) -> Any:
    """Undo _as_tuple on a (possibly nested, for jacobian and hessian) result."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(element[0] for element in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _preprocess(inputs: tuple[Tensor, ...], create_graph: bool, need_graph: bool
                ) -> tuple[Tensor, ...]:
    """New Tensor objects for the inputs (so the function's own captures of the same Tensors
    are told apart), differentiable back to the originals only under create_graph. A dual
    input keeps its tangent (forward-over-reverse: the forward-mode Hessian's inner pass)."""
    return tuple(
        inp.view(tuple(inp.shape)) if create_graph and inp.requires_grad
        else _keep_tangent(inp, inp.detach().requires_grad_(need_graph))
        for inp in inputs
    )


def _keep_tangent(inp: Tensor, made: Tensor) -> Tensor:
    if inp._fw_grads is not None:
        for level, tangent in inp._fw_grads.items():
            _dual_state.set_tangent(made, tangent, level)
    return made


def _postprocess(values: Any, create_graph: bool) -> Any:
    if isinstance(values[0], Tensor) or values[0] is None:
        return values if create_graph else tuple(
            value.detach() if value is not None else None for value in values)
    return tuple(_postprocess(value, create_graph) for value in values)


def _validate_v(v: tuple[Tensor, ...], other: tuple[Tensor, ...], is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (element, reference) in enumerate(zip(v, other)):
        if element.shape != reference.shape:
            prefix = f"Entry {index} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {reference.shape} but got "
                f"{element.shape}."
            )


def _check_requires_grad(values: tuple[Any, ...], kind: str, strict: bool) -> None:
    if not strict:
        return
    for index, value in enumerate(values):
        if value is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode."
            )
        if value.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {index} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs."
            )
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {index} is independent of the input. This is "
                "not allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example)."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {index} is independent of the inputs of "
                "the user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {index} of the user-provided function does not require gradients. The "
            "outputs must be computed in a differentiable manner from the input when running "
            "in strict mode."
        )


def _autograd_grad(outputs: tuple[Any, ...], inputs: tuple[Tensor, ...],
                   grad_outputs: tuple[Any, ...] | None = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple[Tensor | None, ...]:
    """autograd.grad that skips outputs which are None or need no gradient."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, grad) for out, grad in zip(outputs, grad_outputs)
            if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return _grad(tuple(out for out, _ in kept), inputs, tuple(grad for _, grad in kept),
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple[Any, ...], refs: tuple[Tensor, ...], strict: bool,
                   create_graph: bool, stage: str) -> tuple[Tensor, ...]:
    result = []
    for index, grad in enumerate(grads):
        if grad is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=index))
            grad = zeros_like(refs[index])
        elif strict and create_graph and not grad.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        result.append(grad)
    return tuple(result)


def _need_v(v: Any, tensors: tuple[Tensor, ...], create_graph: bool, is_tuple: bool,
            fn_name: str, message: str) -> tuple[Tensor, ...] | None:
    if v is None:
        if len(tensors) != 1 or tensors[0].numel() != 1:
            raise RuntimeError(message)
        return None
    _, v_tuple = _as_tuple(v, "v", fn_name)
    v_tuple = _preprocess(v_tuple, create_graph, need_graph=False)
    _validate_v(v_tuple, tensors, is_tuple)
    return v_tuple


_V_FOR_OUTPUT = ("The vector v can only be None if the user-provided function returns a single "
                 "Tensor with a single element.")
_V_FOR_INPUT = ("The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element.")


def _scalar_output(outputs: tuple[Tensor, ...], is_tuple: bool, fn_name: str) -> None:
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )


def _inputs(inputs: Any, fn_name: str, create_graph: bool) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple, values = _as_tuple(inputs, "inputs", fn_name)
    return is_tuple, _preprocess(values, create_graph, need_graph=True)


def _outputs(func: Callable[..., Any], inputs: tuple[Tensor, ...], fn_name: str,
             strict: bool) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _last_pass(outputs: tuple[Any, ...], inputs: tuple[Tensor, ...], v: Any,
               refs: tuple[Tensor, ...], strict: bool, create_graph: bool,
               stage: str) -> tuple[Tensor, ...]:
    """The final backward pass (recorded only under create_graph), with zeros for the inputs
    it does not reach (shaped like `refs`)."""
    with set_grad_enabled(True if create_graph else _grad_state.enabled):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        return _fill_in_zeros(grads, refs, strict, create_graph, stage)


def _results(outputs: tuple[Tensor, ...], is_outputs_tuple: bool, result: tuple[Tensor, ...],
             is_result_tuple: bool, create_graph: bool) -> tuple[Any, Any]:
    return (_untuple(_postprocess(outputs, create_graph), is_outputs_tuple),
            _untuple(_postprocess(result, create_graph), is_result_tuple))


# ----------------------------------------------------------------------------- vector products
def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), v^T J): one backward pass."""
    with enable_grad():
        is_inputs_tuple, inputs = _inputs(inputs, "vjp", create_graph)
        is_outputs_tuple, outputs = _outputs(func, inputs, "vjp", strict)
        v_tuple = _need_v(v, outputs, create_graph, is_outputs_tuple, "vjp", _V_FOR_OUTPUT)
    result = _last_pass(outputs, inputs, v_tuple, inputs, strict, create_graph, "back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), J v): one forward pass on dual tensors (forward-mode AD)."""
    with enable_grad():
        is_inputs_tuple, inputs = _inputs(inputs, "jvp", create_graph)
        v_tuple = _need_v(v, inputs, create_graph, is_inputs_tuple, "jvp", _V_FOR_INPUT)
        if v_tuple is None:  # a single one-element input: v is 1
            v_tuple = (_wrap(inputs[0]._backend.ones(inputs[0]._data.shape,
                                                     inputs[0]._backend.dtype_name(
                                                         inputs[0]._data)),
                             inputs[0]._backend),)
        with set_grad_enabled(True if create_graph else _grad_state.enabled), \
                forward_ad.dual_level():
            duals = tuple(forward_ad.make_dual(inp, tangent)
                          for inp, tangent in zip(inputs, v_tuple))
            is_outputs_tuple, outputs = _outputs(func, duals, "jvp", strict)
            unpacked = [forward_ad.unpack_dual(out) for out in outputs]
        primals = tuple(pair.primal for pair in unpacked)
        tangents = tuple(pair.tangent for pair in unpacked)
    result = _fill_in_zeros(tangents, primals, strict, create_graph, "back_trick")
    return _results(primals, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), v^T H) for a scalar func: a backward, then a backward of it."""
    with enable_grad():
        is_inputs_tuple, inputs = _inputs(inputs, "vhp", create_graph)
        v_tuple = _need_v(v, inputs, create_graph, is_inputs_tuple, "vhp", _V_FOR_INPUT)
        is_outputs_tuple, outputs = _outputs(func, inputs, "vhp", strict)
        _scalar_output(outputs, is_outputs_tuple, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    result = _last_pass(jac, inputs, v_tuple, inputs, strict, create_graph, "double_back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), H v) for a scalar func, by the double-backward trick (slower than vhp;
    equal to it when the Hessian is symmetric)."""
    with enable_grad():
        is_inputs_tuple, inputs = _inputs(inputs, "hvp", create_graph)
        v_tuple = _need_v(v, inputs, create_graph, is_inputs_tuple, "hvp", _V_FOR_INPUT)
        is_outputs_tuple, outputs = _outputs(func, inputs, "hvp", strict)
        _scalar_output(outputs, is_outputs_tuple, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    result = _last_pass(double_back, grad_jac, v_tuple, inputs, strict, create_graph,
                        "double_back_trick")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


# ----------------------------------------------------------------------------- jacobian, hessian
def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at inputs; `jacobian[i][j]` has shape output_i.shape +
    input_j.shape (un-nested where func takes or returns a single Tensor).

    One backward pass per output element: m passes for R^n -> R^m; with `vectorize=True` one
    backward pass under vmap, batched over the m one-hot grad_outputs (as PyTorch's).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        return _jacfwd(func, inputs, strict, vectorize)
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`."
        )
    with enable_grad():
        is_inputs_tuple, inputs = _inputs(inputs, "jacobian", create_graph)
        is_outputs_tuple, outputs = _outputs(func, inputs, "jacobian", strict)
        of_output = _vectorized_jacobian_of_output if vectorize else _jacobian_of_output
        result = tuple(
            of_output(index, out, inputs, create_graph, strict)
            for index, out in enumerate(outputs)
        )
        result = _postprocess(result, create_graph)
    return _untuple(result, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_of_output(index: int, out: Tensor, inputs: tuple[Tensor, ...],
                        create_graph: bool, strict: bool) -> tuple[Tensor, ...]:
    """d out / d inputs: one backward pass per element of `out`, seeded with a one-hot
    grad_output, each giving one row of every input's block."""
    rows: list[list[Tensor]] = [[] for _ in inputs]
    size = out.numel()
    basis = _basis(out, size) if size > 1 else None
    for element in range(size):
        seed = None if basis is None else _wrap(
            out._backend.reshape(out._backend.getitem(basis, (element, ...)), out._data.shape),
            out._backend)
        grads = _autograd_grad((out,), inputs, None if seed is None else (seed,),
                               retain_graph=True, create_graph=create_graph)
        for input_index, (grad, inp) in enumerate(zip(grads, inputs)):
            if grad is None:
                if strict:
                    raise RuntimeError(
                        f"Output {index} of the user-provided function is independent of input "
                        f"{input_index}. This is not allowed in strict mode."
                    )
                grad = zeros_like(inp)
            elif strict and create_graph and not grad.requires_grad:
                raise RuntimeError(
                    "The jacobian of the user-provided function is independent of input "
                    f"{index}. This is not allowed in strict mode when create_graph=True."
                )
            rows[input_index].append(grad)
    return tuple(_assemble(rows[i], inp, (*out.shape, *inp.shape))
                 for i, inp in enumerate(inputs))


def _vectorized_jacobian_of_output(index: int, out: Tensor, inputs: tuple[Tensor, ...],
                                   create_graph: bool, strict: bool) -> tuple[Tensor, ...]:
    """d out / d inputs with vectorize=True: the backward pass run once, vmapped over the
    one-hot grad_outputs (every backward is made of ops, so it batches)."""
    from ..func.vmap import vmap

    size = out.numel()
    if size == 0:
        return tuple(_assemble([], inp, (*out.shape, *inp.shape)) for inp in inputs)
    basis = _wrap(_basis(out, size), out._backend).reshape((size, *out.shape))

    def one_row(seed: Tensor) -> tuple[Tensor, ...]:
        grads = _autograd_grad((out,), inputs, (seed,), retain_graph=True,
                               create_graph=create_graph)
        return tuple(zeros_like(inp) if grad is None else grad
                     for grad, inp in zip(grads, inputs))

    rows = vmap(one_row)(basis)
    return tuple(row.reshape((*out.shape, *inp.shape)) for row, inp in zip(rows, inputs))


def _jacfwd(func: Callable[..., Any], inputs: Any, strict: bool, vectorize: bool) -> Any:
    """The Jacobian by forward-mode AD: one forward pass, vmapped over the basis tangents
    (one per input element), gives every column of every output's block."""
    from ..func.forward_transforms import split_by_input
    from ..func.vmap import vmap

    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
            "are not supported together (yet). Please either set `strict=False` or "
            "`strategy=\"reverse-mode\"`."
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )
    sizes = [inp.numel() for inp in inputs]
    total = sum(sizes)
    if total == 0:  # no input has an element: run func once for the outputs' shapes
        is_outputs_tuple, primals = _as_tuple(func(*inputs), "outputs", "jacobian")
        result = [[_assemble_columns([], out, inp) for inp in inputs] for out in primals]
        return _untuple_lists(result, is_outputs_tuple, is_inputs_tuple)
    tangents = []
    start = 0
    for inp, size in zip(inputs, sizes):  # input j's share of the basis: (total, *shape)
        backend = inp._backend
        columns = backend.eye(total, None, backend.dtype_name(inp._data))[:, start:start + size]
        tangents.append(_wrap(backend.reshape(columns, (total, *inp._data.shape)), backend))
        start += size
    is_outputs_tuple = False

    def push(*tangent: Tensor) -> tuple[Tensor, ...]:
        nonlocal is_outputs_tuple
        with forward_ad.dual_level():
            duals = tuple(forward_ad.make_dual(x, t) for x, t in zip(inputs, tangent))
            is_outputs_tuple, outputs = _as_tuple(func(*duals), "outputs", "jacobian")
            unpacked = [forward_ad.unpack_dual(out) for out in outputs]
        pushed = tuple(zeros_like(pair.primal) if pair.tangent is None else pair.tangent
                       for pair in unpacked)
        return pushed

    pushed = vmap(push)(*tangents)
    result = [split_by_input(out, inputs, sizes) for out in pushed]
    return _untuple_lists(result, is_outputs_tuple, is_inputs_tuple)


def _assemble_columns(columns: list[Tensor], out: Tensor, inp: Tensor) -> Tensor:
    """The columns d out / d inp[k] side by side: shape out.shape + inp.shape."""
    shape = (*out.shape, *inp.shape)
    if not columns:
        backend = out._backend
        return _wrap(backend.zeros(shape, backend.dtype_name(out._data)), backend)
    return stack(columns, -1).reshape(shape).detach()  # create_graph is refused here


def _untuple_lists(result: list[list[Tensor]], outer: bool, inner: bool) -> Any:
    """As PyTorch's forward-mode jacobian: lists (not tuples) where func took several
    Tensors, a tuple of its outputs' blocks where it took one."""
    rows: Any = tuple(row[0] for row in result) if not inner else result
    return rows if outer else rows[0]


def _basis(out: Tensor, size: int) -> Any:
    backend = out._backend
    return backend.eye(size, None, backend.dtype_name(out._data))


def _assemble(rows: list[Tensor], inp: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The rows stacked into one Tensor of `shape` (differentiably: a recorded Jacobian stays
    connected to the graph), as PyTorch's stack(...).view(...)."""
    if not rows:  # an output without elements
        backend = inp._backend
        return _wrap(backend.zeros(shape, backend.dtype_name(inp._data)), backend)
    return stack(rows, 0).reshape(shape)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar func: the Jacobian of its gradient (one backward pass for the
    gradient, recorded, then one pass through it per input element)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*args: Tensor) -> Tensor:
        out = func(*args)
        is_out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return out.squeeze()

    def jacobian_function(*args: Tensor) -> Any:
        jac = jacobian(single_output, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(jacobian_function, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untuple(result, (is_inputs_tuple, is_inputs_tuple))
