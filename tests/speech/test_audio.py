import struct

import numpy as np
import pytest

from speech.audio import AudioFormatError, decode_wav, encode_wav, pcm16_from_bytes, resample, wav_info


def _wav(payload: bytes, *, tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, extra: bytes = b""):
    """A hand-made WAV file, so the tests can describe formats our encoder never writes."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits) + extra
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _tone(rate: int, seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (10000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_encode_decode_round_trip():
    pcm = _tone(16000, 0.25)
    decoded, rate = decode_wav(encode_wav(pcm, 16000))
    assert rate == 16000
    assert decoded.dtype == np.int16
    np.testing.assert_array_equal(decoded, pcm)


def test_stereo_is_downmixed_by_averaging():
    left = np.array([1000, -2000, 3000, 32767], dtype=np.int16)
    right = np.array([3000, 2000, -3000, 32767], dtype=np.int16)
    interleaved = np.stack([left, right], axis=1).reshape(-1).astype("<i2").tobytes()
    pcm, rate = decode_wav(_wav(interleaved, channels=2, rate=48000))
    assert rate == 48000
    np.testing.assert_array_equal(pcm, np.array([2000, 0, 0, 32767], dtype=np.int16))


def test_extensible_pcm16_is_accepted_and_extra_chunks_are_skipped():
    pcm = np.array([1, -1, 300], dtype=np.int16)
    # WAVE_FORMAT_EXTENSIBLE whose sub-format GUID starts with the PCM tag 0x0001.
    extra = struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", 1) + bytes(14)
    data = _wav(pcm.astype("<i2").tobytes(), tag=0xFFFE, extra=extra)
    # Insert an odd-sized LIST chunk before 'fmt ' (chunks are padded to even sizes).
    data = data[:12] + b"LIST" + struct.pack("<I", 3) + b"abc\0" + data[12:]
    decoded, _ = decode_wav(data)
    np.testing.assert_array_equal(decoded, pcm)


def test_truncated_last_frame_is_dropped():
    decoded, _ = decode_wav(_wav(b"\x01\x00\x02\x00\x03"))
    np.testing.assert_array_equal(decoded, np.array([1, 2], dtype=np.int16))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a WAV file"),
        (b"hello, this is not audio at all", "not a WAV file"),
        (b"ID3\x03\x00" + bytes(100), "not a WAV file"),  # an MP3
        (_wav(bytes(16), tag=3, bits=32), "IEEE float"),
        (_wav(bytes(16), tag=0x11, bits=4), "IMA ADPCM"),
        (_wav(bytes(16), tag=0x55, bits=0), "MP3"),
        (_wav(bytes(16), bits=8), "8-bit"),
        (_wav(bytes(18), bits=24), "24-bit"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no 'fmt ' chunk"),
    ],
)
def test_bad_inputs_say_what_was_expected(data: bytes, words: str):
    with pytest.raises(AudioFormatError, match="16-bit PCM WAV") as caught:
        decode_wav(data)
    assert words in str(caught.value)


def test_missing_data_chunk():
    data = _wav(b"")[: -len(b"data") - 4]
    with pytest.raises(AudioFormatError, match="no 'data' chunk"):
        decode_wav(data)


def test_audio_format_error_is_a_value_error():
    assert issubclass(AudioFormatError, ValueError)


def test_pcm16_from_bytes_little_endian():
    pcm = pcm16_from_bytes(b"\x01\x00\xff\xff\x00\x80")
    np.testing.assert_array_equal(pcm, np.array([1, -1, -32768], dtype=np.int16))
    assert pcm.flags.writeable


def test_pcm16_from_bytes_rejects_odd_length():
    with pytest.raises(AudioFormatError, match="even number of bytes"):
        pcm16_from_bytes(b"\x01\x00\x02")


def test_resample_keeps_duration_and_frequency():
    pcm = _tone(22050, 1.0, hz=440.0)
    out = resample(pcm, 22050, 16000)
    assert out.dtype == np.int16
    assert len(out) == 16000
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 16000 / len(out) - 440.0) <= 1.0
    assert 9000 < np.abs(out[100:-100]).max() <= 10500  # the filter keeps the level


def test_resample_same_rate_and_empty():
    pcm = _tone(16000, 0.1)
    np.testing.assert_array_equal(resample(pcm, 16000, 16000), pcm)
    assert resample(np.zeros(0, dtype=np.int16), 8000, 16000).shape == (0,)


def test_resample_clips_instead_of_wrapping():
    square = np.tile(np.array([32767] * 8 + [-32768] * 8, dtype=np.int16), 100)
    out = resample(square, 16000, 48000)
    assert out.dtype == np.int16
    assert out.max() == 32767 and out.min() == -32768  # Gibbs overshoot is clipped, not wrapped around


@pytest.mark.parametrize("bad", [np.zeros(4, dtype=np.float32), np.zeros((2, 2), dtype=np.int16)])
def test_encode_and_resample_reject_non_mono_int16(bad: np.ndarray):
    with pytest.raises(ValueError, match="mono int16"):
        encode_wav(bad, 16000)
    with pytest.raises(ValueError, match="mono int16"):
        resample(bad, 16000, 8000)


def test_resample_rejects_bad_rates():
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(4, dtype=np.int16), 0, 16000)


@pytest.mark.parametrize("rate", [1, 7999, 192001, 4294967291])
def test_rates_outside_8_to_192_khz_are_refused_from_the_header(rate: int):
    data = _wav(bytes(200), rate=rate)
    with pytest.raises(AudioFormatError, match="8000 to 192000 Hz"):
        wav_info(data)
    with pytest.raises(AudioFormatError, match="8000 to 192000 Hz"):
        decode_wav(data)


@pytest.mark.parametrize("rate", [8000, 192000])
def test_the_rate_bounds_themselves_are_accepted(rate: int):
    assert decode_wav(_wav(bytes(8), rate=rate))[1] == rate


def test_too_many_channels_are_refused():
    with pytest.raises(AudioFormatError, match="9 channels"):
        wav_info(_wav(bytes(36), channels=9))


def test_wav_info_gives_the_duration_without_decoding():
    info = wav_info(_wav(bytes(4 * 24000), channels=2, rate=24000))  # 1 s of 16-bit stereo
    assert (info.channels, info.sample_rate, info.frames) == (2, 24000, 24000)
    assert info.seconds == pytest.approx(1.0)
    # A streaming writer's data size larger than the file: only the bytes present count.
    cut = _wav(bytes(4 * 24000), channels=2, rate=24000)[: -4 * 12000]
    assert wav_info(cut).seconds == pytest.approx(0.5)


def test_an_odd_rate_is_resampled_with_a_small_filter():
    pcm = _tone(191999, 1.0, hz=440.0)
    out = resample(pcm, 191999, 16000)
    assert abs(len(out) - 16000) <= 2  # the ratio is approximated to a few parts per million
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 16000 / len(out) - 440.0) <= 1.0
