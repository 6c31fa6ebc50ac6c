import numpy as np
import pytest

from speech.affect.pitch import yin


def _voice(f0: np.ndarray, sample_rate: int) -> np.ndarray:
    """A harmonic-rich voice-like tone following the per-sample contour `f0`."""
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    return sum(np.sin(k * phase) / k for k in range(1, 15)) * 0.3


@pytest.mark.parametrize("sample_rate", [16000, 22050, 24000])
def test_yin_follows_a_gliding_pitch(sample_rate):
    t = np.arange(int(1.5 * sample_rate)) / sample_rate
    f0 = 110 * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    track = yin(_voice(f0, sample_rate), sample_rate)
    truth = np.interp(track.times(), t, f0)
    assert track.voiced.mean() > 0.95
    assert np.nanmax(np.abs(track.f0 / truth - 1)) < 0.02
    assert np.all(track.aperiodicity[track.voiced] < 0.1)


def test_noise_and_silence_are_unvoiced():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, 16000)
    silence_then_tone = np.concatenate([np.zeros(8000), _voice(np.full(8000, 200.0), 16000)])
    assert yin(noise, 16000).voiced.mean() < 0.1
    track = yin(silence_then_tone, 16000)
    assert not track.voiced[track.times() < 0.45].any()
    assert np.nanmedian(track.f0) == pytest.approx(200, rel=0.01)


def test_int16_input_and_short_input():
    pcm = (_voice(np.full(4000, 150.0), 16000) * 20000).astype(np.int16)
    assert np.nanmedian(yin(pcm, 16000).f0) == pytest.approx(150, rel=0.01)
    assert len(yin(np.zeros(100, dtype=np.int16), 16000).f0) == 0
    with pytest.raises(ValueError, match="mono"):
        yin(np.zeros((2, 100)), 16000)
