"""Where a turn's messages go: the websocket session, or a list in tests (it speaks the protocol's types)."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from server.protocol import MediaOut


class TurnSink(Protocol):
    """Receives a turn's JSON messages and its media pieces, in order."""

    async def send(self, message: BaseModel) -> None:
        """Send one JSON message."""
        ...

    async def send_media(self, announce: MediaOut, data: bytes) -> None:
        """Send a `media` announcement and its binary frame, back to back."""
        ...
