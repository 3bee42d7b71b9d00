"""torch.func.rearrange: einops-style rearrangement of dims ("b (h w) c -> b h w c") as one
reshape, one permute and one reshape."""

from __future__ import annotations

import math

from ..ops.joining import stack
from ..tensor import Tensor

_ELLIPSIS = "..."


def _parse(side: str) -> list[list[str]]:
    """A side of the pattern as groups of axis names (a group per dim of that side)."""
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in '{side}'")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced parentheses in '{side}'")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in '{side}'")
    return groups


def rearrange(tensor: Tensor | list[Tensor] | tuple[Tensor, ...], pattern: str,
              **axes_lengths: int) -> Tensor:
    """Rearrange `tensor`'s dims by an einops pattern; a list of tensors is stacked first."""
    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor))
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: expected one '->' in the pattern, got '{pattern}'")
    left_text, right_text = pattern.split("->")
    left, right = _parse(left_text), _parse(right_text)
    ellipsis_dims = tensor.dim() - (len(left) - (1 if [_ELLIPSIS] in left else 0))
    if [_ELLIPSIS] not in left and tensor.dim() != len(left):
        raise ValueError(f"rearrange: pattern '{left_text.strip()}' has {len(left)} dims, the "
                         f"tensor has {tensor.dim()}")
    ellipsis_names = [f"...{i}" for i in range(max(ellipsis_dims, 0))]

    def expand(groups: list[list[str]]) -> list[list[str]]:
        out = []
        for group in groups:
            if group == [_ELLIPSIS]:
                out.extend([[name] for name in ellipsis_names])
            else:
                out.append([name for g in group for name in
                            (ellipsis_names if g == _ELLIPSIS else [g])])
        return out

    left, right = expand(left), expand(right)
    lengths: dict[str, int] = dict(axes_lengths)
    for group, size in zip(left, tensor.shape):
        unknown = [name for name in group if name not in lengths and name != "1"]
        known = math.prod(lengths[name] for name in group if name in lengths)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: could not infer the sizes of {unknown}")
        if unknown:
            if known == 0 or size % known:
                raise ValueError(f"rearrange: cannot divide dim of size {size} into {group}")
            lengths[unknown[0]] = size // known
        elif known != size:
            raise ValueError(f"rearrange: dim of size {size} does not match {group}")
    left_names = [name for group in left for name in group if name != "1"]
    right_names = [name for group in right for name in group if name != "1"]
    if sorted(left_names) != sorted(right_names) or len(set(left_names)) != len(left_names):
        raise ValueError(f"rearrange: the axes of '{pattern}' differ between the two sides "
                         "(or repeat on one)")
    elementary = tensor.reshape(tuple(lengths[name] for name in left_names))
    permuted = elementary.permute(tuple(left_names.index(name) for name in right_names))
    return permuted.reshape(tuple(math.prod(lengths[name] for name in group if name != "1")
                                  for group in right))
