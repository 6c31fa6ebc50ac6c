"""Launching Debian's Chromium for the browser tests (never a downloaded Playwright browser: CI is offline)."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    # A synthetic microphone (a periodic beep) granted without a permission prompt, for the push-to-talk test.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

# The page records what the <video> element reports, so a test can tell "playing" from "a frame is shown".
VIDEO_PROBE = """() => {
  const v = document.getElementById('avatar');
  window.__videoTimes = [];
  v.addEventListener('timeupdate', () => window.__videoTimes.push(v.currentTime));
}"""

# True once the video has decoded frames and its clock has moved forward at least twice.
VIDEO_ADVANCING = """() => {
  const times = (window.__videoTimes || []).filter((t) => t > 0);
  const rising = times.filter((t, i) => i > 0 && t > times[i - 1]).length;
  return window.empathica.framesDecoded() > 0 && rising >= 1;
}"""


def speech_wav(path: Path, speech: Path, lead_s: float = 0.5, tail_s: float = 6.0, rate: int = 48000) -> Path:
    """A WAV for Chromium's file-fed fake microphone: `lead_s` of silence, the speech clip, then `tail_s` of silence.

    Chromium plays the file from the start when the page opens the microphone (`%noloop`: once, then silence), so
    the silences decide when the user "speaks" and that their turn ends.
    """
    import wave

    import numpy as np

    with wave.open(str(speech)) as clip:
        source_rate = clip.getframerate()
        pcm = np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2").astype(np.float32)
    # Linear resampling is plenty for a test signal; 48 kHz is what a real microphone delivers.
    t = np.arange(int(len(pcm) * rate / source_rate)) * source_rate / rate
    voiced = np.interp(t, np.arange(len(pcm)), pcm)
    audio = np.concatenate([np.zeros(int(lead_s * rate)), voiced, np.zeros(int(tail_s * rate))])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())
    return path


def chromium_args_with_microphone(wav: Path, loop: bool = False) -> list[str]:
    """Chromium arguments for a fake microphone that plays `wav` once, or over and over (no permission prompt)."""
    return [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}{'' if loop else '%noloop'}"]


def playwright_with_chromium() -> ModuleType:
    """`playwright.sync_api`, once Debian's Chromium and the playwright package are both there.

    Without them a developer's run skips the browser tests, saying what to install; CI (`CI=true`) fails them,
    so a build that lost its browser can never pass without having driven the page.
    """
    if not CHROMIUM.exists():
        _cannot_run(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    try:
        import playwright.sync_api as api
    except ImportError:
        _cannot_run("the playwright package is not installed: run scripts/setup.sh --test")
    return api


def _cannot_run(reason: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)", pytrace=False)
    pytest.skip(reason)
