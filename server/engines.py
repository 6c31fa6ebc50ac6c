"""Build the engines from configuration, once, at start-up (the only place that knows concrete engine classes).

Each loader prints a progress line ("loading ASR whisper-base ... 1.2 s") so a user waiting for the server
knows what it is doing. A missing or corrupt model becomes an `EngineError` whose message says how to fix it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

from core.provision import ModelError, model_dir
from server.config import Config
from server.ports import (
    EncoderFactory,
    Perceiver,
    Recognizer,
    Renderer,
    ReplyEmotionChooser,
    Responder,
    SafetyCheck,
    Summarizer,
    Synthesizer,
)

T = TypeVar("T")
_PATH_SUFFIXES = (".gguf", ".onnx")
# Sentence embeddings for text perception (agent.perception); always needed, so not a configuration key.
PERCEPTION_MODEL = "minilm-l6"


class EngineError(RuntimeError):
    """An engine could not be loaded; the message says what to do (exit code 2 in the CLI)."""


def resolve_model(value: str) -> Path:
    """A configured model: a path when it contains '/' or ends with .gguf/.onnx, else a model name.

    Names resolve to their verified directory under the models home (core.provision.model_dir).
    """
    if "/" in value or value.endswith(_PATH_SUFFIXES):
        path = Path(value).expanduser()
        if not path.exists():
            raise ModelError(f"model path {path} does not exist; fix the configuration or install a model by name")
        return path
    return model_dir(value)


def llm_file(value: str) -> Path:
    """The GGUF file of a configured LLM (a name or a path)."""
    path = resolve_model(value)
    return path / "model.gguf" if path.is_dir() else path


def voice_file(value: str) -> Path:
    """The .onnx file of a configured piper voice (a name or a path)."""
    path = resolve_model(value)
    if path.is_dir():
        voices = sorted(path.glob("*.onnx"))
        if not voices:
            raise ModelError(f"{path} holds no .onnx piper voice; install one with `empathica models install`")
        return voices[0]
    return path


HIBARI_VOICE = "hibari-heart"  # the voice inside the hibari-tts package (a pip dependency, not a model package)


def voice_engine(voice: str) -> str:
    """The TTS engine a voice name belongs to: "hibari" for hibari voices, else "piper" (for per-persona voices)."""
    return "hibari" if voice.startswith("hibari") else "piper"


def load_synthesizer(engine: str, voice: str, threads: int) -> Any:
    """A TTS engine for `voice`: hibari ("hibari-heart" or a hibari .onnx path) or piper (a name or .onnx path)."""
    if engine == "hibari":
        from speech.tts.hibari import HibariSynthesizer

        if voice == HIBARI_VOICE:
            return HibariSynthesizer(None, threads=threads)
        if not ("/" in voice or voice.endswith(".onnx")):
            raise ModelError(f"tts.voice {voice!r} is not a hibari voice: use {HIBARI_VOICE!r} or a hibari .onnx path")
        return HibariSynthesizer(resolve_model(voice), threads=threads)
    from speech.tts.piper import PiperSynthesizer

    return PiperSynthesizer(voice_file(voice), threads=threads)


def make_endpointer(config: Config) -> Any:
    """A fresh end-of-turn detector for one microphone stream (each stream needs its own VAD state)."""
    from speech.streaming.endpointer import Endpointer, EndpointerConfig
    from speech.streaming.vad import SileroVad

    listen = config.listen
    return Endpointer(
        SileroVad(),
        EndpointerConfig(
            threshold=listen.vad_threshold,
            release_threshold=listen.release_threshold,
            hangover_ms=listen.hangover_ms,
            min_speech_ms=listen.min_speech_ms,
            partial_interval_ms=listen.partial_interval_ms,
        ),
    )


def config_model_names(config: Config) -> list[str]:
    """The model names (not paths) the configuration needs."""
    values = [config.asr.model]
    if config.tts.engine == "piper":  # hibari's voice comes with its pip package
        values.append(config.tts.voice)
    if config.llm.backend == "embedded":  # an HTTP backend's model name belongs to that server
        values.insert(0, config.llm.model)
    return [v for v in values if not ("/" in v or v.endswith(_PATH_SUFFIXES))] + [PERCEPTION_MODEL]


def timed_load(label: str, load: Callable[[], T], out: TextIO | None = None) -> T:
    """Run `load`, printing `loading LABEL ... 1.2 s`; load failures become EngineError."""
    out = out or sys.stderr
    print(f"[empathica] loading {label} ...", end="", flush=True, file=out)
    start = time.perf_counter()
    try:
        result = load()
    except ModelError as exc:
        print(" failed", file=out, flush=True)
        raise EngineError(str(exc)) from exc
    except Exception as exc:  # engines raise their own error types (LlmError, PortraitError, NoFaceError ...)
        print(" failed", file=out, flush=True)
        raise EngineError(f"could not load {label}: {exc}") from exc
    print(f" {time.perf_counter() - start:.1f} s", file=out, flush=True)
    return result


@dataclass
class MediaEngines:
    """What turns text into a talking face: the voice, the face renderer and a per-turn encoder factory."""

    synthesizer: Synthesizer
    renderer: Renderer
    encoder_factory: EncoderFactory
    media_mime: str


@dataclass
class Engines:
    """Every engine a conversation needs, loaded once and shared by all sessions (one turn at a time)."""

    recognizer: Recognizer
    perceiver: Perceiver
    choose_reply_emotion: ReplyEmotionChooser
    responder: Responder
    media: MediaEngines
    safety: SafetyCheck | None = None
    on_safety: Callable[[dict[str, Any]], object] | None = None
    memory: Summarizer | None = None

    @property
    def media_mime(self) -> str:
        return self.media.media_mime


def load_media(config: Config, portrait: str | None = None, out: TextIO | None = None) -> MediaEngines:
    """Load TTS, portrait + renderer and the encoder (all that `empathica render` needs)."""
    from avatar.encoder import Mp4StreamEncoder
    from avatar.landmarks import LandmarkDetector, default_cache_dir
    from avatar.portrait import load_portrait
    from avatar.renderer import FaceRenderer

    tts = config.tts
    synthesizer = timed_load(
        f"TTS {tts.engine} {tts.voice}", lambda: load_synthesizer(tts.engine, tts.voice, tts.threads), out
    )
    av = config.avatar
    chosen = portrait if portrait is not None else av.portrait
    portrait_path = Path(chosen).expanduser() if chosen else None

    def build_renderer() -> Any:
        detector = LandmarkDetector(cache_dir=default_cache_dir())
        image = load_portrait(portrait_path, av.size, detector)
        return FaceRenderer(image, detector.detect(image), fps=av.fps)

    renderer = timed_load(f"avatar {portrait_path or 'default portrait'}", build_renderer, out)
    sample_rate = synthesizer.sample_rate

    def encoder_factory() -> Any:
        return Mp4StreamEncoder(av.size, av.fps, sample_rate)

    mime = timed_load("video encoder", lambda: encoder_factory().mime, out)
    return MediaEngines(synthesizer, renderer, encoder_factory, mime)


def load_llm(config: Config, out: TextIO | None = None) -> Any:
    """The configured chat model: embedded llama.cpp, or a client for an OpenAI-compatible server."""
    llm = config.llm
    if llm.backend == "openai":
        from agent.llm.openai_http import OpenAiHttpLlm

        return timed_load(
            f"LLM client {llm.model} at {llm.base_url}",
            lambda: OpenAiHttpLlm(
                llm.base_url,
                llm.model,
                api_key=llm.api_key,
                connect_timeout=llm.connect_timeout,
                read_timeout=llm.read_timeout,
            ),
            out,
        )
    from agent.llm.embedded import EmbeddedLlm

    return timed_load(
        f"LLM {llm.model}",
        lambda: EmbeddedLlm(llm_file(llm.model), threads=llm.threads, context_tokens=llm.context_tokens, seed=llm.seed),
        out,
    )


def load_responder(config: Config, model: Any, out: TextIO | None = None) -> Responder:
    """The reply step: the chain of empathy (default) or the plain responder, with the configured persona."""
    from agent.empathy.chain import EmpathyChain
    from agent.prompts import render
    from agent.responder import Responder as AgentResponder

    persona = config.persona
    system_prompt = timed_load(
        f"persona {persona.prompt}", lambda: render(persona.prompt.removesuffix(".txt"), name=persona.name), out
    )
    empathy, llm = config.empathy, config.llm
    if not empathy.enabled:
        return AgentResponder(model, system_prompt, max_tokens=llm.max_reply_tokens, temperature=llm.temperature)
    chain = timed_load(
        f"chain of empathy ({empathy.lens})",
        lambda: EmpathyChain(
            model,
            system_prompt,
            lens=empathy.lens,
            max_tokens=empathy.max_tokens,
            temperature=empathy.temperature,
            max_history_messages=2 * config.server.history_turns,
        ),
        out,
    )
    if empathy.warm_up:
        try:
            timed_load("prompt cache (system prompt)", chain.warm_up, out)
        except EngineError as exc:  # e.g. an HTTP server that is not up yet: turns will say so if it stays down
            print(f"[empathica] warning: {exc}", file=out or sys.stderr, flush=True)
    return chain


def load_safety(config: Config) -> tuple[SafetyCheck | None, Callable[[dict[str, Any]], object] | None]:
    """The safety screen and the escalation hook (None where disabled or not configured)."""
    from agent.safety import SafetyScreen
    from server.safety_hook import WebhookNotifier

    safety = config.safety
    if not safety.enabled:
        return None, None
    try:
        screen = SafetyScreen(safety.hotline_text)
    except Exception as exc:  # a broken prompts/safety_*.txt: refuse to start rather than run unscreened
        raise EngineError(f"could not load the safety rules: {exc}") from exc
    return screen.check, (WebhookNotifier(safety.webhook_url) if safety.webhook_url else None)


def load_memory(config: Config, model: Any) -> Summarizer:
    """The running-summary memory (LLM summaries, or extractive ones if so configured)."""
    from agent.memory import SummaryMemory

    memory = config.memory
    return SummaryMemory(model if memory.summarizer == "llm" else None, every_turns=memory.summary_every)


def load_perception(out: TextIO | None = None) -> Any:
    """Text perception: MiniLM sentence embeddings + lexical cues (agent.perception.TextPerception)."""
    from agent.perception import TextPerception
    from agent.perception.minilm import MiniLmEncoder

    return timed_load(
        f"perception {PERCEPTION_MODEL}", lambda: TextPerception(MiniLmEncoder(model_dir(PERCEPTION_MODEL))), out
    )


def load_reply_emotion(config: Config) -> ReplyEmotionChooser:
    """The personality-weighted transition of the agent's emotion, per persona (agent.transition).

    Sessions name their persona (client `hello.persona`, else `persona.name`); an unknown name gets the
    configured persona's temperament, or Mira's when the configured name is not a shipped persona either.
    """
    from agent.personas import PersonaError, find_persona, load_personas, persona_temperaments
    from agent.transition import PersonaTransition

    personas = load_personas()
    try:
        default = find_persona(config.persona.name, personas)
    except PersonaError:
        default = find_persona("mira", personas)
    return PersonaTransition(persona_temperaments(personas), default=default.temperament)


def load_engines(config: Config, out: TextIO | None = None) -> Engines:
    """Load every engine the configuration names, printing progress; raises EngineError."""
    from speech.asr.faster_whisper import FasterWhisperRecognizer

    asr = config.asr
    recognizer = timed_load(
        f"ASR {asr.model}",
        lambda: FasterWhisperRecognizer(
            resolve_model(asr.model), threads=asr.threads, language=asr.language or None, beam_size=asr.beam_size
        ),
        out,
    )
    perception = load_perception(out)
    model = load_llm(config, out)
    responder = load_responder(config, model, out)
    safety, on_safety = load_safety(config)
    media = load_media(config, out=out)
    return Engines(
        recognizer=recognizer,
        perceiver=perception.perceive,
        choose_reply_emotion=load_reply_emotion(config),
        responder=responder,
        media=media,
        safety=safety,
        on_safety=on_safety,
        memory=load_memory(config, model),
    )
