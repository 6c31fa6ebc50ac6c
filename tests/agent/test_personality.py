import pytest

from agent.personality import BigFive, temperament
from core.emotion import VAD


def test_average_personality_rests_at_neutral() -> None:
    assert temperament(BigFive()) == VAD(0.0, 0.0, 0.0)


def test_formula_with_corrected_neuroticism_sign() -> None:
    # Only neuroticism high: less pleasant, more aroused (Mehrabian's stability factor, sign flipped).
    t = temperament(BigFive(neuroticism=1.0))
    assert t.valence == pytest.approx(-0.19)
    assert t.arousal == pytest.approx(0.57)
    assert t.dominance == pytest.approx(0.0)


def test_each_trait_enters_with_its_weight() -> None:
    t = temperament(BigFive(openness=1.0, conscientiousness=1.0, extraversion=1.0, agreeableness=1.0))
    assert t.valence == pytest.approx(0.21 + 0.59)
    assert t.arousal == pytest.approx(0.15 + 0.30)
    assert t.dominance == pytest.approx(0.25 + 0.17 + 0.60 - 0.32)


def test_extraverts_are_more_dominant_and_pleasant() -> None:
    shy, outgoing = temperament(BigFive(extraversion=0.1)), temperament(BigFive(extraversion=0.9))
    assert outgoing.dominance > shy.dominance and outgoing.valence > shy.valence


def test_traits_outside_unit_interval_are_rejected() -> None:
    with pytest.raises(ValueError, match="neuroticism"):
        BigFive(neuroticism=1.2)
