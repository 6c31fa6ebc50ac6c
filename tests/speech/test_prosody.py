import pytest

from core.emotion import VAD, EmotionState
from speech.prosody import NEUTRAL_PROSODY, prosody_for


def test_joy_at_full_intensity():
    # MARY TTS's rules quote +19% pitch and +42% rate; joy's VAD (0.81, 0.51, 0.46) gives 18.8% and 41.7%.
    prosody = prosody_for(EmotionState.from_label("joy", 1.0))
    assert prosody.pitch_pct == pytest.approx(18.8)
    assert prosody.rate_pct == pytest.approx(41.7)
    assert prosody.range_semitones == pytest.approx(4.0 + 0.04 * 51)
    assert prosody.volume == pytest.approx(50.0 + 0.33 * 51)


def test_sadness_at_full_intensity():
    # MARY TTS's rules quote -11% pitch and -26% rate; sadness (-0.63, -0.27, -0.33) gives -11.1% and -26.1%.
    prosody = prosody_for(EmotionState.from_label("sadness", 1.0))
    assert prosody.pitch_pct == pytest.approx(-11.1)
    assert prosody.rate_pct == pytest.approx(-26.1)
    assert prosody.volume < 50.0


def test_neutral_is_the_voice_as_it_is():
    assert prosody_for(EmotionState.from_label("neutral", 0.0)) == NEUTRAL_PROSODY


def test_intensity_scales_the_changes_through_the_vad_point():
    full = prosody_for(EmotionState.from_label("joy", 1.0))
    half = prosody_for(EmotionState.from_label("joy", 0.5))
    assert half.pitch_pct == pytest.approx(full.pitch_pct / 2, abs=0.01)
    assert half.rate_pct == pytest.approx(full.rate_pct / 2, abs=0.01)


def test_each_coordinate_enters_with_schroeders_weights():
    prosody = prosody_for(EmotionState.from_vad(VAD(valence=0.0, arousal=0.0, dominance=1.0)))
    assert prosody.pitch_pct == pytest.approx(-10.0)  # dominant voices are lower
    assert prosody.rate_pct == pytest.approx(0.0)
    prosody = prosody_for(EmotionState.from_vad(VAD(valence=0.0, arousal=1.0, dominance=0.0)))
    assert (prosody.pitch_pct, prosody.rate_pct, prosody.range_semitones, prosody.volume) == pytest.approx(
        (30.0, 50.0, 8.0, 83.0)
    )
