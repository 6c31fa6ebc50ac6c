"""Collect one spoken utterance (`audio_start` ... binary frames ... `audio_end`) and validate it.

The recogniser gets 16 kHz mono int16 PCM; anything else is refused with `bad_audio` (raw PCM) or resampled
(WAV files, whose header states their rate). A WAV's length is judged from its header before a sample is decoded
or resampled, and any failure while handling the audio is `bad_audio`: a client's bytes never take the session down.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from server.protocol import ProtocolError

log = logging.getLogger(__name__)

ASR_RATE = 16000
# A WAV file may carry a larger header and other chunks; this slack keeps the byte check from refusing them.
_WAV_SLACK_BYTES = 64 * 1024


class Utterance:
    """The audio of one utterance, checked against the format and the length limit as it arrives."""

    def __init__(self, fmt: Literal["pcm16", "wav"], sample_rate: int | None, max_seconds: float) -> None:
        if fmt == "pcm16" and sample_rate != ASR_RATE:
            raise ProtocolError(
                "bad_audio", f"pcm16 audio must be 16-bit mono at {ASR_RATE} Hz, got sample_rate {sample_rate}"
            )
        self.format = fmt
        self.max_seconds = max_seconds
        self._chunks: list[bytes] = []
        self._size = 0
        # WAV files may hold a higher rate (resampled later): allow up to 48 kHz stereo before decoding.
        per_second = ASR_RATE * 2 if fmt == "pcm16" else 48000 * 2 * 2
        self._max_bytes = int(max_seconds * per_second) + (_WAV_SLACK_BYTES if fmt == "wav" else 0)

    def add(self, data: bytes) -> None:
        """Append one binary frame; raises `audio_too_long` once the limit is passed."""
        self._size += len(data)
        if self._size > self._max_bytes:
            self._chunks.clear()
            message = self._too_long_message()
            if self.format == "wav":  # the bound is in bytes: a high-rate file reaches it sooner
                message += f" (a WAV may hold at most {self._max_bytes} bytes: {self.max_seconds:g} s at 48 kHz stereo)"
            raise ProtocolError("audio_too_long", message)
        self._chunks.append(data)

    def finish(self) -> np.ndarray:
        """The utterance as 16 kHz mono int16 PCM; raises ProtocolError (bad_audio, audio_too_long)."""
        from speech.audio import AudioFormatError, decode_wav, pcm16_from_bytes, resample, wav_info

        data = b"".join(self._chunks)
        self._chunks.clear()
        try:
            if self.format == "pcm16":
                pcm = pcm16_from_bytes(data)
            else:
                if wav_info(data).seconds > self.max_seconds:  # before decoding: the header says how long it is
                    raise ProtocolError("audio_too_long", self._too_long_message())
                pcm, rate = decode_wav(data)
                if rate != ASR_RATE:
                    pcm = resample(pcm, rate, ASR_RATE)
        except AudioFormatError as exc:
            raise ProtocolError("bad_audio", str(exc)) from None
        except ProtocolError:
            raise
        except Exception as exc:  # MemoryError, a resampler failure: the client's audio, not the server, is at fault
            log.warning("could not prepare an utterance (%s): %s", self.format, type(exc).__name__)
            raise ProtocolError(
                "bad_audio", f"the audio could not be read ({type(exc).__name__}); send 16-bit PCM at 16 kHz"
            ) from None
        if len(pcm) > self.max_seconds * ASR_RATE:
            raise ProtocolError("audio_too_long", self._too_long_message())
        return pcm

    def _too_long_message(self) -> str:
        return f"the utterance is longer than the limit of {self.max_seconds:g} s; send shorter utterances"
