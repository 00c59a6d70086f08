"""One wrapper for every backend: its public calls raise the domain's StorageError /
StorageBusy instead of the driver's own errors, so no caller knows which database it uses."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from stride.errors import StorageError

T = TypeVar("T")
S = TypeVar("S")
E = TypeVar("E", bound=BaseException)


def storage_errors(caught: tuple[type[E], ...], translate: Callable[[E], StorageError]
                   ) -> Callable[[type[S]], type[S]]:
    """A class decorator: every public coroutine (and async generator) of the class, its own
    or inherited, raises `translate(error)` instead of any error in `caught`."""
    def decorate(cls: type[S]) -> type[S]:
        for name in dir(cls):
            method = getattr(cls, name)
            if name.startswith("_"):
                continue
            if inspect.iscoroutinefunction(method):
                setattr(cls, name, translated_coroutine(method, caught, translate))
            elif inspect.isasyncgenfunction(method):
                setattr(cls, name, translated_generator(method, caught, translate))
        return cls
    return decorate


def translated_coroutine(method: Callable[..., Awaitable[T]],
                         caught: tuple[type[E], ...], translate: Callable[[E], StorageError]
                         ) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except caught as exc:
            raise translate(exc) from exc
    return wrapper


def translated_generator(method: Callable[..., AsyncGenerator[T, None]],
                         caught: tuple[type[E], ...], translate: Callable[[E], StorageError]
                         ) -> Callable[..., AsyncGenerator[T, None]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[T, None]:
        inner = method(*args, **kwargs)
        try:
            # Closed as soon as the caller stops (not when collected): it may hold a cursor.
            async with contextlib.aclosing(inner):
                async for item in inner:
                    yield item
        except caught as exc:
            raise translate(exc) from exc
    return wrapper
