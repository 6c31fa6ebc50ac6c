"""Audio preparation shared by the Whisper engines: validation, the silence check, 16 kHz float samples."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from speech.audio import resample

WHISPER_RATE = 16_000
# Peak below about -50 dBFS: nothing to transcribe. Whisper invents text ("Thank you.") on pure silence.
_SILENCE_PEAK = 100


def whisper_audio(pcm: npt.NDArray[np.int16], sample_rate: int) -> npt.NDArray[np.float32] | None:
    """Mono int16 PCM as 16 kHz float32 in [-1, 1], or None when it is empty or silent.

    Raises ValueError for anything but a 1-D int16 array.
    """
    pcm = np.asarray(pcm)
    if pcm.ndim != 1 or pcm.dtype != np.int16:
        raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
    if len(pcm) == 0 or int(np.abs(pcm.astype(np.int32)).max()) < _SILENCE_PEAK:
        return None
    if sample_rate != WHISPER_RATE:
        pcm = resample(pcm, sample_rate, WHISPER_RATE)
    return pcm.astype(np.float32) / 32768.0
