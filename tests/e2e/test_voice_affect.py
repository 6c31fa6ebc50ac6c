"""The live turn hears the voice: the same words said excitedly or flatly, sent as audio over the real websocket,
give the user's emotion the arousal of how they were said (words alone cannot tell them apart)."""

from __future__ import annotations

import wave

import aiohttp
import numpy as np
import numpy.typing as npt
import pytest

from speech.audio import resample
from speech.tts.pitch_shift import shift_pitch
from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import CLIP, LIBRIVOX, collect_turn, receive_json

pytestmark = pytest.mark.e2e

# The speaker's usual voice: two other sentences by the same reader set the baseline the voice is judged against.
BASELINE = [LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav",
            LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0890.wav"]


def _pcm(path: object) -> npt.NDArray[np.int16]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def said(pcm: npt.NDArray[np.int16], semitones: float, tempo: float, gain_db: float) -> npt.NDArray[np.int16]:
    """The same recording said higher or lower, faster or slower, louder or softer."""
    x = shift_pitch(pcm, 16000, 2 ** (semitones / 12))
    x = shift_pitch(resample(x, 16000, int(16000 / tempo)), 16000, 1 / tempo)  # the rate changes, the pitch stays
    return np.clip(x.astype(np.float64) * 10 ** (gain_db / 20), -32768, 32767).astype(np.int16)


async def _speak(ws: aiohttp.ClientWebSocketResponse, pcm: npt.NDArray[np.int16]) -> dict[str, object]:
    """One spoken turn; the user_emotion message (the reply is cancelled at once: only the reading matters)."""
    import time

    await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
    data = pcm.tobytes()
    for start in range(0, len(data), 3200):
        await ws.send_bytes(data[start : start + 3200])
    await ws.send_json({"type": "audio_end"})
    ended = time.perf_counter()
    while True:
        message = await receive_json(ws, timeout=300)
        if message["type"] == "user_emotion":
            await ws.send_json({"type": "cancel"})
            break
        assert message["type"] in ("transcript", "speech_start", "partial_transcript"), message
    await collect_turn(ws, ended)  # drain the cancelled reply up to its reply_end
    return message


async def _conversation(server: ServerProcess, last: npt.NDArray[np.int16]) -> dict[str, object]:
    url = server.url.replace("http://", "ws://") + "/ws"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        assert (await receive_json(ws))["type"] == "ready"
        for path in BASELINE:
            await _speak(ws, _pcm(path))
        return await _speak(ws, last)


async def test_the_same_words_excited_and_flat_differ_in_arousal_in_the_right_order(server: ServerProcess) -> None:
    words = _pcm(CLIP)  # "he was not an ill disposed young man"
    excited = await _conversation(server, said(words, semitones=4, tempo=1.25, gain_db=8))
    flat = await _conversation(server, said(words, semitones=-3, tempo=0.85, gain_db=-10))
    for reading in (excited, flat):
        voice = reading["voice"]
        assert isinstance(voice, dict) and voice["confidence"] > 0, reading
        assert isinstance(reading["mismatch"], bool)
    arousal = [r["emotion"]["vad"]["arousal"] for r in (excited, flat)]  # type: ignore[index]
    assert arousal[0] - arousal[1] >= 0.2, arousal
    assert excited["voice"]["vad"]["arousal"] > flat["voice"]["vad"]["arousal"]  # type: ignore[index]
