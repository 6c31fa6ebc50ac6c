"""Prosodic and voice-quality measurements of one utterance: pitch, loudness, rate and voice quality.

All from numpy/scipy on mono PCM16: f0 by our YIN (`speech.affect.pitch`), syllable nuclei after de Jong &
Wempe (2009) (peaks of the voiced intensity contour at least 2 dB above the dips around them), and frame-based
approximations of jitter, shimmer and HNR. None of them is GPL or non-commercial (no Praat, no openSMILE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, find_peaks, sosfiltfilt

from speech.affect.pitch import yin

_HOP_S = 0.01
_ACTIVE_DB = -35.0  # frames this far below the loudest count as pause
_SILENCE_DB = -65.0  # and anything quieter than this in dBFS


@dataclass(frozen=True)
class ProsodyFeatures:
    """Measurements of one utterance.

    f0_median_hz / f0_mean_hz / f0_range_semitones: pitch level and spread (10th-90th percentile) of voiced
    frames. energy_db: loudness of the active frames in dBFS (depends on microphone gain: compare within a
    speaker). speaking_rate: syllables per second of speaking time (pauses excluded). jitter / shimmer:
    frame-to-frame relative change of f0 / amplitude in voiced runs (approximations of the cycle-to-cycle
    measures). hnr_db: harmonics-to-noise ratio from YIN's periodicity. spectral_tilt_db: energy below 1 kHz
    minus 1-4 kHz in voiced frames (lower = brighter, pressed voice). voiced_seconds / active_seconds: voiced
    and non-pause time the measurements rest on.
    """

    f0_median_hz: float
    f0_mean_hz: float
    f0_range_semitones: float
    energy_db: float
    speaking_rate: float
    jitter: float
    shimmer: float
    hnr_db: float
    spectral_tilt_db: float
    voiced_seconds: float
    active_seconds: float


def measure(pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> ProsodyFeatures | None:
    """Features of mono int16 `pcm`, or None when there is too little voiced speech (< 0.2 s) to measure.

    text: what was said (the transcript), if known. The speaking rate then counts the text's syllables, which is
    far more reliable than counting syllable nuclei in the audio: fast speech merges nuclei, so the acoustic
    count undercounts exactly when the rate is high.
    """
    pcm = np.asarray(pcm)
    if pcm.ndim != 1 or pcm.dtype != np.int16:
        raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
    x = pcm.astype(np.float64) / 32768.0
    track = yin(pcm, sample_rate, hop_s=_HOP_S)
    if len(track.f0) == 0:
        return None
    hop = round(_HOP_S * sample_rate)
    frame = 2 * hop
    # Frame grid aligned with the pitch track: frame i is centred at track.times()[i].
    centres = np.round(track.times() * sample_rate).astype(int)
    starts = np.clip(centres - frame // 2, 0, max(0, len(x) - frame))
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[starts] if len(x) >= frame else np.zeros((0, frame))
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    level = 20 * np.log10(rms)
    active = (level > level.max() + _ACTIVE_DB) & (level > _SILENCE_DB)
    voiced = track.voiced & active
    if voiced.sum() * _HOP_S < 0.2:
        return None
    f0 = track.f0[voiced]
    # Octave errors (a period doubled or halved) would dominate the range percentiles: drop frames more than
    # an octave from the median; real speech excursions rarely reach that far.
    centre = np.median(f0)
    f0 = f0[(f0 > centre / 2) & (f0 < centre * 2)]
    low, median, high = np.percentile(f0, [10, 50, 90])
    energy_db = float(10 * np.log10(np.mean(rms[active] ** 2)))
    syllables = count_syllables(text) if text and text.strip() else _syllable_nuclei(x, sample_rate, centres, voiced)
    active_seconds = float(active.sum() * _HOP_S)
    return ProsodyFeatures(
        f0_median_hz=float(median),
        f0_mean_hz=float(np.mean(f0)),
        f0_range_semitones=float(12 * np.log2(high / low)),
        energy_db=energy_db,
        speaking_rate=syllables / max(active_seconds, 0.1),
        jitter=_relative_step(track.f0, voiced),
        shimmer=_relative_step(rms, voiced),
        hnr_db=_hnr_db(track.aperiodicity[voiced]),
        spectral_tilt_db=_tilt_db(frames[voiced], sample_rate),
        voiced_seconds=float(voiced.sum() * _HOP_S),
        active_seconds=active_seconds,
    )


def _syllable_nuclei(
    x: npt.NDArray[np.float64], sample_rate: int, centres: npt.NDArray[np.int_], voiced: npt.NDArray[np.bool_]
) -> int:
    """Count intensity peaks in voiced frames that stand 1.5 dB above their surroundings, >= 70 ms apart."""
    # Vowels carry their energy in the first formant region: 300-3000 Hz keeps them and drops fricatives.
    band = sosfiltfilt(
        butter(2, [300 / (sample_rate / 2), min(3000 / (sample_rate / 2), 0.99)], "bandpass", output="sos"), x
    )
    window = int(0.03 * sample_rate)
    energy = np.convolve(band**2, np.ones(window) / window, mode="same")
    intensity = 10 * np.log10(energy[np.clip(centres, 0, len(energy) - 1)] + 1e-12)
    threshold = np.median(intensity[voiced]) - 10.0  # ignore peaks far below the typical vowel
    peaks, _ = find_peaks(intensity, prominence=1.5, distance=max(1, int(0.07 / _HOP_S)))
    return int(sum(voiced[p] and intensity[p] > threshold for p in peaks))


def count_syllables(text: str) -> int:
    """Syllables in English text by vowel groups (silent final e, -le, -ed rules): within ~5 % on running text."""
    total = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        word = word.strip("'")
        if not word:
            continue
        groups = len(re.findall(r"[aeiouy]+", word))
        if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
            groups -= 1  # silent e: "make", "time"
        if word.endswith("ed") and not word.endswith(("ted", "ded")) and groups > 1:
            groups -= 1  # "walked", "called"
        total += max(1, groups)
    total += sum(len(digits) for digits in re.findall(r"\d+", text))  # digits: roughly one syllable each
    return total


def _relative_step(values: npt.NDArray[np.float64], voiced: npt.NDArray[np.bool_]) -> float:
    """Mean |v[i] - v[i-1]| / mean(v) over consecutive voiced frames."""
    pairs = voiced[1:] & voiced[:-1]
    if not pairs.any():
        return 0.0
    a, b = values[1:][pairs], values[:-1][pairs]
    return float(np.mean(np.abs(a - b)) / np.mean((a + b) / 2))


def _hnr_db(aperiodicity: npt.NDArray[np.float64]) -> float:
    """HNR from YIN's aperiodicity d' (roughly the noise-to-total power ratio at the period lag)."""
    ap = np.clip(np.median(aperiodicity), 1e-3, 0.999)
    return float(10 * np.log10((1 - ap) / ap))


def _tilt_db(frames: npt.NDArray[np.float64], sample_rate: int) -> float:
    """Energy below 1 kHz minus energy in 1-4 kHz, in dB, over the given frames (alpha-ratio style)."""
    if len(frames) == 0:
        return 0.0
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frames.shape[1], 1 / sample_rate)
    low = spectrum[:, (freqs >= 50) & (freqs < 1000)].sum()
    high = spectrum[:, (freqs >= 1000) & (freqs < min(4000, sample_rate / 2))].sum()
    return float(10 * np.log10((low + 1e-12) / (high + 1e-12)))
