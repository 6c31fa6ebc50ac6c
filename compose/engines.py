"""Build the engines from configuration, once, at start-up (the only place that knows concrete engine classes).

Each loader prints a progress line ("loading ASR whisper-base ... 1.2 s") so a user waiting for the server
knows what it is doing. A missing or corrupt model becomes an `EngineError` whose message says how to fix it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

from agent.acknowledgement import Acknowledger
from agent.base import Perceiver, ReplyEmotionChooser, Responder, SafetyCheck, Summarizer
from agent.sentences import ReplyLength
from avatar.base import EncoderFactory, Renderer
from compose.config import Config
from compose.models import HIBARI_VOICE, PERCEPTION_MODEL, llm_file, resolve_model, voice_engine, voice_file
from compose.persona_engines import PersonaEngineCache, PersonaSpec
from core.provision import ModelError, model_dir
from speech.base import Recognizer, Synthesizer, VoiceEstimator

T = TypeVar("T")


class EngineError(RuntimeError):
    """An engine could not be loaded; the message says what to do (exit code 2 in the CLI)."""


def load_synthesizer(engine: str, voice: str, threads: int) -> Synthesizer:
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
    # Each session's persona picks its lens, voice and portrait; `responder` and `media` are the configured
    # persona's (also what a server without this cache uses for every session).
    personas: PersonaEngineCache | None = None
    # A new voice-affect estimator, one per conversation (its speaker baseline); None: words alone.
    voice_estimator: Callable[[], VoiceEstimator] | None = None
    acknowledger: Acknowledger | None = None  # the first reaction while the chain reasons

    @property
    def media_mime(self) -> str:
        return self.media.media_mime


def synthesizer_loader(config: Config, out: TextIO | None = None) -> Callable[[str], Synthesizer]:
    """Load a TTS voice by name; the configured voice keeps its configured engine, others go by their name."""
    tts = config.tts

    def load(voice: str) -> Synthesizer:
        engine = tts.engine if voice == tts.voice else voice_engine(voice)
        return timed_load(f"TTS {engine} {voice}", lambda: load_synthesizer(engine, voice, tts.threads), out)

    return load


def wears_glasses(config: Config, portrait: str) -> bool:
    """Whether a portrait ("astronaut"/"", "grace_hopper", or an image path) wears glasses whose rims the renderer
    must keep still: `avatar.glasses_portraits` names it, or a marker file lies beside it
    (avatar.portrait.glasses_marker, as uploads marked so have)."""
    from agent.personas import portrait_path
    from avatar.portrait import glasses_marker

    path = portrait_path(portrait)
    return portrait in config.avatar.glasses_portraits or (path is not None and glasses_marker(path).is_file())


def renderer_loader(config: Config, out: TextIO | None = None) -> Callable[[str], Renderer]:
    """Load a face renderer for a portrait: "astronaut"/"" (default), "grace_hopper", or an image path (with its
    glasses kept still when `wears_glasses`)."""
    from agent.personas import portrait_path

    av = config.avatar

    def load(portrait: str) -> Renderer:
        from avatar.landmarks import LandmarkDetector, default_cache_dir
        from avatar.portrait import load_portrait
        from avatar.renderer import FaceRenderer

        path = portrait_path(portrait)

        def build() -> Renderer:
            detector = LandmarkDetector(cache_dir=default_cache_dir())
            image = load_portrait(path, av.size, detector)
            glasses = wears_glasses(config, portrait)
            return FaceRenderer(image, detector.detect(image), fps=av.fps, glasses=glasses)

        return timed_load(f"avatar {path or 'default portrait'}", build, out)

    return load


def encoder_factory_for(config: Config) -> Callable[[int], EncoderFactory]:
    """An fMP4 encoder factory for a voice's sample rate (hibari speaks at 24 kHz, piper at 22.05 kHz)."""
    av = config.avatar

    def make(sample_rate: int) -> EncoderFactory:
        from avatar.encoder import Mp4StreamEncoder

        def encoder_factory() -> Any:
            return Mp4StreamEncoder(av.size, av.fps, sample_rate)

        return encoder_factory

    return make


