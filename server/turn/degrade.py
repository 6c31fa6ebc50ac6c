"""What a turn falls back to when a stage fails, so the user still gets a reply in some form.

- the reply model fails: a short scripted sentence (prompts/fallback_llm.txt) is voiced instead;
- the voice fails: the reply goes on as text only;
- the face fails: the sentence is shown as the still portrait (or a plain frame) with the real voice.

Each case also sends the client an `error` (server.protocol codes llm_unavailable, tts_failed, render_failed).
"""

from __future__ import annotations

import numpy as np

from agent.prompts import PromptLibrary
from avatar.arrays import Image
from avatar.base import MediaEncoder, Renderer
from core.media import Speech

DEFAULT_FPS = 25
_PLAIN_GREY = 96  # a dim grey: plainly "no picture", not a glaring white or a black that looks like a dead stream


def llm_fallback_text(prompts: PromptLibrary | None = None) -> str:
    """The scripted reply voiced when the reply model fails (prompts/fallback_llm.txt)."""
    return (prompts or PromptLibrary()).load("fallback_llm")


def still_frames(renderer: Renderer, encoder: MediaEncoder, speech: Speech) -> list[Image]:
    """Frames for `speech` when the face cannot be animated: the renderer's still portrait, else a plain frame.

    The portrait is used only when it fits the encoder's frame size; the count follows the renderer's (or the
    encoder's) frame rate so the picture lasts as long as the voice.
    """
    fps = renderer.fps or encoder.fps or DEFAULT_FPS
    n = max(1, round(speech.duration * fps))
    frame = _portrait(renderer, encoder.size)
    if frame is None:
        frame = np.full((encoder.size, encoder.size, 3), _PLAIN_GREY, np.uint8)
    return [frame] * n


def _portrait(renderer: Renderer, size: int) -> Image | None:
    try:
        base = renderer.base  # the portrait with lips closed
    except Exception:  # a broken renderer may fail here too: then the plain frame
        return None
    if base is None or base.ndim != 3 or base.shape[2] != 3 or base.dtype != np.uint8:
        return None
    if base.shape[:2] != (size, size):
        return None
    return base
