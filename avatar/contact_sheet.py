"""A contact sheet: the avatar's face for every basic emotion at a few intensities, tiled into one image."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from avatar.arrays import Image
from avatar.renderer import REST_MOUTH, FaceRenderer
from core.emotion import BASIC_EMOTIONS, EmotionState

# Neutral first, then the others in the order people usually list them.
SHEET_EMOTIONS: tuple[str, ...] = ("neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust")
_LABEL_H = 0.14  # label band height as a fraction of the tile
FACE_FILL = 0.8  # the face oval fills this much of a tile (avatar.portrait.face_square's `fraction`)


def contact_sheet(
    renderer: FaceRenderer,
    face_box: tuple[int, int, int],
    tile: int = 160,
    intensities: Sequence[float] = (0.5, 1.0),
    emotions: Sequence[str] = SHEET_EMOTIONS,
) -> Image:
    """An RGB image: one column per emotion, one row per intensity, each tile the face cropped to `face_box`
    (x0, y0, side) and labelled "emotion intensity". Neutral is shown at intensity 0 in every row."""
    for e in emotions:
        if e not in BASIC_EMOTIONS:
            raise ValueError(f"unknown emotion {e!r}; known: {', '.join(BASIC_EMOTIONS)}")
    x0, y0, side = face_box
    band = max(12, round(_LABEL_H * tile))
    rows = []
    for intensity in intensities:
        tiles = []
        for e in emotions:
            level = 0.0 if e == "neutral" else intensity
            frame = renderer.render_frame(REST_MOUTH, EmotionState.from_label(e, level))
            face = cv2.resize(frame[y0 : y0 + side, x0 : x0 + side], (tile, tile), interpolation=cv2.INTER_AREA)
            label = np.full((band, tile, 3), 250, np.uint8)
            text = e if e == "neutral" else f"{e} {level:g}"
            scale = band / 30
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            org = ((tile - tw) // 2, (band + th) // 2)
            cv2.putText(label, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (40, 40, 40), 1, cv2.LINE_AA)
            tiles.append(np.vstack([face, label]))
        rows.append(np.hstack(tiles))
    return np.vstack(rows)
