"""How an app built on the school hands it something, without the school importing it.

Like ``admin.site.register``: the higher app registers in its ``AppConfig.ready()``,
the lower one iterates. Filled once at start-up, the same in every process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self) -> None:
        self._items: list[T] = []

    def register(self, item: T) -> T:
        if item not in self._items:
            self._items.append(item)
        return item

    def unregister(self, item: T) -> None:
        self._items.remove(item)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))
