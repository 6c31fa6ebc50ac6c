"""Per-persona engines against the real server: the session's persona picks its therapy lens and its voice."""

from __future__ import annotations

import io

import aiohttp
import av
import pytest

from tests.e2e.server_process import ServerProcess
from tests.e2e.test_conversation import check_model_plan, check_reply, ws_url
from tests.e2e.ws_client import receive_json, text_turn

pytestmark = pytest.mark.e2e


async def test_kai_reasons_through_reality_therapy(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        await ws.send_json({"type": "hello", "persona": "Kai"})
        ready = await receive_json(ws)
        assert ready["type"] == "ready" and ready["persona"] == "Kai"
        result = await text_turn(ws, "I missed my bus and now I will be late for work.")
    check_reply(result, "text")
    # Kai's own chain (the reality-therapy system prompt) answered, and the model wrote the plan: the lens is
    # recorded by the chain that reasoned (Mira's chain says person_centred: test_text_turn).
    check_model_plan(result, "reality")


async def test_sunny_speaks_with_the_hibari_voice(server: ServerProcess) -> None:
    """Sunny's voice (hibari, 24 kHz) loads on first use; a crisis turn voices it without the LLM."""
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        await ws.send_json({"type": "hello", "persona": "sunny"})
        assert (await receive_json(ws))["persona"] == "sunny"
        result = await text_turn(ws, "I don't want to live anymore.")
    check_reply(result, "text")
    assert result.of_type("safety") and result.end["plan"]["source"] == "safety"
    with av.open(io.BytesIO(result.media)) as container:
        assert container.streams.audio[0].codec_context.sample_rate == 24000
