"""DataPipes (torch.utils.data.datapipes.datapipe): composable datasets. `IterDataPipe` is an
IterableDataset, `MapDataPipe` a map-style Dataset; built-in DataPipes register a functional
form, so `IterableWrapper(range(10)).map(f).filter(g).batch(4)` chains them.

Only one iterator of an IterDataPipe is valid at a time: making a new one invalidates the old
(the DataPipe's buffers belong to its current iterator), and `reset()` runs for each new one.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from ..dataset import Dataset, IterableDataset
from ._hook_iterator import _SnapshotState
from ._typing import _DataPipeMeta, _IterDataPipeMeta

__all__ = ["DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Functional forms whose result cannot be traced as a DataFrame pipe.
UNTRACABLE_DATAFRAME_PIPES = ["batch", "groupby", "_dataframes_as_tuples", "trace_as_dataframe"]


class DataChunk(list[T]):
    """A batch made by a DataPipe (`batch`, `groupby`): a list that remembers its items."""

    def __init__(self, items: Iterable[T]) -> None:
        items = list(items)
        super().__init__(items)
        self.items = items

    def as_str(self, indent: str = "") -> str:
        return indent + "[" + ", ".join(str(item) for item in iter(self)) + "]"

    def __iter__(self) -> Iterator[T]:
        yield from super().__iter__()

    def raw_iterator(self) -> Iterator[T]:
        yield from self.items


def _registered(functions: dict[str, Callable[..., Any]], datapipe: Any,
                attribute_name: str) -> Callable[..., Any]:
    if attribute_name not in functions:
        raise AttributeError(
            f"'{datapipe.__class__.__name__}' object has no attribute '{attribute_name}")
    function = functions[attribute_name]
    bound = functools.partial(function, datapipe)
    functools.update_wrapper(wrapper=bound, wrapped=function, assigned=("__doc__",))
    return bound


class IterDataPipe(IterableDataset[T_co], metaclass=_IterDataPipeMeta):
    """Iterable-style DataPipe: subclasses define `__iter__` (and `reset()` if they keep
    state between iterations). Elements are computed only as `next()` asks for them."""

    functions: ClassVar[dict[str, Callable[..., Any]]] = {}
    reduce_ex_hook: ClassVar[Callable[..., Any] | None] = None
    getstate_hook: ClassVar[Callable[..., Any] | None] = None
    str_hook: ClassVar[Callable[..., Any] | None] = None
    repr_hook: ClassVar[Callable[..., Any] | None] = None
    _valid_iterator_id: int | None = None
    _number_of_samples_yielded: int = 0
    _snapshot_state: _SnapshotState = _SnapshotState.NotStarted
    _fast_forward_iterator: Iterator[Any] | None = None

    def __iter__(self) -> Iterator[T_co]:
        return self

    def __getattr__(self, attribute_name: str) -> Any:
        return _registered(IterDataPipe.functions, self, attribute_name)

    @classmethod
    def register_function(cls, function_name: str, function: Callable[..., Any]) -> None:
        cls.functions[function_name] = function

    @classmethod
    def register_datapipe_as_function(cls, function_name: str, cls_to_register: Any,
                                      enable_df_api_tracing: bool = False) -> None:
        """Make `datapipe.<function_name>(*args)` mean `cls_to_register(datapipe, *args)`."""
        if function_name in cls.functions:
            raise Exception(
                f"Unable to add DataPipe function name {function_name} as it is already taken")

        def class_function(cls: Any, enable_df_api_tracing: bool, source_dp: Any, *args: Any,
                           **kwargs: Any) -> Any:
            result_pipe = cls(source_dp, *args, **kwargs)
            if isinstance(result_pipe, IterDataPipe) and (
                    enable_df_api_tracing or isinstance(source_dp, DFIterDataPipe)) and \
                    function_name not in UNTRACABLE_DATAFRAME_PIPES:
                # PyTorch traces such results as DataFrame pipes through its dataframe
                # module (pandas-based), which autodiff does not have.
                raise RuntimeError(
                    f"the result of `{function_name}` would be traced as a DataFrame pipe "
                    "(enable_df_api_tracing, or a DFIterDataPipe source): autodiff has no "
                    "DataFrame tracing (torch.utils.data.datapipes.dataframe)")
            return result_pipe

        function = functools.partial(class_function, cls_to_register, enable_df_api_tracing)
        functools.update_wrapper(wrapper=function, wrapped=cls_to_register, assigned=("__doc__",))
        cls.functions[function_name] = function

    def __getstate__(self) -> Any:
        state = self.__dict__
        if IterDataPipe.getstate_hook is not None:
            return IterDataPipe.getstate_hook(state)
        return state

    def __reduce_ex__(self, *args: Any, **kwargs: Any) -> Any:
        if IterDataPipe.reduce_ex_hook is not None:
            try:
                return IterDataPipe.reduce_ex_hook(self)
            except NotImplementedError:
                pass
        return super().__reduce_ex__(*args, **kwargs)

    @classmethod
    def set_getstate_hook(cls, hook_fn: Callable[..., Any] | None) -> None:
        if IterDataPipe.getstate_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing getstate_hook")
        IterDataPipe.getstate_hook = hook_fn

    @classmethod
    def set_reduce_ex_hook(cls, hook_fn: Callable[..., Any] | None) -> None:
        if IterDataPipe.reduce_ex_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing reduce_ex_hook")
        IterDataPipe.reduce_ex_hook = hook_fn

    def __repr__(self) -> str:
        if self.repr_hook is not None:
            return self.repr_hook(self)
        return str(self.__class__.__qualname__)

    def __str__(self) -> str:
        if self.str_hook is not None:
            return self.str_hook(self)
        return str(self.__class__.__qualname__)

    def __dir__(self) -> list[str]:
        return list(super().__dir__()) + list(self.functions.keys())

    def reset(self) -> None:
        """Back to the initial state; runs whenever a new iterator is made. A no-op here."""


class DFIterDataPipe(IterDataPipe[Any]):
    """An IterDataPipe of DataFrames: functional forms applied to it are traced as DataFrame
    pipes (which autodiff refuses: see `register_datapipe_as_function`)."""

    def _is_dfpipe(self) -> bool:
        return True


class MapDataPipe(Dataset[T_co], metaclass=_DataPipeMeta):
    """Map-style DataPipe: subclasses define `__getitem__` (and usually `__len__`)."""

    functions: ClassVar[dict[str, Callable[..., Any]]] = {}
    reduce_ex_hook: ClassVar[Callable[..., Any] | None] = None
    getstate_hook: ClassVar[Callable[..., Any] | None] = None
    str_hook: ClassVar[Callable[..., Any] | None] = None
    repr_hook: ClassVar[Callable[..., Any] | None] = None

    def __getattr__(self, attribute_name: str) -> Any:
        return _registered(MapDataPipe.functions, self, attribute_name)

    @classmethod
    def register_function(cls, function_name: str, function: Callable[..., Any]) -> None:
        cls.functions[function_name] = function

    @classmethod
    def register_datapipe_as_function(cls, function_name: str, cls_to_register: Any) -> None:
        if function_name in cls.functions:
            raise Exception(
                f"Unable to add DataPipe function name {function_name} as it is already taken")

        def class_function(cls: Any, source_dp: Any, *args: Any, **kwargs: Any) -> Any:
            return cls(source_dp, *args, **kwargs)

        function = functools.partial(class_function, cls_to_register)
        functools.update_wrapper(wrapper=function, wrapped=cls_to_register, assigned=("__doc__",))
        cls.functions[function_name] = function

    def __getstate__(self) -> Any:
        state = self.__dict__
        if MapDataPipe.getstate_hook is not None:
            return MapDataPipe.getstate_hook(state)
        return state

    def __reduce_ex__(self, *args: Any, **kwargs: Any) -> Any:
        if MapDataPipe.reduce_ex_hook is not None:
            try:
                return MapDataPipe.reduce_ex_hook(self)
            except NotImplementedError:
                pass
        return super().__reduce_ex__(*args, **kwargs)

    @classmethod
    def set_getstate_hook(cls, hook_fn: Callable[..., Any] | None) -> None:
        if MapDataPipe.getstate_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing getstate_hook")
        MapDataPipe.getstate_hook = hook_fn

    @classmethod
    def set_reduce_ex_hook(cls, hook_fn: Callable[..., Any] | None) -> None:
        if MapDataPipe.reduce_ex_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing reduce_ex_hook")
        MapDataPipe.reduce_ex_hook = hook_fn

    def __repr__(self) -> str:
        if self.repr_hook is not None:
            return self.repr_hook(self)
        return str(self.__class__.__qualname__)

    def __str__(self) -> str:
        if self.str_hook is not None:
            return self.str_hook(self)
        return str(self.__class__.__qualname__)

    def __dir__(self) -> list[str]:
        return list(super().__dir__()) + list(self.functions.keys())


class _DataPipeSerializationWrapper:
    """Carries a DataPipe to worker processes as pickled bytes (made once, by the wrapper's
    own pickling), so the DataLoader can hand it to a worker like any dataset."""

    def __init__(self, datapipe: Any) -> None:
        self._datapipe = datapipe

    def __getstate__(self) -> Any:
        return pickle.dumps(self._datapipe), False

    def __setstate__(self, state: Any) -> None:
        value, _ = state
        self._datapipe = pickle.loads(value)

    def __len__(self) -> int:
        try:
            return len(self._datapipe)
        except Exception as error:
            raise TypeError(f"{type(self).__name__} instance doesn't have valid length") \
                from error


class _IterDataPipeSerializationWrapper(_DataPipeSerializationWrapper, IterDataPipe[Any]):
    def __init__(self, datapipe: IterDataPipe[Any]) -> None:
        super().__init__(datapipe)
        self._datapipe_iter: Iterator[Any] | None = None

    def __iter__(self) -> _IterDataPipeSerializationWrapper:
        self._datapipe_iter = iter(self._datapipe)
        return self

    def __next__(self) -> Any:
        if self._datapipe_iter is None:
            raise AssertionError(
                "Iterator has not been initialized; call __iter__() before __next__()")
        return next(self._datapipe_iter)


class _MapDataPipeSerializationWrapper(_DataPipeSerializationWrapper, MapDataPipe[Any]):
    def __getitem__(self, index: Any) -> Any:
        return self._datapipe[index]
