"""Who may use the server over HTTP: the browser origin allowlist and the kiosk token.

The websocket checks the token in `hello`; plain HTTP routes (portrait upload, avatar clips) take it as
`Authorization: Bearer TOKEN` or, where a client cannot set headers (a <video src>), as `?token=TOKEN`.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web


class Refused(Exception):
    """A request that is refused: `status` is the HTTP status, `code` a stable word, the message says what to do."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def origin_allowed(request: web.Request, allowed: Sequence[str]) -> bool:
    """Whether the request's Origin may use the server.

    Allowed: no allowlist (local use), no Origin header (not a browser: `server.token` protects those), the
    server's own host (its page must keep working behind any proxy scheme), or an origin on the list.
    """
    origin = request.headers.get("Origin")
    if not allowed or origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if urlsplit(origin).netloc == request.host.lower():
        return True
    return origin in {entry.strip().rstrip("/").lower() for entry in allowed}


def request_token(request: web.Request) -> str | None:
    """The token a request carries: the `Authorization: Bearer` header, else the `token` query parameter."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token")


def token_matches(supplied: str | None, expected: str) -> bool:
    """Whether `supplied` is the server's token, compared in constant time (no timing hints to a guesser)."""
    return hmac.compare_digest((supplied or "").encode(), expected.encode())


def check_access(request: web.Request, allowed_origins: Sequence[str], token: str) -> None:
    """Raise Refused (403 for a foreign origin, 401 for a wrong or missing token) unless the request may proceed."""
    if not origin_allowed(request, allowed_origins):
        raise Refused(403, "forbidden_origin", "this page's origin may not use the server (server.allowed_origins)")
    if token and not token_matches(request_token(request), token):
        raise Refused(
            401, "unauthorized", "wrong or missing token: send `Authorization: Bearer TOKEN` or add `?token=TOKEN`",
            headers={"WWW-Authenticate": 'Bearer realm="empathica"'},
        )  # fmt: skip
