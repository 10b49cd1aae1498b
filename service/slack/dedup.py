"""Remembering which Slack deliveries were already taken, so one question gets one answer."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol


class Dedup(Protocol):
    def seen(self, key: str) -> bool:
        """Mark key as taken; True when it already was. Must be atomic: two callers never both get False."""
        ...


class MemoryDedup:
    """Keys taken in this process, forgotten after ttl seconds (Slack stops retrying within minutes).

    Each gunicorn worker has its own: a duplicate that reaches another worker is not caught.
    A durable store shared by the workers implements the same one call.
    """

    def __init__(self, ttl: float = 3600.0, max_keys: int = 100_000):
        self._taken: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._ttl = ttl
        self._max = max_keys

    def seen(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._taken and (len(self._taken) >= self._max or next(iter(self._taken.values())) < now - self._ttl):
                self._taken.popitem(last=False)
            if key in self._taken:
                return True
            self._taken[key] = now
            return False
