"""PCM16 audio helpers: WAV decoding and encoding, raw PCM parsing, resampling.

Everything inside Empathica is mono int16 PCM (`numpy.int16`, shape `(n,)`); these helpers are the border where
bytes from a browser, a file or a test clip become that, with errors that tell the caller what to send instead.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

_EXPECTED = "expected a 16-bit PCM WAV (RIFF/WAVE, format 1, mono or stereo)"

# WAVE format tags worth naming in an error message.
_FORMAT_NAMES = {
    0x0001: "PCM",
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0055: "MP3",
    0xFFFE: "extensible",
}
_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE

# What a WAV header may declare. Anything outside is refused before a sample is decoded: a tiny file declaring
# 4294967291 Hz (or 1 Hz) would otherwise ask the resampler for gigabytes.
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8
# Resampling factors are kept below this (see `resample`): the polyphase filter grows with them.
_MAX_RESAMPLE_FACTOR = 1000


class AudioFormatError(ValueError):
    """Audio bytes are not in a format we accept; the message says what was expected."""


@dataclass(frozen=True)
class WavInfo:
    """What a WAV header says: its layout, and how long the audio is, known before any sample is decoded."""

    channels: int
    sample_rate: int
    frames: int  # whole sample frames present in the file (a streaming writer's too-large size is not trusted)
    data_offset: int  # where the samples start in the file

    @property
    def seconds(self) -> float:
        """The audio's duration."""
        return self.frames / self.sample_rate


def wav_info(data: bytes) -> WavInfo:
    """Read a 16-bit PCM WAV file's header without decoding it; raises `AudioFormatError` naming the problem.

    The sample rate must lie in [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE] and there may be at most MAX_CHANNELS channels.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError(f"not a WAV file (no RIFF/WAVE header); {_EXPECTED}")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(data[pos + 8 : pos + 8 + size])
        elif chunk_id == b"data":
            if fmt is None:
                break
            channels, rate, _, _ = fmt
            present = min(size, len(data) - pos - 8)  # streaming writers may leave a too-large size
            return WavInfo(channels, rate, present // (2 * channels), pos + 8)
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None:
        raise AudioFormatError(f"WAV file has no 'fmt ' chunk; {_EXPECTED}")
    raise AudioFormatError(f"WAV file has no 'data' chunk; {_EXPECTED}")


def decode_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """Decode a 16-bit PCM WAV file into mono int16 samples and their sample rate.

    Multi-channel audio is downmixed by averaging the channels. Compressed, 8-bit, 24/32-bit and float WAVs,
    rates outside [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE], and anything that is not a RIFF/WAVE file raise
    `AudioFormatError` naming the problem. Check `wav_info(data).seconds` first to refuse long audio cheaply.
    """
    info = wav_info(data)
    usable = info.frames * 2 * info.channels  # a truncated last frame is dropped
    pcm = np.frombuffer(data, dtype="<i2", count=usable // 2, offset=info.data_offset).astype(np.int16)
    if info.channels > 1:
        pcm = pcm.reshape(-1, info.channels).astype(np.int32).mean(axis=1).round().astype(np.int16)
    return pcm, info.sample_rate


def _parse_fmt(body: bytes) -> tuple[int, int, int, int]:
    """(channels, sample_rate, bits, format tag) of a 'fmt ' chunk, checked to be 16-bit integer PCM."""
    if len(body) < 16:
        raise AudioFormatError(f"WAV 'fmt ' chunk is truncated; {_EXPECTED}")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the sub-format GUID
    if tag != _WAVE_FORMAT_PCM:
        name = _FORMAT_NAMES.get(tag, f"format tag 0x{tag:04x}")
        raise AudioFormatError(f"WAV audio is {name}, not integer PCM; {_EXPECTED} (convert it, e.g. with ffmpeg)")
    if bits != 16:
        raise AudioFormatError(f"WAV audio has {bits}-bit samples; {_EXPECTED}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioFormatError(f"WAV header declares {channels} channels (1 to {MAX_CHANNELS}); {_EXPECTED}")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioFormatError(
            f"WAV header declares {rate} Hz; the sample rate must be {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz "
            "(e.g. 16000, 44100 or 48000)"
        )
    return channels, rate, bits, tag


def pcm16_from_bytes(data: bytes) -> npt.NDArray[np.int16]:
    """Interpret raw bytes as little-endian mono PCM16 samples (no header)."""
    if len(data) % 2:
        raise AudioFormatError(
            f"raw PCM16 needs an even number of bytes (2 per sample), got {len(data)}; send little-endian int16 mono"
        )
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def resample(pcm: npt.NDArray[np.int16], from_rate: int, to_rate: int) -> npt.NDArray[np.int16]:
    """Resample mono int16 PCM from `from_rate` to `to_rate` Hz with a polyphase filter; returns int16.

    Common rate pairs are converted exactly. An odd pair (e.g. 191999 -> 16000) would need a polyphase filter
    with millions of taps, so its ratio is approximated by one with factors below 1000 (off by a few parts per
    million: inaudible, and irrelevant to recognition).
    """
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    pcm = _as_mono_int16(pcm)
    if from_rate == to_rate or len(pcm) == 0:
        return pcm.copy()
    ratio = Fraction(to_rate, from_rate)
    if max(ratio.numerator, ratio.denominator) >= _MAX_RESAMPLE_FACTOR:
        ratio = ratio.limit_denominator(_MAX_RESAMPLE_FACTOR - 1)
    if ratio.numerator >= 4 * _MAX_RESAMPLE_FACTOR:
        raise ValueError(f"cannot resample {from_rate} Hz to {to_rate} Hz: the rates are too far apart")
    out = resample_poly(pcm.astype(np.float32), ratio.numerator, ratio.denominator)
    clipped: npt.NDArray[np.float32] = np.clip(np.round(out), -32768, 32767)
    return clipped.astype(np.int16)


def encode_wav(pcm: npt.NDArray[np.int16], rate: int) -> bytes:
    """Encode mono int16 PCM as a 16-bit PCM WAV file."""
    pcm = _as_mono_int16(pcm)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def _as_mono_int16(pcm: npt.NDArray[Any]) -> npt.NDArray[np.int16]:  # checked here: callers may pass anything
    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
    return pcm
