"""The escalation hook for safety events: POST each event as JSON to a kiosk operator's webhook.

Posting happens in a background thread with a short timeout, so a slow or unreachable webhook never delays the
scripted reply; a failure is logged (the event is also in the conversation store and sent to the client).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)


class WebhookNotifier:
    """Calling it with an event dict POSTs the event to `url` in the background."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def __call__(self, event: dict[str, Any]) -> threading.Thread:
        """Send `event`; returns the sending thread (tests join it)."""
        thread = threading.Thread(target=self._post, args=(event,), name="empathica-safety-webhook", daemon=True)
        thread.start()
        return thread

    def _post(self, event: dict[str, Any]) -> None:
        try:
            response = requests.post(self.url, json=event, timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as error:
            # Webhook URLs often carry their credential in the path or query (chat-service hooks do), and the
            # event holds the user's words: the log gets neither, only where it went and which event it was.
            log.error(
                "safety webhook %s failed for the %s event of session %s, turn %s: %s",
                redact_url(self.url),
                event.get("category"),
                event.get("session_id"),
                event.get("turn_id"),
                scrub(str(error), self.url),
            )


def redact_url(url: str) -> str:
    """`url` without what may be secret (user, password, path, query): scheme, host and port only."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}/..."


def scrub(text: str, url: str) -> str:
    """`text` (e.g. an error message that quotes the URL) with the secret parts of `url` replaced by `...`."""
    parts = urlsplit(url)
    secrets = [url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.query, parts.path,
               parts.username or "", parts.password or ""]
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) > 1:  # a bare "/" is no secret, and replacing it would garble the message
            text = text.replace(secret, "...")
    return text
