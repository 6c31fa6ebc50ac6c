"""Hands-free listening: while the user speaks, each partial transcript is perceived and sent as `listening`,
so the face can mirror the user before their turn ends (a real VAD and endpointer on real speech, fake engines)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from server.protocol import ListeningOut, load_server_message
from tests.server.session.test_mic_stream import frames as mic_frames
from tests.server.session.test_mic_stream import messages_until, speech, stream
from tests.server.web.test_app import start

__all__ = ["speech"]  # the module fixture: the clip as 16 kHz PCM


@pytest.mark.models
async def test_partial_transcripts_come_with_how_the_words_read(tmp_path: Path, speech: np.ndarray) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    try:
        ws = await client.ws_connect("/ws")
        await messages_until(ws, "ready")
        await ws.send_json({"type": "listen_start"})
        # Speech without the closing pause: the turn is still being spoken while the partials come.
        await stream(ws, mic_frames(speech, silence_s=0.0))
        seen = await messages_until(ws, "listening")
        types = [m["type"] for m in seen]
        assert types.index("speech_start") < types.index("partial_transcript") < types.index("listening")
        assert "speech_end" not in types
        listening = seen[-1]
        # The fake recogniser hears "I feel sad today"; the fake perceiver reads "sad" as sadness.
        assert listening["emotion"]["label"] == "sadness" and listening["emotion"]["intensity"] > 0
        assert isinstance(load_server_message(json.dumps(listening)), ListeningOut)  # a documented message
        await stream(ws, mic_frames(np.zeros(0, np.int16), silence_s=1.0))  # the pause ends the turn
        seen = await messages_until(ws, "reply_end")
        user_emotion = next(m for m in seen if m["type"] == "user_emotion")
        assert user_emotion["emotion"]["label"] == "sadness"
    finally:
        await client.close()
        store.close()
