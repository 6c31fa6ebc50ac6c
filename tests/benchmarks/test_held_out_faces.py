"""The held-out portraits: a filled cache is used as it is; a download whose hash is not the pin is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks import held_out_faces
from benchmarks.held_out_faces import NAMES, held_out_portraits


def test_a_filled_cache_is_used_without_downloading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        (tmp_path / f"{name}.jpg").write_bytes(b"jpeg")

    def no_download(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("downloaded although the cache is full")

    monkeypatch.setattr(held_out_faces.subprocess, "run", no_download)
    assert held_out_portraits(tmp_path) == [(name, tmp_path / f"{name}.jpg") for name in NAMES]


def test_a_download_that_is_not_the_pinned_sdist_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        dest = Path(command[command.index("--dest") + 1])
        (dest / "face_recognition-1.3.0.tar.gz").write_bytes(b"not the real archive")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(held_out_faces.subprocess, "run", fake_pip)
    with pytest.raises(RuntimeError, match="sha256"):
        held_out_portraits(tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*.jpg"))


def test_pip_failing_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_pip(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(held_out_faces.subprocess, "run", failing_pip)
    with pytest.raises(RuntimeError, match="No matching distribution"):
        held_out_portraits(tmp_path)