def load_media(
    config: Config, portrait: str | None = None, out: TextIO | None = None, voice: str | None = None
) -> MediaEngines:
    """Load TTS, portrait + renderer and the encoder (all that `empathica render` needs).

    `voice` and `portrait` default to the configuration's `tts.voice` and `avatar.portrait`.
    """
    synthesizer = synthesizer_loader(config, out)(voice if voice is not None else config.tts.voice)
    renderer = renderer_loader(config, out)(portrait if portrait is not None else config.avatar.portrait)
    encoder_factory = encoder_factory_for(config)(int(synthesizer.sample_rate))
    mime = timed_load("video encoder", lambda: encoder_factory().mime, out)
    return MediaEngines(synthesizer, renderer, encoder_factory, mime)


def load_llm(config: Config, out: TextIO | None = None) -> Any:
    """The configured chat model: embedded llama.cpp, or a client for an OpenAI-compatible server."""
    llm = config.llm
    check_adapter(config)
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
                context_tokens=llm.context_tokens,
            ),
            out,
        )
    if llm.backend == "transformers":
        return load_transformers_llm(config, out)
    from agent.llm.embedded import EmbeddedLlm

    try:
        model_path = llm_file(llm.model)
    except ModelError as error:
        raise EngineError(str(error)) from error
    lora = embedded_adapter(llm.adapter, model_path, out) if llm.adapter else None
    return timed_load(
        f"LLM {llm.model}" + (f" + LoRA {lora.name}" if lora else ""),
        lambda: EmbeddedLlm(
            model_path, threads=llm.threads, context_tokens=llm.context_tokens, seed=llm.seed, lora=lora
        ),
        out,
    )


