"""Fault injection: the reply model down, slow or sending garbage; the voice or the face failing; the database
locked or full. Each time the user gets a clear `error` and still a reply in some form, and the turn is kept."""

from __future__ import annotations

import asyncio
import http.server
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.llm.openai_http import OpenAiHttpLlm
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import EmotionState
from core.media import Speech
from server.turn.pipeline import TurnInput
from storage.pending import PendingTurns, journal_path
from storage.store import ConversationStore
from tests.server.fakes import FakeEncoder, FakeRenderer, FakeResponder, RecordingSink, make_pipeline

FALLBACK = PromptLibrary().load("fallback_llm")
REPLY = "I am sorry to hear that. Do you want to talk about it? I am here."


def text_turn(index: int = 0, text: str = "I feel sad today") -> TurnInput:
    return TurnInput(session_id="s1", turn_index=index, kind="text", input_end=time.perf_counter(), text=text)


def errors(sink: RecordingSink) -> list[Any]:
    return [m for m in sink.messages if m.type == "error"]


# ---------------------------------------------------------------- the reply model (a real HTTP backend)


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"data: {this is not json\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def llm_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An OpenAI-compatible URL that is down, silent (accepts, never answers) or answers garbage."""
    kind = request.param
    if kind == "down":
        yield f"http://127.0.0.1:{_closed_port()}/v1"
    elif kind == "slow":
        with socket.socket() as listener:  # the kernel accepts into the backlog; nobody ever answers
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    else:
        server = http.server.HTTPServer(("127.0.0.1", 0), _Garbage)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/v1"
        finally:
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize(
    ("llm_url", "hint"),
    [("down", "cannot reach the LLM server"), ("slow", "sent nothing for 0.3 s"), ("garbage", "not JSON")],
    indirect=["llm_url"],
)
async def test_llm_failure_gives_clear_error_and_spoken_fallback(tmp_path: Path, llm_url: str, hint: str) -> None:
    model = OpenAiHttpLlm(llm_url, "m", connect_timeout=1.0, read_timeout=0.3)
    responder = Responder(model, "You are a kind listener.")
    store = ConversationStore(tmp_path / "db.sqlite3")
    sink = RecordingSink()
    await make_pipeline(store, responder=responder).run(text_turn(), sink, asyncio.Event())

    (error,) = errors(sink)
    assert error.code == "llm_unavailable" and hint in error.message and "llm." in error.message
    spoken = [m.text for m in sink.messages if m.type == "reply_text"]
    assert " ".join(spoken) == FALLBACK
    assert sink.media, "the fallback is voiced and shown like any reply"
    end = sink.messages[-1]
    assert end.type == "reply_end" and end.text == FALLBACK and not end.cancelled
    (stored,) = store.turns("s1")
    assert stored.user_text == "I feel sad today" and stored.reply_text == FALLBACK


# ---------------------------------------------------------------- voice and face


class _FailingSecondSynthesizer:
    """Voices the first sentence, then fails."""

    sample_rate = 22050

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the voice model crashed")
        return Speech(pcm=np.full(22050, 100, dtype=np.int16), sample_rate=22050, text=text)


async def test_tts_failure_mid_reply_continues_as_text(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    sink = RecordingSink()
    synthesizer = _FailingSecondSynthesizer()
    await make_pipeline(store, synthesizer=synthesizer).run(text_turn(), sink, asyncio.Event())

    (error,) = errors(sink)
    assert error.code == "tts_failed" and "the voice model crashed" in error.message
    assert synthesizer.calls == 2  # after the first failure the turn stops asking the broken voice
    assert [m.text for m in sink.messages if m.type == "reply_text"] == REPLY.replace("? ", "?|").replace(
        ". ", ".|"
    ).split("|")
    assert sink.media, "the first sentence was voiced"
    assert sink.messages[-1].type == "reply_end" and sink.messages[-1].text == REPLY
    assert store.turns("s1")[0].reply_text == REPLY


class _RecordingEncoder(FakeEncoder):
    """Keeps the frames and audio it was given; `size` and `fps` like the real encoder."""

    size = 8
    fps = 10

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Any] = []
        self.audio: list[np.ndarray] = []

    def add(self, frames: Sequence[Any], pcm: np.ndarray, keyframe: bool = True) -> list[bytes]:
        self.frames.extend(frames)
        self.audio.append(pcm)
        return super().add(frames, pcm, keyframe)


class _BrokenFace(FakeRenderer):
    fps = 10

    def __init__(self, base: np.ndarray | None) -> None:
        self.base = base

    def render_speech(self, speech: Speech, emotion: EmotionState) -> Sequence[Any]:
        raise ValueError("the face mesh is degenerate")


