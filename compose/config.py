"""One typed configuration for the whole product: defaults, an optional TOML file, environment overrides.

Precedence: built-in defaults (`compose/default.toml`) < `--config FILE` < EMPATHICA_<SECTION>_<KEY> variables.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_FILE = Path(__file__).with_name("default.toml")
ENV_PREFIX = "EMPATHICA_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    max_message_bytes: int = Field(8_000_000, gt=0)
    max_utterance_seconds: float = Field(60.0, gt=0)
    token: str = ""  # when set, clients must send it in `hello` before any turn
    history_turns: int = Field(8, ge=0)  # stored turns given to the LLM as context
    # Browser origins allowed to open the websocket (e.g. "https://kiosk.example"); empty: any origin.
    allowed_origins: list[str] = Field(default_factory=list)
    max_sessions: int = Field(16, ge=1)  # open conversations; more get HTTP 503 before the websocket upgrade
    max_turns_per_minute: int = Field(20, ge=1)  # per session (a token bucket); more get error `rate_limited`
    # The same, per client address across its sessions (a reconnect refills neither); 0: no address limit.
    max_turns_per_minute_per_address: int = Field(60, ge=0)
    # With `token` set: a connection must send `hello` with it within this many seconds (and again after a wrong
    # one), else it is closed; until then it holds no session slot.
    hello_timeout_seconds: float = Field(5.0, gt=0)
    max_portrait_bytes: int = Field(5_000_000, gt=0)  # POST /portraits bodies; larger get HTTP 413
    max_portraits: int = Field(200, ge=1)  # uploaded portraits kept on disk; the least recently used go first

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Environment overrides arrive as one string: EMPATHICA_SERVER_ALLOWED_ORIGINS="https://a,https://b".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class StorageSettings(_Section):
    database: str = "~/.local/share/empathica/conversations.sqlite3"
    retention_days: float = Field(0.0, ge=0.0)  # delete turns older than this; 0: keep forever

    @property
    def path(self) -> Path:
        return Path(self.database).expanduser()


class LlmSettings(_Section):
    backend: Literal["embedded", "openai", "transformers"] = "embedded"
    model: str = "qwen2.5-coder-1.5b"  # embedded: a model name or GGUF path; openai: the server's model name
    adapter: str = ""  # a LoRA adapter: `empathica finetune`'s folder, or a GGUF adapter (embedded) (docs/finetune.md)
    base_url: str = "http://127.0.0.1:8000/v1"  # openai backend: the OpenAI-compatible API root
    api_key: str = ""  # openai backend: sent as a bearer token when set
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)  # openai backend: longest wait for any data, first token included
    threads: int = Field(2, ge=1)
    context_tokens: int = Field(4096, ge=256)
    max_reply_tokens: int = Field(96, ge=8)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    seed: int = 7
    # After each reply, process the conversation's latest exchange into the prompt cache while the user reads or
    # types, so the next turn processes only the new message (agent.prompt_cache). The transformers backend keeps
    # no cache between calls, so it never primes.
    prime_cache: bool = True

    @property
    def primes_cache(self) -> bool:
        """Whether the server warms the prompt cache between turns (`prime_cache` on a backend that keeps one)."""
        return self.prime_cache and self.backend != "transformers"


class AsrSettings(_Section):
    model: str = "whisper-base"
    threads: int = Field(2, ge=1)
    language: str = "en"  # "" detects: 0.7 s of a 1.5 s transcription on 2 cores, for a pipeline that is English anyway
    beam_size: int = Field(1, ge=1)
    voice_affect: bool = True  # read how spoken turns sound (pitch, loudness, rate) and fuse it with the words


class TtsSettings(_Section):
    engine: Literal["piper", "hibari"] = "piper"
    voice: str = "piper-joe"  # piper: a model name or .onnx path; hibari: "hibari-heart" or a hibari .onnx path
    threads: int = Field(1, ge=1)


class ListenSettings(_Section):
    """Streaming input: voice activity and end-of-turn detection (speech.streaming.EndpointerConfig)."""

    vad_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    release_threshold: float = Field(0.45, gt=0.0, lt=1.0)
    hangover_ms: int = Field(160, ge=32)
    min_speech_ms: int = Field(160, ge=32)
    partial_interval_ms: int = Field(800, ge=0)  # 0: no partial transcripts


class AvatarSettings(_Section):
    portrait: str = ""
    size: int = Field(512, ge=128, le=1024)
    fps: int = Field(25, ge=10, le=60)
    clip_seconds: float = Field(4.0, ge=1.0, le=20.0)  # length of the looping idle / listening clips
    # Portraits (names or image paths) wearing glasses whose top rims the face mesh takes for brows: their rims
    # stay still and the skin above them moves instead (avatar.brows).
    glasses_portraits: list[str] = Field(default_factory=lambda: ["grace_hopper"])


class EmpathySettings(_Section):
    enabled: bool = True  # false: the plain responder (no chain of empathy)
    lens: Literal["cbt", "dbt", "person_centred", "reality"] = "cbt"
    max_tokens: int = Field(220, ge=32)  # the whole JSON plan: reasoning fields + the spoken response
    temperature: float = Field(0.6, ge=0.0, le=2.0)
    warm_up: bool = True  # process the system prompt at start-up so the first reply comes from the prompt cache
    acknowledge: bool = True  # a short first reaction (prompts/acknowledgements.txt) while the chain reasons
    compact_neutral: bool = True  # a message without a feeling gets a compact plan (event, response): faster
    settle_after_reaction: bool = True  # after a first reaction, a settled plan (event, cause, response): faster
    open_with_detail: bool = True  # after a first reaction the response opens with it, then "you" or the user's word


class SafetySettings(_Section):
    enabled: bool = True
    hotline_text: str = "If you are in danger right now, please call your local emergency number."
    webhook_url: str = ""  # when set, each safety event is POSTed there as JSON (for a kiosk operator)


class MemorySettings(_Section):
    summary_every: int = Field(4, ge=1)  # refresh the running summary after this many new turns
    summarizer: Literal["llm", "extractive"] = "llm"


class PersonaSettings(_Section):
    name: str = "Mira"
    prompt: str = "persona_default.txt"
    # The agent's emotion dynamics (agent.transition): E' = E + (1 + k·T)·ΔE + pull·(T - E), |ΔE| <= max_shift.
    transition_k: float = Field(0.5, ge=0.0)
    transition_pull: float = Field(0.1, ge=0.0, le=1.0)
    transition_max_shift: float = Field(0.6, gt=0.0)


class Config(_Section):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    llm: LlmSettings = LlmSettings()
    asr: AsrSettings = AsrSettings()
    tts: TtsSettings = TtsSettings()
    listen: ListenSettings = ListenSettings()
    avatar: AvatarSettings = AvatarSettings()
    persona: PersonaSettings = PersonaSettings()
    empathy: EmpathySettings = EmpathySettings()
    safety: SafetySettings = SafetySettings()
    memory: MemorySettings = MemorySettings()


class ConfigError(ValueError):
    """The configuration file or an environment override is invalid; the message says which key."""


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration: defaults, then `path` (if given), then environment overrides."""
    data = _read_toml(DEFAULT_FILE)
    if path is not None:
        _merge(data, _read_toml(path))
    _merge(data, _env_overrides(os.environ if environ is None else environ))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    # Values stay strings: pydantic converts them to each field's type and reports bad ones by key.
    sections = set(Config.model_fields)
    out: dict[str, dict[str, str]] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        section, _, field = key[len(ENV_PREFIX) :].lower().partition("_")
        if section in sections and field:
            out.setdefault(section, {})[field] = value
    return out


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
