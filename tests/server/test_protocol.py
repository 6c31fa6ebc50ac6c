"""Parsing client messages (every error code the parser gives) and serialising server messages."""

from __future__ import annotations

import json

import pytest

from core.emotion import EmotionState
from server.protocol import (
    AudioEnd,
    AudioStart,
    Cancel,
    EmotionOut,
    ErrorOut,
    Hello,
    ProtocolError,
    ReplyStart,
    TextInput,
    dump_server_message,
    load_server_message,
    parse_client_message,
)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ('{"type": "hello"}', Hello),
        ('{"type": "hello", "protocol": 1, "session_id": "abc", "extra": true}', Hello),
        ('{"type": "text", "text": "hi"}', TextInput),
        ('{"type": "audio_start", "format": "pcm16", "sample_rate": 16000}', AudioStart),
        ('{"type": "audio_start", "format": "wav"}', AudioStart),
        ('{"type": "audio_end"}', AudioEnd),
        ('{"type": "cancel"}', Cancel),
    ],
)
def test_valid_messages(raw: str, kind: type) -> None:
    assert isinstance(parse_client_message(raw), kind)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('"text"', "bad_json"),
        ("{}", "unknown_type"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": 3}', "unknown_type"),
        ('{"type": "text"}', "invalid_message"),
        ('{"type": "text", "text": ""}', "invalid_message"),
        ('{"type": "text", "text": 5}', "invalid_message"),
        (json.dumps({"type": "text", "text": "x" * 2001}), "invalid_message"),
        ('{"type": "audio_start", "format": "mp3"}', "invalid_message"),
        ('{"type": "audio_start", "format": "pcm16"}', "invalid_message"),
        ('{"type": "hello", "protocol": "one"}', "invalid_message"),
    ],
)
def test_errors(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(raw)
    assert info.value.code == code and info.value.message


def test_server_messages_round_trip() -> None:
    start = ReplyStart(turn_id=3, emotion=EmotionOut.of(EmotionState.from_label("joy", 0.5)))
    data = json.loads(dump_server_message(start))
    assert data["type"] == "reply_start" and data["emotion"]["label"] == "joy"
    assert set(data["emotion"]["vad"]) == {"valence", "arousal", "dominance"}
    assert load_server_message(dump_server_message(start)) == start
    error = json.loads(dump_server_message(ErrorOut(code="busy", message="wait")))
    assert "turn_id" not in error, "absent optional fields are left out"
