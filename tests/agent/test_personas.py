from pathlib import Path

import pytest

from agent.personas import (
    THERAPY_LENSES,
    PersonaError,
    find_persona,
    load_persona,
    load_personas,
    persona_prompt,
    persona_temperaments,
    portrait_path,
)
from core.emotion import EmotionState


def test_ships_three_personas_with_distinct_roles() -> None:
    personas = load_personas()
    assert {"mira", "sunny", "kai"} <= set(personas)
    for persona in personas.values():
        assert persona.therapy_lens in THERAPY_LENSES
        assert persona.voice
        assert persona.prompt.endswith(".txt")


def test_temperaments_fit_the_roles() -> None:
    personas = load_personas()
    mira, sunny, kai = personas["mira"].temperament, personas["sunny"].temperament, personas["kai"].temperament
    assert sunny.arousal > kai.arousal and sunny.dominance > kai.dominance  # cheerful vs calm
    assert mira.valence > 0.3  # warm
    assert kai.arousal < 0  # calm
    assert EmotionState.from_vad(sunny).label == "joy"


def test_find_by_display_name_or_key_case_insensitive() -> None:
    assert find_persona("Mira").key == "mira"
    assert find_persona("KAI").name == "Kai"
    with pytest.raises(PersonaError, match="known personas: Kai, Mira, Sunny"):
        find_persona("nobody")


def test_temperaments_are_keyed_by_key_and_name() -> None:
    table = persona_temperaments(load_personas())
    assert table["mira"] == table["mira"] and "sunny" in table


def test_invalid_persona_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "X"\ntherapy_lens = "psychoanalysis"\n[big_five]\nopenness = 0.5\n')
    with pytest.raises(PersonaError, match="therapy_lens"):
        load_persona(bad)
    bad.write_text('name = "X"\ntherapy_lens = "cbt"\n[big_five]\nopenness = 2\n')
    with pytest.raises(PersonaError, match=r"bad\.toml"):
        load_persona(bad)


def test_portraits_resolve() -> None:
    assert portrait_path("astronaut") is None
    hopper = portrait_path("grace_hopper")
    assert hopper is not None and hopper.is_file()
    assert portrait_path("~/me.png") == Path.home() / "me.png"


def test_each_persona_carries_its_description_style_and_sentence_limit_into_its_prompt() -> None:
    personas = load_personas()
    prompts = {key: persona_prompt(persona) for key, persona in personas.items()}
    for key, persona in personas.items():
        assert persona.description and persona.style
        assert persona.description in prompts[key] and persona.style in prompts[key]
        assert prompts[key].startswith(f"You are {persona.name}.")
    assert len(set(prompts.values())) == len(prompts)  # three personas, three voices
    assert personas["kai"].max_sentences < personas["mira"].max_sentences  # Kai keeps answers short
    assert personas["kai"].max_words > 0 and personas["mira"].max_words == 0
    assert "one or two short sentences" in prompts["kai"] and "one to three" in prompts["mira"]


def test_a_sentence_limit_out_of_range_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "chatty.toml"
    bad.write_text('name = "X"\ntherapy_lens = "cbt"\nmax_sentences = 9\n[big_five]\nopenness = 0.5\n')
    with pytest.raises(PersonaError, match=r"chatty\.toml: max_sentences"):
        load_persona(bad)
    bad.write_text('name = "X"\ntherapy_lens = "cbt"\nmax_words = -3\n[big_five]\nopenness = 0.5\n')
    with pytest.raises(PersonaError, match=r"chatty\.toml: max_words must be a whole number from 0"):
        load_persona(bad)
