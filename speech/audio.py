"""PCM16 audio helpers: WAV decoding and encoding, raw PCM parsing, resampling.

Everything inside Empathica is mono int16 PCM (`numpy.int16`, shape `(n,)`); these helpers are the border where
bytes from a browser, a file or a test clip become that, with errors that tell the caller what to send instead.
"""

from __future__ import annotations

import io
import struct
import wave
from math import gcd

import numpy as np
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


class AudioFormatError(ValueError):
    """Audio bytes are not in a format we accept; the message says what was expected."""


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a 16-bit PCM WAV file into mono int16 samples and their sample rate.

    Multi-channel audio is downmixed by averaging the channels. Compressed, 8-bit, 24/32-bit and float WAVs, and
    anything that is not a RIFF/WAVE file, raise `AudioFormatError` naming the problem.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError(f"not a WAV file (no RIFF/WAVE header); {_EXPECTED}")
    fmt: tuple[int, int, int, int] | None = None
    samples: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = data[pos + 8 : pos + 8 + size]  # streaming writers may leave a too-large size: take what is there
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(body)
        elif chunk_id == b"data":
            samples = body
            break
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None:
        raise AudioFormatError(f"WAV file has no 'fmt ' chunk; {_EXPECTED}")
    if samples is None:
        raise AudioFormatError(f"WAV file has no 'data' chunk; {_EXPECTED}")
    channels, rate, _, _ = fmt
    frame_bytes = 2 * channels
    usable = len(samples) - len(samples) % frame_bytes  # drop a truncated last frame
    pcm = np.frombuffer(samples[:usable], dtype="<i2").astype(np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).astype(np.int32).mean(axis=1).round().astype(np.int16)
    return pcm, rate


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
    if channels < 1 or rate < 1:
        raise AudioFormatError(f"WAV header has {channels} channels at {rate} Hz; {_EXPECTED}")
    return channels, rate, bits, tag


def pcm16_from_bytes(data: bytes) -> np.ndarray:
    """Interpret raw bytes as little-endian mono PCM16 samples (no header)."""
    if len(data) % 2:
        raise AudioFormatError(
            f"raw PCM16 needs an even number of bytes (2 per sample), got {len(data)}; send little-endian int16 mono"
        )
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono int16 PCM from `from_rate` to `to_rate` Hz with a polyphase filter; returns int16."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    pcm = _as_mono_int16(pcm)
    if from_rate == to_rate or len(pcm) == 0:
        return pcm.copy()
    g = gcd(from_rate, to_rate)
    out = resample_poly(pcm.astype(np.float32), to_rate // g, from_rate // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def encode_wav(pcm: np.ndarray, rate: int) -> bytes:
    """Encode mono int16 PCM as a 16-bit PCM WAV file."""
    pcm = _as_mono_int16(pcm)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def _as_mono_int16(pcm: np.ndarray) -> np.ndarray:
    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
    return pcm
