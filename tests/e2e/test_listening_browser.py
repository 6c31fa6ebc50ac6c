"""The listening face in a real browser: after a turn the page loops the listening clip that mirrors the user's
perceived emotion, never while the avatar answers, and goes back to the neutral idle loop after its hold.

Fast on purpose: the real web app, websocket and face (renderer and encoder at 128 px, 10 fps) in this process,
with fakes for the words, the voice and perception (a keyword reader), so a turn takes a second or two.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.personas import load_personas
from compose.config import load_config
from compose.engines import encoder_factory_for, fallback_spec, renderer_loader
from compose.persona_engines import PersonaEngineCache
from core.emotion import EmotionState
from server.web.app import create_app
from storage.store import ConversationStore
from tests.e2e.browser_util import CHROMIUM, CHROMIUM_ARGS, playwright_with_chromium
from tests.server.fakes import FakeResponder, FakeSynthesizer
from tests.server.web.test_app import fake_engines

pytestmark = [pytest.mark.e2e, pytest.mark.models]

HOLD_MS = 3000  # the page's mirror hold, shortened so the return to neutral is seen
VISIBLE = "document.querySelector('.ambient-loop[data-visible=\"true\"]')"
# What the page shows after each time it picks the video on screen (every pick sets data-visible on all of them).
RECORDER = """() => {
  window.__samples = [];
  const reply = document.getElementById('avatar');
  const record = () => window.__samples.push({
    reply: window.empathica.reply, shown: reply.dataset.visible === 'true', mirror: window.empathica.mirror,
  });
  new MutationObserver(record).observe(document.querySelector('.screen'),
    {subtree: true, attributes: true, attributeFilter: ['data-visible']});
}"""
# The loop on screen once the face mirrors joy and no reply is shown (null until then).
MIRRORING_JOY = f"""() => {{
  const v = {VISIBLE};
  const ok = window.empathica.mirror === 'joy' && v && v.readyState >= 2
    && document.getElementById('avatar').dataset.visible === 'false';
  return ok ? {{state: v.dataset.state, emotion: v.dataset.emotion, src: v.src}} : null;
}}"""
ASKED = """() => {
  const entry = performance.getEntriesByType('resource').find((r) => r.name.includes('emotion=joy'));
  return {at: entry ? entry.startTime : null, reply_end: window.empathica.replies[0].at};
}"""
JOY = "document.querySelector('.ambient-loop[data-emotion=\"joy\"]')"
SERVED_CLIPS = """async () => {
  const mirror = document.querySelector('.ambient-loop[data-emotion="joy"]');
  const neutral = document.querySelector('.ambient-loop[data-state="listening"]:not([data-emotion])');
  const [a, b] = await Promise.all([fetch(mirror.src), fetch(neutral.src)]);
  const [x, y] = [new Uint8Array(await a.arrayBuffer()), new Uint8Array(await b.arrayBuffer())];
  return {mirror: mirror.src, neutral: neutral.src, statuses: [a.status, b.status],
          types: [a.headers.get('content-type'), b.headers.get('content-type')],
          sizes: [x.length, y.length], same: x.length === y.length && x.every((v, i) => v === y[i])};
}"""


def keyword_perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
    """'happy' reads as joy, anything else as neutral (the real perceiver is tested in tests/agent)."""
    return EmotionState.from_label("joy" if "happy" in text.lower() else "neutral", 0.8)


class LiveServer:
    """The web app on a real port, served by its own event loop in a thread (the browser API here is sync)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.store: ConversationStore | None = None
        self.url = ""

    def start(self) -> str:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._up(), self.loop).result(120)
        return self.url

    async def _up(self) -> None:
        env = {
            "EMPATHICA_AVATAR_SIZE": "128",
            "EMPATHICA_AVATAR_FPS": "10",
            "EMPATHICA_AVATAR_CLIP_SECONDS": "2",
        }
        config = load_config(environ=env)
        engines = fake_engines(FakeResponder(sentences=("That is wonderful.", "Tell me more.")))
        engines.perceiver = keyword_perceive
        engines.personas = PersonaEngineCache(
            load_personas(),
            fallback_spec(config),
            lambda key: FakeResponder(sentences=("That is wonderful.", "Tell me more.")),
            lambda voice: FakeSynthesizer(),
            renderer_loader(config, io.StringIO()),
            encoder_factory_for(config),
        )
        self.store = ConversationStore(self.database)
        self.runner = web.AppRunner(create_app(config, engines, self.store))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if self.store is not None:
            self.store.close()


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = LiveServer(tmp_path_factory.mktemp("listening") / "db.sqlite3")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture()
def page(live_url: str) -> Iterator[Any]:  # a playwright Page
    api = playwright_with_chromium()  # skips without a browser; fails in CI
    with api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.page_errors = []
            page.on("pageerror", lambda err: page.page_errors.append(str(err)))
            page.goto(live_url + "/?persona=Kai")
            page.wait_for_function("() => window.empathica && window.empathica.state === 'open'", timeout=60_000)
            yield page
        finally:
            browser.close()


