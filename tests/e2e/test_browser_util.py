"""A missing browser skips the browser tests on a developer's machine and fails them in CI (fast, no browser)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e import browser_util


def test_a_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser_util, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        browser_util.playwright_with_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        browser_util.playwright_with_chromium()


def test_a_missing_playwright_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.touch()
    monkeypatch.setattr(browser_util, "CHROMIUM", chromium)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # the import fails as if not installed
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="playwright"):
        browser_util.playwright_with_chromium()


def test_with_both_the_playwright_api_is_returned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.touch()
    monkeypatch.setattr(browser_util, "CHROMIUM", chromium)
    monkeypatch.setenv("CI", "true")
    assert hasattr(browser_util.playwright_with_chromium(), "sync_playwright")
