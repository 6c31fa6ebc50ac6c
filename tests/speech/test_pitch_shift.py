import numpy as np
import pytest

from speech.pitch_check import cepstral_f0
from speech.tts.pitch_shift import prosody_pitch_factor, shift_pitch

RATE = 22050


def _voice(f0: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    return (sum(np.sin(k * phase) / k for k in range(1, 20)) * 6000).astype(np.int16)


@pytest.mark.parametrize("factor", [0.89, 1.1, 1.19, 1.25])
def test_shift_changes_pitch_and_keeps_length(factor):
    pcm = _voice(np.full(RATE * 2, 120.0))
    shifted = shift_pitch(pcm, RATE, factor)
    assert len(shifted) == len(pcm) and shifted.dtype == np.int16
    # Measured with the cepstral tracker, which shares nothing with the shifter.
    assert np.median(cepstral_f0(shifted, RATE)) / np.median(cepstral_f0(pcm, RATE)) == pytest.approx(factor, rel=0.03)


def test_timing_is_kept_within_the_wsola_tolerance():
    # Tone bursts with silences between: each burst must start where it started before the shift.
    burst, gap = _voice(np.full(int(0.15 * RATE), 150.0)), np.zeros(int(0.2 * RATE), dtype=np.int16)
    pcm = np.concatenate([gap, burst, gap, burst, gap, burst, gap])
    shifted = shift_pitch(pcm, RATE, 1.2)

    def onsets(x: np.ndarray) -> np.ndarray:
        """Starts of loud stretches that follow at least 50 ms of quiet (WSOLA may smear a burst's tail)."""
        loud = np.convolve(np.abs(x.astype(float)), np.ones(110) / 110, mode="same") > 1000
        quiet_before = np.convolve(loud, np.ones(int(0.05 * RATE)), mode="full")[: len(loud)] == 0
        starts = np.flatnonzero(loud[1:] & quiet_before[:-1]) + 1
        return starts / RATE

    before, after = onsets(pcm), onsets(shifted)
    assert len(before) == len(after) == 3
    assert np.max(np.abs(after - before)) < 0.02


def test_range_factor_scales_the_contour_around_its_median():
    t = np.arange(RATE * 2) / RATE
    f0 = 120 * 2 ** (np.sin(2 * np.pi * 1.0 * t) * 2 / 12)  # +-2 semitones around 120 Hz
    pcm = _voice(f0)
    factor = prosody_pitch_factor(pcm, RATE, level=1.1, range_scale=1.5)
    assert len(factor) == len(pcm)
    assert np.median(factor) == pytest.approx(1.1, rel=0.02)
    # Where the voice is high the factor is higher, where it is low, lower (range widened).
    assert np.corrcoef(factor[RATE // 4 : -RATE // 4], f0[RATE // 4 : -RATE // 4])[0, 1] > 0.9
    shifted = shift_pitch(pcm, RATE, factor)
    spread = np.ptp(np.log2(np.percentile(cepstral_f0(shifted, RATE), [10, 90])))
    original = np.ptp(np.log2(np.percentile(cepstral_f0(pcm, RATE), [10, 90])))
    assert spread / original == pytest.approx(1.5, rel=0.2)
    assert np.allclose(prosody_pitch_factor(pcm, RATE, level=0.9, range_scale=1.0), 0.9)


def test_identity_and_bad_input():
    pcm = _voice(np.full(RATE, 100.0))
    assert np.array_equal(shift_pitch(pcm, RATE, 1.0), pcm)
    short = pcm[:100]
    assert np.array_equal(shift_pitch(short, RATE, 1.2), short)  # too short to shift: left alone
    with pytest.raises(ValueError, match="int16"):
        shift_pitch(pcm.astype(np.float32), RATE, 1.1)
