"""The websocket protocol (docs/protocol.md, version 1): typed client and server messages, parsing, serialising.

Client messages are parsed strictly enough to give a precise error code (bad_json, unknown_type,
invalid_message) and leniently enough to ignore unknown fields, as the protocol promises.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from core.emotion import EmotionState, VoiceAffect

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MAX_TEXT_CHARS = 2000
# Bounds on integers from clients, so that no number a client sends is larger than any the server could mean.
MAX_PROTOCOL_NUMBER = 1_000
MAX_TURN_ID = 2**31 - 1
MAX_SAMPLE_RATE = 192_000

ErrorCode = Literal[
    "bad_json",
    "unknown_type",
    "invalid_message",
    "bad_audio",
    "audio_too_long",
    "unexpected_binary",
    "busy",
    "empty_input",
    "input_too_long",  # the message does not fit the reply model's context, even alone: it was not answered
    "unauthorized",
    "rate_limited",  # more turns than `server.max_turns_per_minute`: the turn was not started
    "internal",
    # A stage failed and the turn went on degraded (server.turn.degrade); the message says what the user gets instead.
    "llm_unavailable",
    "tts_failed",
    "render_failed",
    "storage",
]


class ProtocolError(Exception):
    """A client message broke the protocol; `code` is one of the protocol's error codes."""

    def __init__(self, code: ErrorCode, message: str, turn_id: int | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.turn_id = turn_id


# ---------------------------------------------------------------- client to server


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class Hello(_ClientMessage):
    type: Literal["hello"]
    protocol: int = Field(PROTOCOL_VERSION, ge=0, le=MAX_PROTOCOL_NUMBER)
    token: str | None = None
    persona: str | None = Field(None, min_length=1, max_length=100)
    session_id: str | None = Field(None, min_length=1, max_length=100)
    # The secret `ready` gave the client that started the conversation: resuming `session_id` needs it.
    resume_secret: str | None = Field(None, max_length=200)
    # An uploaded portrait's id (POST /portraits): the avatar wears that face instead of the persona's.
    portrait: str | None = None

    @field_validator("portrait")
    @classmethod
    def _portrait_id(cls, value: str | None) -> str | None:
        if value is not None and re.fullmatch(r"[0-9a-f]{64}", value) is None:
            raise ValueError("must be a portrait_id returned by POST /portraits (64 lower-case hex digits)")
        return value


class TextInput(_ClientMessage):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class AudioStart(_ClientMessage):
    type: Literal["audio_start"]
    format: Literal["pcm16", "wav"]
    sample_rate: int | None = Field(None, gt=0, le=MAX_SAMPLE_RATE)


class AudioEnd(_ClientMessage):
    type: Literal["audio_end"]


class Cancel(_ClientMessage):
    type: Literal["cancel"]


class ListenStart(_ClientMessage):
    """Open the hands-free microphone: binary frames until `listen_stop` are a continuous PCM16 16 kHz stream."""

    type: Literal["listen_start"]
    format: Literal["pcm16"] = "pcm16"
    sample_rate: Literal[16000] = 16000


class ListenStop(_ClientMessage):
    type: Literal["listen_stop"]


class Played(_ClientMessage):
    """How many seconds of a turn's reply media the client actually played before it stopped it."""

    type: Literal["played"]
    turn_id: int = Field(ge=0, le=MAX_TURN_ID)
    seconds: float = Field(ge=0.0, le=3600.0)


ClientMessage = Hello | TextInput | AudioStart | AudioEnd | Cancel | ListenStart | ListenStop | Played
_CLIENT_TYPES: dict[str, type[ClientMessage]] = {
    "hello": Hello,
    "text": TextInput,
    "audio_start": AudioStart,
    "audio_end": AudioEnd,
    "cancel": Cancel,
    "listen_start": ListenStart,
    "listen_stop": ListenStop,
    "played": Played,
}


def parse_client_message(raw: str) -> ClientMessage:
    """Parse one text frame into a client message, or raise ProtocolError with the matching code.

    Nothing a client sends escapes as another exception: JSON nested too deeply for the parser (RecursionError)
    and integers too long to convert (ValueError) are `bad_json` like any other malformed frame.
    """
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ProtocolError("bad_json", "the JSON is nested too deeply; send a flat message object") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"not valid JSON: {exc}") from None
    except ValueError:  # an integer of thousands of digits (Python refuses to convert it), a bad surrogate
        raise ProtocolError(
            "bad_json", "the JSON holds a number too long to read; send numbers of normal size"
        ) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "a message must be a JSON object")
    kind = data.get("type")
    model = _CLIENT_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ProtocolError(
            "unknown_type", f"unknown message type {kind!r}; expected one of: {', '.join(_CLIENT_TYPES)}"
        )
    try:
        message = model.model_validate(data)
    except RecursionError:
        raise ProtocolError("invalid_message", f"invalid {kind!r} message: nested too deeply") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
        raise ProtocolError("invalid_message", f"invalid {kind!r} message: {problems}") from None
    if isinstance(message, AudioStart) and message.format == "pcm16" and message.sample_rate is None:
        raise ProtocolError("invalid_message", "audio_start with format 'pcm16' needs sample_rate (16000)")
    return message


