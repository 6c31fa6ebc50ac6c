"""Personas as data: each TOML file in this folder is one persona (Big Five, voice, portrait, therapy lens, and
how it speaks: description, speaking style, sentence and word limits).

Add a persona by dropping a `NAME.toml` here (or in a folder passed to `load_personas`); the server picks one by
the client's `hello.persona` or the configured `persona.name`, matched case-insensitively against the file stem
or the persona's `name`. `persona_prompt` fills the persona's prompt template (prompts/persona.txt) from the file,
so the model is told who it is and how it speaks, and the chain stops after `max_sentences` sentences, or before a
later sentence that would pass `max_words` words.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from agent.personality import BigFive, temperament
from agent.prompts import PromptLibrary
from core.emotion import VAD

PERSONA_DIR = Path(__file__).parent
TherapyLens = Literal["cbt", "dbt", "person_centred", "reality"]
THERAPY_LENSES: tuple[str, ...] = get_args(TherapyLens)
# Portrait names the avatar can resolve without a file path (see `portrait_path`).
BUILTIN_PORTRAITS = ("astronaut", "grace_hopper")
# Replies of one to MAX_SENTENCES sentences; prompts/sentence_limits.txt words each limit for the prompts.
MAX_SENTENCES = 4
DEFAULT_SENTENCES = 3
MAX_WORDS = 200


class PersonaError(ValueError):
    """A persona file is invalid or a requested persona does not exist; the message says which and why."""


@dataclass(frozen=True)
class Persona:
    """Who the agent is: name, personality, voice, face and the therapy lens its reasoning uses."""

    key: str  # the file stem, e.g. "mira"
    name: str
    title: str
    description: str
    big_five: BigFive
    voice: str  # a TTS voice name from core/models.toml, or a path
    portrait: str  # "astronaut", "grace_hopper", or an image path
    therapy_lens: TherapyLens
    prompt: str = "persona_default.txt"
    style: str = ""  # how the persona speaks, in the second person ("Speak softly ...")
    max_sentences: int = DEFAULT_SENTENCES  # the most sentences a reply may have; the chain stops there
    max_words: int = 0  # a later sentence that would take the reply past this many words is not said (0: no limit)

    @property
    def temperament(self) -> VAD:
        """The persona's resting emotional state (agent.personality.temperament)."""
        return temperament(self.big_five)


def load_persona(path: Path) -> Persona:
    """Read one persona TOML file; raises PersonaError naming the file and the problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        lens = data["therapy_lens"]
        if lens not in THERAPY_LENSES:
            raise PersonaError(f"{path}: therapy_lens {lens!r} is not one of {', '.join(THERAPY_LENSES)}")
        sentences = data.get("max_sentences", DEFAULT_SENTENCES)
        if not isinstance(sentences, int) or not 1 <= sentences <= MAX_SENTENCES:
            raise PersonaError(f"{path}: max_sentences must be a whole number from 1 to {MAX_SENTENCES}: {sentences}")
        words = data.get("max_words", 0)
        if not isinstance(words, int) or not 0 <= words <= MAX_WORDS:
            raise PersonaError(f"{path}: max_words must be a whole number from 0 (no limit) to {MAX_WORDS}: {words}")
        return Persona(
            key=Path(path).stem,
            name=str(data["name"]),
            title=str(data.get("title", "")),
            description=str(data.get("description", "")),
            big_five=BigFive(**data["big_five"]),
            voice=str(data.get("voice", "piper-joe")),
            portrait=str(data.get("portrait", "astronaut")),
            therapy_lens=lens,
            prompt=str(data.get("prompt", "persona_default.txt")),
            style=str(data.get("style", "")),
            max_sentences=sentences,
            max_words=words,
        )
    except PersonaError:
        raise
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise PersonaError(f"{path}: invalid persona file ({type(exc).__name__}: {exc})") from None


def load_personas(directory: Path = PERSONA_DIR) -> dict[str, Persona]:
    """Every persona in `directory`, keyed by file stem."""
    return {p.stem: load_persona(p) for p in sorted(Path(directory).glob("*.toml"))}


def find_persona(name: str, personas: dict[str, Persona] | None = None) -> Persona:
    """The persona called `name` (file stem or display name, case-insensitive); PersonaError lists the known ones."""
    personas = personas if personas is not None else load_personas()
    wanted = name.strip().lower()
    for persona in personas.values():
        if wanted in (persona.key.lower(), persona.name.lower()):
            return persona
    known = ", ".join(sorted(p.name for p in personas.values())) or "none"
    raise PersonaError(f"unknown persona {name!r}; known personas: {known} (add a TOML file to {PERSONA_DIR})")


def sentence_limit(sentences: int, prompts: PromptLibrary | None = None) -> str:
    """How a prompt words a limit of `sentences` sentences ("one or two short sentences")."""
    return (prompts or PromptLibrary()).phrase("sentence_limits", str(sentences))


def persona_prompt(persona: Persona, prompts: PromptLibrary | None = None) -> str:
    """The persona's system prompt: its template (`prompt`, e.g. prompts/persona.txt) filled with its name, title,
    description, speaking style and sentence limit from the persona file. Raises PromptError for a missing
    template or a placeholder it cannot fill."""
    library = prompts or PromptLibrary()
    return library.render(
        persona.prompt.removesuffix(".txt"),
        name=persona.name,
        title=persona.title,
        description=persona.description,
        style=persona.style,
        sentence_limit=sentence_limit(persona.max_sentences, library),
    )


def portrait_path(portrait: str) -> Path | None:
    """A persona's portrait as a file path; None means the avatar's default (astronaut) portrait."""
    if portrait in ("", "astronaut"):
        return None
    if portrait == "grace_hopper":
        # matplotlib ships this public-domain photo as sample data (a larger face than the astronaut).
        from matplotlib import cbook

        return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return Path(portrait).expanduser()


def persona_temperaments(personas: dict[str, Persona]) -> dict[str, VAD]:
    """Each persona's temperament under its lower-cased key and display name (for agent.transition)."""
    out: dict[str, VAD] = {}
    for persona in personas.values():
        out[persona.key.lower()] = out[persona.name.lower()] = persona.temperament
    return out
