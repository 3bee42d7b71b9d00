"""A generic `einsum` over the array API, for namespaces that have none (array-api-strict; the
standard itself has no einsum). NumPy and CuPy bind their own.

It takes the explicit form the tape always passes: letters only, one group per operand, and
`->` with the output letters ("ij,jk->ik"; ellipses already spelled out as letters). A letter
may repeat within an operand (a diagonal) and may have size 1 in one operand and n in another
(broadcasting). Each operand first loses its diagonals and the letters nobody else needs (a
sum); then operands are contracted left to right, each pair as one batched `matmul`.
"""

from __future__ import annotations

import math
from typing import Any

Array = Any


def einsum(backend: Any, subscripts: str, *operands: Array) -> Array:
    xp = backend.xp
    inputs, output = subscripts.replace(" ", "").split("->")
    terms = [_diagonals(xp, letters, array)
             for letters, array in zip(inputs.split(","), operands)]
    letters, array = terms[0]
    for index in range(1, len(terms)):
        later = set(output).union(*(term[0] for term in terms[index + 1:]))
        letters, array = _contract(xp, (letters, array), terms[index], later)
    letters, array = _sum_unneeded(xp, letters, array, set(output))
    if letters != output:
        array = xp.permute_dims(array, tuple(letters.index(letter) for letter in output))
    return array


def _diagonals(xp: Any, letters: str, array: Array) -> tuple[str, Array]:
    """Take the diagonal over every letter that repeats within one operand."""
    while len(set(letters)) != len(letters):
        letter = next(x for x in letters if letters.count(x) > 1)
        first = letters.index(letter)
        second = letters.index(letter, first + 1)
        rest = [axis for axis in range(len(letters)) if axis not in (first, second)]
        array = xp.permute_dims(array, (*rest, first, second))
        size = array.shape[-1]
        array = xp.reshape(array, (*array.shape[:-2], size * size))
        # Element (i, i) of an n x n block sits at i * (n + 1) once the block is flattened.
        positions = xp.arange(0, size * size, size + 1, device=_device(array))
        array = xp.take(array, positions, axis=array.ndim - 1)
        letters = "".join(letters[axis] for axis in rest) + letter
    return letters, array


def _sum_unneeded(xp: Any, letters: str, array: Array, needed: set[str]) -> tuple[str, Array]:
    axes = tuple(axis for axis, letter in enumerate(letters) if letter not in needed)
    if not axes:
        return letters, array
    kept = "".join(letter for letter in letters if letter in needed)
    return kept, xp.sum(array, axis=axes)


def _contract(xp: Any, left: tuple[str, Array], right: tuple[str, Array],
              later: set[str]) -> tuple[str, Array]:
    """One pairwise product: letters both need later are batch dims, letters only they share
    are summed (matmul's inner dim), the rest are each side's own rows and columns."""
    a_letters, a = _sum_unneeded(xp, *left, later | set(right[0]))
    b_letters, b = _sum_unneeded(xp, *right, later | set(a_letters))
    shared = [x for x in a_letters if x in b_letters]
    batch = [x for x in shared if x in later]
    inner = [x for x in shared if x not in later]
    a_only = [x for x in a_letters if x not in b_letters]
    b_only = [x for x in b_letters if x not in a_letters]
    sizes = {x: a.shape[a_letters.index(x)] for x in a_letters}
    for x in b_letters:
        if sizes.get(x, 1) == 1:  # a size of 1 broadcasts against the other's (even 0)
            sizes[x] = b.shape[b_letters.index(x)]
    a = _arrange(xp, a, a_letters, batch + a_only + inner, sizes)
    b = _arrange(xp, b, b_letters, batch + inner + b_only, sizes)
    batch_shape = [sizes[x] for x in batch]
    rows, cols, depth = (math.prod(sizes[x] for x in group) for group in (a_only, b_only, inner))
    a = xp.reshape(a, (*batch_shape, rows, depth))
    b = xp.reshape(b, (*batch_shape, depth, cols))
    out = xp.matmul(a, b)
    out = xp.reshape(out, (*batch_shape, *(sizes[x] for x in a_only + b_only)))
    return "".join(batch + a_only + b_only), out


def _arrange(xp: Any, array: Array, letters: str, order: list[str],
             sizes: dict[str, int]) -> Array:
    """Permute to `order` and broadcast size-1 dims to the common size."""
    permutation = tuple(letters.index(x) for x in order)
    if permutation != tuple(range(len(letters))):
        array = xp.permute_dims(array, permutation)
    shape = tuple(sizes[x] for x in order)
    if array.shape != shape:
        array = xp.broadcast_to(array, shape)
    return array


def _device(array: Array) -> Any:
    return getattr(array, "device", None)
