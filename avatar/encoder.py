"""H.264/AAC fragmented MP4 for Media Source Extensions, handed out piece by piece while it is written.

The muxer writes into an in-memory sink; after every chunk the sink's complete top-level boxes are taken out.
The first piece is the initialisation segment (ftyp+moov) alone; every later piece is whole moof+mdat fragments.
Audio and video share one clock: each chunk's audio is padded or trimmed to exactly its frames' duration.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

from avatar.arrays import Image

# AAC's sampling-frequency table; other rates are resampled to 48 kHz.
_AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}


class _BoxSink(io.RawIOBase):
    """A write-only, non-seekable file that collects bytes and releases them as complete top-level MP4 boxes."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    # PyAV hands it bytes; io.RawIOBase.write is typed for any buffer, whose len() need not be its byte count.
    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buf += data
        return len(data)

    def take_boxes(self) -> list[tuple[bytes, bytes]]:
        """Remove and return the complete boxes at the front of the buffer, as (type, box bytes)."""
        boxes = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 8:
            size, kind = struct.unpack_from(">I4s", buf, pos)
            header = 8
            if size == 1:  # 64-bit size
                if len(buf) - pos < 16:
                    break
                size = struct.unpack_from(">Q", buf, pos + 8)[0]
                header = 16
            if size < header:
                raise ValueError(f"malformed MP4 box {kind!r} of size {size} in the muxer output")
            if len(buf) - pos < size:
                break
            boxes.append((bytes(kind), bytes(buf[pos : pos + size])))
            pos += size
        del buf[:pos]
        return boxes


