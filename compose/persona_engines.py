"""Per-persona engines: each session's persona decides its therapy lens, voice and portrait.

Resources are built lazily, the first time a persona that needs them speaks, and kept for the server's lifetime
(owned by `compose.engines.Engines`, never global). They are cached by what they depend on, not by persona, so
personas that share a voice share one synthesizer: one responder per (name, prompt, lens) on the one loaded LLM
(the persona template may name the persona), one synthesizer per voice, one face renderer per portrait. The
factories come from `compose.engines`, which alone knows concrete engine classes; tests pass fakes.

Precedence: a shipped persona's own `therapy_lens`, `voice` and `portrait` win. The configuration's
`empathy.lens`, `tts.voice` and `avatar.portrait` apply to a persona name that has no persona file (a client may
send any name in `hello.persona`; all such names share the configured persona's engines, so they cannot make
the server load without bound).

A session may also bring an uploaded portrait (server.web.portraits): its renderer replaces the persona's face and is
kept in a small least-recently-used cache, since every upload is a new key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from agent.base import Responder
from agent.personas import Persona, PersonaError, find_persona
from avatar.base import EncoderFactory, Renderer
from speech.base import Synthesizer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class PersonaSpec:
    """What a persona needs from the engines: its system prompt template, therapy lens, voice and portrait."""

    name: str
    prompt: str
    lens: str
    voice: str
    portrait: str  # "astronaut"/"" (the default portrait), "grace_hopper", or an image path


@dataclass(frozen=True)
class PersonaEngines:
    """The engines one turn of a persona uses."""

    spec: PersonaSpec
    responder: Responder
    synthesizer: Synthesizer
    renderer: Renderer
    encoder_factory: EncoderFactory  # follows the synthesizer's sample rate (hibari 24 kHz, piper 22.05 kHz)


class LazyCache(Generic[K, V]):
    """Values built on first request by `build(key)` and kept; a failed build is retried next time."""

    def __init__(self, build: Callable[[K], V]) -> None:
        self._build = build
        self._values: dict[K, V] = {}
        # Turns run one at a time, but `empathica` tools may call from other threads: never build a key twice.
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        """The value for `key`, building it now if this is its first use."""
        with self._lock:
            if key not in self._values:
                self._values[key] = self._build(key)
            return self._values[key]

    def keys(self) -> list[K]:
        """The keys built so far (for tests and logs)."""
        with self._lock:
            return list(self._values)


class LruCache(Generic[K, V]):
    """Like LazyCache, but keeps only the `max_size` most recently used values (for keys clients choose)."""

    def __init__(self, build: Callable[[K], V], max_size: int) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self._build = build
        self.max_size = max_size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        """The value for `key`, building it now if it is new or was dropped; drops the least recently used."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = self._build(key)
            self._values[key] = value
            while len(self._values) > self.max_size:
                self._values.popitem(last=False)  # a turn still using it keeps its own reference
            return value

    def keys(self) -> list[K]:
        """The keys held now, least recently used first."""
        with self._lock:
            return list(self._values)


class PersonaEngineCache:
    """Resolves a session's persona name to its engines, building each resource once per key."""

    def __init__(
        self,
        personas: dict[str, Persona],
        fallback: PersonaSpec,
        make_responder: Callable[[tuple[str, str, str]], Responder],
        make_synthesizer: Callable[[str], Synthesizer],
        make_renderer: Callable[[str], Renderer],
        make_encoder_factory: Callable[[int], EncoderFactory],
        max_uploaded_renderers: int = 4,
    ) -> None:
        """`fallback` serves names without a persona file; `make_responder` gets (name, prompt, lens).

        `make_renderer` also builds the faces of uploaded portraits (given their file path); at most
        `max_uploaded_renderers` of those stay loaded.
        """
        self.personas = personas
        self.fallback = fallback
        self.responders: LazyCache[tuple[str, str, str], Responder] = LazyCache(make_responder)
        self.synthesizers: LazyCache[str, Synthesizer] = LazyCache(make_synthesizer)
        self.renderers: LazyCache[str, Renderer] = LazyCache(make_renderer)
        self.encoder_factories: LazyCache[int, EncoderFactory] = LazyCache(make_encoder_factory)
        self.uploaded_renderers: LruCache[str, Renderer] = LruCache(make_renderer, max_uploaded_renderers)

    def spec(self, name: str) -> PersonaSpec:
        """The lens, voice and portrait of the persona called `name` (the fallback when there is no such file)."""
        try:
            persona = find_persona(name, self.personas) if name.strip() else None
        except PersonaError:
            persona = None
        return self.fallback if persona is None else spec_of(persona)

    def engines(self, name: str, portrait: str | None = None) -> PersonaEngines:
        """The engines for a session of persona `name`; loads what this persona is the first to need.

        `portrait`: the file of the session's uploaded portrait, which replaces the persona's own face.
        """
        spec = self.spec(name)
        synthesizer = self.synthesizers.get(spec.voice)
        return PersonaEngines(
            spec=spec if portrait is None else replace(spec, portrait=portrait),
            responder=self.responders.get((spec.name, spec.prompt, spec.lens)),
            synthesizer=synthesizer,
            renderer=self.renderer(name, portrait),
            encoder_factory=self.encoder_factories.get(int(synthesizer.sample_rate)),
        )

    def renderer(self, name: str, portrait: str | None = None) -> Renderer:
        """Only the face of persona `name` (or of the uploaded portrait file `portrait`): e.g. for idle clips."""
        if portrait is not None:
            return self.uploaded_renderers.get(portrait)
        return self.renderers.get(self.spec(name).portrait)


def spec_of(persona: Persona) -> PersonaSpec:
    """A persona file's engine needs."""
    return PersonaSpec(persona.name, persona.prompt, persona.therapy_lens, persona.voice, persona.portrait)
