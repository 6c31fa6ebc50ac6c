"""End-of-turn detection on a continuous microphone stream: a state machine over per-window VAD probabilities.

Feed 16 kHz mono PCM16 in chunks of any size; the endpointer cuts it into VAD windows and emits events:

- `SpeechStart` once the user has spoken for `min_speech_ms` (short clicks and coughs never start a turn);
  `barge_in` is set when the agent was speaking at that moment, so the pipeline can stop its reply.
- `PartialAudio` every `partial_interval_ms` of speech: the utterance so far, for a rate-limited partial
  transcript (the server's session microphone, server.session.microphone, transcribes it).
- `EndOfTurn` after `hangover_ms` of silence following speech: the utterance PCM, from a short pre-roll before
  the onset to a short tail after the last speech window.

Hysteresis (a higher threshold to enter speech than to stay in it) keeps soft word endings from cutting a
turn. Times are stream seconds: samples fed so far / 16000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from speech.streaming.vad import VAD_RATE, WINDOW


@dataclass(frozen=True)
class EndpointerConfig:
    """Tuning of the endpointer; times in milliseconds.

    threshold / release_threshold: VAD probability to enter speech / below which a window counts as silence.
    hangover_ms: silence after speech that ends the turn (the main latency/interrupting trade-off). It counts
    from the VAD's release, which itself trails the acoustic end of speech by ~100-150 ms with Silero, so the
    default 160 ms means ~280 ms of real silence (median end-of-turn delay on the LibriVox clips:
    `benchmarks/endpointing.py`); raise it for speakers who pause mid-sentence.
    min_speech_ms: speech needed before a turn starts (and a barge-in fires).
    pre_roll_ms / tail_ms: audio kept before the detected onset and after the last speech window, so the
    recogniser hears word edges the VAD scores low.
    partial_interval_ms: spacing of `PartialAudio` events; 0 disables partials.
    max_utterance_s: a turn this long ends even without a pause.
    """

    threshold: float = 0.5
    release_threshold: float = 0.45
    hangover_ms: int = 160
    min_speech_ms: int = 160
    pre_roll_ms: int = 300
    tail_ms: int = 120
    partial_interval_ms: int = 800
    max_utterance_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0.0 < self.release_threshold <= self.threshold < 1.0:
            raise ValueError("need 0 < release_threshold <= threshold < 1")
        if min(self.hangover_ms, self.min_speech_ms, self.pre_roll_ms, self.tail_ms, self.partial_interval_ms) < 0:
            raise ValueError("endpointer times must not be negative")


@dataclass(frozen=True)
class SpeechStart:
    """The user started a turn; `start` is the onset in stream seconds, `time` when it was decided."""

    start: float
    time: float
    barge_in: bool


@dataclass(frozen=True)
class PartialAudio:
    """The utterance so far (int16 PCM at 16 kHz), for a partial transcript."""

    pcm: npt.NDArray[np.int16]
    start: float
    time: float


@dataclass(frozen=True)
class EndOfTurn:
    """A finished utterance: its PCM (int16, 16 kHz), onset, end of speech, and when the end was decided."""

    pcm: npt.NDArray[np.int16]
    start: float
    speech_end: float
    time: float


EndpointerEvent = SpeechStart | PartialAudio | EndOfTurn


class _State(Enum):
    SILENCE = "silence"  # no speech; keeping a pre-roll
    ONSET = "onset"  # speech seen, not yet long enough to be a turn
    SPEECH = "speech"  # in a turn (including pauses shorter than the hang-over)


class Endpointer:
    """Turns a 16 kHz PCM16 stream into `SpeechStart`, `PartialAudio` and `EndOfTurn` events.

    vad: speech probability of one `WINDOW`-sample int16 window (e.g. a `SileroVad`); it carries its own
    stream state, so give each endpointer its own.
    Set `agent_speaking` while the avatar talks: a turn that starts then is flagged as a barge-in.
    """

    def __init__(self, vad: Callable[[npt.NDArray[np.int16]], float], config: EndpointerConfig | None = None) -> None:
        self._vad = vad
        self.config = config or EndpointerConfig()
        self.agent_speaking = False
        c = self.config
        self._windows = {  # config times in whole VAD windows
            "hangover": max(1, round(c.hangover_ms * VAD_RATE / 1000 / WINDOW)),
            "min_speech": max(1, round(c.min_speech_ms * VAD_RATE / 1000 / WINDOW)),
        }
        self._pre_roll = int(c.pre_roll_ms * VAD_RATE / 1000)
        self._tail = int(c.tail_ms * VAD_RATE / 1000)
        self._partial = int(c.partial_interval_ms * VAD_RATE / 1000)
        self._max = int(c.max_utterance_s * VAD_RATE)
        self._pending = np.zeros(0, dtype=np.int16)
        self._fed = 0  # samples processed by the VAD so far
        self._reset_turn()

    def _reset_turn(self) -> None:
        self._state = _State.SILENCE
        self._audio: list[npt.NDArray[np.int16]] = []  # windows since the kept pre-roll (SILENCE: just the pre-roll)
        self._audio_start = self._fed  # stream sample of self._audio[0]
        self._onset = 0  # stream sample where speech began
        self._speech_windows = 0
        self._silent_windows = 0
        self._last_speech_end = 0  # stream sample after the last speech window
        self._next_partial = 0

    def feed(self, pcm: npt.NDArray[np.int16]) -> list[EndpointerEvent]:
        """Process more of the stream (mono int16 at 16 kHz, any length); returns the events it caused."""
        pcm = np.asarray(pcm)
        if pcm.ndim != 1 or pcm.dtype != np.int16:
            raise ValueError(f"expected mono int16 PCM of shape (n,), got {pcm.dtype} with shape {pcm.shape}")
        data = np.concatenate([self._pending, pcm]) if len(self._pending) else pcm
        events: list[EndpointerEvent] = []
        usable = len(data) - len(data) % WINDOW
        for offset in range(0, usable, WINDOW):
            events.extend(self._window(data[offset : offset + WINDOW]))
        self._pending = data[usable:].copy()
        return events

    def flush(self) -> list[EndpointerEvent]:
        """End of stream: a turn in progress ends now (if it was long enough to have started)."""
        self._pending = np.zeros(0, dtype=np.int16)
        if self._state is _State.SPEECH:
            return [self._end_turn()]
        self._reset_turn()
        return []

    def reset(self) -> None:
        """Drop any turn in progress and buffered audio (e.g. after the client restarts its microphone)."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._reset_turn()

    def _window(self, window: npt.NDArray[np.int16]) -> list[EndpointerEvent]:
        probability = self._vad(window)
        start = self._fed
        self._fed += WINDOW
        self._audio.append(window)
        c = self.config
        if self._state is _State.SILENCE:
            if probability >= c.threshold:
                self._state = _State.ONSET
                self._onset = start
                self._speech_windows = 1
                self._silent_windows = 0
                self._last_speech_end = self._fed
                return self._maybe_start()
            self._trim_pre_roll()
            return []
        is_speech = probability >= (c.threshold if self._state is _State.ONSET else c.release_threshold)
        if is_speech:
            self._speech_windows += 1
            self._silent_windows = 0
            self._last_speech_end = self._fed
        else:
            self._silent_windows += 1
        if self._state is _State.ONSET:
            if self._silent_windows >= self._windows["hangover"]:
                self._state = _State.SILENCE  # a click or a breath: not a turn
                self._trim_pre_roll()
                return []
            return self._maybe_start()
        if self._silent_windows >= self._windows["hangover"] or self._fed - self._onset >= self._max:
            return [self._end_turn()]
        if self._partial and self._fed >= self._next_partial and is_speech:
            self._next_partial = self._fed + self._partial
            return [PartialAudio(pcm=self._utterance(self._fed), start=self._onset / VAD_RATE, time=self._time())]
        return []

    def _maybe_start(self) -> list[EndpointerEvent]:
        if self._speech_windows < self._windows["min_speech"]:
            return []
        self._state = _State.SPEECH
        self._next_partial = self._fed + self._partial
        return [SpeechStart(start=self._onset / VAD_RATE, time=self._time(), barge_in=self.agent_speaking)]

    def _end_turn(self) -> EndOfTurn:
        end = min(self._fed, self._last_speech_end + self._tail)
        event = EndOfTurn(
            pcm=self._utterance(end),
            start=self._onset / VAD_RATE,
            speech_end=self._last_speech_end / VAD_RATE,
            time=self._time(),
        )
        self._reset_turn()
        return event

    def _utterance(self, end: int) -> npt.NDArray[np.int16]:
        """Samples from pre-roll before the onset to stream sample `end`."""
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, dtype=np.int16)
        first = max(self._onset - self._pre_roll, self._audio_start) - self._audio_start
        return audio[first : end - self._audio_start].copy()

    def _trim_pre_roll(self) -> None:
        """In silence keep only the windows that can still fall inside a future pre-roll."""
        keep = -(-self._pre_roll // WINDOW) + 1
        if len(self._audio) > keep:
            drop = len(self._audio) - keep
            self._audio = self._audio[drop:]
            self._audio_start += drop * WINDOW
        elif not self._audio:
            self._audio_start = self._fed

    def _time(self) -> float:
        return self._fed / VAD_RATE
