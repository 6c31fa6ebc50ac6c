"""Whole turns against the real server and real models: audio and typed turns, errors, oversized messages."""

from __future__ import annotations

import io
import re

import aiohttp
import av
import pytest

from agent.empathy.schema import STRATEGIES
from agent.prompts import PromptLibrary
from agent.reply_emotion import MIN_INTENSITY
from agent.sentences import split_sentences
from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import audio_turn, clip_pcm, receive_json, text_turn, wav_bytes

pytestmark = pytest.mark.e2e

STAGES = ("perception", "llm_first_sentence", "llm_total", "tts", "render", "encode", "first_media", "total")


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/ws"


def media_durations(data: bytes) -> tuple[int, float, float]:
    """Decode the fMP4 stream: (video frames, video seconds, audio seconds)."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        frames = 0
        video_end = 0.0
        audio_samples = 0
        audio_rate = audio.codec_context.sample_rate
        for frame in container.decode(video=0, audio=0):
            if isinstance(frame, av.VideoFrame):
                frames += 1
                video_end = max(video_end, float(frame.pts * frame.time_base) + 1.0 / float(video.average_rate or 25))
            else:
                audio_samples += frame.samples
    return frames, video_end, audio_samples / audio_rate


def check_reply(result, kind: str) -> None:
    types = result.types
    assert "error" not in types, result.of_type("error")
    assert types.index("user_emotion") < types.index("reply_start") < types.index("reply_text")
    assert types[-1] == "reply_end" and not result.end["cancelled"]
    sentences = [m["text"] for m in result.of_type("reply_text")]
    assert sentences and result.end["text"] == " ".join(sentences)
    assert [m["index"] for m in result.of_type("media")] == list(range(len(result.pieces)))
    assert result.pieces[0][4:8] == b"ftyp", "piece 0 is the initialisation segment"
    frames, video_s, audio_s = media_durations(result.media)
    assert frames > 0 and audio_s > 0.3
    assert abs(video_s - audio_s) < 0.1, (video_s, audio_s)
    timings = result.end["timings_ms"]
    for stage in STAGES + (("asr",) if kind == "audio" else ()):
        assert stage in timings, (stage, timings)
    emotion = result.of_type("reply_start")[0]["emotion"]
    assert set(emotion) >= {"label", "intensity", "vad", "mixture"}


def check_model_plan(result, lens: str) -> None:
    """The chain of empathy answered with the default model's own plan, through `lens`.

    One other outcome is the product working as designed, and is checked as such: the model's words read as an
    emotion the rules forbid for the user (agent/congruence.py), so the rest of the reply is the scripted line for
    the user's emotion. Never accepted: the chain's schema fallback or a failed model.
    """
    plan, text = result.end["plan"], result.end["text"]
    if plan["source"] == "replaced" and plan.get("reason", "").startswith("incongruent words ("):
        user = result.of_type("user_emotion")[0]["emotion"]
        label = user["label"] if user["intensity"] >= MIN_INTENSITY else "neutral"  # as the rules read it
        # The scripted line finishes the reply, cut to the persona's sentence limit (at least its first sentence).
        safe = split_sentences(PromptLibrary().phrases("empathy_fallback")[label])
        endings = [" ".join(safe[:k]) for k in range(1, len(safe) + 1)]
        assert any(text.endswith(ending) for ending in endings), (text, plan)
        return
    assert plan["source"] == "model" and plan["lens"] == lens and plan["strategy"] in STRATEGIES, plan
    assert plan["response"] and plan["response"] in text, (plan, text)  # the model's words were voiced


async def test_audio_turn(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        ready = await receive_json(ws)
        assert ready["type"] == "ready" and ready["media_mime"].startswith("video/mp4")
        result = await audio_turn(ws, clip_pcm())
    transcript = result.of_type("transcript")
    assert transcript, result.messages
    words = re.sub(r"[^a-z ]", " ", transcript[0]["text"].lower()).split()
    for word in ("not", "ill", "disposed", "young", "man"):
        assert word in words, transcript[0]["text"]
    assert result.types[0] == "transcript"
    check_reply(result, "audio")


async def test_text_turn(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        result = await text_turn(ws, "I failed my driving test again and I feel like giving up.")
    assert "transcript" not in result.types
    check_reply(result, "text")
    check_model_plan(result, "person_centred")  # the default persona Mira's lens
    # Never joy at a setback: not in the face and voice, nor in the plan's reply emotion (when the model planned).
    assert result.of_type("reply_start")[0]["emotion"]["label"] != "joy"
    plan = result.end["plan"]
    assert plan["source"] != "model" or plan["reply_emotion"] in ("neutral", "sadness"), plan


async def test_crisis_turn_gets_the_scripted_safety_reply(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        result = await text_turn(ws, "I don't want to live anymore.")
    check_reply(result, "text")
    types = result.types
    assert types.index("user_emotion") < types.index("safety") < types.index("reply_start")
    safety = result.of_type("safety")[0]
    assert safety["category"] == "suicide"
    assert result.end["text"] == safety["response"] and result.end["plan"]["source"] == "safety"


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (["{this is not json"], "bad_json"),
        (['{"type": "sing"}'], "unknown_type"),
        (
            [
                '{"type": "audio_start", "format": "pcm16", "sample_rate": 8000}',
                b"\x00\x00" * 800,
                '{"type": "audio_end"}',
            ],
            "bad_audio",
        ),
        (
            ['{"type": "audio_start", "format": "wav"}', b"RIFX definitely not a wave", '{"type": "audio_end"}'],
            "bad_audio",
        ),
    ],
)
async def test_errors_then_a_turn_still_works(server: ServerProcess, frames: list, code: str) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        for frame in frames:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
        error = await receive_json(ws)
        assert error["type"] == "error" and error["code"] == code, error
        if code == "bad_json":  # one full turn on a connection that had an error is enough for the slow CPU
            result = await text_turn(ws, "Thanks for listening.")
            assert result.types[-1] == "reply_end" and "error" not in result.types


async def test_wav_at_another_rate_is_resampled(server: ServerProcess) -> None:
    """A whole WAV file at 8 kHz is accepted (resampled), unlike raw pcm16 at 8 kHz."""
    import numpy as np

    pcm16k = np.frombuffer(clip_pcm(), dtype="<i2")
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(server)) as ws:
        await receive_json(ws)
        await ws.send_json({"type": "audio_start", "format": "wav"})
        await ws.send_bytes(wav_bytes(pcm16k[::2].tobytes(), 8000))
        await ws.send_json({"type": "audio_end"})
        transcript = await receive_json(ws, timeout=300)
        assert transcript["type"] == "transcript" and "young" in transcript["text"].lower(), transcript
        await ws.send_json({"type": "cancel"})


async def test_oversized_message_closes_only_that_connection(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url(server), max_msg_size=0) as big, http.ws_connect(ws_url(server)) as other:
            await receive_json(big)
            await receive_json(other)
            await big.send_bytes(b"\x00" * 50_000_000)
            msg = await big.receive(timeout=60)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
            assert msg.data == 1009 or big.close_code == 1009, (msg, big.close_code)
            await other.send_json({"type": "text", "text": "   "})
            error = await receive_json(other)
            assert error["code"] == "empty_input", "the other connection still answers"
        async with http.get(server.url + "/healthz") as health:
            assert (await health.json())["ok"] is True
