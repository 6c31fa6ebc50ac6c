"""Launching Debian's Chromium for the browser tests (never a downloaded Playwright browser: CI is offline)."""

from __future__ import annotations

from pathlib import Path

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
