"""The wrapping of every IterDataPipe's `__iter__` (torch.utils.data.datapipes._hook_iterator):
one valid iterator per DataPipe at a time (a new iterator invalidates the previous one, as the
DataPipe's buffers belong to it), `reset()` on each new iterator, a count of samples yielded,
and errors that name the DataPipe they came from."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any


class _SnapshotState(Enum):
    """NotStarted: a new iterator resets the DataPipe. Restored: the next iterator continues
    from a restored state without reset. Iterating: a new iterator resets."""

    NotStarted = 0
    Restored = 1
    Iterating = 2


def _simplify_obj_name(obj: Any) -> str:
    return obj.__name__ if inspect.isfunction(obj) else repr(obj)


def _strip_datapipe_from_name(name: str) -> str:
    return name.replace("IterDataPipe", "").replace("MapDataPipe", "")


def _generate_input_args_string(obj: Any) -> str:
    """`name=value` for the attributes named like the parameters of the DataPipe's class."""
    parameters = set(inspect.signature(obj.__class__).parameters)
    return ", ".join(f"{name}={_simplify_obj_name(value)}"
                     for name, value in inspect.getmembers(obj) if name in parameters)


def _generate_iterdatapipe_msg(datapipe: Any, simplify_dp_name: bool = False) -> str:
    text = f"{datapipe.__class__.__name__}({_generate_input_args_string(datapipe)})"
    return _strip_datapipe_from_name(text) if simplify_dp_name else text


def _gen_invalid_iterdatapipe_msg(datapipe: Any) -> str:
    return ("This iterator has been invalidated because another iterator has been created "
            f"from the same IterDataPipe: {_generate_iterdatapipe_msg(datapipe)}\n"
            "This may be caused by multiple references to the same IterDataPipe. We recommend "
            "using `.fork()` if that is necessary.")


_feedback_msg = ("\nFor feedback regarding this single iterator per IterDataPipe constraint, "
                 "feel free to comment on this issue: https://github.com/pytorch/data/issues/45.")


def _check_iterator_valid(datapipe: Any, iterator_id: Any, next_method_exists: bool = False
                          ) -> None:
    """Raise if `iterator_id` is no longer the DataPipe's valid iterator."""
    if next_method_exists:
        # A DataPipe that is its own iterator (`__iter__` returns self, with `__next__`).
        if datapipe._valid_iterator_id is not None and datapipe._valid_iterator_id != 0:
            extra = ("\nNote that this exception is raised inside your IterDataPipe's a "
                     "`__next__` method")
            raise RuntimeError(_gen_invalid_iterdatapipe_msg(datapipe) + extra + _feedback_msg)
    elif getattr(datapipe, "_is_child_datapipe", False) is True:
        if not hasattr(datapipe, "_check_valid_iterator_id"):
            raise RuntimeError("ChildDataPipe must have method `_check_valid_iterator_id`.")
        if not datapipe._check_valid_iterator_id(iterator_id):
            raise RuntimeError(
                "This iterator has been invalidated, because a new iterator has been created "
                "from one of the ChildDataPipes of "
                f"{_generate_iterdatapipe_msg(datapipe.main_datapipe)}." + _feedback_msg)
    elif datapipe._valid_iterator_id != iterator_id:
        raise RuntimeError(_gen_invalid_iterdatapipe_msg(datapipe) + _feedback_msg)


def _set_datapipe_valid_iterator_id(datapipe: Any) -> int:
    """A new iterator: the next id becomes the valid one and the DataPipe is reset."""
    if getattr(datapipe, "_is_child_datapipe", False) is True:
        if not hasattr(datapipe, "_set_main_datapipe_valid_iterator_id"):
            raise RuntimeError(
                "ChildDataPipe must have method `_set_main_datapipe_valid_iterator_id`.")
        datapipe._set_main_datapipe_valid_iterator_id()  # resets when appropriate
    else:
        datapipe._valid_iterator_id = (0 if datapipe._valid_iterator_id is None
                                       else datapipe._valid_iterator_id + 1)
        datapipe.reset()
    return datapipe._valid_iterator_id


class _IteratorDecorator:
    """Wraps the iterator of a DataPipe whose `__iter__` is not a generator function."""

    def __init__(self, iterator: Any, datapipe: Any, iterator_id: int,
                 has_next_method: bool) -> None:
        self.iterator = iterator
        self.datapipe = datapipe
        self.iterator_id = iterator_id
        self.self_and_has_next_method = iterator is datapipe and has_next_method

    def __iter__(self) -> _IteratorDecorator:
        return self

    def __next__(self) -> Any:
        _check_iterator_valid(self.datapipe, self.iterator_id)
        result = next(self.iterator)
        if not self.self_and_has_next_method:  # the wrapped __next__ counts it otherwise
            self.datapipe._number_of_samples_yielded += 1
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.iterator, name)


def _annotate(error: Exception, datapipe: Any) -> None:
    """Add 'This exception is thrown by __iter__ of <DataPipe>(...)' to an error's message."""
    marker = "thrown by __iter__ of"
    if not hasattr(error.args, "__len__"):
        return
    full = f"{marker} {datapipe.__class__.__name__}({_generate_input_args_string(datapipe)})"
    if len(error.args) == 0 or not isinstance(error.args[0], str):
        error.args = (f"\nThis exception is {full}",)
    elif marker not in error.args[0] and \
            "single iterator per IterDataPipe constraint" not in error.args[0]:
        error.args = (error.args[0] + f"\nThis exception is {full}", *error.args[1:])


def hook_iterator(namespace: dict[str, Any]) -> None:
    """Replace `namespace["__iter__"]` (and `__next__`) of an IterDataPipe class being made."""
    function: Callable[..., Any] = namespace["__iter__"]
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def wrap_generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            generator = function(*args, **kwargs)
            datapipe = args[0]
            if datapipe._fast_forward_iterator:
                iterator = datapipe._fast_forward_iterator
                datapipe._fast_forward_iterator = None
                datapipe._snapshot_state = _SnapshotState.Iterating
                yield from iterator
                return
            iterator_id = _set_datapipe_valid_iterator_id(datapipe)
            try:
                response = generator.send(None)
                while True:
                    datapipe._number_of_samples_yielded += 1
                    request = yield response
                    _check_iterator_valid(datapipe, iterator_id)
                    response = generator.send(request)
            except StopIteration:
                return
            except Exception as error:
                _annotate(error, datapipe)
                raise

        namespace["__iter__"] = wrap_generator
        return

    if "__next__" in namespace:
        next_function = namespace["__next__"]

        @functools.wraps(next_function)
        def wrap_next(*args: Any, **kwargs: Any) -> Any:
            datapipe = args[0]
            result = next_function(*args, **kwargs)
            datapipe._number_of_samples_yielded += 1
            return result

        namespace["__next__"] = wrap_next

    @functools.wraps(function)
    def wrap_iter(*args: Any, **kwargs: Any) -> Any:
        iterator = function(*args, **kwargs)
        datapipe = args[0]
        datapipe._snapshot_state = _SnapshotState.Iterating
        if datapipe._fast_forward_iterator:
            iterator = datapipe._fast_forward_iterator
            datapipe._fast_forward_iterator = None
            return iterator
        iterator_id = _set_datapipe_valid_iterator_id(datapipe)
        return _IteratorDecorator(iterator, datapipe, iterator_id, "__next__" in namespace)

    namespace["__iter__"] = wrap_iter
