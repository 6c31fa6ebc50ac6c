"""Pitch (f0) tracking with YIN (de Cheveigné & Kawahara, 2002), in numpy: no GPL or non-commercial code.

YIN finds, per frame, the smallest lag whose cumulative-mean-normalised difference function dips below a
threshold, refines it by parabolic interpolation, and reports the aperiodicity (the dip's depth) with it, which
doubles as a voicing decision and a harmonics-to-noise measure. Frames are analysed in one vectorised pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

_SILENCE_DB = -70.0


@dataclass(frozen=True)
class PitchTrack:
    """f0 per frame (Hz; NaN where unvoiced), each frame's aperiodicity in [0, 1], the hop and the centre time of
    the first frame in seconds."""

    f0: npt.NDArray[np.float64]
    aperiodicity: npt.NDArray[np.float64]
    hop_s: float
    first_s: float = 0.0

    @property
    def voiced(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.f0)

    def times(self) -> npt.NDArray[np.float64]:
        """Centre time of each frame in seconds."""
        return self.first_s + np.arange(len(self.f0)) * self.hop_s


def yin(
    pcm: npt.NDArray[np.int16] | npt.NDArray[np.floating[Any]],
    sample_rate: int,
    fmin: float = 60.0,
    fmax: float = 450.0,
    hop_s: float = 0.01,
    threshold: float = 0.15,
    min_level_db: float = -45.0,
    max_aperiodicity: float = 0.25,
) -> PitchTrack:
    """YIN f0 track of mono PCM (int16 or float). Frames quieter than `min_level_db` below the loudest frame
    or whose best dip is above `max_aperiodicity` count as unvoiced."""
    x = _as_float(pcm)
    # Low-pass well above the highest f0: removes the high harmonics that create octave errors.
    x = sosfiltfilt(butter(4, min(1000.0, 0.45 * sample_rate) / (sample_rate / 2), output="sos"), x)
    max_lag = int(np.ceil(sample_rate / fmin))
    min_lag = max(2, int(sample_rate / fmax))
    window = 2 * max_lag  # two periods of the lowest pitch
    hop = max(1, round(hop_s * sample_rate))
    n_frames = 1 + max(0, len(x) - window - max_lag) // hop if len(x) >= window + max_lag else 0
    if n_frames == 0:
        return PitchTrack(np.zeros(0), np.zeros(0), hop / sample_rate, window / 2 / sample_rate)
    starts = np.arange(n_frames) * hop
    # Difference function d(tau) = sum (x_j - x_{j+tau})^2 via energies and a cross term, for all frames at once.
    frames = np.lib.stride_tricks.sliding_window_view(x, window + max_lag)[starts]
    head = frames[:, :window]
    n_fft = 1 << int(np.ceil(np.log2(2 * (window + max_lag))))
    spectrum_a = np.fft.rfft(head, n_fft)
    spectrum_b = np.fft.rfft(frames, n_fft)
    cross = np.fft.irfft(np.conj(spectrum_a) * spectrum_b, n_fft)[:, : max_lag + 1]
    squares = np.cumsum(np.pad(frames**2, ((0, 0), (1, 0))), axis=1)
    energy_head = squares[:, window][:, None]
    lags = np.arange(max_lag + 1)
    energy_shift = squares[:, lags + window] - squares[:, lags]
    diff = np.maximum(energy_head + energy_shift - 2 * cross, 0.0)
    cmnd = np.ones_like(diff)
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
    f0 = np.full(n_frames, np.nan)
    aperiodicity = np.ones(n_frames)
    level = 10 * np.log10(energy_head[:, 0] / window + 1e-12)
    # Relative to the loudest frame, and never below about -70 dBFS (digital silence has no pitch).
    loud = (level > level.max() + min_level_db) & (level > _SILENCE_DB)
    search = cmnd[:, min_lag : max_lag + 1]
    for i in np.flatnonzero(loud):
        row = search[i]
        below = np.flatnonzero(row < threshold)
        if len(below):
            j = below[0]
            while j + 1 < len(row) and row[j + 1] < row[j]:  # walk down to the local minimum
                j += 1
        else:
            j = int(np.argmin(row))
        if row[j] > max_aperiodicity:  # no clear period: unvoiced (fricatives, breath, noise)
            aperiodicity[i] = min(1.0, float(row[j]))
            continue
        tau = j + min_lag
        # Parabolic interpolation of the dip for sub-sample lag precision.
        if 1 <= tau < max_lag:
            a, b, c = cmnd[i, tau - 1], cmnd[i, tau], cmnd[i, tau + 1]
            denom = a - 2 * b + c
            tau = tau + (0.5 * (a - c) / denom if abs(denom) > 1e-12 else 0.0)
        f0[i] = sample_rate / tau
        aperiodicity[i] = float(row[j])
    return PitchTrack(f0=f0, aperiodicity=aperiodicity, hop_s=hop / sample_rate, first_s=window / 2 / sample_rate)


def _as_float(pcm: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    pcm = np.asarray(pcm)
    if pcm.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got shape {pcm.shape}")
    if pcm.dtype == np.int16:
        return pcm.astype(np.float64) / 32768.0
    return pcm.astype(np.float64)
