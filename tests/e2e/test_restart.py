"""Conversations survive a server restart: resume with `hello` + session_id + resume_secret; the store keeps the
turn, and the secret's hash with it (the bare id resumes nothing)."""

from __future__ import annotations

import aiohttp
import pytest

from storage.store import ConversationStore
from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import receive_json, text_turn

pytestmark = pytest.mark.e2e


async def test_resume_after_restart(server: ServerProcess) -> None:
    url = server.url.replace("http://", "ws://") + "/ws"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        ready = await receive_json(ws)
        session_id, secret = ready["session_id"], ready["resume_secret"]
        result = await text_turn(ws, "My cat is ill and I am worried about her.")
        assert result.types[-1] == "reply_end"
        turn_id = result.end["turn_id"]

    server.restart()  # same database, same port

    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        assert (await receive_json(ws))["session_id"] != session_id
        await ws.send_json({"type": "hello", "protocol": 1, "session_id": session_id})
        assert (await receive_json(ws))["code"] == "unauthorized", "the id alone opens nothing"
        await ws.send_json({"type": "hello", "protocol": 1, "session_id": session_id, "resume_secret": secret})
        ready = await receive_json(ws)
        assert ready["type"] == "ready" and ready["session_id"] == session_id

    store = ConversationStore(server.database)
    turns = store.turns(session_id)
    store.close()
    assert [t.turn_index for t in turns] == [turn_id]
    assert turns[0].user_text == "My cat is ill and I am worried about her."
    assert turns[0].reply_text == result.end["text"] and turns[0].agent_emotion is not None
