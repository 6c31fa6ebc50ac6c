"""Fragmented MP4 for MSE: init segment first, fragments while streaming, decodable, audio and video in step."""

from __future__ import annotations

import io
import struct

import av
import numpy as np

from avatar.encoder import Mp4StreamEncoder


def _boxes(data: bytes) -> list[bytes]:
    kinds, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        kinds.append(kind)
        pos += size
    assert pos == len(data), "a piece must hold whole boxes"
    return kinds


def _chunk(seconds: float, fps: int, size: int, sample_rate: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    base = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    frames = [np.roll(base, i * 3, axis=1) for i in range(n)]
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return frames, (6000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def _decode(data: bytes) -> tuple[int, float, float]:
    with av.open(io.BytesIO(data)) as c:
        video = list(c.decode(video=0))
    with av.open(io.BytesIO(data)) as c:
        audio = list(c.decode(audio=0))
    fps_tb = video[0].time_base
    v_dur = float((video[-1].pts + 1) * fps_tb) if fps_tb else len(video) / 25
    a_dur = float(audio[-1].pts * audio[-1].time_base) + audio[-1].samples / audio[-1].sample_rate
    return len(video), v_dur, a_dur


def test_streamed_pieces_form_a_decodable_fragmented_mp4() -> None:
    enc = Mp4StreamEncoder(128, 25, 22050)
    assert "avc1.42E01E" in enc.mime and "mp4a.40.2" in enc.mime
    pieces: list[bytes] = []
    before_finish = 0
    for k in range(3):
        out = enc.add(*_chunk(1.0, 25, 128, 22050, k))
        pieces += out
        before_finish = len(pieces)
    pieces += enc.finish()
    init = pieces[0]
    assert init[4:8] == b"ftyp" and set(_boxes(init)) == {b"ftyp", b"moov"}
    assert b"avcC\x01\x42" in init  # H.264 baseline profile (constrained: the MSE string avc1.42E01E applies)
    assert before_finish >= 2, "a fragment must be returned before finish()"
    for piece in pieces[1:]:
        kinds = _boxes(piece)
        assert kinds[0] == b"moof" and b"moov" not in kinds
    n_video, v_dur, a_dur = _decode(b"".join(pieces))
    assert n_video == 75
    assert abs(v_dur - 3.0) < 0.05
    assert abs(a_dur - v_dur) < 0.1


def test_audio_is_padded_and_trimmed_to_the_video_clock() -> None:
    enc = Mp4StreamEncoder(64, 25, 16000)
    frames, pcm = _chunk(0.6, 25, 64, 16000, 1)
    pieces = enc.add(frames, pcm[:100])  # far too short: padded
    frames, pcm = _chunk(0.4, 25, 64, 16000, 2)
    pieces += enc.add(frames, np.concatenate([pcm, pcm, pcm]))  # too long: trimmed
    pieces += enc.finish()
    n_video, v_dur, a_dur = _decode(b"".join(pieces))
    assert n_video == 25 and abs(a_dur - v_dur) < 0.1


def test_odd_sample_rates_are_resampled() -> None:
    enc = Mp4StreamEncoder(64, 25, 17000)
    pieces = enc.add(*_chunk(1.0, 25, 64, 17000, 3)) + enc.finish()
    n_video, v_dur, a_dur = _decode(b"".join(pieces))
    assert n_video == 25 and abs(a_dur - v_dur) < 0.1


def _keyframes(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as c:
        return sum(1 for packet in c.demux(video=0) if packet.is_keyframe)


def test_a_sentence_sent_in_parts_keeps_one_clock_and_fewer_keyframes() -> None:
    # One 2 s sentence as four 0.5 s parts: only the first starts with a keyframe (the rest come every second).
    frames, pcm = _chunk(2.0, 25, 64, 22050, 4)
    parted = Mp4StreamEncoder(64, 25, 22050)
    pieces: list[bytes] = []
    for k in range(4):
        part = frames[k * 12 : (k + 1) * 12] if k < 3 else frames[36:]
        start, end = round(k * 12 * 22050 / 25), (round((k + 1) * 12 * 22050 / 25) if k < 3 else len(pcm))
        out = parted.add(part, pcm[start:end], keyframe=k == 0)
        if k == 0:
            assert len(out) == 2 and out[1][4:8] == b"moof", "the first part ships its own fragment"
        pieces += out
    pieces += parted.finish()
    n_video, v_dur, a_dur = _decode(b"".join(pieces))
    assert n_video == 50 and abs(v_dur - 2.0) < 0.05 and abs(a_dur - v_dur) < 0.1
    every_part = Mp4StreamEncoder(64, 25, 22050)
    whole = [*every_part.add(frames[:12], pcm[:10584]), *every_part.add(frames[12:], pcm[10584:]), *every_part.finish()]
    assert _keyframes(b"".join(pieces)) == 2  # at 0 s and at 1 s (keyframe_s)
    assert _keyframes(b"".join(whole)) == 3  # each part starts with one, and the GOP goes on from the second
