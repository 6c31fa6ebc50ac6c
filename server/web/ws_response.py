"""A websocket response whose "message too big" close reaches the client as code 1009, not as a reset.

aiohttp refuses an oversized message as soon as its frame header arrives, sends the 1009 close frame and
closes the socket while the client is still sending. The kernel then answers the unread bytes with a TCP reset,
which makes the client drop the close frame and report 1006. Here the connection closes like HTTP servers'
"lingering close": shut our sending side, keep reading (and discarding) until the client has finished and hung
up, or a few seconds have passed.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import WSCloseCode, web

LINGER_S = 10.0


class LingeringWebSocketResponse(web.WebSocketResponse):
    """`web.WebSocketResponse` with a graceful close after an oversized message (see the module docstring)."""

    message_too_big = False

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG:
            self.message_too_big = True
        return await super().close(code=code, message=message, drain=drain)

    def _close_transport(self) -> None:  # aiohttp internal hook (3.9 - 3.14), covered by tests/server/web/test_app.py
        transport = self._req.transport if self._req is not None else None
        if self.message_too_big and transport is not None and transport.can_write_eof():
            transport.write_eof()  # the close frame is out; the client's remaining bytes are read and dropped
            return
        super()._close_transport()

    async def linger(self, request: web.Request) -> None:
        """After an oversized message: wait until the client hangs up (or LINGER_S), then close the socket."""
        if not self.message_too_big:
            return
        deadline = time.monotonic() + LINGER_S
        while time.monotonic() < deadline:
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(0.05)
        if request.transport is not None:
            request.transport.close()
