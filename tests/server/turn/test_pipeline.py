"""The turn pipeline's orchestration, with fake engines: event order, media order, timings, cancel, failures."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import server.turn.pipeline as pipeline_module
from agent.base import ChatMessage
from core.emotion import EmotionState
from core.media import Speech
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import INIT, FakeRecognizer, FakeResponder, FakeSynthesizer, RecordingSink, make_pipeline


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "db.sqlite3")


def text_turn(text: str = "I feel sad today", index: int = 0) -> TurnInput:
    return TurnInput(session_id="s1", turn_index=index, kind="text", input_end=time.perf_counter(), text=text)


def audio_turn() -> TurnInput:
    pcm = np.zeros(16000, dtype=np.int16)
    return TurnInput(session_id="s1", turn_index=0, kind="audio", input_end=time.perf_counter(), pcm=pcm)


def _collapse(types: list[str]) -> list[str]:
    out: list[str] = []
    for t in types:
        if not out or out[-1] != t or t not in ("media",):
            out.append(t)
    return out


async def test_text_turn_event_order_and_storage(store: ConversationStore) -> None:
    sink = RecordingSink()
    outcome = await make_pipeline(store).run(text_turn(), sink, asyncio.Event())

    assert _collapse(sink.types) == [
        "user_emotion",
        "reply_start",
        "reply_text",
        "media",
        "reply_text",
        "media",
        "reply_text",
        "media",
        "reply_end",
    ]
    assert sink.media[0] == INIT and sink.media[-1] == b"last-fragment"
    indexes = [m.index for m in sink.messages if m.type == "media"]
    assert indexes == list(range(len(sink.media)))
    assert [m.index for m in sink.messages if m.type == "reply_text"] == [0, 1, 2]

    end = sink.messages[-1]
    assert end.text == "I am sorry to hear that. Do you want to talk about it? I am here." and not end.cancelled
    for stage in ("perception", "llm_first_sentence", "llm_total", "tts", "render", "encode", "first_media", "total"):
        assert stage in end.timings_ms, stage
    assert "asr" not in end.timings_ms

    assert outcome.record is not None
    (stored,) = store.turns("s1")
    assert stored.user_text == "I feel sad today" and stored.reply_text == end.text
    assert stored.user_emotion["label"] == "sadness" and stored.agent_emotion["label"] == "neutral"
    assert stored.input_kind == "text" and not stored.cancelled and "total" in stored.timings


async def test_audio_turn_sends_transcript_first(store: ConversationStore) -> None:
    sink = RecordingSink()
    await make_pipeline(store).run(audio_turn(), sink, asyncio.Event())
    assert sink.types[:3] == ["transcript", "user_emotion", "reply_start"]
    transcript = sink.messages[0]
    assert transcript.text == "I feel sad today" and [w.text for w in transcript.words][:2] == ["I", "feel"]
    assert "asr" in sink.messages[-1].timings_ms
    assert store.turns("s1")[0].input_kind == "audio"


async def test_empty_transcript_is_empty_input_and_not_stored(store: ConversationStore) -> None:
    sink = RecordingSink()
    await make_pipeline(store, recognizer=FakeRecognizer("  ")).run(audio_turn(), sink, asyncio.Event())
    assert sink.types == ["error"] and sink.messages[0].code == "empty_input"
    assert store.turns("s1") == []


async def test_cancel_stops_within_a_sentence_and_stores_partial_reply(store: ConversationStore) -> None:
    gate = threading.Event()
    responder = FakeResponder(gate=gate)
    sink = RecordingSink()
    cancel = asyncio.Event()

    def on_message(message: object) -> None:
        if getattr(message, "type", None) == "reply_text":
            cancel.set()  # the user interrupts while the first sentence is being voiced

    sink.on_message = on_message
    run = asyncio.create_task(make_pipeline(store, responder=responder).run(text_turn(), sink, cancel))
    await asyncio.sleep(0.2)
    gate.set()  # let the LLM thread go on; it must stop at the next sentence boundary
    await asyncio.wait_for(run, 10)

    assert sink.types.count("reply_text") == 1
    end = sink.messages[-1]
    assert end.type == "reply_end" and end.cancelled and end.text == "I am sorry to hear that."
    assert responder.closed, "the LLM generator was closed"
    (stored,) = store.turns("s1")
    assert stored.cancelled and stored.reply_text == "I am sorry to hear that."


async def test_a_cancel_before_the_first_sentence_is_spoken_frees_the_model_at_once(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model's thread holds after its first sentence until that sentence's first video is out; cancelled
    # before it is spoken, the sentence never goes out, and the hold must end with the turn, not at its limit.
    monkeypatch.setattr(pipeline_module, "FIRST_MEDIA_HEAD_START_S", 60.0)
    cancel = asyncio.Event()

    class Interrupted(FakeSynthesizer):
        def synthesize(self, text: str, emotion: EmotionState) -> Speech:
            cancel.set()  # the user interrupts while the first sentence is being voiced
            return super().synthesize(text, emotion)

    sink = RecordingSink()
    pipeline = make_pipeline(store, synthesizer=Interrupted())
    await asyncio.wait_for(pipeline.run(text_turn(), sink, cancel), 10)  # the model is idle when the turn ends
    assert sink.messages[-1].type == "reply_end" and sink.messages[-1].cancelled


async def test_cancel_before_reply_starts(store: ConversationStore) -> None:
    cancel = asyncio.Event()
    cancel.set()
    sink = RecordingSink()
    await make_pipeline(store).run(text_turn(), sink, cancel)
    assert "reply_text" not in sink.types
    (stored,) = store.turns("s1")
    assert stored.cancelled and stored.user_text == "I feel sad today" and stored.reply_text == ""


async def test_tts_failure_gives_text_reply_and_turn_is_stored(store: ConversationStore) -> None:
    sink = RecordingSink()
    await make_pipeline(store, synthesizer=FakeSynthesizer(fail=True)).run(text_turn(), sink, asyncio.Event())
    errors = [m for m in sink.messages if m.type == "error"]
    assert len(errors) == 1 and errors[0].code == "tts_failed" and "tts" in errors[0].message
    assert errors[0].turn_id == 0
    assert sink.types[-1] == "reply_end" and "media" not in sink.types
    assert len([m for m in sink.messages if m.type == "reply_text"]) == 3  # the whole reply, as text
    (stored,) = store.turns("s1")
    assert stored.user_text == "I feel sad today" and stored.user_emotion is not None


async def test_llm_failure_mid_reply_keeps_what_was_sent(store: ConversationStore) -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(store, responder=FakeResponder(fail_after=1))
    await pipeline.run(text_turn(), sink, asyncio.Event())
    errors = [m for m in sink.messages if m.type == "error"]
    assert errors and errors[0].code == "llm_unavailable" and "the model fell over" in errors[0].message
    fallback = "I'm sorry, I lost my train of thought for a moment. Could you tell me that again?"
    assert sink.messages[-1].text == f"I am sorry to hear that. {fallback}"
    assert store.turns("s1")[0].reply_text == f"I am sorry to hear that. {fallback}"


async def test_history_is_passed_to_the_responder(store: ConversationStore) -> None:
    responder = FakeResponder()
    pipeline = make_pipeline(store, responder=responder)
    await pipeline.run(text_turn("first"), RecordingSink(), asyncio.Event())
    second = text_turn("second", index=1)
    second.history = store.history("s1", 8)
    await pipeline.run(second, RecordingSink(), asyncio.Event())
    assert [m.role for m in responder.calls[1]] == ["user", "assistant"]
    assert responder.calls[1][0].content == "first"


class _BrokenWarmUp(FakeResponder):
    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        raise ConnectionError("the LLM server is down")


async def test_priming_warms_the_responder_with_the_next_turns_history(store: ConversationStore) -> None:
    responder = FakeResponder()
    pipeline = make_pipeline(store, responder=responder, memory_window=1)
    await pipeline.run(text_turn("first"), RecordingSink(), asyncio.Event())
    await pipeline.run(text_turn("second", index=1), RecordingSink(), asyncio.Event())
    assert await pipeline.prime("", None, store.history("s1", 8))
    # The mind's window (one exchange here), as the next turn's reply gets it.
    assert [m.content for m in responder.primed[-1]] == ["second", store.turns("s1")[1].reply_text]


async def test_priming_never_holds_up_a_turn_and_is_optional(store: ConversationStore) -> None:
    responder = FakeResponder()
    pipeline = make_pipeline(store, responder=responder)
    history = [ChatMessage("user", "hi"), ChatMessage("assistant", "hello")]
    async with pipeline.guards.llm:  # another session's turn has the model
        assert not await pipeline.prime("", None, history)
    assert responder.primed == []
    assert await pipeline.prime("", None, history) and responder.primed == [history]
    pipeline.prime_cache = False
    assert not await pipeline.prime("", None, history) and len(responder.primed) == 1


async def test_a_failed_priming_is_logged_not_raised(
    store: ConversationStore, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = make_pipeline(store, responder=_BrokenWarmUp())
    assert not await pipeline.prime("", None, [ChatMessage("user", "hi")])
    assert "could not warm the prompt cache" in caplog.text
    assert not pipeline.guards.llm.busy  # the model is free for the next turn
