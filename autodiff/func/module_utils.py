"""Module helpers of torch.func: replace_all_batch_norm_modules_ (batch norm without running
statistics, so a vmapped model does not write them) and functionalize."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten


def replace_all_batch_norm_modules_(root: Module) -> Module:
    """In place: every batch-norm module under `root` stops tracking running statistics
    (running_mean, running_var and num_batches_tracked become None)."""
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


_REMOVE_OPTIONS = ("mutations", "mutations_and_views")


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    """torch.func.functionalize. It rewrites a traced program without mutations (and, with
    remove='mutations_and_views', without aliasing); run eagerly, as here, the rewritten
    program computes what `func` does, input mutations included, so the values are func's,
    and with 'mutations_and_views' no output aliases an input."""
    if remove not in _REMOVE_OPTIONS:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for "
            f"remove={remove}. Valid options are:\n     remove='mutations': all inplace and "
            "out= operators will be removed from the program, and replaced with their "
            "out-of-place equivalents.\n     remove='mutations_and_views': In addition to the "
            "above, all aliasing operators {view} will be replaced with their non-aliasing "
            "counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = func(*args, **kwargs)
        if remove == "mutations":
            return output
        inputs = [leaf for leaf in tree_flatten((args, kwargs))[0] if isinstance(leaf, Tensor)]
        leaves, spec = tree_flatten(output)
        return tree_unflatten([leaf.clone() if isinstance(leaf, Tensor)
                               and _aliases(leaf, inputs) else leaf for leaf in leaves], spec)

    return wrapper


def _aliases(tensor: Tensor, inputs: list[Tensor]) -> bool:
    base = tensor._base if tensor._base is not None else tensor
    return any(base is (i._base if i._base is not None else i) for i in inputs)
