"""Text to speech with Piper (VITS voices in ONNX), with emotional rate and volume and a phoneme timeline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig, SynthesisConfig
from piper.voice import AudioChunk

from core.emotion import EmotionState
from core.media import Speech
from core.provision import ModelError
from speech.prosody import NEUTRAL_PROSODY, Prosody, prosody_for
from speech.tts.onnx_durations import with_duration_output
from speech.tts.pitch_shift import prosody_pitch_factor, shift_pitch
from speech.tts.timeline import clean_alignment, estimate_alignment, to_phonemes

_LOGGER = logging.getLogger(__name__)

# Peak level at neutral volume (50): about -4.4 dBFS, which leaves room for louder emotions (volume up to 83
# at full arousal -> peak 1.0) without clipping.
_NEUTRAL_PEAK = 0.6
# Keep the rate inside what the voice renders intelligibly.
_MIN_RATE_PCT, _MAX_RATE_PCT = -50.0, 100.0


class PiperSynthesizer:
    """A `Synthesizer` speaking with a Piper voice on the CPU.

    voice_path: the voice's `.onnx` file (its `.onnx.json` config must sit next to it).
    threads: onnxruntime intra-op threads.

    Emotion sets the speaking rate (Piper's length scale), the loudness, the pitch level and the pitch range
    from Schröder's rules (`speech.prosody`). Piper has no pitch control, so pitch is changed afterwards, per
    sentence, by a duration-preserving shift (`speech.tts.pitch_shift`) that keeps the phoneme timeline valid:
    the level as a constant factor, the range by scaling the voice's own f0 contour around its median.

    The phoneme timeline comes from the voice's own per-phoneme durations: the VITS duration tensor is exposed
    as an extra model output when the voice is loaded (see `speech.tts.onnx_durations`), so timings are exact to
    the sample. Voices whose graph does not allow that get timings estimated from typical phoneme durations
    (`uses_model_durations` tells which path is active).
    """

    def __init__(self, voice_path: Path, threads: int = 1) -> None:
        voice_path = Path(voice_path)
        config_path = voice_path.with_name(voice_path.name + ".json")
        for path in (voice_path, config_path):
            if not path.is_file():
                raise ModelError(
                    f"Piper voice file {path} is missing; install the voice with `empathica models install piper-joe`"
                )
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except (ValueError, KeyError) as error:
            raise ModelError(
                f"Piper voice config {config_path} is unreadable ({error}); reinstall the voice"
            ) from error
        model = voice_path.read_bytes()
        patched = with_duration_output(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = None
        if patched:
            try:
                session = onnxruntime.InferenceSession(patched[0], options, providers=["CPUExecutionProvider"])
            except Exception:  # the unpatched model may still load: fall back to estimated timings below
                _LOGGER.warning("voice %s rejected the duration output; loading it unpatched", voice_path.name)
        if session is None:
            try:
                session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            except Exception as error:  # onnxruntime raises its own exception types for bad models
                raise ModelError(f"could not load Piper voice {voice_path} ({error}); reinstall the voice") from error
        self.uses_model_durations = len(session.get_outputs()) > 1
        if not self.uses_model_durations:
            _LOGGER.info("voice %s exposes no phoneme durations: estimating the phoneme timeline", voice_path.name)
        self._voice = PiperVoice(config=config, session=session)
        self._base_length_scale = config.length_scale
        self.sample_rate: int = config.sample_rate

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        """Speak `text` with the prosody of `emotion`; one Piper chunk per sentence, concatenated."""
        prosody = prosody_for(emotion)
        config = SynthesisConfig(length_scale=self._length_scale(prosody), volume=_peak(prosody))
        pieces: list[npt.NDArray[np.int16]] = []
        alignment: list[tuple[str, int]] = []
        for chunk in self._voice.synthesize(text, config, include_alignments=self.uses_model_durations):
            audio = self._shift(chunk.audio_int16_array, prosody)
            alignment.extend(self._chunk_alignment(chunk, len(audio)))
            pieces.append(audio)
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        # Cleaning the whole text at once merges one sentence's end pause with the next one's start.
        phonemes = to_phonemes(clean_alignment(alignment), self.sample_rate)
        return Speech(pcm=pcm, sample_rate=self.sample_rate, phonemes=tuple(phonemes), text=text)

    def _shift(self, audio: npt.NDArray[np.int16], prosody: Prosody) -> npt.NDArray[np.int16]:
        """Apply pitch level and range; the audio keeps its length and timing."""
        level = 1.0 + prosody.pitch_pct / 100.0
        range_scale = prosody.range_semitones / NEUTRAL_PROSODY.range_semitones
        if abs(level - 1.0) < 1e-3 and abs(range_scale - 1.0) < 1e-3:
            return audio
        factor = prosody_pitch_factor(audio, self.sample_rate, level, range_scale)
        return shift_pitch(audio, self.sample_rate, factor)

    def _length_scale(self, prosody: Prosody) -> float:
        rate_pct = min(max(prosody.rate_pct, _MIN_RATE_PCT), _MAX_RATE_PCT)
        return self._base_length_scale / (1.0 + rate_pct / 100.0)

    @staticmethod
    def _chunk_alignment(chunk: AudioChunk, num_samples: int) -> list[tuple[str, int]]:
        """(symbol, samples) for one sentence chunk, including its start/end markers, summing to `num_samples`."""
        alignment = [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments or ()]
        if alignment:
            # The audio is sum(durations) * hop samples long; absorb any off-by-some difference at the end.
            shortfall = num_samples - sum(samples for _, samples in alignment)
            if alignment[-1][1] + shortfall > 0:
                alignment[-1] = (alignment[-1][0], alignment[-1][1] + shortfall)
                return alignment
        return estimate_alignment(["^", *chunk.phonemes, "$"], num_samples)


def _peak(prosody: Prosody) -> float:
    """Piper normalises each sentence to full scale and then multiplies by this."""
    return float(np.clip(_NEUTRAL_PEAK * prosody.volume / 50.0, 0.05, 1.0))
