"""stack, cat and split with first-class dims, and softmax by a Dim."""

from __future__ import annotations

from typing import Any

from ...ops.joining import stack as _stack
from ...tensor import Tensor as _PlainTensor
from .calls import DIM_METHODS, batched_call, dim_call
from .levels import find, match_levels, ndim_of, union, wrap_position
from .tensor import Dim, device_of, from_positional, has_device, levels_of, on_device


def stack(tensors: Any, new_dim: Any, dim: int = 0) -> Any:
    """Stack `tensors` along `new_dim` (a Dim, bound to their count), placed before their dim
    `dim`; with an int `new_dim`, autodiff.stack."""
    if not tensors:
        raise ValueError("stack expects a non-empty sequence of tensors")
    if not isinstance(new_dim, Dim):
        return batched_call(_stack, (list(tensors),), {"dim": dim})
    infos = []
    result_levels: list[Any] = []
    for tensor in tensors:
        info = levels_of(tensor)
        if info is None:
            raise ValueError("expected a tensor object")
        infos.append(info)
        union(result_levels, info[1])
    new_dim.size = len(tensors)
    device = device_of(list(tensors))
    inputs = [match_levels(physical if has_device(tensor) else on_device(physical, device),
                           levels, result_levels, expand=True)
              for tensor, (physical, levels) in zip(tensors, infos)]
    position = 0
    if not (isinstance(dim, int) and dim == 0):
        ndim = ndim_of(result_levels)
        level = dim if isinstance(dim, Dim) else wrap_position(dim, ndim)
        found = find(result_levels, level)
        if found is None:
            raise TypeError(f"Dimension {dim} does not exist in inputs")
        position = found
    result = _stack(inputs, position)
    result_levels.insert(position, new_dim)
    return from_positional(result, result_levels, device is not None)


def cat(tensors: Any, dim: Any, new_dim: Any) -> Any:
    """Concatenate `tensors` along their dim `dim`, the result's dim being `new_dim`."""
    from .dims import dims

    stacked_dim = dims(1)
    return stack(tensors, stacked_dim, dim).index([stacked_dim, dim], new_dim)


def split(tensor: Any, split_size_or_sections: Any, dim: Any = None) -> tuple[Any, ...]:
    """Split `tensor` along `dim`; with Dims as the sections, each piece's dim becomes its Dim
    (unbound ones share what the bound ones leave)."""
    dim_is_object = isinstance(dim, Dim)
    if isinstance(split_size_or_sections, int):
        if dim_is_object:
            raise TypeError("when dim is specified as a Dim object, split sizes must also be "
                            "dimensions.")
        return batched_call(_PlainTensor.split, (tensor, split_size_or_sections),
                            {"dim": 0 if dim is None else dim})
    sections = list(split_size_or_sections)
    all_dims = all(isinstance(item, Dim) for item in sections)
    all_ints = not any(isinstance(item, Dim) for item in sections)
    if all_ints:
        if dim_is_object:
            raise TypeError("when dim is specified as a Dim object, split sizes must also be "
                            "dimensions.")
        return batched_call(_PlainTensor.split, (tensor, sections),
                            {"dim": 0 if dim is None else dim})
    if not all_dims:
        raise TypeError("split list must be ints or dims but got a mix")
    physical, levels = levels_of(tensor) or (None, [])
    if physical is None:
        raise ValueError("expected a tensor object")
    ndim = ndim_of(levels)
    if not dim_is_object and ndim == 0:
        raise TypeError("split expects at least a 1-dimension tensor")
    level = dim if dim_is_object else (-ndim if dim is None else wrap_position(dim, ndim))
    position = find(levels, level)
    if position is None:
        raise TypeError(f"tensor does not contain dimension {0 if dim is None else dim}")
    sizes = []
    total = 0
    unbound = []
    for index, section in enumerate(sections):
        if section.is_bound:
            sizes.append(section.size)
            total += section.size
        else:
            sizes.append(0)
            unbound.append(index)
    extent = physical.shape[position]
    if unbound:
        if total > extent:
            raise TypeError(f"sizes of target dimensions add up to more ({total}) than source "
                            f"dim ({extent})")
        remaining = extent - total
        chunk = (remaining + len(unbound) - 1) // len(unbound)
        for index in unbound:
            size = min(chunk, remaining)
            sections[index].size = size
            sizes[index] = size
            remaining -= size
    elif extent != total:
        raise TypeError(f"sum of sizes of target dimensions ({total}) do not match the source "
                        f"dim ({extent})")
    pieces = physical.split(sizes, position)
    out = []
    for piece, section in zip(pieces, sections):
        piece_levels = list(levels)
        piece_levels[position] = section
        out.append(from_positional(piece, piece_levels, has_device(tensor)))
    return tuple(out)


def softmax(input: Any, dim: Any, dtype: Any = None) -> Any:
    """nn.functional.softmax, where `dim` may be a Dim."""
    return dim_call(lambda tensor, *args, **kwargs: tensor.softmax(*args, **kwargs),
                    DIM_METHODS["softmax"], (input, dim), {"dtype": dtype})
