"""A token bucket: at most `per_minute` events a minute on average, with bursts up to the same number."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows an event while a token is left; tokens refill continuously at `per_minute` / 60 a second.

    The bucket starts full, so a new session may start `per_minute` turns at once (a burst of quick typed
    messages is normal); after that it gets one more every 60 / `per_minute` seconds. `clock` is injectable so
    tests step time instead of sleeping.
    """

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self.capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def take(self) -> bool:
        """Use one token if there is one; False means the caller must refuse the event."""
        self._refill()
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def wait_seconds(self) -> float:
        """How long until the next token (0 when one is available): what to tell a refused client."""
        self._refill()
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
