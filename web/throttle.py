"""Slowing down, then locking, repeated failed sign-ins.

Counted per username (whether or not it exists, so the answers reveal nothing) and per client
address. Kept in memory: it protects one app process; several processes each keep their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

WINDOW_SECONDS = 15 * 60
SLOW_AFTER = 3  # failures before each further attempt is delayed
LOCK_AFTER = 10  # failures before the name or address is locked for the rest of the window
MAX_DELAY_SECONDS = 4.0
ADDRESS_FACTOR = 5  # a practice's tablets and desktops often share one address


def _scale(key: str) -> int:
    return ADDRESS_FACTOR if key.startswith("addr:") else 1


@dataclass
class SignInThrottle:
    window: float = WINDOW_SECONDS
    slow_after: int = SLOW_AFTER
    lock_after: int = LOCK_AFTER
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def locked_for(self, *keys: str) -> float:
        """Seconds until these may try again, or 0 when they may try now."""
        now = time.monotonic()
        with self._lock:
            waits = [
                self.window - (now - times[0])
                for key, times in ((k, self._recent(k, now)) for k in keys)
                if len(times) >= self.lock_after * _scale(key)
            ]
        return max(waits, default=0.0)

    def delay_for(self, *keys: str) -> float:
        now = time.monotonic()
        with self._lock:
            extra = max((len(self._recent(k, now)) - self.slow_after * _scale(k) + 1 for k in keys), default=0)
        return min(MAX_DELAY_SECONDS, 0.5 * extra) if extra > 0 else 0.0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget the quiet ones
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)
