"""Server limits: turns per minute per session (token bucket), open sessions (503 before the upgrade), tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import WSServerHandshakeError

from server.session.rate_limit import TokenBucket, TurnLimits
from server.web.access import request_token, token_matches
from tests.server.web.test_app import receive_json, start, until_reply_end


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = StepClock()
    bucket = TokenBucket(3, clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_seconds() == pytest.approx(20.0)  # 3 a minute: one every 20 s
    clock.now += 19.0
    assert not bucket.take()
    clock.now += 1.0
    assert bucket.take() and not bucket.take()
    clock.now += 3600.0  # a long pause refills only up to the burst size
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_turn_limits_hold_per_session_and_per_address() -> None:
    clock = StepClock()
    limits = TurnLimits(per_session=2, per_address=3, clock=clock)
    assert [limits.take("s1", "10.0.0.1")[0] for _ in range(3)] == [True, True, False]
    allowed, wait, which = limits.take("s1", "10.0.0.1")
    assert not allowed and which == "session" and wait == pytest.approx(30.0)
    assert limits.take("s2", "10.0.0.1")[:1] == (True,)  # a new session from the same place: one more
    allowed, _, which = limits.take("s3", "10.0.0.1")
    assert not allowed and which == "address"
    assert limits.take("s3", "10.0.0.2")[0], "another address has its own allowance"
    assert TurnLimits(per_session=1, per_address=0).take("s", "a")[0], "0: no address limit"


def test_bucket_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_token_comparison() -> None:
    assert token_matches("sesame", "sesame")
    assert not token_matches("sesam", "sesame")
    assert not token_matches(None, "sesame")
    assert not token_matches("sesame\u00e9", "sesame")  # non-ASCII input must not raise


async def test_turns_beyond_the_rate_are_refused_and_not_started(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_MAX_TURNS_PER_MINUTE="2")
    try:
        ws = await client.ws_connect("/ws")
        ready = await receive_json(ws)
        for _ in range(2):
            await ws.send_json({"type": "text", "text": "I feel sad today"})
            await until_reply_end(ws)
        await ws.send_json({"type": "text", "text": "and again"})
        error = await receive_json(ws)
        assert error["type"] == "error" and error["code"] == "rate_limited" and error["turn_id"] == 2
        assert "2 a minute" in error["message"]
        # The refused turn never ran: no turn message comes before the answer to hello, and only two are stored.
        await ws.send_json({"type": "hello"})
        assert (await receive_json(ws))["type"] == "ready"
        await ws.close()
        await asyncio.sleep(0)
        assert [t.turn_index for t in store.turns(ready["session_id"])] == [0, 1]
    finally:
        await client.close()
        store.close()


async def test_sessions_beyond_the_limit_get_503_before_the_upgrade(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_MAX_SESSIONS="1")
    try:
        first = await client.ws_connect("/ws")
        assert (await receive_json(first))["type"] == "ready"
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/ws")
        assert refused.value.status == 503
        await first.close()
        # The slot frees once the first session's handler returns; retry until it has (no time limit asserted).
        for _ in range(200):
            try:
                second = await client.ws_connect("/ws")
                break
            except WSServerHandshakeError:
                await asyncio.sleep(0.02)
        else:
            pytest.fail("the freed session slot was never reused")
        assert (await receive_json(second))["type"] == "ready"
        await second.close()
    finally:
        await client.close()
        store.close()


async def test_http_token_from_header_or_query(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_TOKEN="sesame")
    try:
        for headers, query in (({}, ""), ({"Authorization": "Bearer nope"}, ""), ({}, "?token=nope")):
            response = await client.post(f"/portraits{query}", data=b"x" * 10, headers=headers)
            assert response.status == 401
            body = await response.json()
            assert body["error"] == "unauthorized" and "Bearer" in body["message"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        # With the right token the request gets past the check (and fails on its content instead).
        for headers, query in (({"Authorization": "Bearer sesame"}, ""), ({}, "?token=sesame")):
            response = await client.post(f"/portraits{query}", data=b"x" * 10, headers=headers)
            assert response.status == 415
    finally:
        await client.close()
        store.close()


def test_request_token_prefers_the_header() -> None:
    from aiohttp.test_utils import make_mocked_request

    both = make_mocked_request("GET", "/avatar/clip?token=q", headers={"Authorization": "Bearer h"})
    assert request_token(both) == "h"
    assert request_token(make_mocked_request("GET", "/avatar/clip?token=q")) == "q"
    assert request_token(make_mocked_request("GET", "/x", headers={"Authorization": "Basic abc"})) is None
