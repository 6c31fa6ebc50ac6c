"""The escalation hook for safety events: POST each event as JSON to a kiosk operator's webhook.

Posting happens in a background thread with a short timeout, so a slow or unreachable webhook never delays the
scripted reply; a failure is logged (the event is also in the conversation store and sent to the client).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

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
            log.error("safety webhook %s failed for event %s: %s", self.url, event, error)