class Mp4StreamEncoder:
    """Encodes chunks of RGB frames plus mono PCM16 into streamable fragmented MP4 (H.264 constrained baseline, AAC).

    Call `add` once per chunk (e.g. a sentence, or ~0.5 s of one) and send the returned pieces in order; `finish`
    returns the rest. Keyframes come at every chunk start (unless `add` is told the chunk continues the last) and at
    least every `keyframe_s` seconds. Fragments are cut every
    ~`fragment_s` seconds (and at keyframes), so all of a chunk except its last ~`fragment_s` is returned by its
    own `add`; that tail follows with the next `add` or `finish` (the muxer closes a fragment only when the next
    packet arrives).
    """

    def __init__(
        self,
        size: int,
        fps: int,
        sample_rate: int,
        *,
        preset: str = "veryfast",
        crf: int = 23,
        keyframe_s: float = 1.0,
        audio_bitrate: int = 64000,
        fragment_s: float = 0.25,
        threads: int = 0,
    ) -> None:
        if size % 2:
            raise ValueError(f"frame size must be even for yuv420p, got {size}")
        self.size, self.fps, self.sample_rate = size, fps, sample_rate
        self._audio_rate = sample_rate if sample_rate in _AAC_RATES else 48000
        self._sink = _BoxSink()
        self._container = av.open(
            self._sink,
            mode="w",
            format="mp4",
            options={
                "movflags": "frag_keyframe+empty_moov+default_base_moof+frag_every_frame",
                "min_frag_duration": str(int(fragment_s * 1e6)),
            },
        )
        gop = max(1, round(keyframe_s * fps))
        video = self._container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        video.time_base = Fraction(1, fps)
        video.options = {
            "profile": "baseline",
            "level": "3.0" if size <= 720 else "4.0",
            "preset": preset,
            "tune": "zerolatency",
            "crf": str(crf),
            "threads": str(threads),  # 0: x264 picks; 1 for one core
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        audio = self._container.add_stream("aac", rate=self._audio_rate)
        audio.layout = "mono"
        audio.bit_rate = audio_bitrate
        self._video, self._audio = video, audio
        self._resampler = (
            av.AudioResampler(format="fltp", layout="mono", rate=self._audio_rate)
            if self._audio_rate != sample_rate
            else None
        )
        self._frames = 0  # video frames so far: the one clock both streams follow
        self._samples = 0  # input-rate audio samples so far
        self._init_sent = False
        self._finished = False
        self._backlog: list[tuple[bytes, bytes]] = []  # boxes seen before the init segment was complete
        self._pending: list[bytes] = []  # fragment boxes not yet returned (a moof waits for its mdat)

    @property
    def mime(self) -> str:
        """The MSE type string for SourceBuffer / MediaSource.isTypeSupported."""
        return 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"'

    @property
    def duration(self) -> float:
        """Seconds of media added so far."""
        return self._frames / self.fps

    def add(self, frames: Sequence[Image], pcm: npt.NDArray[np.int16], keyframe: bool = True) -> list[bytes]:
        """Append one chunk (its RGB uint8 frames and mono int16 PCM) and return the complete pieces produced so far.

        The audio is padded with silence or trimmed to exactly len(frames) / fps seconds. `keyframe` False: the
        chunk continues the previous one (a sentence sent in parts) and gets keyframes only every `keyframe_s`.
        """
        if self._finished:
            raise RuntimeError("the encoder is finished; start a new Mp4StreamEncoder for a new stream")
        start = self._frames
        for i, image in enumerate(frames):
            if image.shape != (self.size, self.size, 3) or image.dtype != np.uint8:
                raise ValueError(f"frames must be RGB uint8 {self.size}x{self.size}, got {image.dtype} {image.shape}")
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = start + i
            if i == 0 and keyframe:
                frame.pict_type = av.video.frame.PictureType.I  # each sentence starts a fragment
            self._container.mux(self._video.encode(frame))
        self._frames += len(frames)
        self._encode_audio(pcm)
        return self._collect()

    def finish(self) -> list[bytes]:
        """Flush the encoders and the muxer; return the remaining pieces. The stream is complete afterwards."""
        if self._finished:
            return []
        self._finished = True
        self._container.mux(self._video.encode(None))
        self._container.mux(self._audio.encode(None))
        self._container.close()
        return self._collect()

    def _encode_audio(self, pcm: npt.NDArray[np.int16]) -> None:
        # Target sample count from the video clock, so rounding never accumulates across chunks.
        target = round(self._frames * self.sample_rate / self.fps) - self._samples
        samples = np.asarray(pcm, dtype=np.int16).reshape(-1)[: max(target, 0)]
        if len(samples) < target:
            samples = np.concatenate([samples, np.zeros(target - len(samples), np.int16)])
        if target <= 0:
            return
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._samples
        frame.time_base = Fraction(1, self.sample_rate)
        self._samples += target
        frames = self._resampler.resample(frame) if self._resampler else [frame]
        for f in frames:
            self._container.mux(self._audio.encode(f))

    def _collect(self) -> list[bytes]:
        """Split the muxer's finished boxes into pieces: the init segment alone first, then whole fragments."""
        pieces: list[bytes] = []
        boxes = self._backlog + self._sink.take_boxes()
        self._backlog = []
        if not self._init_sent:
            init = [b for k, b in boxes if k in (b"ftyp", b"moov")]
            if not any(k == b"moov" for k, _ in boxes):  # header not written yet: keep everything for later
                self._backlog = boxes
                return []
            pieces.append(b"".join(init))
            boxes = [(k, b) for k, b in boxes if k not in (b"ftyp", b"moov")]
            self._init_sent = True
        fragment: list[bytes] = self._pending
        ready: list[bytes] = []
        for kind, data in boxes:
            fragment.append(data)
            if kind == b"mdat":  # a fragment ends with its mdat; never split one across pieces
                ready.append(b"".join(fragment))
                fragment = []
        self._pending = fragment
        if self._finished and fragment:  # trailing boxes (e.g. mfra) after the last fragment
            ready.append(b"".join(fragment))
            self._pending = []
        if ready:
            pieces.append(b"".join(ready))
        return pieces
