"""The hands-free microphone over the websocket: a real Silero VAD and endpointer on real speech, fake engines.

Covers a spoken turn (speech_start, speech_end, transcript, reply), barge-in (the reply stops, the client's
`played` report cuts the stored reply), odd-sized frames, and listen_stop finishing a turn being spoken.
"""

from __future__ import annotations

import asyncio
import json
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType

from core.media import Transcript
from tests.server.fakes import FakeRecognizer, FakeResponder
from tests.server.web.test_app import fake_engines, start

CLIP = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
CHUNK = 3200  # 100 ms of 16 kHz PCM16 samples


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    if not CLIP.exists():
        pytest.fail(f"{CLIP} is missing: install the Debian package pocketsphinx-testdata")
    with wave.open(str(CLIP)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def frames(pcm: np.ndarray, silence_s: float = 1.0, chunk: int = CHUNK) -> list[bytes]:
    audio = np.concatenate([pcm, np.zeros(int(silence_s * 16000), np.int16)]).astype("<i2").tobytes()
    return [audio[i : i + chunk * 2] for i in range(0, len(audio), chunk * 2)]


async def messages_until(ws: Any, kind: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Text messages (binary frames skipped) up to and including the first of type `kind`."""
    seen: list[dict[str, Any]] = []
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type == WSMsgType.BINARY:
            continue
        assert msg.type == WSMsgType.TEXT, msg
        seen.append(json.loads(msg.data))
        if seen[-1]["type"] == kind:
            return seen


async def stream(ws: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        await ws.send_bytes(chunk)


@pytest.mark.models
async def test_a_spoken_turn_is_detected_transcribed_and_answered(tmp_path: Path, speech: np.ndarray) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    try:
        ws = await client.ws_connect("/ws")
        await messages_until(ws, "ready")
        await ws.send_json({"type": "listen_start", "format": "pcm16", "sample_rate": 16000})
        await stream(ws, frames(speech))
        seen = await messages_until(ws, "reply_end")
        types = [m["type"] for m in seen]
        assert types.index("speech_start") < types.index("speech_end") < types.index("transcript")
        assert types.index("transcript") < types.index("reply_start") < types.index("reply_end")
        start_msg = next(m for m in seen if m["type"] == "speech_start")
        assert start_msg["barge_in"] is False
        end_msg = next(m for m in seen if m["type"] == "speech_end")
        assert end_msg["turn_id"] == 0
        assert 2000 < end_msg["speech_ms"] < 3000  # the clip: speech from 0.26 s to 2.78 s
        assert 0 < end_msg["endpoint_ms"] < 1000
        reply_end = seen[-1]
        assert reply_end["cancelled"] is False and reply_end["timings_ms"]["endpoint"] == end_msg["endpoint_ms"]
        session = next(m for m in seen if m["type"] == "transcript")
        assert session["text"] == "I feel sad today"  # the fake recogniser's text: the turn got the utterance
        await ws.close()
        stored = store.export_turns()
        assert [(t.input_kind, t.user_text) for _, t in stored] == [("audio", "I feel sad today")]
    finally:
        await client.close()
        store.close()


@pytest.mark.models
async def test_speaking_over_a_reply_stops_it_and_stores_what_was_heard(tmp_path: Path, speech: np.ndarray) -> None:
    gate = threading.Event()  # the reply's second sentence waits until the test releases it: a reply in progress
    responder = FakeResponder(sentences=("I am sorry to hear that.", "Do you want to talk about it?"), gate=gate)
    client, store = await start(tmp_path / "db.sqlite3", engines=fake_engines(responder))
    try:
        ws = await client.ws_connect("/ws")
        ready = await messages_until(ws, "ready")
        session_id = ready[-1]["session_id"]
        await ws.send_json({"type": "listen_start"})
        await ws.send_json({"type": "text", "text": "I had a rough day"})
        await messages_until(ws, "media")  # the first sentence is out: the avatar is speaking
        await stream(ws, frames(speech[: 16000 * 2], silence_s=0.0, chunk=1601))  # odd-sized frames
        seen = await messages_until(ws, "speech_start")
        assert seen[-1] == {"type": "speech_start", "barge_in": True, "turn_id": 0}
        seen = await messages_until(ws, "reply_end")
        assert seen[-1]["turn_id"] == 0 and seen[-1]["cancelled"] is True
        gate.set()  # the cancelled reply's model thread may finish: the next turn waits for the model to be free
        assert not [m for m in seen if m["type"] == "reply_text" and m["index"] == 1]  # nothing after the barge-in
        # The client had played 0.3 s of the first sentence's 0.5 s ("I am sorry" of "I am sorry to hear that.").
        await ws.send_json({"type": "played", "turn_id": 0, "seconds": 0.3})
        await stream(ws, frames(np.zeros(0, np.int16), silence_s=1.0))  # the user stops: their turn ends
        seen = await messages_until(ws, "reply_end")
        assert seen[-1]["turn_id"] == 1 and seen[-1]["cancelled"] is False
        await ws.close()
        turns = store.turns(session_id)
        assert [(t.turn_index, t.reply_text, t.cancelled) for t in turns] == [
            (0, "I am sorry…", True),
            (1, "I am sorry to hear that. Do you want to talk about it?", False),
        ]
    finally:
        gate.set()
        await client.close()
        store.close()


class GatedRecognizer(FakeRecognizer):
    """Holds its first transcription until `gate` is set: a turn that has not started its reply yet."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        self.gate.wait(10)
        return super().transcribe(pcm, sample_rate)


@pytest.mark.models
async def test_speaking_again_before_the_reply_started_is_no_barge_in(tmp_path: Path, speech: np.ndarray) -> None:
    # A pause mid-sentence can end a turn; the user goes on while it is still being transcribed. The avatar has
    # said nothing, so nothing is interrupted: the unanswered turn stops and the newest utterance is answered.
    gate = threading.Event()
    engines = fake_engines()
    engines.recognizer = GatedRecognizer(gate)
    client, store = await start(tmp_path / "db.sqlite3", engines=engines)
    try:
        ws = await client.ws_connect("/ws")
        session_id = (await messages_until(ws, "ready"))[-1]["session_id"]
        await ws.send_json({"type": "listen_start"})
        await stream(ws, frames(speech, silence_s=0.6))
        seen = await messages_until(ws, "speech_end")
        assert seen[-1]["turn_id"] == 0
        await stream(ws, frames(speech[: 16000 * 2], silence_s=0.0))  # ... and goes on speaking
        seen = await messages_until(ws, "speech_start")
        assert seen[-1] == {"type": "speech_start", "barge_in": False}  # no reply named: none was interrupted
        gate.set()
        await stream(ws, frames(np.zeros(0, np.int16), silence_s=1.0))
        seen = await messages_until(ws, "reply_end")
        assert seen[-1]["turn_id"] == 1 and seen[-1]["cancelled"] is False
        assert not [m for m in seen if m.get("turn_id") == 0 and m["type"] in ("reply_start", "reply_end")]
        await ws.close()
        assert [(t.turn_index, t.cancelled) for t in store.turns(session_id)] == [(0, True), (1, False)]
    finally:
        gate.set()
        await client.close()
        store.close()


@pytest.mark.models
async def test_listen_stop_ends_a_turn_being_spoken(tmp_path: Path, speech: np.ndarray) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    try:
        ws = await client.ws_connect("/ws")
        await messages_until(ws, "ready")
        await ws.send_json({"type": "listen_start"})
        await stream(ws, frames(speech[: 16000 * 2], silence_s=0.0))
        await ws.send_json({"type": "listen_stop"})
        seen = await messages_until(ws, "reply_end")
        assert "speech_end" in [m["type"] for m in seen]
        # After listen_stop, binary frames are no longer microphone audio.
        await ws.send_bytes(b"\x00\x00" * 100)
        error = await messages_until(ws, "error")
        assert error[-1]["code"] == "unexpected_binary"
    finally:
        await client.close()
        store.close()


async def test_listen_start_inside_an_utterance_is_refused(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    try:
        ws = await client.ws_connect("/ws")
        await messages_until(ws, "ready")
        await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
        await ws.send_json({"type": "listen_start"})
        error = await messages_until(ws, "error")
        assert error[-1]["code"] == "invalid_message" and "listen_start" in error[-1]["message"]
        await ws.send_json({"type": "listen_start", "sample_rate": 8000})
        error = await messages_until(ws, "error")
        assert error[-1]["code"] == "invalid_message"
    finally:
        await client.close()
        store.close()
