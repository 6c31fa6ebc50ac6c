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
from server.ports import EncoderFactory, Perceiver, Recognizer, Renderer, ReplyEmotionChooser, Responder, Synthesizer

T = TypeVar("T")
_PATH_SUFFIXES = (".gguf", ".onnx")


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


def config_model_names(config: Config) -> list[str]:
    """The model names (not paths) the configuration needs."""
    values = [config.llm.model, config.asr.model, config.tts.voice]
    return [v for v in values if not ("/" in v or v.endswith(_PATH_SUFFIXES))]


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

    @property
    def media_mime(self) -> str:
        return self.media.media_mime


def load_media(config: Config, portrait: str | None = None, out: TextIO | None = None) -> MediaEngines:
    """Load TTS, portrait + renderer and the encoder (all that `empathica render` needs)."""
    from avatar.encoder import Mp4StreamEncoder
    from avatar.landmarks import LandmarkDetector
    from avatar.portrait import load_portrait
    from avatar.renderer import FaceRenderer
    from speech.tts.piper import PiperSynthesizer

    tts = config.tts
    synthesizer = timed_load(
        f"TTS {tts.voice}", lambda: PiperSynthesizer(voice_file(tts.voice), threads=tts.threads), out
    )
    av = config.avatar
    chosen = portrait if portrait is not None else av.portrait
    portrait_path = Path(chosen).expanduser() if chosen else None

    def build_renderer() -> Any:
        detector = LandmarkDetector()
        image = load_portrait(portrait_path, av.size, detector)
        return FaceRenderer(image, detector.detect(image), fps=av.fps)

    renderer = timed_load(f"avatar {portrait_path or 'default portrait'}", build_renderer, out)
    sample_rate = synthesizer.sample_rate

    def encoder_factory() -> Any:
        return Mp4StreamEncoder(av.size, av.fps, sample_rate)

    mime = timed_load("video encoder", lambda: encoder_factory().mime, out)
    return MediaEngines(synthesizer, renderer, encoder_factory, mime)


def load_engines(config: Config, out: TextIO | None = None) -> Engines:
    """Load every engine the configuration names, printing progress; raises EngineError."""
    from agent.llm.embedded import EmbeddedLlm
    from agent.perception import TextPerception
    from agent.prompts import render
    from agent.reply_emotion import choose_reply_emotion
    from agent.responder import Responder as AgentResponder
    from speech.asr.faster_whisper import FasterWhisperRecognizer

    asr = config.asr
    recognizer = timed_load(
        f"ASR {asr.model}",
        lambda: FasterWhisperRecognizer(
            resolve_model(asr.model), threads=asr.threads, language=asr.language or None, beam_size=asr.beam_size
        ),
        out,
    )
    perception = timed_load("perception", TextPerception, out)
    llm = config.llm
    model = timed_load(
        f"LLM {llm.model}",
        lambda: EmbeddedLlm(llm_file(llm.model), threads=llm.threads, context_tokens=llm.context_tokens, seed=llm.seed),
        out,
    )
    persona = config.persona
    system_prompt = timed_load(
        f"persona {persona.prompt}", lambda: render(persona.prompt.removesuffix(".txt"), name=persona.name), out
    )
    responder = AgentResponder(model, system_prompt, max_tokens=llm.max_reply_tokens, temperature=llm.temperature)
    media = load_media(config, out=out)
    return Engines(
        recognizer=recognizer,
        perceiver=perception.perceive,
        choose_reply_emotion=choose_reply_emotion,
        responder=responder,
        media=media,
    )