@pytest.mark.parametrize("has_portrait", [True, False])
async def test_render_failure_shows_still_picture_with_real_voice(tmp_path: Path, has_portrait: bool) -> None:
    portrait = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    encoders: list[_RecordingEncoder] = []

    def factory() -> _RecordingEncoder:
        encoders.append(_RecordingEncoder())
        return encoders[-1]

    store = ConversationStore(tmp_path / "db.sqlite3")
    sink = RecordingSink()
    renderer = _BrokenFace(portrait if has_portrait else None)
    await make_pipeline(store, renderer=renderer, encoder_factory=factory).run(text_turn(), sink, asyncio.Event())

    (error,) = errors(sink)  # one error for the turn, not one per sentence
    assert error.code == "render_failed" and "degenerate" in error.message
    (encoder,) = encoders
    assert len(encoder.audio) == 3 and all(len(pcm) > 0 for pcm in encoder.audio), "the real voice, every sentence"
    seconds = sum(len(pcm) for pcm in encoder.audio) / 22050
    assert abs(len(encoder.frames) - seconds * 10) <= 3, "the picture lasts as long as the voice"
    first = encoder.frames[0]
    if has_portrait:
        assert all(np.array_equal(f, portrait) for f in encoder.frames)
    else:
        assert first.shape == (8, 8, 3) and len(np.unique(first)) == 1  # a plain frame of the encoder's size
    assert sink.messages[-1].type == "reply_end" and sink.messages[-1].text == REPLY


# ---------------------------------------------------------------- storage


def _lock(path: Path) -> sqlite3.Connection:
    """Another connection holding the database's write lock (e.g. a researcher's open transaction)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


async def test_locked_database_keeps_the_turn_and_writes_it_later(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ConversationStore(path, busy_timeout=0.05)
    pending = PendingTurns(store, journal_path(path))
    pipeline = make_pipeline(store, pending=pending)
    other = _lock(path)

    sink = RecordingSink()
    outcome = await pipeline.run(text_turn(0, "first words"), sink, asyncio.Event())
    (error,) = errors(sink)
    assert error.code == "storage" and "locked" in error.message and "kept" in error.message
    assert sink.messages[-1].type == "reply_end" and sink.messages[-1].text == REPLY, "the reply still arrives"
    assert outcome.record is not None and outcome.record.user_text == "first words"
    assert pending.waiting == 1
    assert "first words" in journal_path(path).read_text(), "kept on disk too, in case the server stops"
    assert store.turns("s1") == []

    other.execute("ROLLBACK")
    other.close()
    sink = RecordingSink()
    await pipeline.run(text_turn(1, "second words"), sink, asyncio.Event())
    assert errors(sink) == []
    assert [t.user_text for t in store.turns("s1")] == ["first words", "second words"]
    assert pending.waiting == 0 and not journal_path(path).exists()
    assert store.get_session("s1") is not None


async def test_full_disk_keeps_turns_in_order_and_flush_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ConversationStore(path)
    pending = PendingTurns(store)  # no journal: memory holds them
    pipeline = make_pipeline(store, pending=pending)
    await pipeline.run(text_turn(0, "before"), RecordingSink(), asyncio.Event())
    # A real "database or disk is full" from SQLite: cap the file at the pages it has now.
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")

    for index, text in ((1, "x" * 9000 + " one"), (2, "y" * 9000 + " two")):
        sink = RecordingSink()
        await pipeline.run(text_turn(index, text), sink, asyncio.Event())
        (error,) = errors(sink)
        assert error.code == "storage" and "full" in error.message
    assert pending.waiting == 2 and len(store.turns("s1")) == 1

    store._db.execute("PRAGMA max_page_count = 1073741823")  # space was freed
    result = pending.flush()
    assert result.written and result.waiting == 0
    assert [t.turn_index for t in store.turns("s1")] == [0, 1, 2]
    assert store.turns("s1")[2].user_text.endswith(" two")


async def test_journal_is_replayed_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ConversationStore(path, busy_timeout=0.05)
    pipeline = make_pipeline(store, pending=PendingTurns(store, journal_path(path)), responder=FakeResponder())
    other = _lock(path)
    await pipeline.run(text_turn(0, "said while locked"), RecordingSink(), asyncio.Event())
    other.execute("ROLLBACK")
    other.close()
    store.close()  # the server stops before any retry

    restarted = ConversationStore(path)
    assert PendingTurns(restarted, journal_path(path)).replay() == 1
    (turn,) = restarted.turns("s1")
    assert turn.user_text == "said while locked" and turn.reply_text == REPLY
    assert not journal_path(path).exists()
    assert PendingTurns(restarted, journal_path(path)).replay() == 0


# ---------------------------------------------------------------- the safety hook


class _Verdict:
    category = "self_harm"
    matched = "hurt myself"
    response = "I'm really glad you told me. You deserve support right now."
    score = None  # a rule matched


async def test_a_failing_safety_hook_keeps_the_reply_and_the_users_words_out_of_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_hook(event: dict[str, Any]) -> None:
        raise ConnectionError("the operator's endpoint is down")

    words = "I want to hurt myself tonight"
    store = ConversationStore(tmp_path / "db.sqlite3")
    sink = RecordingSink()
    pipeline = make_pipeline(store, safety=lambda text: _Verdict(), on_safety=broken_hook)
    await pipeline.run(text_turn(0, words), sink, asyncio.Event())
    assert sink.messages[-1].type == "reply_end" and sink.messages[-1].text == _Verdict.response
    assert "safety hook failed for the self_harm event of turn s1/0" in caplog.text
    assert words not in caplog.text and "hurt myself" not in caplog.text
    assert store.turns("s1")[0].user_text == words, "the words are kept where they belong: the store"
