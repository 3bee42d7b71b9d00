"""`vmap`: a function of one example mapped over a batch, by batching (not a Python loop).
Each call opens a vmap level, wraps every mapped input as a `BatchedTensor` of that level
(examples moved to dim 0), runs the function once, and moves the examples of each output
to its `out_dims`. Ops see the level through `Function.apply` (`batching.py`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..batching.batched_tensor import BatchedTensor, make_batched
from ..batching.levels import levels
from ..tensor import Tensor
from .pytree import LEAF, TreeSpec, broadcast_prefix, tree_flatten, tree_unflatten

_RANDOMNESS = ("error", "different", "same")


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """torch.func.vmap: `func` of one example, mapped over dim `in_dims` of its inputs."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")
    if not callable(func):
        raise ValueError(f"vmap: Expected `func` to be a callable, got {type(func).__name__}")

    @functools.wraps(func)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        return _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return mapped


def _name(func: Callable[..., Any]) -> str:
    name = getattr(func, "__name__", None)  # (repr only when there is none: it is slow)
    return name if name is not None else repr(func)


def _vmap_call(func: Callable[..., Any], in_dims: Any, out_dims: Any, randomness: str,
               chunk_size: int | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         f"to be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         "inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    leaves, dims, spec = _flatten_inputs(args, in_dims)
    if dims is None:
        _, in_spec = tree_flatten(in_dims)
        _, spec = tree_flatten(args)
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"{in_spec} but inputs has structure {spec}.")
    sizes = []
    for leaf, dim in zip(leaves, dims):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim="
                             f"{dim} for an input but in_dim must be either an integer "
                             "dimension or None.")
        if not isinstance(leaf, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim="
                             f"{dim} for an input but the input is of type {type(leaf)}. We "
                             "cannot vmap over non-Tensor arguments, please use None as the "
                             "respective in_dim")
        ndim = leaf._data.ndim
        if not -ndim <= dim < ndim:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim="
                             f"{dim} for some input, but that input is a Tensor of "
                             f"dimensionality {ndim} so expected in_dim to satisfy "
                             f"-{ndim} <= in_dim < {ndim}.")
        sizes.append(leaf._data.shape[dim])
    if not sizes:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one "
                         "input must be batched (in_dims != None for some Tensor input)")
    if any(size != sizes[0] for size in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    batch_size = sizes[0]
    leaves = [leaf.movedim(dim, 0) if dim is not None and dim != 0 else leaf
              for leaf, dim in zip(leaves, dims)]
    if chunk_size is not None and chunk_size < batch_size:
        return _chunked(func, name, leaves, dims, spec, out_dims, randomness, chunk_size,
                        batch_size, kwargs)
    return _run(func, name, leaves, dims, spec, out_dims, randomness, batch_size, kwargs)


def _flatten_inputs(args: tuple[Any, ...], in_dims: Any
                    ) -> tuple[list[Any], list[Any] | None, TreeSpec]:
    """The inputs' leaves, an in_dim for each (None when in_dims does not fit the inputs'
    structure) and the spec that rebuilds the inputs from the leaves. An input whose in_dim is
    None stays one leaf, not flattened: nothing in it is mapped, and the function gets it as
    it is (a dict of parameters, say)."""
    if type(in_dims) is tuple:
        if len(in_dims) != len(args):
            return [], None, LEAF
        per_input: Any = in_dims
    else:  # an int (or None) for every input
        per_input = [in_dims] * len(args)
    leaves: list[Any] = []
    dims: list[Any] = []
    children = []
    for arg, dim in zip(args, per_input):
        if dim is None or (type(dim) is int and isinstance(arg, Tensor)):
            leaves.append(arg)
            dims.append(dim)
            children.append(LEAF)
            continue
        arg_leaves, arg_spec = tree_flatten(arg)
        arg_dims = broadcast_prefix(dim, arg, arg_spec)
        if arg_dims is None:
            return [], None, LEAF
        leaves.extend(arg_leaves)
        dims.extend(arg_dims)
        children.append(arg_spec)
    return leaves, dims, TreeSpec(tuple, (), tuple(children))


def _run(func: Callable[..., Any], name: str, leaves: list[Any], dims: list[Any], spec: Any,
         out_dims: Any, randomness: str, batch_size: int, kwargs: dict[str, Any]) -> Any:
    level = levels.push(batch_size, randomness)
    try:
        wrapped = [make_batched(leaf, level.number) if dim is not None else leaf
                   for leaf, dim in zip(leaves, dims)]
        output = func(*tree_unflatten(wrapped, spec), **kwargs)
        return _unwrap_outputs(output, out_dims, level.number, batch_size, name)
    finally:
        levels.pop(level)


def _chunked(func: Callable[..., Any], name: str, leaves: list[Any], dims: list[Any],
             spec: Any, out_dims: Any, randomness: str, chunk_size: int, batch_size: int,
             kwargs: dict[str, Any]) -> Any:
    """chunk_size: the batch in pieces of `chunk_size` examples, the outputs concatenated.
    With randomness='same' every chunk draws the same numbers, as PyTorch's."""
    pieces = []
    for start in range(0, batch_size, chunk_size):
        stop = min(start + chunk_size, batch_size)
        chunk = [leaf.narrow(0, start, stop - start) if dim is not None else leaf
                 for leaf, dim in zip(leaves, dims)]
        pieces.append(_run(func, name, chunk, dims, spec, out_dims, randomness, stop - start,
                           kwargs))
    from ..ops.joining import cat

    out_leaves = [tree_flatten(piece)[0] for piece in pieces]
    _, out_spec = tree_flatten(pieces[0])
    first = pieces[0]
    dims_per_leaf = broadcast_prefix(out_dims, first, out_spec)
    assert dims_per_leaf is not None
    joined = []
    for index, dim in enumerate(dims_per_leaf):
        parts = [leaves_of_piece[index] for leaves_of_piece in out_leaves]
        joined.append(parts[0] if dim is None else cat(parts, dim))
    return tree_unflatten(joined, out_spec)


def _unwrap_outputs(output: Any, out_dims: Any, number: int, batch_size: int,
                    name: str) -> Any:
    if type(out_dims) is int and out_dims == 0:
        # the default: a tensor, or a dict, tuple or list of tensors, each batched here (what
        # vmap(grad) gives), is its physical values as they are
        if type(output) is BatchedTensor and output._level == number:
            return output._value
        kind = type(output)
        if kind is dict or kind is tuple or kind is list:
            items = output.values() if kind is dict else output
            values = []
            for item in items:
                if type(item) is not BatchedTensor or item._level != number:
                    break
                values.append(item._value)
            else:
                return dict(zip(output, values)) if kind is dict else kind(values)
    leaves, spec = tree_flatten(output)
    dims = broadcast_prefix(out_dims, output, spec)
    if dims is None:
        _, dims_spec = tree_flatten(out_dims)
        raise ValueError(f"vmap({name}, ...): out_dims is not compatible with the structure "
                         f"of `outputs`. out_dims has structure {dims_spec} but outputs has "
                         f"structure {spec}.")
    results = []
    for leaf, dim in zip(leaves, dims):
        if dim is None:
            if isinstance(leaf, BatchedTensor) and leaf._level == number:
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 "when out_dim is None")
            results.append(leaf)
            continue
        if not isinstance(leaf, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(leaf)}. Did you mean to set out_dims= to None for "
                             "output?")
        if isinstance(leaf, BatchedTensor) and leaf._level == number:
            value = leaf._value
        else:  # the same for every example: repeated along the mapped dim
            value = leaf.expand((batch_size, *leaf.shape))
        results.append(value.movedim(0, dim) if dim != 0 else value)
    return tree_unflatten(results, spec)


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    """The physical tensor under a batched one (every level, or only the outermost with
    recurse=False); any other tensor as it is."""
    if not isinstance(tensor, BatchedTensor):
        return tensor
    value = tensor._value
    while recurse and isinstance(value, BatchedTensor):
        value = value._value
    return value
