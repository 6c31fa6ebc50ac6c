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


# Names that always mean this machine: no other site's page can have them as its origin, so a page served under
# one of them on the port the request arrived at is the server's own.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


def origin_allowed(request: web.Request, allowed: Sequence[str], host: str = "") -> bool:
    """Whether the request's Origin may use the server.

    Allowed: no allowlist (local use), no Origin header (not a browser: `server.token` protects those), an origin
    on the list, or the server's own page: served under a loopback name or the configured `host`
    (`server.host`, when it is a name or address rather than a wildcard) on the port this connection arrived at.
    The request's Host header is never trusted for this: under DNS rebinding the attacker's domain points at this
    server, so its page's Origin equals the Host header it sends.
    """
    origin = request.headers.get("Origin")
    if not allowed or origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in {entry.strip().rstrip("/").lower() for entry in allowed}:
        return True
    return _is_own_origin(origin, request, host)


def _is_own_origin(origin: str, request: web.Request, host: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.hostname is None:
        return False
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        return False
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if not sockname or port != sockname[1]:
        return False
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    names = set(LOOPBACK_NAMES)
    configured = host.strip().lower()
    if configured not in _WILDCARD_HOSTS:
        names.add(f"[{configured.strip('[]')}]" if ":" in configured else configured)
    return name in names


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


def check_access(request: web.Request, allowed_origins: Sequence[str], token: str, host: str = "") -> None:
    """Raise Refused (403 for a foreign origin, 401 for a wrong or missing token) unless the request may proceed.

    `host` is the configured `server.host` (see `origin_allowed`).
    """
    if not origin_allowed(request, allowed_origins, host):
        raise Refused(403, "forbidden_origin", "this page's origin may not use the server (server.allowed_origins)")
    if token and not token_matches(request_token(request), token):
        raise Refused(
            401, "unauthorized", "wrong or missing token: send `Authorization: Bearer TOKEN` or add `?token=TOKEN`",
            headers={"WWW-Authenticate": 'Bearer realm="empathica"'},
        )  # fmt: skip
