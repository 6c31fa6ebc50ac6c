"""Storage retention: delete conversations older than `storage.retention_days` (the server runs it daily)."""

from __future__ import annotations

import logging
import time

from storage.store import ConversationStore

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400.0


def prune(store: ConversationStore, retention_days: float, now: float | None = None) -> int:
    """Delete turns older than `retention_days` (0: keep everything); returns how many turns were deleted."""
    if retention_days <= 0:
        return 0
    cutoff = (time.time() if now is None else now) - retention_days * DAY_SECONDS
    deleted = store.delete_older_than(cutoff)
    if deleted:
        log.info("retention: deleted %d turns older than %g days", deleted, retention_days)
    return deleted
