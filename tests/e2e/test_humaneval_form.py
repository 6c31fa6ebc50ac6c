"""The raters' form in a real browser: it renders every pair offline and saves the choices as a ratings CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from research.humaneval.form import render_form
from tests.e2e.browser_util import CHROMIUM, CHROMIUM_ARGS, playwright_with_chromium

PAIRS = [
    {
        "pair_id": "p001",
        "context": ["I lost my job.", "It still hurts </script>."],
        "reply_a": "So sorry.",
        "reply_b": "Hm.",
    },
    {"pair_id": "p002", "context": ["I passed!"], "reply_a": "Well done!", "reply_b": 'Great news, "truly".'},
]


@pytest.mark.e2e
def test_the_form_saves_a_ratings_csv(tmp_path: Path) -> None:
    form = tmp_path / "form.html"
    form.write_text(render_form(PAIRS), encoding="utf-8")
    api = playwright_with_chromium()
    with api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.route(
                "**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_()
            )
            page.goto(form.as_uri())
            assert page.locator(".pair").count() == 2
            assert "It still hurts </script>." in page.inner_text("body")
            page.fill("#rater", "rater one")
            page.check('input[name="p001"][value="A"]')
            page.check('input[name="p002"][value="tie"]')
            page.fill("#c-p002", 'both fine, "really"')
            with page.expect_download() as download:
                page.click("#save")
            saved = tmp_path / "ratings.csv"
            download.value.save_as(saved)
            assert download.value.suggested_filename == "ratings-rater_one.csv"
            assert "Thank you" in page.inner_text("#status")
        finally:
            browser.close()
    rows = list(csv.DictReader(saved.open(encoding="utf-8", newline="")))
    assert [(r["pair_id"], r["rater"], r["preference"], r["comment"]) for r in rows] == [
        ("p001", "rater one", "A", ""),
        ("p002", "rater one", "tie", 'both fine, "really"'),
    ]
