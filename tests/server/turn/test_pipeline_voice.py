"""Spoken turns hear the voice: the pipeline reads it against the conversation's own baseline, fuses it with the
words, sends and stores it (fake engines; the real estimator over the real websocket is in
tests/e2e/test_voice_affect.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from core.emotion import VAD, VoiceAffect
from server.protocol import UserEmotionOut
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import RecordingSink, make_pipeline


class CountingVoice:
    """A voice-affect estimator whose arousal rises with each utterance it hears (its 'baseline' is per instance)."""

    def __init__(self) -> None:
        self.heard = 0

    def estimate(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> VoiceAffect | None:
        self.heard += 1
        return VoiceAffect(VAD(-0.6, 0.2 * self.heard, 0.0), confidence=0.8)


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "db.sqlite3")


def _audio(session: str, index: int) -> TurnInput:
    pcm = np.zeros(16000, dtype=np.int16)
    return TurnInput(session_id=session, turn_index=index, kind="audio", input_end=time.perf_counter(), pcm=pcm)


async def test_a_spoken_turn_carries_the_voice_and_the_mismatch_and_stores_them(store: ConversationStore) -> None:
    made: list[CountingVoice] = []

    def new_voice() -> CountingVoice:
        made.append(CountingVoice())
        return made[-1]

    pipeline = make_pipeline(store, voice_estimator=new_voice)
    for session, index in (("a", 0), ("a", 1), ("b", 0)):
        sink = RecordingSink()
        await pipeline.run(_audio(session, index), sink, asyncio.Event())
        message = next(m for m in sink.messages if isinstance(m, UserEmotionOut))
        assert message.voice is not None and message.voice.confidence == 0.8
        # "I feel sad today" read as mild sadness; a confident, low-valence voice agrees, so no mismatch.
        assert message.mismatch is False
    # One estimator (one speaker baseline) per conversation: "a" was heard twice, "b" once.
    assert [v.heard for v in made] == [2, 1]
    stored = store.turns("a")[1].user_emotion
    assert stored is not None and stored["voice"]["vad"]["arousal"] == pytest.approx(0.4)
    assert stored["mismatch"] is False


async def test_the_voice_moves_arousal_and_text_turns_have_none(store: ConversationStore) -> None:
    loud = make_pipeline(store, voice_estimator=lambda: _Fixed(0.9))
    soft = make_pipeline(store, voice_estimator=lambda: _Fixed(-0.9))
    readings = []
    for pipeline, session in ((loud, "loud"), (soft, "soft")):
        sink = RecordingSink()
        await pipeline.run(_audio(session, 0), sink, asyncio.Event())
        readings.append(next(m for m in sink.messages if isinstance(m, UserEmotionOut)))
    assert readings[0].emotion.vad.arousal - readings[1].emotion.vad.arousal > 0.5
    sink = RecordingSink()
    text = TurnInput(session_id="t", turn_index=0, kind="text", input_end=time.perf_counter(), text="hello there")
    await loud.run(text, sink, asyncio.Event())
    assert next(m for m in sink.messages if isinstance(m, UserEmotionOut)).voice is None


class _Fixed:
    def __init__(self, arousal: float) -> None:
        self.arousal = arousal

    def estimate(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> VoiceAffect | None:
        return VoiceAffect(VAD(0.0, self.arousal, 0.0), confidence=1.0)
