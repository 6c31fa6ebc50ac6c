"""Turn rate limits: a token bucket (at most `per_minute` events a minute on average, with bursts up to the same
number), kept per conversation and per client address."""

from __future__ import annotations

import time
from collections import OrderedDict
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


class TurnLimits:
    """The turn rate limits of one server: per conversation and per client address (one per app).

    Buckets are kept by session id, so a reconnect does not refill them, and by the client's address, so new
    conversations from one place do not either. Both are bounded LRU maps: an idle entry is forgotten after
    `max_entries` newer ones (a forgotten bucket would have refilled by then anyway). `per_address` 0 disables
    the address limit (e.g. behind a reverse proxy, where every client has the proxy's address).
    """

    def __init__(
        self,
        per_session: float,
        per_address: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 4096,
    ) -> None:
        self.per_session = per_session
        self.per_address = per_address
        self._clock = clock
        self._max_entries = max_entries
        self._sessions: OrderedDict[str, TokenBucket] = OrderedDict()
        self._addresses: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, session_id: str, address: str) -> tuple[bool, float, str]:
        """Use one turn of both allowances: (allowed, seconds to wait when not, which limit refused it)."""
        buckets = [(self._bucket(self._sessions, session_id, self.per_session), "session")]
        if self.per_address > 0:
            buckets.append((self._bucket(self._addresses, address, self.per_address), "address"))
        for bucket, name in buckets:
            if bucket.wait_seconds() > 0:
                return False, bucket.wait_seconds(), name
        for bucket, _ in buckets:
            bucket.take()
        return True, 0.0, ""

    def _bucket(self, buckets: OrderedDict[str, TokenBucket], key: str, per_minute: float) -> TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = TokenBucket(per_minute, self._clock)
            while len(buckets) > self._max_entries:
                buckets.popitem(last=False)
        buckets.move_to_end(key)
        return bucket
