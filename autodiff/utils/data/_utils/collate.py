"""Collation (torch.utils.data._utils.collate): a list of samples into one batch.

`default_collate` keeps the samples' structure and stacks what is at each place: tensors (and
NumPy arrays) gain a leading batch dimension, Python numbers become tensors, strings stay as
they are, mappings, namedtuples and sequences are collated field by field (tuples come back as
lists, as in PyTorch). `collate(batch, collate_fn_map=...)` is the same walk with a registry of
per-type functions; `default_collate_fn_map` may be extended in place.
`default_convert` turns NumPy arrays into tensors without batching (the loader's collate when
automatic batching is off).
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

from .... import creation, dtypes
from ....ops.joining import stack
from ....tensor import Tensor

__all__ = [
    "collate", "collate_float_fn", "collate_int_fn", "collate_numpy_array_fn",
    "collate_numpy_scalar_fn", "collate_str_fn", "collate_tensor_fn", "default_collate",
    "default_collate_fn_map", "default_convert",
]

# NumPy dtype codes of strings and objects, which have no tensor dtype.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

CollateFnMap = dict[Any, Callable[..., Any]]


# NumPy types are recognised by their module: autodiff does not import NumPy.
def _is_numpy_array(obj: Any) -> bool:
    kind = type(obj)
    return kind.__module__ == "numpy" and kind.__name__ == "ndarray"


def _is_numpy_scalar(obj: Any) -> bool:
    """np.bool_, np.number and np.object_ instances (PyTorch's test); NumPy's str_ and bytes_
    are str and bytes and are collated as such."""
    kind = type(obj)
    return (kind.__module__ == "numpy" and kind.__name__ != "ndarray"
            and not isinstance(obj, (str, bytes)))


def _from_numpy(array: Any) -> Tensor:
    """A CPU tensor sharing the memory of a NumPy array, as torch.as_tensor gives (a copy only
    where autodiff cannot hold the array as it is, e.g. a dtype it lacks: then as_tensor's
    conversion and errors)."""
    tensor = creation.from_numpy(array)
    try:
        tensor.dtype  # noqa: B018 - a dtype autodiff has?
    except KeyError:
        return creation.as_tensor(array)
    return tensor


def default_convert(data: Any) -> Any:
    """NumPy arrays and scalars inside `data` become tensors (string and object arrays stay);
    mappings, namedtuples and sequences are converted element by element (tuples become
    lists); anything else is returned as it is."""
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and not isinstance(data, (str, bytes)):
        if _is_numpy_array(data):
            if np_str_obj_array_pattern.search(data.dtype.str) is not None:
                return data
            return _from_numpy(data)
        return creation.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)  # keeps the mapping's type and extra attributes
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return kind({key: default_convert(data[key]) for key in data})
        except TypeError:  # the mapping type cannot be made this way
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return kind(*(default_convert(item) for item in data))
    if isinstance(data, tuple):
        return [default_convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone_sequence: Any = copy.copy(data)
                for index, item in enumerate(data):
                    clone_sequence[index] = default_convert(item)
                return clone_sequence
            return kind([default_convert(item) for item in data])
        except TypeError:
            return [default_convert(item) for item in data]
    return data


def collate(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collate `batch` by the type of its first element: a function of `collate_fn_map` for
    that type (or the first registered base class), else field by field for mappings,
    namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        function = _lookup(elem, collate_fn_map)
        if function is not None:
            return function(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch],
                                           collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(item) == size for item in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone_sequence: Any = copy.copy(elem)
                for index, samples in enumerate(transposed):
                    clone_sequence[index] = collate(samples, collate_fn_map=collate_fn_map)
                return clone_sequence
            return elem_type([collate(samples, collate_fn_map=collate_fn_map)
                              for samples in transposed])
        except TypeError:  # the sequence type cannot be made from a list (e.g. range)
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _lookup(elem: Any, collate_fn_map: CollateFnMap) -> Callable[..., Any] | None:
    """The registry's function for `elem`: its exact type first, then the keys in order by
    isinstance. The NumPy entries are keyed by the names "numpy.ndarray" and "numpy scalar"
    (autodiff does not import NumPy) and are matched by their predicates."""
    function = collate_fn_map.get(type(elem))
    if function is not None:
        return function
    for key, candidate in collate_fn_map.items():
        if key == _NUMPY_ARRAY:
            if _is_numpy_array(elem):
                return candidate
        elif key == _NUMPY_SCALAR:
            if _is_numpy_scalar(elem):
                return candidate
        elif isinstance(elem, key):
            return candidate
    return None


def collate_tensor_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Stack along a new first dimension (differentiably, as torch.stack)."""
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([_from_numpy(item) for item in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """NumPy scalars keep their dtype (a batch of float64 scalars is a float64 tensor)."""
    return stack([creation.as_tensor(item) for item in batch], 0)


def collate_float_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    return creation.tensor(list(batch), dtype=dtypes.float64)


def collate_int_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    return creation.tensor(list(batch))


def collate_str_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    return batch


_NUMPY_ARRAY = "numpy.ndarray"
_NUMPY_SCALAR = "numpy scalar"

default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    _NUMPY_ARRAY: collate_numpy_array_fn,
    _NUMPY_SCALAR: collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Any) -> Any:
    """Stack a list of samples into a batch, keeping their structure (see the module's
    docstring): `default_collate([(0, 1), (2, 3)])` is `[tensor([0, 2]), tensor([1, 3])]`."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
