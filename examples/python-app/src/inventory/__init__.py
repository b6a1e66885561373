"""A tiny stock-keeping module: the example project planexec's Python gates run on."""

from __future__ import annotations


class OutOfStock(Exception):
    """Raised when taking more items than are in stock."""


class Inventory:
    """Counts of items by name."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def add(self, name: str, count: int = 1) -> int:
        if count <= 0:
            raise ValueError("count must be positive")
        self._counts[name] = self._counts.get(name, 0) + count
        return self._counts[name]

    def take(self, name: str, count: int = 1) -> int:
        have = self._counts.get(name, 0)
        if count > have:
            raise OutOfStock(f"{name}: have {have}, want {count}")
        self._counts[name] = have - count
        return self._counts[name]

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def total(self) -> int:
        return sum(self._counts.values())
