"""Helpers shared by the loaders of the lexical resources."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a loader builds many small objects, none of them cyclic.

    Without it a collection pass can land in the middle of a load and triple its time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, list[V]]:
    """Collect (key, value) pairs into key -> values, in order (a plain loop: faster than setdefault)."""
    groups: dict[K, list[V]] = {}
    for key, value in pairs:
        values = groups.get(key)
        if values is None:
            groups[key] = [value]
        else:
            values.append(value)
    return groups
