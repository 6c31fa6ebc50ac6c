"""Talking-head frames from one portrait: visemes, expressions, blinks, gaze and head motion, one remap per frame.

Pipeline per frame: the eyes are edited on the portrait (blink: lid slides down; gaze: iris moves), and so is the
lid skin a raised brow uncovers where the photo has none (avatar.lid_skin); mouth shape + mouth AUs move the lip and
jaw landmarks (thin-plate field over the lower face); the brow AUs move brows and forehead column by column
(avatar.brows); the other upper-face AUs (lids, cheeks, nose) and the head's similarity transform add their
precomputed / analytic fields on a coarse whole-frame grid; the summed backward field is upsampled and applied with
one cv2.remap; a mouth interior (cavity, teeth, tongue hint) is drawn where the lips part. Blinks, gaze and sway run
on one frame clock shared by speech, idle and listening frames, drawn from a seeded generator, so a stream is
reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.brows import BrowRig
from avatar.expressions import action_units
from avatar.eyes import EyeAnimator
from avatar.face_field import EYES, FaceField
from avatar.head_motion import REST, HeadMotion, HeadPose
from avatar.landmarks import CHIN, FACE_OVAL, FOREHEAD, FaceLandmarks
from avatar.liveliness import Liveliness
from avatar.mouth import MouthRig, close_mouth
from avatar.mouth_interior import draw_interior, sclera_colour
from avatar.skin import cheek_colour
from avatar.visemes import MouthShape, loudness_envelope, mouth_track
from avatar.wrinkles import Wrinkles
from core.emotion import EmotionState
from core.media import Speech

REST_MOUTH = MouthShape(lip_closed=0.6)  # lips together, relaxed (the "sil" viseme)
_MIRROR_GAIN = 0.5  # listening: the user's emotion shows at this fraction of its strength
# A listener meeting anger or disgust with the same face escalates; the soft mirror of those is concern.
_MIRROR_AS = {"anger": "sadness", "disgust": "sadness"}
_SPEAKING_BLINKS = 1.2  # people blink a little more while talking ...
_LISTENING_BLINKS = 0.8  # ... and less while attending


@dataclass(frozen=True)
class FramePose:
    """Everything about a frame besides mouth and emotion: head pose, lid closure (0-1), gaze in iris radii."""

    head: HeadPose = REST
    blink: float = 0.0
    gaze: tuple[float, float] = (0.0, 0.0)


STILL = FramePose()


def mirror_emotion(user_emotion: EmotionState) -> EmotionState:
    """What a listening face shows of the user's emotion: the same at `_MIRROR_GAIN` of its strength, with anger
    and disgust met as concern (sadness); `action_units` of it drives the listening face and its clips."""
    mirrored = user_emotion
    if user_emotion.label in _MIRROR_AS:
        mirrored = EmotionState.from_label(_MIRROR_AS[user_emotion.label], min(1.0, user_emotion.intensity))
    # A value, not an AU gain, so a listening clip can be rendered from it (avatar.loop takes an emotion).
    return replace(mirrored, intensity=mirrored.intensity * _MIRROR_GAIN)


class FaceRenderer:
    """Renders a portrait speaking, idling or listening.

    `portrait` is RGB uint8 (H, W, 3); `landmarks` are that image's FaceLandmarks (e.g. from LandmarkDetector);
    with the 10 iris points (478 landmarks) the eyes can look around. `seed` fixes blinks, gaze and sway.
    `glasses`: the portrait wears glasses whose top rims sit where the brows are (avatar.brows keeps them still).
    """

    def __init__(
        self, portrait: Image, landmarks: FaceLandmarks, fps: int = 25, seed: int = 0, glasses: bool = False
    ) -> None:
        if portrait.ndim != 3 or portrait.shape[2] != 3 or portrait.dtype != np.uint8:
            raise ValueError(f"portrait must be RGB uint8 (H, W, 3), got {portrait.dtype} {portrait.shape}")
        h, w = portrait.shape[:2]
        if (landmarks.width, landmarks.height) != (w, h):
            raise ValueError(
                f"landmarks are for a {landmarks.width}x{landmarks.height} image, portrait is {w}x{h}; "
                "detect landmarks on the portrait you render"
            )
        if len(landmarks) < 468:
            raise ValueError(f"need the 468-point face mesh, got {len(landmarks)} landmarks")
        self.fps = fps
        self.size = (w, h)
        base, pts468 = close_mouth(portrait, landmarks.points[:468])
        pts = np.concatenate([pts468, landmarks.points[468:]]).astype(np.float64)
        self._base = base
        self._mouth = MouthRig(pts468, self.size)
        self._face = FaceField(pts468, self.size, step=max(6, round(w / 64)))
        self._brows = BrowRig(pts468, self.size, base, glasses)
        self._eyes = EyeAnimator(base, pts)
        self._wrinkles = Wrinkles(pts468, base)
        eye_openings = [pts468[[c[0], *up, c[1], *low[::-1]]] for c, up, low, _fold in EYES]
        self._teeth = sclera_colour(base, eye_openings, cheek_colour(base, pts468))
        oval = pts468[list(FACE_OVAL)]
        face_h = float(pts468[CHIN, 1] - pts468[FOREHEAD, 1])
        face_w = float(oval[:, 0].max() - oval[:, 0].min())
        pivot = np.array([pts468[CHIN, 0], pts468[CHIN, 1] + 0.15 * face_h])  # roughly the top of the neck
        self._head = HeadMotion(self._face.grid, pivot, face_h, face_w, self.size, seed=seed)
        self._life = Liveliness(fps, seed)

    @property
    def loops(self) -> bool:
        """Always: `render_frame` makes the idle and listening clips (avatar.loop)."""
        return True

    @property
    def base(self) -> Image:
        """The portrait with lips closed: what every frame is warped from."""
        return self._base

    @property
    def clock(self) -> int:
        """Frames rendered so far by render_speech / idle / listening (the liveliness clock)."""
        return self._life.frame

    def render_speech(self, speech: Speech, emotion: EmotionState) -> list[Image]:
        """round(speech.duration * fps) RGB frames: mouth from phonemes and loudness, face from the emotion,
        head nodding with emphasis and phrase ends, blinks and gaze continuing the renderer's clock."""
        return [frame for chunk in self.speech_chunks(speech, emotion, 1 << 30) for frame in chunk]

    def speech_chunks(self, speech: Speech, emotion: EmotionState, chunk_frames: int) -> Iterator[list[Image]]:
        """The frames of `render_speech`, drawn `chunk_frames` at a time as the iterator is advanced.

        The whole utterance's mouth track, head motion, blinks and gaze are planned here, at the call, so the
        frames are the same as `render_speech`'s and the clock moves on once; only the drawing is deferred, which
        lets the first chunk be encoded and sent while the rest is still being drawn.
        """
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
        n = round(speech.duration * self.fps)
        envelope = loudness_envelope(speech.pcm, speech.sample_rate, self.fps, n)
        track = mouth_track(speech.phonemes, self.fps, n, envelope)
        t0 = self._life.frame / self.fps
        blinks, gaze = self._life.advance(n, _SPEAKING_BLINKS)
        heads = self._head.speech_poses(envelope, speech.phonemes, self.fps, t0)
        aus = action_units(emotion, speaking=True)

        def draw(i: int) -> Image:
            return self._render(track[i], aus, FramePose(heads[i], float(blinks[i]), (gaze[i, 0], gaze[i, 1])))

        return ([draw(i) for i in range(start, min(start + chunk_frames, n))] for start in range(0, n, chunk_frames))

    def idle(self, n_frames: int, emotion: EmotionState) -> list[Image]:
        """Resting frames showing `emotion`: lips together, breathing, slow sway, blinks and gaze shifts."""
        return self._rest(n_frames, action_units(emotion), nods=False, blink_scale=1.0)

    def listening(
        self, n_frames: int, user_emotion: EmotionState, own_emotion: EmotionState | None = None
    ) -> list[Image]:
        """Frames of attentive listening: slight nods, fewer blinks, and a soft mirror of the user's emotion
        (anger and disgust are mirrored as concern) over the avatar's own emotion, if given."""
        aus = action_units(mirror_emotion(user_emotion))
        if own_emotion is not None:
            aus = np.clip(aus + action_units(own_emotion), 0.0, 1.0)
        return self._rest(n_frames, aus, nods=True, blink_scale=_LISTENING_BLINKS)

    def render_frame(
        self,
        shape: MouthShape | Sequence[float] | Floats,
        emotion: EmotionState,
        pose: FramePose = STILL,
        speaking: bool = False,
    ) -> Image:
        """One RGB frame for a mouth shape (MouthShape or a row of a mouth track), an emotion and a pose.

        Does not advance the liveliness clock: with the default pose the frame is fully determined by its inputs.
        """
        params = shape.as_array() if isinstance(shape, MouthShape) else np.asarray(shape, np.float32)
        return self._render(params, action_units(emotion, speaking=speaking), pose)

    def _rest(self, n: int, aus: Floats, nods: bool, blink_scale: float) -> list[Image]:
        t0 = self._life.frame / self.fps
        blinks, gaze = self._life.advance(n, blink_scale)
        heads = self._head.idle_poses(n, self.fps, t0, nods)
        mouth = REST_MOUTH.as_array()
        return [
            self._render(mouth, aus, FramePose(heads[i], float(blinks[i]), (gaze[i, 0], gaze[i, 1]))) for i in range(n)
        ]

    def _render(self, params: Floats, aus: Floats, pose: FramePose) -> Image:
        eyes = self._eyes.apply(self._base, pose.blink, pose.gaze)
        source = self._brows.soften(self._brows.uncover(eyes, aus), aus)
        source = self._wrinkles.apply(source, aus)
        offsets = self._mouth.offsets(params, aus)
        coarse = self._face.coarse(aus) + self._head.coarse(pose.head)
        maps = self._face.dense(coarse)
        brows = self._brows.dense(aus)
        if brows is not None:
            x0, y0, x1, y1 = self._brows.box
            maps[y0:y1, x0:x1] += brows
        box = self._mouth.warper.box
        maps[box.y0 : box.y1, box.x0 : box.x1] += self._mouth.dense_offsets(offsets)
        # map2 None: `maps` holds both coordinates (H, W, 2), which OpenCV accepts but its stubs do not describe.
        frame: Image = cv2.remap(source, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
        upper, lower = self._mouth.inner_lips(offsets)
        if pose.head != REST:
            upper, lower = self._head.moved(upper, pose.head), self._head.moved(lower, pose.head)
        centre_x = float(self._head.moved(self._mouth.centre[None], pose.head)[0, 0])
        draw_interior(frame, upper, lower, centre_x, self._mouth.mouth_w, self._teeth)
        return frame
