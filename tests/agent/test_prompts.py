import re
from pathlib import Path

import pytest

from agent.prompts import PROMPTS_DIR, PromptError, PromptLibrary, render


def test_default_templates_exist():
    library = PromptLibrary()
    for name in ("persona_default", "turn_default", "fallback_default", "feelings_default"):
        assert library.load(name)
    assert PROMPTS_DIR.name == "prompts"


def test_render_fills_placeholders(tmp_path: Path):
    (tmp_path / "t.txt").write_text("Hello $name, {braces} stay; ${what} costs $$5.\n")
    rendered = PromptLibrary(tmp_path).render("t", name="Ada", what="tea", unused=1)
    assert rendered == "Hello Ada, {braces} stay; tea costs $5."


def test_missing_key_is_a_clear_error(tmp_path: Path):
    (tmp_path / "t.txt").write_text("$a and $b")
    with pytest.raises(PromptError, match=r"'t' needs value\(s\) b"):
        PromptLibrary(tmp_path).render("t", a=1)


def test_missing_template_is_a_clear_error():
    with pytest.raises(PromptError, match="'no_such_template' not found"):
        render("no_such_template")


def test_user_text_with_dollar_is_not_substituted(tmp_path: Path):
    (tmp_path / "t.txt").write_text("$user_text")
    assert PromptLibrary(tmp_path).render("t", user_text="I owe $name $5") == "I owe $name $5"


def test_phrases(tmp_path: Path):
    (tmp_path / "p.txt").write_text("# comment\n\na = one thing\nb=two\n")
    library = PromptLibrary(tmp_path)
    assert library.phrases("p") == {"a": "one thing", "b": "two"}
    with pytest.raises(PromptError, match="no entry 'c'"):
        library.phrase("p", "c")
    book = library.book("p")  # read once, then looked up
    (tmp_path / "p.txt").write_text("a = changed\n")
    assert book.phrase("b") == "two"
    with pytest.raises(PromptError, match=re.escape("phrase file 'p' has no entry 'c'; add a line `c = ...`")):
        book.phrase("c")


def test_entries_are_the_lines_without_blanks_and_comments(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("# a comment\n  first  \n\n   # indented comment\nsecond\n", encoding="utf-8")
    assert PromptLibrary(tmp_path).entries("list") == ["first", "second"]
