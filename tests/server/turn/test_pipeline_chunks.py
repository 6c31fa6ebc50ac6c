"""The media half in chunks: a sentence's first fragment ships before the sentence is drawn, the next sentence is
voiced while this one is drawn, the audio stays in step with the frames, and a cancel stops within a sentence."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from avatar.arrays import Image
from core.emotion import EmotionState
from core.media import Speech
from server.protocol import MediaOut
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import FakeEncoder, FakeRenderer, FakeResponder, RecordingSink, make_pipeline

LONG = " ".join(["word"] * 29) + " end."  # 30 words: 3 s of voice, 75 frames, seven 0.5 s chunks (12 frames)
SECOND = "And one more thing."
WAIT_S = 30.0  # a broken pipeline would block here; a working one never waits this long


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "db.sqlite3")


def text_turn() -> TurnInput:
    return TurnInput(session_id="s1", turn_index=0, kind="text", input_end=time.perf_counter(), text="I feel sad")


class _Voice:
    """0.1 s a word of a ramp (so slices can be matched back), and a flag per sentence voiced."""

    sample_rate = 22050

    def __init__(self) -> None:
        self.voiced: dict[str, threading.Event] = {}
        self.made: dict[str, Speech] = {}

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        n = 2205 * len(text.split())
        speech = Speech(pcm=(np.arange(n) % 20000).astype(np.int16), sample_rate=22050, text=text)
        self.made[text] = speech
        self.voiced.setdefault(text, threading.Event()).set()
        return speech

    def event(self, text: str) -> threading.Event:
        return self.voiced.setdefault(text, threading.Event())


class _Face(FakeRenderer):
    """Draws lazily; before chunk `hold_at` it waits for `gate` and notes whether the gate opened in time."""

    def __init__(self, hold_at: int = 1 << 30, gate: threading.Event | None = None) -> None:
        self.hold_at = hold_at
        self.gate = gate or threading.Event()
        self.opened: list[bool] = []
        self.drawn = 0
        self.drawing = 0  # chunks being drawn right now (in a worker thread)

    def speech_chunks(self, speech: Speech, emotion: EmotionState, chunk_frames: int) -> Iterator[Sequence[Image]]:
        n = round(speech.duration * self.fps)

        def chunks() -> Iterator[Sequence[Image]]:
            for index, start in enumerate(range(0, n, chunk_frames)):
                self.drawing += 1
                if index == self.hold_at:
                    self.opened.append(self.gate.wait(WAIT_S))
                self.drawn += 1
                self.drawing -= 1
                yield [np.zeros((4, 4, 3), np.uint8)] * (min(start + chunk_frames, n) - start)

        return chunks()


class _Encoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[int] = []
        self.audio: list[np.ndarray] = []
        self.keyframes: list[bool] = []

    def add(self, frames: Sequence[Image], pcm: np.ndarray, keyframe: bool = True) -> list[bytes]:
        self.frames.append(len(frames))
        self.audio.append(pcm)
        self.keyframes.append(keyframe)
        return super().add(frames, pcm, keyframe)


class _Sink(RecordingSink):
    def __init__(self) -> None:
        super().__init__()
        self.on_media: Any = None

    async def send_media(self, announce: MediaOut, data: bytes) -> None:
        await super().send_media(announce, data)
        if self.on_media is not None:
            self.on_media()


def _pipeline(store: ConversationStore, face: _Face, voice: _Voice, encoders: list[_Encoder], *sentences: str) -> Any:
    def factory() -> _Encoder:
        encoders.append(_Encoder())
        return encoders[-1]

    responder = FakeResponder(sentences=sentences)
    return make_pipeline(store, responder=responder, renderer=face, synthesizer=voice, encoder_factory=factory)


async def test_the_first_fragment_ships_before_the_sentence_is_drawn(store: ConversationStore) -> None:
    gate = threading.Event()
    face, voice, encoders = _Face(hold_at=2, gate=gate), _Voice(), []
    sink = _Sink()
    sink.on_media = gate.set  # the third chunk is drawn only once media has gone out
    outcome = await _pipeline(store, face, voice, encoders, LONG).run(text_turn(), sink, asyncio.Event())

    assert face.opened == [True], "media was sent while the sentence was still being drawn"
    (encoder,) = encoders
    assert encoder.frames == [12, 12, 12, 12, 12, 12, 3]
    assert encoder.keyframes == [True] + [False] * 6, "one keyframe starts the sentence; its parts go on from it"
    # Lip-sync: each chunk carries exactly the audio of its frames, and together they are the whole voice.
    assert [len(a) for a in encoder.audio[:-1]] == [round(12 * 22050 / 25)] * 6
    assert np.array_equal(np.concatenate(encoder.audio), voice.made[LONG].pcm)
    texts = [i for i, m in enumerate(sink.messages) if m.type == "reply_text"]
    media = [i for i, m in enumerate(sink.messages) if m.type == "media"]
    assert texts[0] < media[0], "the sentence's text comes before its media"
    ((text, start, end),) = [(s.text, s.start, s.end) for s in outcome.timeline.sentences]
    assert text == LONG and start == 0.0 and end == pytest.approx(3.0)
    end_msg = sink.messages[-1]
    assert end_msg.type == "reply_end" and end_msg.text == LONG and not end_msg.cancelled
    for stage in ("first_text", "first_media", "model_media", "tts", "render", "encode"):
        assert stage in end_msg.timings_ms, stage


async def test_the_next_sentence_is_voiced_while_this_one_is_drawn(store: ConversationStore) -> None:
    voice = _Voice()
    face, encoders = _Face(hold_at=0, gate=voice.event(SECOND)), []
    sink = _Sink()
    await _pipeline(store, face, voice, encoders, LONG, SECOND).run(text_turn(), sink, asyncio.Event())

    assert face.opened[0], "the second sentence was voiced before the first one's face was drawn"
    assert [m.text for m in sink.messages if m.type == "reply_text"] == [LONG, SECOND]
    (encoder,) = encoders
    assert sum(encoder.frames) == 75 + 10 and encoder.keyframes.count(True) == 2
    assert sink.messages[-1].text == f"{LONG} {SECOND}"


async def test_a_cancel_stops_within_the_sentence(store: ConversationStore) -> None:
    cancel = asyncio.Event()
    face, voice, encoders = _Face(), _Voice(), []
    sink = _Sink()
    sink.on_media = cancel.set  # barge-in as the first fragment arrives
    outcome = await _pipeline(store, face, voice, encoders, LONG, SECOND).run(text_turn(), sink, cancel)

    (encoder,) = encoders
    assert sum(encoder.frames) < 75, "the rest of the sentence was not encoded"
    assert face.drawn < 7 and face.drawing == 0, "drawing stopped, and no worker thread is left drawing"
    end = sink.messages[-1]
    assert end.type == "reply_end" and end.cancelled and end.text == LONG
    assert [m.text for m in sink.messages if m.type == "reply_text"] == [LONG], "the next sentence is not said"
    # The sentence is on the timeline with its whole length, so what the client played cuts it within its words.
    assert outcome.timeline.text_until(0.6) == "word word word word word word…"  # 0.2 of its characters
    (stored,) = store.turns("s1")
    assert stored.cancelled and stored.reply_text == LONG
