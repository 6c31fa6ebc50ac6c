"""Who owns each conversation, and which connection serves it now.

A conversation is resumed with its id *and* its resume secret: `ready` hands the secret to the client that
started the conversation, and the server keeps only its sha256 (with the session's first stored turn, and here
until that turn is written). The bare id, which appears in logs and exports, opens nothing.

One connection serves a conversation at a time. A new connection that resumes it (a reconnect while the old
socket still looks open, a second tab) takes over: the old connection is closed with close code 4001
(`TAKEN_OVER`) and a reason saying so, and from then on only the new one adds turns.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from typing import Protocol

TAKEN_OVER = 4001  # websocket close code: another connection resumed this conversation
TAKEN_OVER_REASON = b"this conversation continued on another connection"
_MAX_UNSTORED = 4096  # secrets of conversations without a stored turn yet, kept in memory (oldest forgotten)


def new_secret() -> str:
    """A fresh resume secret (256 random bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """What is stored of a secret: its sha256, hex (the secret is random, so no slow hash is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str | None, secret_hash: str) -> bool:
    """Whether `secret` is the one whose hash is `secret_hash`, compared in constant time."""
    return hmac.compare_digest(hash_secret(secret or ""), secret_hash)


class Connection(Protocol):
    """What the registry needs of a live connection: a way to end it when another one takes over."""

    async def taken_over(self) -> None:
        """Close this connection: its conversation continues on another one."""
        ...


class SessionRegistry:
    """The live connection of each conversation, and the secrets of conversations not stored yet (one per app)."""

    def __init__(self, max_unstored: int = _MAX_UNSTORED) -> None:
        self._live: dict[str, Connection] = {}
        self._unstored: OrderedDict[str, str] = OrderedDict()
        self._max_unstored = max_unstored

    def remember(self, session_id: str, secret_hash: str) -> None:
        """Keep the secret hash of a conversation until its first turn is stored (a reconnect may come first)."""
        self._unstored[session_id] = secret_hash
        self._unstored.move_to_end(session_id)
        while len(self._unstored) > self._max_unstored:
            self._unstored.popitem(last=False)

    def secret_hash(self, session_id: str) -> str | None:
        """The secret hash kept in memory for `session_id`, if any (the store has the others)."""
        return self._unstored.get(session_id)

    def claim(self, session_id: str, connection: Connection) -> Connection | None:
        """Make `connection` the one serving `session_id`; returns the connection it replaces (to be closed)."""
        previous = self._live.get(session_id)
        self._live[session_id] = connection
        return previous if previous is not connection else None

    def release(self, session_id: str, connection: Connection) -> None:
        """`connection` no longer serves `session_id` (it closed, or moved to another conversation)."""
        if self._live.get(session_id) is connection:
            del self._live[session_id]

    def serving(self, session_id: str) -> Connection | None:
        """The connection serving `session_id` now, if any."""
        return self._live.get(session_id)
