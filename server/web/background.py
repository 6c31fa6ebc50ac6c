"""The server's background storage jobs, as aiohttp cleanup contexts (they start before serving, stop at shutdown).

- retention: delete conversations older than `storage.retention_days` at start-up and once a day;
- pending turns: replay the journal before serving, retry waiting turns every 30 s, flush them at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from storage.pending import PendingTurns
from storage.retention import DAY_SECONDS, prune
from storage.store import ConversationStore

log = logging.getLogger(__name__)

RETRY_INTERVAL_S = 30.0


def retention_context(
    store: ConversationStore, retention_days: float, interval_s: float = DAY_SECONDS
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: prune once before serving, then every `interval_s` until shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if retention_days <= 0:
            yield
            return
        await asyncio.to_thread(prune, store, retention_days)
        task = asyncio.create_task(_prune_every(store, retention_days, interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def _prune_every(store: ConversationStore, retention_days: float, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(prune, store, retention_days)
        except Exception:  # a locked or full database must not stop the server; the next day tries again
            log.exception("retention: could not delete old conversations")


def retry_context(
    pending: PendingTurns, interval_s: float = RETRY_INTERVAL_S
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: replay the journal before serving, retry every `interval_s`, flush at shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(pending.replay)
        task = asyncio.create_task(_retry_every(pending, interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            result = await asyncio.to_thread(pending.flush)
            if result.waiting:
                where = f"kept in {pending.journal}" if pending.journal else "lost: no journal file"
                log.error("%d turn(s) could not be stored before shutdown (%s); %s", result.waiting, result.error,
                          where)

    return context


async def _retry_every(pending: PendingTurns, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        if not pending.waiting:
            continue
        result = await asyncio.to_thread(pending.flush)
        if result.waiting:
            log.warning("%d turn(s) still waiting to be stored: %s", result.waiting, result.error)
