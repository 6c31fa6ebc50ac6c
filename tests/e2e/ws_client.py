"""A minimal protocol client for end-to-end tests and the latency benchmark."""

from __future__ import annotations

import io
import json
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
CLIP = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed young man"
REPLY_TIMEOUT_S = 600.0


@dataclass
class TurnResult:
    """Everything the server sent for one turn, in order; `media` is the concatenated fMP4."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)
    first_media_s: float | None = None  # end of input -> first media piece, as the client saw it
    first_moof_s: float | None = None  # end of input -> first media fragment (a moof: playable, not the init segment)
    first_text_s: float | None = None  # end of input -> the reply's first sentence as text

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]

    @property
    def media(self) -> bytes:
        return b"".join(self.pieces)

    @property
    def end(self) -> dict[str, Any]:
        return self.of_type("reply_end")[-1]


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 60.0) -> dict[str, Any]:
    """The next text message (fails on anything else)."""
    msg = await ws.receive(timeout=timeout)
    if msg.type != aiohttp.WSMsgType.TEXT:
        raise AssertionError(f"expected a text message, got {msg.type}: {msg.data!r}")
    return json.loads(msg.data)


async def collect_turn(
    ws: aiohttp.ClientWebSocketResponse, input_end: float, timeout: float = REPLY_TIMEOUT_S
) -> TurnResult:
    """Read one turn's messages until reply_end, or until an error that ends the turn before a reply."""
    result = TurnResult()
    deadline = time.monotonic() + timeout
    expect_binary = False
    while True:
        msg = await ws.receive(timeout=max(1.0, deadline - time.monotonic()))
        if msg.type == aiohttp.WSMsgType.BINARY:
            assert expect_binary, "a binary frame arrived without a media announcement"
            if result.first_media_s is None:
                result.first_media_s = time.perf_counter() - input_end
            if result.first_moof_s is None and msg.data[4:8] == b"moof":
                result.first_moof_s = time.perf_counter() - input_end
            result.pieces.append(msg.data)
            expect_binary = False
            continue
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"connection ended mid-turn: {msg.type} {msg.data!r}")
        data = json.loads(msg.data)
        result.messages.append(data)
        if data["type"] == "reply_text" and result.first_text_s is None:
            result.first_text_s = time.perf_counter() - input_end
        if data["type"] == "media":
            expect_binary = True
        if data["type"] == "reply_end":
            return result
        if data["type"] == "error" and "reply_start" not in result.types:
            return result


async def text_turn(ws: aiohttp.ClientWebSocketResponse, text: str) -> TurnResult:
    """Send a typed turn and collect the reply."""
    await ws.send_json({"type": "text", "text": text})
    return await collect_turn(ws, time.perf_counter())


def clip_pcm(path: Path = CLIP) -> bytes:
    """The raw 16 kHz mono PCM16 samples of a WAV clip."""
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.readframes(w.getnframes())


async def audio_turn(ws: aiohttp.ClientWebSocketResponse, pcm: bytes, chunk: int = 3200) -> TurnResult:
    """Stream 16 kHz PCM16 in 100 ms frames, as a microphone would, and collect the reply."""
    await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
    for start in range(0, len(pcm), chunk):
        await ws.send_bytes(pcm[start : start + chunk])
    await ws.send_json({"type": "audio_end"})
    return await collect_turn(ws, time.perf_counter())


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """A WAV file around mono PCM16 samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buffer.getvalue()
