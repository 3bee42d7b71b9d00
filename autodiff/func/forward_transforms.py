"""Forward-mode transforms: jvp, jacfwd, linearize (torch.func's), on `autograd.forward_ad`.

As for the reverse-mode transforms, each primal and tangent is first made batched at every
open vmap level and the dual tensors are made of the physical tensors, so the JVP rules only
ever see plain tensors: `vmap(jvp(f))` and jacfwd (vmap over the basis tangents) push every
example's tangent through one forward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd import forward_ad
from ..batching.batched_tensor import move_into_level
from ..batching.levels import levels
from ..creation import eye, zeros_like
from ..dual import state as _dual_state
from ..dual import tangent_at
from ..tensor import Tensor
from .eager_transforms import _check_argnums, _levels_of, _physical, _rewrap
from .pytree import tree_flatten, tree_unflatten


def _at_every_level(tensor: Tensor) -> Tensor:
    for level in levels.stack:
        if level.number not in _levels_of(tensor):
            expanded = tensor.unsqueeze(0).expand((level.batch_size, *tensor.shape))
            tensor = move_into_level(expanded, level.number)
    return tensor


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> Any:
    """torch.func.jvp: (func(*primals), the Jacobian-vector product with `tangents`)."""
    if strict:
        raise RuntimeError("jvp(f, primals, tangents, strict=True): strict mode is not yet "
                           "supported, please use strict=False")
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if _flat_tensors(primals, tangents):  # the usual call: no nesting to flatten
        primal_leaves, tangent_leaves, spec = list(primals), list(tangents), None
    else:
        primal_leaves, spec = tree_flatten(primals)
        tangent_leaves, tangent_spec = tree_flatten(tangents)
        if not isinstance(tangents, tuple) or tangent_spec != spec:
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to "
                               "have the same python structure. For example, if primals is a "
                               "tuple of 3 tensors, tangents also must be. Got primals with "
                               f"structure {spec} and tangents with structure {tangent_spec}")
    for primal, tangent in zip(primal_leaves, tangent_leaves):
        if not isinstance(primal, Tensor) or not isinstance(tangent, Tensor):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                               "Tensors (or nested tuples, lists and dicts of them)")
        if primal._data.shape != tangent._data.shape:
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to "
                               f"have the same shape, got {tuple(primal.shape)} and "
                               f"{tuple(tangent.shape)}")
    level = _dual_state.enter()  # a level of its own: jvp of jvp nests (dual.py)
    try:
        duals = []
        for primal, tangent in zip(primal_leaves, tangent_leaves):
            if levels.stack:
                primal = _at_every_level(primal)
                tangent = _at_every_level(tangent)
            chain = _levels_of(primal)
            physical_tangent = _physical(tangent)  # both batched at every level, alike
            dual = forward_ad.make_dual(_physical(primal), physical_tangent, level=level)
            duals.append(_rewrap(dual, chain) if chain else dual)
        output = func(*duals) if spec is None else func(*tree_unflatten(duals, spec))
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("jvp(f, primals, tangents): output of function f should be "
                                   "a tuple: (output, aux) if has_aux is True")
            output, aux = output
        if isinstance(output, Tensor):
            out_leaves, out_spec = [output], None
        else:
            out_leaves, out_spec = tree_flatten(output)
        for leaf in out_leaves:
            if not isinstance(leaf, Tensor):
                raise RuntimeError("jvp(f, primals, tangents): Expected f(*primals) to return "
                                   f"only tensors, got unsupported type {type(leaf)}")
        # Every tangent first: an output returned twice is one tensor.
        physicals = [_physical(leaf) for leaf in out_leaves]
        found = [tangent_at(physical, level) for physical in physicals]
        primal_outs, tangent_outs = [], []
        for leaf, physical, tangent_out in zip(out_leaves, physicals, found):
            # The output itself stands for its primal once its tangent at this level is
            # dropped (closing the level would drop it); its outer levels' tangents stay.
            _dual_state.drop(physical, level)
            if tangent_out is None:
                tangent_out = zeros_like(physical)
            chain = _levels_of(leaf)
            primal_outs.append(_rewrap(physical, chain) if chain else physical)
            tangent_outs.append(_rewrap(tangent_out, chain) if chain else tangent_out)
    finally:
        _dual_state.exit(level)
    if out_spec is None:
        result = (primal_outs[0], tangent_outs[0])
    else:
        result = (tree_unflatten(primal_outs, out_spec), tree_unflatten(tangent_outs, out_spec))
    return (*result, aux) if has_aux else result


def _flat_tensors(primals: tuple[Any, ...], tangents: Any) -> bool:
    return (type(tangents) is tuple and len(tangents) == len(primals)
            and all(isinstance(item, Tensor) for item in primals)
            and all(isinstance(item, Tensor) for item in tangents))


def jacfwd(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """torch.func.jacfwd: the Jacobian by forward mode, one Jacobian-vector product per input
    element, vmapped over the basis tangents."""
    from .vmap import vmap

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _check_argnums(argnums, len(args), "jacfwd")
        diff = tuple(args[n] for n in numbers)
        leaves, spec = tree_flatten(diff)
        sizes = [leaf.numel() for leaf in leaves]
        total = sum(sizes)
        basis = eye(total, dtype=leaves[0].dtype, device=leaves[0].device)
        tangents = []
        start = 0
        for leaf, size in zip(leaves, sizes):
            tangents.append(basis[:, start:start + size].reshape((total, *leaf.shape)))
            start += size

        def restricted(*diff_args: Any) -> Any:
            full = list(args)
            for number, value in zip(numbers, diff_args):
                full[number] = value
            return func(*full, **kwargs)

        def push(*tangent_leaves: Any) -> Any:
            result = jvp(restricted, diff, tree_unflatten(list(tangent_leaves), spec),
                         has_aux=has_aux)
            return (result[1], result[2]) if has_aux else (result[1], result[0])

        pushed, second = vmap(push, randomness=randomness)(*tangents)
        # The primal output (or aux) is the same for every tangent: the first of them.
        second = tree_unflatten([leaf[0] if isinstance(leaf, Tensor) else leaf
                                 for leaf in tree_flatten(second)[0]], tree_flatten(second)[1])
        out_leaves, out_spec = tree_flatten(pushed)
        blocks = []
        for out in out_leaves:
            inputs_tree = tree_unflatten(split_by_input(out, leaves, sizes), spec)
            blocks.append(inputs_tree[0] if not isinstance(argnums, tuple) else inputs_tree)
        jacobian = tree_unflatten(blocks, out_spec)
        return (jacobian, second) if has_aux else jacobian

    return wrapper


def split_by_input(out: Tensor, inputs: Any, sizes: list[int]) -> list[Tensor]:
    """A vmapped Jacobian-vector product over the basis, (total, *out_shape), as one block per
    input, (*out_shape, *input_shape)."""
    blocks = []
    start = 0
    for inp, size in zip(inputs, sizes):
        piece = out[start:start + size].movedim(0, -1)
        blocks.append(piece.reshape((*out.shape[1:], *inp.shape)))
        start += size
    return blocks


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """torch.func.linearize: (func(*primals), jvp_fn); jvp_fn(*tangents) is the
    Jacobian-vector product at `primals` (computed by forward mode on each call: PyTorch
    traces the linear function once, here the function runs again)."""
    output = func(*primals)

    def jvp_fn(*tangents: Any) -> Any:
        spec = tree_flatten(tangents)[1]
        primal_spec = tree_flatten(primals)[1]
        if spec != primal_spec:
            raise RuntimeError(f"Expected the tangents {spec} to have the same structure as "
                               f"the primals {primal_spec}")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn
