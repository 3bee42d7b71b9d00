"""einsum and tensordot: one node each.

The equation is checked and spelled out in full here (PyTorch's messages; ellipses replaced by
letters of their own; the implicit output made explicit), so the backend only ever sees
"ab,bc->ac". The gradient of each operand is itself one einsum of the incoming gradient with
the other operands, so it can be differentiated again. Two things need extra operands: a
letter repeated within an operand (a diagonal, "ii->i") receives the gradient only on the
diagonal, through an identity matrix per repetition; a letter that only that operand has (summed
away, "ij->i") gets the gradient broadcast along it, through a vector of ones.
"""

from __future__ import annotations

import inspect
import string
from typing import Any

from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_multilinear
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import refuse_bool, require_tensors, same_device, scalar_type_name
from ._out import same, takes_out

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's label order


class Einsum(Function):
    node_name = "ViewBackward0"  # a contraction: PyTorch ends with bmm and a view

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, *operands: Any, equation: str) -> Any:
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        return ctx.backend.einsum(equation, *operands)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        subscripts = inputs.split(",")
        unused = [x for x in _LETTERS if x not in ctx.equation]
        grads: list[Tensor | None] = []
        for index, needed in enumerate(ctx.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            others = [(letters, operand) for position, (letters, operand)
                      in enumerate(zip(subscripts, operands)) if position != index]
            grads.append(_operand_grad(grad, output, subscripts[index], others, unused,
                                       operands[index]._data.shape))
        return tuple(grads)


class EinsumProduct(Einsum):
    node_name = "MulBackward0"  # several operands, nothing summed


class EinsumPermute(Einsum):
    node_name = "PermuteBackward0"  # one operand, nothing summed


class EinsumSum(Einsum):
    node_name = "SumBackward1"  # one operand, something summed


def _operand_grad(grad: Tensor, output: str, letters: str, others: list[tuple[str, Tensor]],
                  unused: list[str], shape: tuple[int, ...]) -> Tensor:
    """d(sum(grad * einsum)) / d operand, as one einsum (see the module docstring)."""
    backend, dtype = grad._backend, grad._backend.dtype_name(grad._data)
    sizes: dict[str, int] = {}
    for letter, size in zip(output, grad._data.shape):
        sizes[letter] = size
    for other_letters, operand in others:
        for letter, size in zip(other_letters, operand._data.shape):
            if sizes.get(letter, 1) == 1:  # operands are expanded already: 1 only if all are
                sizes[letter] = size
    terms = [output] + [other_letters for other_letters, _ in others]
    tensors = [grad] + [operand for _, operand in others]
    result = ""
    fresh = iter(unused)
    for letter, size in zip(letters, shape):
        if letter in result:  # a diagonal: a new letter tied to the first by an identity
            tied = next(fresh)
            terms.append(letter + tied)
            tensors.append(_wrap(backend.eye(size, None, dtype), backend))
            result += tied
            continue
        if letter not in sizes:  # summed in the forward: the gradient is the same along it
            sizes[letter] = size
            terms.append(letter)
            tensors.append(_wrap(backend.ones((size,), dtype), backend))
        result += letter
    return einsum(",".join(terms) + "->" + result, *tensors)


def einsum_op(*args: Any) -> str:
    """The name autocast's lists know this einsum by. On the CPU, PyTorch's einsum is made of
    other ops and reaches `bmm` (on the list) only where two operands share a summed index;
    otherwise it multiplies and sums (off the list)."""
    if args and isinstance(args[0], str) and "->" in args[0]:
        inputs, output = args[0].replace(" ", "").split("->")
        terms = [set(term) for term in inputs.split(",")]
        shared = {letter for i, term in enumerate(terms) for other in terms[i + 1:]
                  for letter in term & other}
        if not shared - set(output) - {"."}:
            return "einsum_without_contraction"
    return "einsum"


@autocast_op(einsum_op)
def einsum(*args: Any) -> Tensor:
    """einsum(equation, *operands), einsum(equation, [operands]), or the sublist form
    einsum(op0, [0, 1], op1, [1, 2], [0, 2])."""
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least "
            "one operand and its subscripts list"
        )
    if isinstance(args[0], str):
        equation = args[0]
        operands = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) \
            else list(args[1:])
    else:
        equation, operands = _from_sublists(args)
    same_device(*operands)
    shapes = [operand._data.shape for operand in operands]
    full, broadcast = _parse(equation, shapes)
    for operand in operands[1:]:
        if operand._data.dtype != operands[0]._data.dtype:
            raise RuntimeError(
                f"expected scalar type {scalar_type_name(operands[0])} but found "
                f"{scalar_type_name(operand)}"
            )
    if broadcast:  # size-1 dims against size-n ones: expand them (views), as PyTorch does
        operands = [operand.expand(shape) for operand, shape in zip(operands, broadcast)]
    return _op_for(full).apply(*operands, equation=full)


