"""Prompt templates: text files in the repository's `prompts/` folder (also packaged as package `prompts`).

Templates use `string.Template` placeholders (`$name` or `${name}`) so that JSON and braces in prompts need no
escaping. Phrase files (`*.txt` with `key = phrase` lines) hold the small vocabularies prompts are built from,
so that no prompt wording lives in Python.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


class PromptError(LookupError):
    """A template or phrase file is missing, or a template needs a value that was not given."""


class PromptLibrary:
    """Reads templates from one folder; `name` is a file name without the `.txt` suffix."""

    def __init__(self, directory: Path = PROMPTS_DIR) -> None:
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        """The file behind template `name`."""
        return self.directory / f"{name}.txt"

    def load(self, name: str) -> str:
        """The raw text of template `name` (trailing whitespace removed)."""
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in self.directory.glob("*.txt"))) or "none"
            raise PromptError(f"prompt template {name!r} not found at {path}; templates there: {known}")
        return path.read_text(encoding="utf-8").rstrip()

    def render(self, name: str, /, **values: object) -> str:
        """Template `name` with its placeholders filled from `values`; extra values are ignored."""
        template = Template(self.load(name))
        missing = [key for key in template.get_identifiers() if key not in values]
        if missing:
            raise PromptError(f"prompt template {name!r} needs value(s) {', '.join(missing)}, which were not given")
        try:
            return template.substitute({key: str(value) for key, value in values.items()})
        except ValueError as error:  # a stray `$` in the template file
            raise PromptError(f"prompt template {name!r} is malformed ({error}); write a literal $ as $$") from None

    def entries(self, name: str) -> list[str]:
        """A list file: its lines, stripped; blank lines and lines starting with `#` are skipped."""
        stripped = (line.strip() for line in self.load(name).splitlines())
        return [line for line in stripped if line and not line.startswith("#")]

    def phrases(self, name: str) -> dict[str, str]:
        """A phrase file: `key = phrase` lines; blank lines and lines starting with `#` are skipped."""
        entries: dict[str, str] = {}
        for number, line in enumerate(self.load(name).splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, phrase = line.partition("=")
            if not sep:
                raise PromptError(f"phrase file {name!r} line {number} has no `=`: {line!r}")
            entries[key.strip()] = phrase.strip()
        return entries

    def book(self, name: str) -> PhraseBook:
        """Phrase file `name`, read once, for looking up its entries by key."""
        return PhraseBook(name, self.phrases(name))

    def phrase(self, name: str, key: str) -> str:
        """One phrase of phrase file `name`, with a clear error when the key is absent."""
        return self.book(name).phrase(key)


class PhraseBook:
    """The entries of one phrase file; a missing entry raises PromptError naming the line to add."""

    def __init__(self, name: str, entries: dict[str, str]) -> None:
        self.name = name
        self.entries = entries

    def phrase(self, key: str) -> str:
        """The entry `key`."""
        if key not in self.entries:
            raise PromptError(f"phrase file {self.name!r} has no entry {key!r}; add a line `{key} = ...`")
        return self.entries[key]


def render(name: str, /, **values: object) -> str:
    """Render template `name` from the repository's `prompts/` folder."""
    return PromptLibrary().render(name, **values)
