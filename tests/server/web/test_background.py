"""The server's background storage jobs: retention at start-up and on schedule."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import web

from server.web.background import retention_context
from storage.retention import DAY_SECONDS
from storage.store import ConversationStore, TurnRecord


async def test_background_task_prunes_at_start_and_on_schedule(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ConversationStore(path)
    store.create_session("Mira", "s")
    now = time.time()
    store.add_turn(TurnRecord("s", 0, "text", "old", "hi", created_at=now - 10 * DAY_SECONDS))
    context = retention_context(store, 5, interval_s=0.01)(web.Application())
    await context.__anext__()  # start-up: prunes before serving
    assert store.turns("s") == []
    store.add_turn(TurnRecord("s", 1, "text", "old again", "hi", created_at=now - 10 * DAY_SECONDS))
    store.add_turn(TurnRecord("s", 2, "text", "new", "hi", created_at=now))
    for _ in range(500):  # the daily run, here every 10 ms
        if len(store.turns("s")) == 1:
            break
        await asyncio.sleep(0.01)
    assert [t.user_text for t in store.turns("s")] == ["new"]
    await context.aclose()  # shutdown cancels the task
    store.close()
