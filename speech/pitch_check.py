"""An f0 estimator for *measuring* synthesised speech, independent of the YIN tracker and the pitch shifter.

Cepstral pitch detection (Noll, 1967): the real cepstrum of a voiced frame has a peak at the quefrency of the
pitch period; the peak's height above the cepstrum's linear trend over the search range (cepstral peak
prominence, CPP) decides voicing. It shares no code or method with `speech.affect.pitch` (time-domain YIN) or
`speech.tts.pitch_shift`, so benchmarks and tests use it to check that the shifter did what it claims.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def cepstral_f0(
    pcm: npt.NDArray[np.int16],
    sample_rate: int,
    fmin: float = 60.0,
    fmax: float = 600.0,
    hop_s: float = 0.01,
    min_prominence: float = 0.1,
) -> npt.NDArray[np.float64]:
    """f0 (Hz) of each voiced frame of mono int16 `pcm` (50 ms frames); quiet and aperiodic frames are left out."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    frame = int(0.05 * sample_rate)  # three periods of a 60 Hz voice
    hop = int(hop_s * sample_rate)
    if len(x) < frame:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop] * np.hanning(frame)
    n_fft = 1 << int(np.ceil(np.log2(2 * frame)))
    cepstrum = np.fft.irfft(np.log(np.abs(np.fft.rfft(frames, n_fft)) + 1e-9), n_fft)
    lo, hi = int(sample_rate / fmax), int(sample_rate / fmin)
    search = cepstrum[:, lo:hi]
    # Prominence over a straight line fitted to the search range, per frame.
    quefrency = np.arange(lo, hi, dtype=np.float64)
    design = np.vstack([quefrency, np.ones_like(quefrency)]).T
    coefficients = np.linalg.lstsq(design, search.T, rcond=None)[0]
    trend = (design @ coefficients).T
    peak = np.argmax(search, axis=1)
    rows = np.arange(len(peak))
    prominence = search[rows, peak] - trend[rows, peak]
    energy = (frames**2).sum(axis=1)
    voiced = (energy > energy.max() * 1e-3) & (prominence > min_prominence)
    f0: npt.NDArray[np.float64] = sample_rate / (peak[voiced] + lo)
    return f0


def speech_span(pcm: npt.NDArray[np.int16], sample_rate: int, floor_db: float = -35.0) -> float:
    """Seconds from the first to the last 10 ms frame louder than `floor_db` below the loudest frame."""
    x = np.asarray(pcm, dtype=np.float64)
    hop = int(0.01 * sample_rate)
    n = len(x) // hop
    if n == 0:
        return 0.0
    level = 10 * np.log10((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-9)
    active = np.flatnonzero(level > level.max() + floor_db)
    return float((active[-1] - active[0] + 1) * hop / sample_rate)
