"""The turn pipeline's emotion wiring: the session's persona reaches the reply-emotion chooser, and the user's
emotion is smoothed across turns (with fake engines)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.emotion import EmotionState
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import RecordingSink, make_pipeline


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "db.sqlite3")


def _turn(text: str, persona: str = "Kai", previous_user: EmotionState | None = None) -> TurnInput:
    return TurnInput(
        session_id="s1",
        turn_index=0,
        kind="text",
        input_end=time.perf_counter(),
        text=text,
        persona=persona,
        previous_user_emotion=previous_user,
    )


async def test_persona_reaches_the_reply_emotion_chooser(store: ConversationStore) -> None:
    seen: list[str] = []

    def choose(user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
        seen.append(persona)
        return EmotionState.from_label("neutral", 0.1)

    await make_pipeline(store, choose_reply_emotion=choose).run(
        _turn("hello", "Sunny"), RecordingSink(), asyncio.Event()
    )
    assert seen == ["Sunny"]


async def test_user_emotion_is_smoothed_with_the_previous_turn(store: ConversationStore) -> None:
    joyful = EmotionState.from_label("joy", 0.9)
    outcome = await make_pipeline(store).run(
        _turn("I feel sad", previous_user=joyful), RecordingSink(), asyncio.Event()
    )
    raw = EmotionState.from_label("sadness", 0.5)  # what the fake perceiver reads
    assert outcome.user_emotion is not None
    assert outcome.user_emotion.vad.valence > raw.vad.valence  # the earlier joy still colours it a little
    first = await make_pipeline(store).run(_turn("I feel sad"), RecordingSink(), asyncio.Event())
    assert first.user_emotion == raw  # nothing to smooth with on a session's first turn
