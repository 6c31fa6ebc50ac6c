"""Text to speech with hibari (a female Kokoro-82M distillation, Apache-2.0, 24 kHz), with native pitch control
and a phoneme timeline from the model's own durations.

hibari's network predicts, per 12.5 ms frame, a harmonic filter, noise and residual spectra and an f0 curve;
the package's `dsp.synth` turns them into a waveform by filtering a pulse train built from that f0. Pitch level
and range are therefore applied natively: the f0 curve is scaled (level) and its log excursions around the
sentence median are stretched (range) before the waveform is built — the spectral envelope stays, so formants
do not move. Rate uses the model's `speed` input (capped at 1.3, see `_MAX_SPEED`), loudness a gain.

Durations: the graph rounds each phoneme's predicted length and feeds the integers to a `CumSum` that builds
the frame alignment; that tensor is exposed as an extra output (`speech.tts.onnx_durations`, source "cumsum"),
so every phoneme's span in samples is exact: audio = frames * 300 samples, frames = sum(durations) * k.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime

from core.emotion import EmotionState
from core.media import Phoneme, Speech
from core.provision import ModelError
from speech.prosody import NEUTRAL_PROSODY, Prosody, prosody_for
from speech.tts.onnx_durations import with_duration_output
from speech.tts.timeline import PAUSE, clean_alignment, estimate_alignment, to_phonemes

# misaki's single-letter diphthongs and affricates, in IPA, so the avatar's viseme table understands them.
_MISAKI_IPA = {
    "A": "eɪ",
    "I": "aɪ",
    "O": "oʊ",
    "Q": "əʊ",
    "W": "aʊ",
    "Y": "ɔɪ",
    "ʤ": "dʒ",
    "ʧ": "tʃ",
    "ᵊ": "ə",
    "T": "ɾ",
}
_NEUTRAL_PEAK = 0.6  # as for Piper: room for louder emotions without clipping
# The model rounds every phoneme to whole 25 ms units, so its `speed` acts in jumps: above ~1.3 many phonemes
# collapse to one unit at once (speed 1.42 measured +58 % rate and 5 % ASR WER, 1.3 gave +13 % and 2 %).
_MIN_SPEED, _MAX_SPEED = 0.6, 1.3
_SEED = 7  # fixed noise: the same text and emotion always give the same audio


class HibariSynthesizer:
    """A `Synthesizer` speaking with hibari's packaged voice ("heart", American English, female).

    model_path: another hibari-compatible ONNX file, or None for the one inside the hibari package.
    threads: onnxruntime intra-op threads.
    """

    def __init__(self, model_path: Path | None = None, threads: int = 1) -> None:
        try:
            import hibari
            from hibari import dsp
        except ImportError as error:
            raise ModelError("the hibari voice needs the hibari-tts package: pip install hibari-tts==0.2.1") from error
        assets = Path(hibari.__file__).with_name("assets")
        path = Path(model_path) if model_path is not None else assets / "hibari.onnx"
        if not path.is_file():
            raise ModelError(f"hibari model {path} is missing; reinstall hibari-tts==0.2.1")
        model = path.read_bytes()
        patched = with_duration_output(model, source="cumsum")
        self.uses_model_durations = patched is not None
        try:
            # hibari's own class keeps the text front end (normaliser, tagger, lexicons, OOV net).
            self._tts = hibari.Hibari(voice="heart", model=patched[0] if patched else model, threads=threads)
        except Exception as error:  # onnxruntime raises its own exception types for bad models
            raise ModelError(f"could not load hibari model {path} ({error}); reinstall hibari-tts") from error
        self._session: onnxruntime.InferenceSession = self._tts.sess
        self._synth = dsp.synth
        self._hop = dsp.HOP
        self._symbols = {index: symbol for symbol, index in json.loads((assets / "vocab.json").read_text()).items()}
        self.sample_rate: int = int(hibari.SAMPLE_RATE)

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        """Speak `text` (one or more sentences) with the pitch, range, rate and loudness of `emotion`."""
        prosody = prosody_for(emotion)
        pieces: list[npt.NDArray[np.int16]] = []
        alignment: list[tuple[str, int]] = []
        rng = np.random.default_rng(_SEED)
        for phonemes in self._tts.phonemize(text):
            audio, segments = self._sentence(self._tts.ids(phonemes), prosody, rng)
            pieces.append(audio)
            alignment.extend(segments)
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        timeline = [_ipa(p) for p in to_phonemes(clean_alignment(alignment), self.sample_rate)]
        return Speech(pcm=pcm, sample_rate=self.sample_rate, phonemes=tuple(timeline), text=text)

    def _sentence(
        self, ids: list[int], prosody: Prosody, rng: np.random.Generator
    ) -> tuple[npt.NDArray[np.int16], list[tuple[str, int]]]:
        speed = float(np.clip(1.0 + prosody.rate_pct / 100.0, _MIN_SPEED, _MAX_SPEED))
        outputs = self._session.run(
            None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
        )
        lh, theta, ln, lr, phi, f0 = (o[0] for o in outputs[:6])
        f0 = _shape_f0(f0, 1.0 + prosody.pitch_pct / 100.0, prosody.range_semitones / NEUTRAL_PROSODY.range_semitones)
        wave = self._synth(lh, theta, ln, lr, phi, f0, rng)
        peak = float(np.abs(wave).max()) if len(wave) else 0.0
        gain = float(np.clip(_NEUTRAL_PEAK * prosody.volume / 50.0, 0.05, 1.0)) / max(peak, 1e-6)
        audio = np.clip(np.round(wave * gain * 32767.0), -32768, 32767).astype(np.int16)
        symbols = ["^", *(self._symbols.get(i, "?") for i in ids[1:-1]), "$"]
        if self.uses_model_durations:
            segments = _exact_alignment(symbols, np.asarray(outputs[6]).ravel(), len(audio))
            if segments is not None:
                return audio, segments
        return audio, estimate_alignment(symbols, len(audio))


def _shape_f0(f0: npt.NDArray[np.floating[Any]], level: float, range_scale: float) -> npt.NDArray[np.float32]:
    """Scale voiced f0 by `level` and stretch its log excursions around the median by `range_scale`."""
    f0 = np.asarray(f0, dtype=np.float32).copy()
    voiced = f0 > 40.0  # hibari's own voicing threshold (dsp.pulses)
    if not voiced.any():
        return f0
    median = float(np.median(f0[voiced]))
    shaped = level * median * (f0[voiced] / median) ** range_scale
    f0[voiced] = np.maximum(shaped, 41.0)  # stay voiced
    return f0


def _exact_alignment(
    symbols: list[str], durations: npt.NDArray[np.number[Any]], num_samples: int
) -> list[tuple[str, int]] | None:
    """(symbol, samples) from integer durations: each duration unit is a whole number of frames."""
    total = int(durations.sum())
    if len(durations) != len(symbols) or total <= 0 or num_samples % total:
        return None  # unexpected graph: the caller falls back to estimated timings
    per_unit = num_samples // total
    return [(symbol, int(d) * per_unit) for symbol, d in zip(symbols, durations, strict=True)]


def _ipa(phoneme: Phoneme) -> Phoneme:
    if phoneme.symbol == PAUSE:
        return phoneme
    symbol = "".join(_MISAKI_IPA.get(ch, ch) for ch in phoneme.symbol)
    return Phoneme(symbol, phoneme.start, phoneme.end)
