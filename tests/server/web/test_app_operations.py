"""Operating the server: /metrics in the Prometheus text format, the websocket origin allowlist, retention."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from storage.store import ConversationStore, TurnRecord
from tests.server.web.test_app import connect, receive_json, start, until_reply_end


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


SAMPLE = re.compile(r'^(empathica_[a-z_]+)(\{[a-z]+="[^"]*"\})? (\S+)$')


def parse_metrics(text: str) -> dict[str, float]:
    """Samples by name plus labels; checks every line is HELP, TYPE or a prefixed sample."""
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert line.split(" ", 3)[2].startswith("empathica_")
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name.startswith("empathica_") and kind in {"counter", "gauge", "histogram"}
            typed.add(name)
        else:
            match = SAMPLE.match(line)
            assert match, line
            name, labels, value = match.groups()
            assert re.sub(r"_(bucket|sum|count)$", "", name) in typed, name
            samples[name + (labels or "")] = float(value)
    return samples


async def scrape(client: TestClient) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(await response.text())


async def test_metrics_count_connections_turns_and_errors(db: Path) -> None:
    client, store = await start(db)
    try:
        before = await scrape(client)
        assert before["empathica_websocket_connections_total"] == 0
        assert before['empathica_turns_total{kind="text"}'] == 0 and before["empathica_open_sessions"] == 0
        assert before["empathica_turn_seconds_count"] == 0

        ws, _ = await connect(client)
        await ws.send_json({"type": "text", "text": "I feel sad"})
        await until_reply_end(ws)
        await ws.send_str("{oops")
        assert (await receive_json(ws))["code"] == "bad_json"

        during = await scrape(client)
        assert during["empathica_websocket_connections_total"] == 1 and during["empathica_open_sessions"] == 1
        assert during['empathica_turns_total{kind="text"}'] == 1 and during['empathica_turns_total{kind="audio"}'] == 0
        assert during['empathica_errors_total{code="bad_json"}'] == 1
        assert during["empathica_turn_seconds_count"] == 1 and during["empathica_first_media_seconds_count"] == 1
        assert during['empathica_turn_seconds_bucket{le="+Inf"}'] == 1 and during["empathica_turn_seconds_sum"] > 0
        await ws.close()
    finally:
        await client.close()
        store.close()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://evil.example", False),
        ("https://kiosk.example", True),
        ("https://KIOSK.example/", True),
        (None, True),  # not a browser: the token protects those
        ("same", True),  # the server's own page
    ],
)
async def test_origin_allowlist(db: Path, origin: str | None, allowed: bool) -> None:
    client, store = await start(db, EMPATHICA_SERVER_ALLOWED_ORIGINS="https://kiosk.example, http://other:9")
    try:
        if origin == "same":
            origin = str(client.make_url("/")).rstrip("/")
        headers = {"Origin": origin} if origin else {}
        if allowed:
            ws = await client.ws_connect("/ws", headers=headers)
            assert (await receive_json(ws))["type"] == "ready"
            await ws.close()
        else:
            with pytest.raises(WSServerHandshakeError) as refused:
                await client.ws_connect("/ws", headers=headers)
            assert refused.value.status == 403
            assert (await scrape(client))["empathica_websocket_connections_total"] == 0
    finally:
        await client.close()
        store.close()


async def test_any_origin_without_allowlist(db: Path) -> None:
    client, store = await start(db)
    try:
        ws = await client.ws_connect("/ws", headers={"Origin": "https://anywhere.example"})
        assert (await receive_json(ws))["type"] == "ready"
        await ws.close()
    finally:
        await client.close()
        store.close()


async def test_retention_runs_at_start(db: Path) -> None:
    store = ConversationStore(db)
    store.create_session("Mira", "s")
    now = time.time()
    store.add_turn(TurnRecord("s", 0, "text", "old", "hi", created_at=now - 40 * 86_400))
    store.add_turn(TurnRecord("s", 1, "text", "recent", "hi", created_at=now - 86_400))
    store.close()
    client, store = await start(db, EMPATHICA_STORAGE_RETENTION_DAYS="30")
    try:
        assert [t.user_text for t in store.turns("s")] == ["recent"]
    finally:
        await client.close()
        store.close()
