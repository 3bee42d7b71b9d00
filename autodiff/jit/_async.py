"""torch.jit.fork / wait: in TorchScript `fork` runs a call asynchronously; outside it (and
here, where scripted code is Python) the call runs at once and its Future is already done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "fork", "wait"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """The result of a call, once it is set (torch.futures.Future)."""

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], Any]] = []

    def done(self) -> bool:
        return self._done

    def set_result(self, result: T) -> None:
        self._finish(result, None)

    def set_exception(self, result: BaseException) -> None:
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._finish(None, result)

    def _finish(self, result: Any, exception: BaseException | None) -> None:
        if self._done:
            raise RuntimeError("Future can only be marked completed once.")
        self._done, self._result, self._exception = True, result, exception
        for callback in self._callbacks:
            callback(self)

    def wait(self) -> T:
        """The result (the call's exception, raised, where it failed)."""
        if not self._done:
            raise RuntimeError("autodiff.jit.Future.wait: the future has no result yet and "
                               "nothing else can set it in this thread")
        return self.value()

    def value(self) -> T:
        if self._exception is not None:
            raise self._exception
        return self._result

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A Future of `callback(self)`, run once this one is done."""
        chained: Future[S] = Future()

        def run(future: Future[T]) -> None:
            try:
                chained.set_result(callback(future))
            except Exception as error:
                chained.set_exception(error)

        self.add_done_callback(run)
        return chained

    def add_done_callback(self, callback: Callable[[Future[T]], Any]) -> None:
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)


def fork(func: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """Run `func(*args, **kwargs)` and return a done Future of its result. An exception it
    raises is raised here, as PyTorch's eager `fork` does."""
    future: Future[T] = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future[T]) -> T:
    """The result of a `fork`."""
    return future.wait()
