import pytest

from core.emotion import BASIC_EMOTIONS, EMOTION_VAD, NEUTRAL, VAD, EmotionState, label_mixture


@pytest.mark.parametrize("label", BASIC_EMOTIONS)
def test_category_centre_is_labelled_as_itself(label: str) -> None:
    state = EmotionState.from_vad(VAD(*EMOTION_VAD[label]))
    assert state.label == label
    assert state.mixture[label] == max(state.mixture.values())


def test_mixture_is_a_distribution_and_blends_neighbours() -> None:
    # Halfway between anger and disgust both should carry real weight.
    a, d = VAD.of("anger"), VAD.of("disgust")
    mid = VAD(*((x + y) / 2 for x, y in zip(a.as_tuple(), d.as_tuple(), strict=True)))
    mixture = label_mixture(mid)
    assert sum(mixture.values()) == pytest.approx(1.0, abs=1e-3)
    assert mixture["anger"] > 0.2 and mixture["disgust"] > 0.2
    assert mixture["joy"] < 0.01


def test_intensity_is_distance_from_neutral_clipped() -> None:
    assert NEUTRAL.intensity == 0.0
    assert EmotionState.from_vad(VAD(1, 1, 1)).intensity == 1.0
    half = EmotionState.from_label("sadness", 0.5)
    full = EmotionState.from_label("sadness", 1.0)
    assert half.label == "sadness"
    assert half.intensity == pytest.approx(full.intensity / 2, abs=1e-3)


def test_out_of_range_points_are_clipped() -> None:
    assert EmotionState.from_vad(VAD(3, -2, 0.5)).vad == VAD(1, -1, 0.5)


def test_unknown_label_and_bad_intensity_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown emotion"):
        VAD.of("ennui")
    with pytest.raises(ValueError, match="intensity"):
        EmotionState.from_label("joy", 1.5)


def test_to_dict_is_json_ready() -> None:
    d = EmotionState.from_label("joy", 0.6).to_dict()
    assert d["label"] == "joy"
    assert set(d["vad"]) == {"valence", "arousal", "dominance"}
    assert set(d["mixture"]) == set(BASIC_EMOTIONS)


def test_agent_palette_labels_are_found_by_their_centres() -> None:
    from core.emotion import AGENT_PALETTE_VAD, palette_label

    for label, centre in AGENT_PALETTE_VAD.items():
        assert palette_label(VAD(*centre)) == label
    # The basic mixture stays over the seven basic labels only (the face and voice use those).
    assert set(label_mixture(VAD(*AGENT_PALETTE_VAD["calm"]))) == set(BASIC_EMOTIONS)