def send(page: Any, text: str) -> None:
    page.fill("#message", text)
    page.click("#send")


def test_the_face_mirrors_the_users_emotion_between_replies(page: Any) -> None:
    page.evaluate(f"() => {{ window.empathica.mirrorHoldMs = {HOLD_MS}; }}")
    page.wait_for_function(f"() => {VISIBLE} && {VISIBLE}.dataset.state === 'idle' && {VISIBLE}.readyState >= 2")
    assert page.evaluate("() => window.empathica.mirror") is None  # no turn yet: a neutral face

    # A turn: its user_emotion (joy) asks for the joy listening clip, which the face loops once the reply is over.
    send(page, "I got the job, I am so happy!")
    page.wait_for_function("() => window.empathica.turns === 1", timeout=60_000)
    shown = page.wait_for_function(MIRRORING_JOY, timeout=60_000).json_value()
    assert shown["state"] == "listening" and shown["emotion"] == "joy" and "emotion=joy" in shown["src"]
    assert "persona=Kai" in shown["src"]
    # The clip is asked for once the reply is over, so its rendering never holds up the reply's face.
    asked = page.evaluate(ASKED)
    assert asked["at"] is not None and asked["at"] >= asked["reply_end"], asked
    t0 = page.evaluate(f"() => {JOY}.currentTime")
    page.wait_for_function(f"() => {JOY}.currentTime !== {t0}")  # it plays, not a frozen frame

    served = page.evaluate(SERVED_CLIPS)  # what the server sent for the mirror is not the neutral listening loop
    assert served["statuses"] == [200, 200] and served["types"] == ["video/mp4", "video/mp4"]
    assert "emotion=" not in served["neutral"] and not served["same"], served

    # After the hold on screen the face goes back to the neutral idle loop.
    page.wait_for_function(
        f"() => window.empathica.mirror === null && {VISIBLE} && {VISIBLE}.dataset.state === 'idle'",
        timeout=HOLD_MS + 10_000,
    )
    assert page.evaluate(f"() => {VISIBLE}.dataset.emotion") is None

    # A second happy turn finds the clip loaded: the face mirrors while waiting, never while the avatar answers.
    page.evaluate(RECORDER)
    send(page, "Honestly I am still so happy about it.")
    page.wait_for_function("() => window.empathica.turns === 2", timeout=60_000)
    # The turn's last message can arrive before its video starts playing: wait until the reply was on screen and
    # the face mirrors again, then judge everything the page showed meanwhile.
    page.wait_for_function("() => window.__samples.some((s) => s.shown)", timeout=30_000)
    page.wait_for_function(MIRRORING_JOY, timeout=30_000)
    samples = page.evaluate("() => window.__samples")
    assert any(s["reply"] == "replying" for s in samples)
    assert any(s["mirror"] == "joy" and s["reply"] == "waiting" for s in samples)  # mirrored before the answer
    assert not [s for s in samples if (s["reply"] == "replying" or s["shown"]) and s["mirror"] is not None]
    assert page.page_errors == []