def adapters_home() -> Path:
    """Where peft adapters converted to GGUF are cached: $EMPATHICA_ADAPTERS, else ~/.cache/empathica/adapters."""
    env = os.environ.get("EMPATHICA_ADAPTERS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "empathica" / "adapters"


def embedded_adapter(adapter: str, model_path: Path, out: TextIO | None = None) -> Path:
    """`llm.adapter` as a GGUF LoRA adapter for the embedded backend's `model_path` (EngineError if unusable).

    A GGUF adapter is checked and used as it is; a peft folder (`empathica finetune --out`) is converted once,
    with a message, and cached in `adapters_home()` under a key of its files and the base model.
    """
    from agent.llm.gguf_lora import AdapterConversionError, gguf_adapter_for

    if not model_path.is_file():
        raise EngineError(f"LLM model file {model_path} does not exist: install it with `empathica models install`")
    try:
        path, converted = gguf_adapter_for(Path(adapter).expanduser(), model_path, adapters_home())
    except (AdapterConversionError, OSError) as error:
        raise EngineError(f"llm.adapter = {adapter!r} cannot be used with {model_path}: {error}") from None
    if converted is not None:
        print(
            f"[empathica] converted the peft adapter {adapter} to a GGUF LoRA adapter for {model_path.name} "
            f"({len(converted.weights)} weights, rank {converted.rank}, alpha {converted.alpha:g}, "
            f"{path.stat().st_size / 1e6:.1f} MB): {path}",
            file=out or sys.stderr,
        )
    return path


def check_adapter(config: Config) -> None:
    """Refuse `llm.adapter` where the backend would silently run the base model without it (EngineError)."""
    llm = config.llm
    if llm.adapter and llm.backend == "openai":
        raise EngineError(
            f"llm.adapter = {llm.adapter!r} is set, but the openai backend cannot load an adapter: serve it with the "
            "model server (vLLM: --enable-lora --lora-modules NAME=ADAPTER) and set llm.model to NAME, with "
            'llm.adapter = "" (docs/finetune.md)'
        )


def load_transformers_llm(config: Config, out: TextIO | None = None) -> Any:
    """A Hugging Face model (plus `llm.adapter`, a LoRA adapter) run by transformers: for fine-tuned adapters."""
    llm = config.llm
    if config.empathy.enabled:
        # The chain of empathy needs JSON-schema constrained decoding, which this backend lacks; adapters from
        # `empathica finetune` are trained on the plain responder's prompt anyway (docs/finetune.md).
        raise EngineError(
            'llm.backend = "transformers" needs empathy.enabled = false (it cannot constrain output to the chain '
            'of empathy\'s JSON schema); or serve the model with vLLM and use llm.backend = "openai"'
        )
    import importlib.util

    missing = [name for name in ("torch", "transformers", "peft") if importlib.util.find_spec(name) is None]
    if missing:  # optional packages: scripts/setup.sh installs them on request
        raise EngineError(
            f'llm.backend = "transformers" needs {", ".join(missing)}: run EMPATHICA_RESEARCH=1 scripts/setup.sh'
        )
    from agent.llm.transformers_chat import TransformersChatLlm

    label = f"LLM {llm.model}" + (f" + adapter {llm.adapter}" if llm.adapter else "") + " (transformers)"
    adapter = llm.adapter or None
    return timed_load(
        label,
        lambda: TransformersChatLlm(
            llm.model, adapter=adapter, threads=llm.threads, context_tokens=llm.context_tokens, seed=llm.seed
        ),
        out,
    )


def responder_loader(config: Config, model: Any, out: TextIO | None = None) -> Callable[[tuple[str, str, str]], Any]:
    """Build the reply step for (persona name, prompt template, therapy lens), all on the one loaded `model`.

    The chain of empathy (default) or, with `empathy.enabled = false`, the plain responder. Different lenses
    make different system prompts, each stable for the chain's life (so each keeps its own prompt prefix).
    A persona with a file (agent/personas) speaks as that file says: its template is filled with its
    description and speaking style (agent.personas.persona_prompt), and its replies stop at its `max_sentences`
    (and `max_words`).
    """
    from agent.empathy.chain import EmpathyChain
    from agent.prompt_budget import PromptBudget
    from agent.responder import Responder as AgentResponder

    empathy, llm = config.empathy, config.llm

    def load(key: tuple[str, str, str]) -> Any:
        name, prompt, lens = key
        system_prompt, length = timed_load(f"persona {prompt}", lambda: persona_voice(name, prompt), out)
        if not empathy.enabled:
            return AgentResponder(
                model,
                system_prompt,
                max_tokens=llm.max_reply_tokens,
                temperature=llm.temperature,
                max_sentences=length.sentences,
                max_words=length.words,
                budget=PromptBudget.for_model(model, llm.max_reply_tokens),
            )
        return timed_load(
            f"chain of empathy ({lens})",
            lambda: EmpathyChain(
                model,
                system_prompt,
                lens=lens,
                max_tokens=empathy.max_tokens,
                temperature=empathy.temperature,
                max_sentences=length.sentences,
                max_words=length.words,
                max_history_messages=2 * config.server.history_turns,
                budget=PromptBudget.for_model(model, empathy.max_tokens),
                compact_neutral=empathy.compact_neutral,
                settle_after_reaction=empathy.settle_after_reaction,
                open_with_detail=empathy.open_with_detail,
            ),
            out,
        )

    return load


def persona_voice(name: str, prompt: str) -> tuple[str, ReplyLength]:
    """The system prompt and reply length limit of persona `name` with prompt template `prompt`.

    A persona file of that name whose template is `prompt` fills it from the file (description, speaking style,
    sentence and word limits); any other name (or template) gets the template with only the name filled in, and
    the default sentence limit. Raises agent.prompts.PromptError when the template needs what only a persona file gives.
    """
    from agent.personas import DEFAULT_SENTENCES, PersonaError, find_persona, persona_prompt
    from agent.prompts import render

    try:
        persona = find_persona(name)
    except PersonaError:
        persona = None
    if persona is not None and persona.prompt == prompt:
        return persona_prompt(persona), ReplyLength(persona.max_sentences, persona.max_words)
    return render(prompt.removesuffix(".txt"), name=name), ReplyLength(DEFAULT_SENTENCES)


def warm_up(responder: Responder, config: Config, out: TextIO | None = None) -> None:
    """Process a chain's system prompt now (when `empathy.warm_up`), so its first reply starts from the cache."""
    if not (config.empathy.enabled and config.empathy.warm_up):
        return
    try:
        timed_load("prompt cache (system prompt)", responder.warm_up, out)
    except EngineError as exc:  # e.g. an HTTP server that is not up yet: turns will say so if it stays down
        print(f"[empathica] warning: {exc}", file=out or sys.stderr, flush=True)


def fallback_spec(config: Config) -> PersonaSpec:
    """The engine needs of a persona name without a persona file: the configured lens, voice and portrait."""
    return PersonaSpec(
        config.persona.name, config.persona.prompt, config.empathy.lens, config.tts.voice, config.avatar.portrait
    )


def persona_spec(config: Config, name: str) -> PersonaSpec:
    """The lens, voice and portrait of persona `name`: its persona file's, or the configured ones without one."""
    from agent.personas import PersonaError, find_persona
    from compose.persona_engines import spec_of

    try:
        return spec_of(find_persona(name))
    except PersonaError:
        return fallback_spec(config)


def load_persona_engines(config: Config, model: Any, out: TextIO | None = None) -> PersonaEngineCache:
    """The per-persona engine cache, with the configured persona's engines loaded (and warmed up) now.

    Loading the configured persona at start-up surfaces a missing model before the server listens; the other
    personas' lenses, voices and portraits load on their first turn and stay loaded.
    """
    from agent.personas import load_personas

    cache = PersonaEngineCache(
        load_personas(),
        fallback_spec(config),
        make_responder=responder_loader(config, model, out),
        make_synthesizer=synthesizer_loader(config, out),
        make_renderer=renderer_loader(config, out),
        make_encoder_factory=encoder_factory_for(config),
    )
    warm_up(cache.engines(config.persona.name).responder, config, out)
    return cache


def load_encoder(out: TextIO | None = None) -> Any:
    """The MiniLM sentence encoder (90 MB of weights): load once, share between perception and the safety screen."""
    from agent.perception.minilm import MiniLmEncoder

    folder = PERCEPTION_MODEL
    return timed_load(f"sentence embeddings {folder}", lambda: MiniLmEncoder(model_dir(folder)), out)


def load_acknowledger(config: Config) -> Acknowledger | None:
    """The first reaction said while the chain reasons (agent.acknowledgement); None when `empathy.acknowledge`
    is off or the chain of empathy is (a plain reply starts with its own words)."""
    if not (config.empathy.acknowledge and config.empathy.enabled):
        return None
    return Acknowledger()


def voice_estimator_factory(config: Config) -> Callable[[], VoiceEstimator] | None:
    """New voice-affect estimators (prosody against the speaker's baseline); None when `asr.voice_affect` is off."""
    if not config.asr.voice_affect:
        return None
    from speech.affect.estimator import VoiceAffectEstimator

    return VoiceAffectEstimator


def load_crisis_screen(
    hotline_text: str, encoder: Any | None = None, out: TextIO | None = None, model_file: Path | None = None
) -> Any:
    """The crisis screen (agent.safety.SafetyScreen): rules + the learned detector, which must load.

    `encoder`: the MiniLM encoder to share (loaded here when None); `model_file`: the detector's weights (default:
    the shipped, sha256-pinned file; another file is read unpinned). Missing or broken rules, encoder or weights
    raise EngineError: the server refuses to start rather than screen with the rules alone.
    """
    from agent.safety import SafetyScreen, SemanticDetector, load_crisis_model
    from agent.safety.semantic import MODEL_FILE, MODEL_SHA256

    shared = encoder if encoder is not None else load_encoder(out)
    weights = model_file or MODEL_FILE
    pin = MODEL_SHA256 if model_file is None else None
    detector = timed_load(
        "crisis detector", lambda: SemanticDetector(shared, load_crisis_model(weights, sha256=pin)), out
    )
    try:
        return SafetyScreen(hotline_text, detector=detector)
    except Exception as exc:  # a broken prompts/safety_*.txt: refuse to start rather than run unscreened
        raise EngineError(f"could not load the safety rules: {exc}") from exc


def load_safety(
    config: Config, encoder: Any | None = None, out: TextIO | None = None, model_file: Path | None = None
) -> tuple[SafetyCheck | None, Callable[[dict[str, Any]], object] | None]:
    """The crisis screen's check and the escalation hook (None where disabled or not configured).

    Arguments after `config` as for `load_crisis_screen`; raises EngineError when the screen cannot load.
    """
    from agent.safety_hook import WebhookNotifier

    safety = config.safety
    if not safety.enabled:
        return None, None
    screen = load_crisis_screen(safety.hotline_text, encoder, out, model_file)
    return screen.check, (WebhookNotifier(safety.webhook_url) if safety.webhook_url else None)


def load_memory(config: Config, model: Any) -> Summarizer:
    """The running-summary memory (LLM summaries, or extractive ones if so configured)."""
    from agent.memory import SummaryMemory

    memory = config.memory
    return SummaryMemory(model if memory.summarizer == "llm" else None, every_turns=memory.summary_every)


def load_perception(out: TextIO | None = None, encoder: Any | None = None) -> Any:
    """Text perception: MiniLM with its GoEmotions-trained top layers + lexical cues
    (agent.perception.text.load_text_perception; the weights ship with the package and are sha256-checked).

    `encoder`: a loaded MiniLM encoder to share (see `load_encoder`); loaded here when None.
    """
    from agent.perception.text import load_text_perception

    shared = encoder if encoder is not None else load_encoder(out)
    return timed_load(f"perception {PERCEPTION_MODEL} + emotion model", lambda: load_text_perception(shared), out)


def load_reply_emotion(config: Config) -> ReplyEmotionChooser:
    """The personality-weighted transition of the agent's emotion, per persona (agent.transition).

    Sessions name their persona (client `hello.persona`, else `persona.name`); an unknown name gets the
    configured persona's temperament, or Mira's when the configured name is not a shipped persona either.
    """
    from agent.personas import PersonaError, find_persona, load_personas, persona_temperaments
    from agent.transition import PersonaTransition, TransitionSettings

    personas = load_personas()
    try:
        default = find_persona(config.persona.name, personas)
    except PersonaError:
        default = find_persona("mira", personas)
    p = config.persona
    settings = TransitionSettings(k=p.transition_k, pull=p.transition_pull, max_shift=p.transition_max_shift)
    return PersonaTransition(persona_temperaments(personas), default=default.temperament, settings=settings)


def load_recognizer(config: Config) -> Any:
    """The ASR engine for `asr.model`: openai-whisper (torch) for a `.pt` checkpoint, else faster-whisper."""
    asr = config.asr
    path = resolve_model(asr.model)
    if path.suffix == ".pt":
        # Imported only here: the engine pulls in torch, which the default set-up never needs.
        from speech.asr.openai_whisper import OpenAiWhisperRecognizer

        return OpenAiWhisperRecognizer(
            path, threads=asr.threads, language=asr.language or None, beam_size=asr.beam_size
        )
    from speech.asr.faster_whisper import FasterWhisperRecognizer

    return FasterWhisperRecognizer(path, threads=asr.threads, language=asr.language or None, beam_size=asr.beam_size)


def load_engines(config: Config, out: TextIO | None = None) -> Engines:
    """Load every engine the configuration names, printing progress; raises EngineError."""
    recognizer = timed_load(f"ASR {config.asr.model}", lambda: load_recognizer(config), out)
    encoder = load_encoder(out)  # one MiniLM for perception and the crisis screen
    perception = load_perception(out, encoder)
    model = load_llm(config, out)
    personas = load_persona_engines(config, model, out)
    default = personas.engines(config.persona.name)
    safety, on_safety = load_safety(config, encoder, out)
    mime = timed_load("video encoder", lambda: default.encoder_factory().mime, out)
    media = MediaEngines(default.synthesizer, default.renderer, default.encoder_factory, mime)
    return Engines(
        recognizer=recognizer,
        perceiver=perception.perceive,
        choose_reply_emotion=load_reply_emotion(config),
        responder=default.responder,
        media=media,
        safety=safety,
        on_safety=on_safety,
        memory=load_memory(config, model),
        personas=personas,
        voice_estimator=voice_estimator_factory(config),
        acknowledger=load_acknowledger(config),
    )