# ---------------------------------------------------------------- server to client


class VadOut(BaseModel):
    valence: float
    arousal: float
    dominance: float


class EmotionOut(BaseModel):
    label: str
    intensity: float
    vad: VadOut
    mixture: dict[str, float]

    @classmethod
    def of(cls, state: EmotionState) -> EmotionOut:
        """The wire form of an EmotionState."""
        return cls.model_validate(state.to_dict())


class WordOut(BaseModel):
    text: str
    start: float
    end: float


class Ready(BaseModel):
    type: Literal["ready"] = "ready"
    protocol: int = PROTOCOL_VERSION
    session_id: str
    persona: str
    media_mime: str
    portrait: str | None = None  # the session's uploaded portrait id, when it has one
    # Keep it with session_id: `hello` needs both to resume this conversation (only sent once authorised).
    resume_secret: str | None = None


class TranscriptOut(BaseModel):
    type: Literal["transcript"] = "transcript"
    turn_id: int
    text: str
    language: str
    words: list[WordOut]


class SpeechStartOut(BaseModel):
    """The hands-free microphone heard the user start a turn; `barge_in`: it interrupted reply `turn_id`."""

    type: Literal["speech_start"] = "speech_start"
    barge_in: bool
    turn_id: int | None = None


class PartialTranscriptOut(BaseModel):
    """What the user has said so far in the turn they are speaking (it may still change)."""

    type: Literal["partial_transcript"] = "partial_transcript"
    text: str


class ListeningOut(BaseModel):
    """Hands-free: how the words said so far in the turn being spoken read (the partial transcript, perceived
    alone), so the listening face can mirror the user before the turn ends; it may change."""

    type: Literal["listening"] = "listening"
    emotion: EmotionOut


class SpeechEndOut(BaseModel):
    """The user's turn ended (the pause was long enough); its transcript and reply follow as turn `turn_id`."""

    type: Literal["speech_end"] = "speech_end"
    turn_id: int
    speech_ms: float  # length of the utterance
    endpoint_ms: float  # from the end of speech to this decision (the pause the endpointer waited for)


class VoiceOut(BaseModel):
    """What the voice alone said (spoken turns): its VAD estimate, how far to trust it, the nearest emotion."""

    vad: VadOut
    confidence: float
    label: str

    @classmethod
    def of(cls, voice: VoiceAffect) -> VoiceOut:
        """The wire form of a VoiceAffect."""
        v = voice.vad
        vad = VadOut(valence=v.valence, arousal=v.arousal, dominance=v.dominance)
        return cls(vad=vad, confidence=voice.confidence, label=voice.category)


class UserEmotionOut(BaseModel):
    type: Literal["user_emotion"] = "user_emotion"
    turn_id: int
    emotion: EmotionOut  # words and voice fused, smoothed across the conversation
    voice: VoiceOut | None = None  # spoken turns: the voice's own reading
    mismatch: bool = False  # the words and the voice disagree ("I'm fine" in a flat, tired voice)


class ReplyStart(BaseModel):
    type: Literal["reply_start"] = "reply_start"
    turn_id: int
    emotion: EmotionOut


class ReplyText(BaseModel):
    type: Literal["reply_text"] = "reply_text"
    turn_id: int
    text: str
    index: int


class MediaOut(BaseModel):
    type: Literal["media"] = "media"
    turn_id: int
    index: int
    bytes: int


class ReplyEnd(BaseModel):
    type: Literal["reply_end"] = "reply_end"
    turn_id: int
    text: str
    cancelled: bool
    timings_ms: dict[str, float]
    plan: dict[str, str] | None = None  # the chain-of-empathy reasoning (event, cause, strategy, ...), if any


class SafetyOut(BaseModel):
    """A message that bypassed free generation: the category, and the scripted reply that follows."""

    type: Literal["safety"] = "safety"
    turn_id: int
    category: Literal["suicide", "self_harm", "abuse", "medical"]
    response: str


class ErrorOut(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    turn_id: int | None = None


ServerMessage = Annotated[
    Ready
    | SpeechStartOut
    | PartialTranscriptOut
    | ListeningOut
    | SpeechEndOut
    | TranscriptOut
    | UserEmotionOut
    | SafetyOut
    | ReplyStart
    | ReplyText
    | MediaOut
    | ReplyEnd
    | ErrorOut,
    Field(discriminator="type"),
]
_SERVER_ADAPTER: TypeAdapter[Any] = TypeAdapter(ServerMessage)


def dump_server_message(message: BaseModel) -> str:
    """Serialise a server message to one JSON text frame (optional fields that are None are left out)."""
    return message.model_dump_json(exclude_none=True)


def load_server_message(raw: str | bytes) -> BaseModel:
    """Parse a server message (for clients, tests and the benchmark)."""
    return _SERVER_ADAPTER.validate_json(raw)


def error_message(exc: ProtocolError) -> ErrorOut:
    """The `error` message for a ProtocolError."""
    return ErrorOut(code=exc.code, message=exc.message, turn_id=exc.turn_id)
