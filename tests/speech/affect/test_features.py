import numpy as np
import pytest

from speech.affect.features import count_syllables, measure
from speech.audio import decode_wav


def test_count_syllables_on_running_text():
    assert count_syllables("he was not an ill disposed young man") == 9
    reference = "and mister john dashwood had then leisure to consider how much there might be prudently in his power"
    assert count_syllables(reference) == 26
    assert count_syllables("I walked home. It's late, isn't it?") == 7
    assert count_syllables("") == 0


def test_measures_a_real_male_reader(librivox_clips):
    path, reference = librivox_clips[0]
    pcm, rate = decode_wav(path.read_bytes())
    acoustic = measure(pcm, rate)
    from_text = measure(pcm, rate, text=reference)
    assert acoustic is not None and from_text is not None
    assert 75 < acoustic.f0_median_hz < 130  # an adult male voice
    assert 3 < acoustic.f0_range_semitones < 14
    assert -40 < acoustic.energy_db < -10
    assert 2.5 < acoustic.speaking_rate < 6.5 and 2.5 < from_text.speaking_rate < 6.5  # read speech: ~4 syll/s
    assert 0 < acoustic.jitter < 0.05 and acoustic.hnr_db > 3
    assert acoustic.voiced_seconds > 2


def test_louder_and_higher_audio_moves_the_features(librivox_clips):
    path, _ = librivox_clips[1]
    pcm, rate = decode_wav(path.read_bytes())
    quiet = measure((pcm // 4).astype(np.int16), rate)
    normal = measure(pcm, rate)
    assert normal.energy_db - quiet.energy_db == pytest.approx(12.0, abs=0.5)
    assert normal.f0_median_hz == pytest.approx(quiet.f0_median_hz, rel=0.02)  # pitch does not depend on level


def test_silence_has_no_features():
    assert measure(np.zeros(16000, dtype=np.int16), 16000) is None
    with pytest.raises(ValueError, match="int16"):
        measure(np.zeros(16000), 16000)
