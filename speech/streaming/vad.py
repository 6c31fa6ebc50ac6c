"""Voice activity detection on streaming 16 kHz PCM with Silero VAD (MIT), the ONNX file faster-whisper ships.

Silero VAD v6 takes 512-sample windows (32 ms at 16 kHz) preceded by the last 64 samples of the previous
window, and carries an LSTM state (h, c) from window to window; it returns the probability that the window
holds speech. `SileroVad` keeps that state per stream, so make one per microphone stream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime

from core.provision import ModelError

VAD_RATE = 16_000
WINDOW = 512  # samples per decision (32 ms)
_CONTEXT = 64
_STATE_SHAPE = (1, 1, 128)


def default_vad_model() -> Path:
    """The Silero VAD ONNX file inside the installed faster-whisper package."""
    import faster_whisper

    assets = Path(faster_whisper.__file__).with_name("assets")
    found = sorted(assets.glob("silero_vad*.onnx"))
    if not found:
        raise ModelError(f"no silero_vad*.onnx in {assets}; reinstall faster-whisper (pip install faster-whisper)")
    return found[-1]


class SileroVad:
    """Speech probability per 512-sample window of a 16 kHz stream (state kept between calls).

    model_path: a Silero VAD v5/v6 ONNX file (default: faster-whisper's copy).
    """

    def __init__(self, model_path: Path | None = None) -> None:
        path = Path(model_path) if model_path is not None else default_vad_model()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # a 32 ms window is tiny; more threads only add wake-ups
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(
                f"could not load the Silero VAD model {path} ({error}); reinstall faster-whisper"
            ) from error
        self.reset()

    def reset(self) -> None:
        """Forget the stream so far (a new microphone stream)."""
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def __call__(self, window: npt.NDArray[np.int16]) -> float:
        """Speech probability of one window of exactly `WINDOW` int16 samples."""
        if window.shape != (WINDOW,):
            raise ValueError(f"SileroVad needs windows of {WINDOW} samples, got shape {window.shape}")
        audio = window.astype(np.float32) / 32768.0
        batch = np.concatenate([self._context, audio])[None, :]
        prob, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = audio[-_CONTEXT:]
        return float(np.asarray(prob).ravel()[0])
