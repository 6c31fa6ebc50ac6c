"""Storage retention: delete conversations older than `storage.retention_days` at start-up and once a day."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

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


def retention_context(
    store: ConversationStore, retention_days: float, interval_s: float = DAY_SECONDS
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: prune once before serving, then every `interval_s` until shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if retention_days <= 0:
            yield
            return
        await asyncio.to_thread(prune, store, retention_days)
        task = asyncio.create_task(_every(store, retention_days, interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def _every(store: ConversationStore, retention_days: float, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(prune, store, retention_days)
        except Exception:  # a locked or full database must not stop the server; the next day tries again
            log.exception("retention: could not delete old conversations")
