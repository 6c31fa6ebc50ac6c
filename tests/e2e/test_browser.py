"""The web client in a real browser against the real server: a typed turn comes back as text and playing video.

Uses Debian's Chromium (`/usr/bin/chromium`) through the Python `playwright` package; the server comes from the
session fixture `server_url` in `tests/e2e/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.personas import portrait_path
from server.web.portraits import portraits_dir
from storage.store import ConversationStore
from tests.e2e.browser_util import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIDEO_ADVANCING,
    VIDEO_PROBE,
    playwright_with_chromium,
)
from tests.sample_faces import cameraman_png

pytestmark = pytest.mark.e2e

# The whole pipeline (LLM, voice, face, encoder) runs on a small shared CPU in CI: be patient.
REPLY_TIMEOUT_MS = 240_000
SCREENSHOT = "/tmp/empathica_page.png"
SAFETY_SCREENSHOT = "/tmp/empathica_safety.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_api = playwright_with_chromium()  # skips without a browser; fails in CI
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser, server_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.page_errors = []
    page.on("pageerror", lambda err: page.page_errors.append(str(err)))
    page.goto(server_url + "/")
    page.evaluate(VIDEO_PROBE)
    page.wait_for_function("() => window.empathica && window.empathica.state === 'open'", timeout=60_000)
    try:
        yield page
    finally:
        context.close()


def test_typed_turn_shows_reply_and_plays_video(page) -> None:
    page.fill("#message", "I lost my job today and I feel awful.")
    page.click("#send")

    user_line = page.locator("#transcript .line.user").last
    assert user_line.locator(".text").inner_text() == "I lost my job today and I feel awful."

    agent_text = page.locator("#transcript .line.agent .text").first
    agent_text.wait_for(state="visible", timeout=REPLY_TIMEOUT_MS)
    page.wait_for_function(
        "() => document.querySelector('#transcript .line.agent .text').textContent.trim().length > 0",
        timeout=REPLY_TIMEOUT_MS,
    )
    page.wait_for_function(VIDEO_ADVANCING, timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("() => document.getElementById('avatar').currentTime") > 0
    assert page.evaluate("() => window.empathica.framesDecoded()") > 0

    # The turn completes: timings are shown and the reply's emotion is labelled.
    page.wait_for_function("() => window.empathica.turns >= 1", timeout=REPLY_TIMEOUT_MS)
    agent_line = page.locator("#transcript .line.agent").first
    assert agent_line.locator(".emotion").is_visible()
    assert agent_line.locator(".details").inner_text().strip()
    assert page.locator("#error").is_hidden(), page.locator("#error-text").inner_text()
    page.wait_for_timeout(500)  # let the video draw a frame for the picture
    page.screenshot(path=SCREENSHOT)
    assert page.page_errors == []


def test_hold_to_talk_streams_16khz_pcm(page) -> None:
    """Chromium's fake microphone (a beep) goes out as PCM16; the server answers and the page keeps working."""
    talk = page.locator("#talk")
    talk.hover()
    page.mouse.down()
    page.wait_for_function("() => document.getElementById('talk').textContent.startsWith('Listening')")
    page.wait_for_timeout(1500)
    page.mouse.up()

    page.wait_for_function("() => window.empathica.reply !== 'idle' || window.empathica.turns > 0")
    sent = page.evaluate("() => window.empathica.audioBytesSent")
    assert sent % 2 == 0
    assert sent > 16_000 * 2 // 2, f"only {sent} bytes of 16 kHz PCM16 for 1.5 s of speech"

    # A beep is not speech: either it is transcribed (then the reply is cancelled) or refused as empty input.
    page.wait_for_function(
        "() => document.querySelector('#transcript .line.user, #transcript .line.notice') !== null",
        timeout=REPLY_TIMEOUT_MS,
    )
    if page.locator("#transcript .line.user").count():
        page.click("#cancel")
    page.wait_for_function("() => window.empathica.reply === 'idle'", timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("() => window.empathica.state") == "open"
    assert page.page_errors == []


def test_persona_picker_and_safety_banner(page) -> None:
    """Choosing Sunny reconnects as Sunny; a crisis message shows the calm support banner with the hotline text."""
    page.select_option("#persona", "Sunny")
    page.wait_for_function(
        "() => window.empathica.state === 'open' && document.getElementById('status-text').textContent"
        ".includes('Sunny')",
        timeout=60_000,
    )
    assert page.locator("#safety").is_hidden()
    page.fill("#message", "I don't want to live anymore.")
    page.click("#send")
    page.locator("#safety").wait_for(state="visible", timeout=REPLY_TIMEOUT_MS)
    assert "emergency" in page.locator("#safety-text").inner_text()
    page.wait_for_function("() => window.empathica.reply === 'idle'", timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("() => window.empathica.safety.category") == "suicide"
    page.screenshot(path=SAFETY_SCREENSHOT)
    assert page.page_errors == []


def test_page_reconnects_by_itself_after_a_server_restart(page, server) -> None:
    """The server restarts mid-conversation: the page reconnects, resumes the same conversation and goes on."""
    page.fill("#message", "My cat is ill and I am worried about her.")
    page.click("#send")
    page.wait_for_function("() => window.empathica.turns >= 1", timeout=REPLY_TIMEOUT_MS)
    session_id = page.evaluate("() => window.empathica.sessionId")

    server.restart()  # same database and port; the page sees its socket close

    page.wait_for_function("() => window.empathica.state === 'open'", timeout=900_000)
    assert page.evaluate("() => window.empathica.sessionId") == session_id
    page.fill("#message", "She is eating a little again today.")
    page.click("#send")
    page.wait_for_function("() => window.empathica.turns >= 2", timeout=REPLY_TIMEOUT_MS)
    store = ConversationStore(server.database)
    try:
        turns = store.turns(session_id)
    finally:
        store.close()
    assert [t.turn_index for t in turns] == [0, 1]
    assert turns[0].user_text == "My cat is ill and I am worried about her."
    assert page.page_errors == []


def test_idle_loop_plays_between_replies_and_a_photo_becomes_the_face(page, server, tmp_path) -> None:
    """Before any reply the idle loop plays (its clock moves); an uploaded photo starts a conversation with it; a
    photo uploaded "with glasses" is stored marked so."""
    idle = "document.querySelector('.ambient-loop[data-state=\"idle\"]')"
    page.wait_for_function(f"() => {idle}.readyState >= 2 && {idle}.currentTime > 0.2", timeout=120_000)
    t0 = page.evaluate(f"() => {idle}.currentTime")
    page.wait_for_timeout(600)
    assert page.evaluate(f"() => {idle}.currentTime") != t0  # moving, never a frozen frame
    assert page.evaluate("() => window.empathica.ambient") == "idle"
    assert page.evaluate("() => getComputedStyle(document.getElementById('avatar')).opacity") == "0"

    old_session = page.evaluate("() => window.empathica.sessionId")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(Path(portrait_path("grace_hopper") or "").read_bytes())
    page.set_input_files("#portrait-file", str(photo))
    page.wait_for_function("() => window.empathica.portrait && window.empathica.state === 'open'", timeout=60_000)
    page.wait_for_function(f"() => window.empathica.sessionId !== {old_session!r}", timeout=60_000)
    portrait = page.evaluate("() => window.empathica.portrait")
    assert len(portrait) == 64
    assert portrait in page.evaluate(f"() => {idle}.src")  # the loops now show the uploaded face
    page.wait_for_function(f"() => {idle}.readyState >= 2", timeout=120_000)
    assert page.locator("#portrait-advice").is_hidden()  # a frontal face: nothing to advise

    # The same photo "with glasses": another id (its own renderer), marked beside the stored image.
    page.check("#portrait-glasses")
    page.set_input_files("#portrait-file", str(photo))
    page.wait_for_function(f"() => window.empathica.portrait && window.empathica.portrait !== {portrait!r}")
    marked = page.evaluate("() => window.empathica.portrait")
    assert (portraits_dir(server.database) / f"{marked}.glasses").is_file()
    assert not (portraits_dir(server.database) / f"{portrait}.glasses").exists()
    page.uncheck("#portrait-glasses")
    portrait = marked

    # A face turned to the side is used too, with advice about a better photo.
    turned = tmp_path / "turned.png"
    turned.write_bytes(cameraman_png(scale=2))
    page.set_input_files("#portrait-file", str(turned))
    page.wait_for_function(f"() => window.empathica.portrait && window.empathica.portrait !== {portrait!r}")
    page.locator("#portrait-advice").wait_for(state="visible", timeout=30_000)
    assert "turned about" in page.locator("#portrait-advice").inner_text()
    portrait = page.evaluate("() => window.empathica.portrait")

    # A file that is not a photo of one face is refused with a message that says so; the page goes on.
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.set_input_files("#portrait-file", str(bad))
    page.locator("#error").wait_for(state="visible", timeout=30_000)
    assert page.evaluate("() => window.empathica.portrait") == portrait
    assert page.page_errors == []