def _op_for(equation: str) -> type[Einsum]:
    """PyTorch's outermost node for this kind of equation."""
    inputs, output = equation.split("->")
    summed = any(letter not in output for letter in inputs if letter != ",")
    if "," not in inputs:
        return EinsumSum if summed else EinsumPermute
    return Einsum if summed else EinsumProduct


def _from_sublists(args: tuple[Any, ...]) -> tuple[str, list[Tensor]]:
    def letters(sublist: Any) -> str:
        return "".join("..." if item is Ellipsis else _LETTERS[26 + item] if item < 26
                       else _LETTERS[item - 26] for item in sublist)

    operands = list(args[0::2][: len(args) // 2])
    groups = [letters(sublist) for sublist in args[1::2][: len(args) // 2]]
    equation = ",".join(groups)
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, operands


def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[str, list[Any] | None]:
    """The explicit, ellipsis-free equation, and the broadcast shape of each operand (None when
    no operand needs expanding). Raises PyTorch's message for each malformed equation."""
    arrow = equation.find("->")
    for position, char in enumerate(equation):
        if char in _LETTERS or char in ". " or (char == "," and (arrow < 0 or position < arrow)):
            continue
        if arrow < 0 or position not in (arrow, arrow + 1):
            _invalid(position)
    inputs, arrow_found, output = equation.partition("->")
    groups = inputs.replace(" ", "").split(",")
    if len(groups) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(groups) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    ellipsis_dims = max((len(shape) - len(group.replace(".", ""))
                        for group, shape in zip(groups, shapes) if "..." in group), default=0)
    spare = [x for x in _LETTERS if x not in equation]
    ellipsis_letters = "".join(spare[:ellipsis_dims])
    sizes: dict[str, int] = {}
    full_groups = []
    for index, (group, shape) in enumerate(zip(groups, shapes)):
        group = _expand_ellipsis(group, len(shape), ellipsis_letters, index)
        seen: dict[str, int] = {}
        for letter, size in zip(group, shape):
            if letter in seen and seen[letter] != size:
                raise RuntimeError(
                    f"einsum(): subscript {letter} is repeated for operand {index} but the sizes "
                    f"don't match, {size} != {seen[letter]}"
                )
            seen[letter] = size
            known = sizes.get(letter, size)
            if known != size and known != 1 and size != 1:
                if letter in ellipsis_letters:
                    dim = ellipsis_letters.index(letter)
                    raise RuntimeError(
                        f"einsum(): dimension {dim} covered by ellipsis in operand {index}has "
                        f"size {size} which does not broadcast with previously seen ellipsis "
                        f"with size {known} for the respective dimension"
                    )
                raise RuntimeError(
                    f"einsum(): subscript {letter} has size {size} for operand {index} which "
                    f"does not broadcast with previously seen size {known}"
                )
            sizes[letter] = size if known == 1 else known
        full_groups.append(group)
    if arrow_found:
        result = _output(output.replace(" ", ""), ellipsis_letters, sizes)
    else:  # implicit: the ellipsis dims, then the letters seen once, in label order
        counts = "".join(full_groups)
        result = ellipsis_letters + "".join(
            x for x in _LETTERS if counts.count(x) == 1 and x not in ellipsis_letters)
    broadcast = None
    if any(size != sizes[letter] for group, shape in zip(full_groups, shapes)
           for letter, size in zip(group, shape)):
        broadcast = [tuple(sizes[letter] for letter in group) for group in full_groups]
    return ",".join(full_groups) + "->" + result, broadcast


def _expand_ellipsis(group: str, ndim: int, ellipsis_letters: str, index: int) -> str:
    if "." not in group:
        if len(group) != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(group)}) does not "
                f"match the number of dimensions ({ndim}) for operand {index} and no ellipsis "
                "was given"
            )
        return group
    before, found, after = group.partition("...")
    if not found or "." in before:
        raise RuntimeError(
            f"einsum(): found '.' for operand {index} that is not part of any ellipsis")
    if "." in after:
        raise RuntimeError(
            f"einsum(): found '.' for operand {index} for which an ellipsis was already found")
    letters = len(before) + len(after)
    if letters > ndim:
        raise RuntimeError(
            f"einsum(): the number of subscripts in the equation ({letters}) is more than the "
            f"number of dimensions ({ndim}) for operand {index}"
        )
    covered = ndim - letters
    return before + ellipsis_letters[len(ellipsis_letters) - covered:] + after


def _output(output: str, ellipsis_letters: str, sizes: dict[str, int]) -> str:
    before, found, after = output.partition("...")
    if (not found and "." in output) or "." in before or "." in after:
        raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
    result = before + (ellipsis_letters if found else "") + after
    for letter in before + after:
        if result.count(letter) > 1:
            raise RuntimeError(
                f"einsum(): output subscript {letter} appears more than once in the output")
        if letter not in sizes:
            raise RuntimeError(
                f"einsum(): output subscript {letter} does not appear in the equation for any "
                "input operand"
            )
    return result


def _invalid(position: int) -> None:
    raise RuntimeError(
        f"einsum(): invalid subscript given at index {position} in the equation string, "
        "subscripts must be in [a-zA-Z]"
    )


# ----------------------------------------------------------------------------- tensordot
class Tensordot(Einsum):
    node_name = "ViewBackward0"


_TENSORDOT_OUT = same("tensordot: Expected the output tensor to have dtype {result}, but got an "
                      "output tensor with dtype {out}")


@takes_out(_TENSORDOT_OUT)
@autocast_op("tensordot")
def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract dims of a with dims of b: an int n (a's last n with b's first n) or two lists."""
    same_device(a, b)
    a_dims, b_dims = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a_dims or dims > b_dims:
            raise RuntimeError(
                f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(-dims, 0))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    letters_a = list(_LETTERS[:a_dims])
    letters_b = list(_LETTERS[a_dims:a_dims + b_dims])
    seen_a: set[int] = set()
    seen_b: set[int] = set()
    for dim_a, dim_b in zip(dims_a, dims_b):
        axis_a, axis_b = _wrap_dim(dim_a, a_dims), _wrap_dim(dim_b, b_dims)
        for axis, seen in ((axis_a, seen_a), (axis_b, seen_b)):
            if axis in seen:
                raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
            seen.add(axis)
        size_a, size_b = a._data.shape[axis_a], b._data.shape[axis_b]
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim "
                f"{dim_a} and second has size {size_b} in dim {dim_b}"
            )
        letters_b[axis_b] = letters_a[axis_a]
    contracted = {letters_a[_wrap_dim(d, a_dims)] for d in dims_a}
    output = [x for x in letters_a if x not in contracted] + \
        [x for x in letters_b if x not in contracted]
    equation = "".join(letters_a) + "," + "".join(letters_b) + "->" + "".join(output)
    full, broadcast = _parse(equation, [a._data.shape, b._data.shape])
    if broadcast:
        a, b = a.expand(broadcast[0]), b.expand(broadcast[1])
    return Tensordot.apply(a, b, equation=full)


# tensordot under its decorators (out=, autocast), for inner to call as a plain function.
_tensordot_body = inspect.unwrap(tensordot)


@takes_out(_TENSORDOT_OUT)
@autocast_op(lambda input, other: "dot" if input.dim() == other.dim() == 1 else "inner")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims (a plain product when either is 0-d)."""
    require_tensors("inner", ("input", input), ("other", other))
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    a, b = input._data.shape, other._data.shape
    if a[-1] != b[-1]:
        raise RuntimeError(
            "inner() the last dimension must match on both input tensors but got shapes "
            f"{list(a)} and {list(b)}"
        )
    if input.dtype is other.dtype:  # PyTorch's inner is dot of vectors, else an mm
        refuse_bool("dot" if len(a) == len(b) == 1 else "addmm_impl_cpu_", input, other)
    # tensordot's body, not its autocast wrapper: inner is autocast as itself (above).
    return _tensordot_body(input, other, ([-1], [-1]))
