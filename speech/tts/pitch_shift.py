"""Duration-preserving pitch shift for engines without pitch control (Piper): warp, then WSOLA back in time.

A pitch factor r(t) (which may vary over time: level times a contour scaling for pitch range) is applied in two
steps that keep every sample's timing, so a phoneme timeline computed for the unshifted audio stays valid:

1. Resample along a warped time axis: the warped signal advances through the input r(t) samples per output
   sample, which multiplies every frequency (f0 and formants alike) by r(t) and shortens the audio locally by
   1/r(t).
2. WSOLA (waveform-similarity overlap-add; Verhelst & Roelands, 1993) reads that signal back on the original
   time grid: output frame k, centred at original time t_k, is taken from the warped signal near the position
   that corresponds to t_k, shifted by up to `tolerance` so it continues the previous frame's waveform. The
   output has exactly the input's length, and any point drifts at most `tolerance` (10 ms) from its original
   time — well inside a phoneme.

Formants move with the pitch (no spectral-envelope correction); for the ±10-25 % of Schröder's rules this
sounds like a slightly different speaker rather than an artefact.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, correlate, resample_poly, sosfiltfilt

_Samples = npt.NDArray[np.float64]  # float samples, or one value per sample

_FRAME_S = 0.03  # WSOLA frame: about three pitch periods of a low voice
_TOLERANCE_S = 0.01  # search range; more than half the longest pitch period (80 Hz -> 6.25 ms)


def shift_pitch(
    pcm: npt.NDArray[np.int16], sample_rate: int, factor: float | _Samples
) -> npt.NDArray[np.int16]:
    """Multiply the pitch of mono int16 `pcm` by `factor` without changing its length or timing.

    factor: one number, or one value per sample (a pitch contour scaling, e.g. for pitch range). Values are
    clipped to [0.5, 2].
    """
    pcm = np.asarray(pcm)
    if pcm.ndim != 1 or pcm.dtype != np.int16:
        raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
    n = len(pcm)
    ratio = np.clip(np.broadcast_to(np.asarray(factor, dtype=np.float64), (n,)), 0.5, 2.0)
    if n < int(4 * _FRAME_S * sample_rate) or np.allclose(ratio, 1.0, atol=1e-4):
        return pcm.copy()
    x = pcm.astype(np.float64)
    warped, position = _warp(x, sample_rate, ratio)
    out = _wsola(warped, position, n, sample_rate)
    clipped: _Samples = np.clip(np.round(out), -32768, 32767)
    return clipped.astype(np.int16)


def _warp(x: _Samples, sample_rate: int, ratio: _Samples) -> tuple[_Samples, _Samples]:
    """The signal read r(t) input samples per output sample, and, per input sample, its position in it."""
    top = float(ratio.max())
    if top > 1.0:  # reading faster folds content above fs / (2 r) back down: remove it first
        x = sosfiltfilt(butter(8, 0.95 / top, output="sos"), x)
    # Linear interpolation on a 2x oversampled copy: cheap, and its high-frequency loss stays above ~8 kHz.
    fine = resample_poly(x, 2, 1)
    position = np.concatenate([[0.0], np.cumsum(1.0 / ratio[:-1])])  # warped index of each input sample
    length = int(np.floor(position[-1])) + 1
    input_time = np.interp(np.arange(length), position, np.arange(len(x), dtype=np.float64))
    return np.interp(2.0 * input_time, np.arange(len(fine)), fine), position


def _wsola(y: _Samples, position: _Samples, n: int, sample_rate: int) -> _Samples:
    """Overlap-add frames of `y` at the output grid of length `n`, frame k read near `position[t_k]`."""
    frame = int(_FRAME_S * sample_rate) // 2 * 2
    hop = frame // 2
    tolerance = int(_TOLERANCE_S * sample_rate)
    window = np.hanning(frame + 1)[:frame]  # periodic Hann: 50 % overlaps sum to one
    padded = np.pad(y, (frame + tolerance, frame + 2 * tolerance))
    offset = frame + tolerance  # index of y[0] in `padded`
    out = np.zeros(n + frame)
    norm = np.zeros(n + frame)
    previous = None  # where the last frame was read from (in `padded`)
    for start in range(-hop, n, hop):  # output frame covers [start, start + frame)
        centre = min(max(start + hop, 0), n - 1)
        nominal = round(position[centre]) - hop + offset
        nominal = min(max(nominal, tolerance), len(padded) - frame - tolerance)
        if previous is None:
            chosen = nominal
        else:
            # The natural continuation of the previous frame; pick the candidate that resembles it most.
            template = padded[previous + hop : previous + hop + frame]
            region = padded[nominal - tolerance : nominal + tolerance + frame]
            score = correlate(region, template, mode="valid")
            chosen = nominal - tolerance + int(np.argmax(score))
        previous = chosen
        segment = padded[chosen : chosen + frame] * window
        lo = max(start, 0)
        out[lo : start + frame] += segment[lo - start :]
        norm[lo : start + frame] += window[lo - start :]
    result: _Samples = out[:n] / np.maximum(norm[:n], 1e-3)
    return result


def prosody_pitch_factor(
    pcm: npt.NDArray[np.int16], sample_rate: int, level: float, range_scale: float, hop_s: float = 0.01
) -> _Samples:
    """Per-sample pitch factor that moves the median f0 by `level` and scales the f0 contour's excursions
    around that median by `range_scale` (1 keeps the voice's range; 1.5 widens it by half, in semitones).

    The contour comes from a YIN track of `pcm`; across unvoiced stretches the log-f0 deviation is interpolated
    and the factor is smoothed over ~50 ms, so the warp never jumps.
    """
    n = len(pcm)
    if abs(range_scale - 1.0) < 1e-3:
        return np.full(n, level)
    from speech.affect.pitch import yin  # the contour needs a tracker; YIN is ours (no GPL code)

    track = yin(pcm, sample_rate, hop_s=hop_s)
    voiced = track.voiced
    if voiced.sum() < 3:
        return np.full(n, level)
    deviation = np.log(track.f0[voiced] / np.nanmedian(track.f0))
    # Octave errors of the tracker would become sudden jumps of the warp, which garble the words: ignore frames
    # more than 0.7 octave from the median (real intonation rarely goes that far).
    plausible = np.abs(deviation) < 0.7 * np.log(2)
    if plausible.sum() < 3:
        return np.full(n, level)
    contour = np.interp(np.arange(n) / sample_rate, track.times()[voiced][plausible], deviation[plausible])
    smooth = max(1, int(0.05 * sample_rate))
    contour = np.convolve(contour, np.ones(smooth) / smooth, mode="same")
    # At most about +-4 semitones beyond the level change: wider swings cost intelligibility (measured by ASR).
    return level * np.exp(np.clip((range_scale - 1.0) * contour, -0.25, 0.25))
