"""Who holds one of the server's `max_sessions` conversation slots, and the connections still saying who they are.

Without `server.token` every connection is a conversation at once: it takes a slot before the websocket upgrade
(HTTP 503 when none is free). With a token, a connection holds no slot until its `hello` carries the token. The
connections still waiting for that are a pool of their own, as large as `max_sessions`: a newcomer that finds
it full closes the connection that has waited longest, and each waiting connection is closed by its session once
`server.hello_timeout_seconds` have passed. So sockets that never say `hello` cannot keep a real client out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

Close = Callable[[], Awaitable[object]]


class Admission:
    """The slot count and the waiting pool of one server (one per app; used from the event loop only)."""

    def __init__(self, max_sessions: int) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        self.max_sessions = max_sessions
        self._held = 0
        self._waiting: OrderedDict[Hashable, Close] = OrderedDict()

    @property
    def held(self) -> int:
        """Slots in use: the conversations being served."""
        return self._held

    @property
    def waiting(self) -> int:
        """Connections that have not said `hello` with the token yet."""
        return len(self._waiting)

    def full(self) -> bool:
        """Every slot is in use."""
        return self._held >= self.max_sessions

    def take(self) -> bool:
        """Take a slot if one is free; False when the server is full."""
        if self.full():
            return False
        self._held += 1
        return True

    def give_back(self) -> None:
        """Free a slot taken with `take`."""
        self._held = max(0, self._held - 1)

    def wait(self, key: Hashable, close: Close) -> Close | None:
        """Add a connection that has yet to authorise itself; returns how to close the one it displaces, if any."""
        self._waiting[key] = close
        if len(self._waiting) > self.max_sessions:
            _, oldest = self._waiting.popitem(last=False)
            return oldest
        return None

    def done_waiting(self, key: Hashable) -> None:
        """The connection authorised itself, or closed."""
        self._waiting.pop(key, None)
