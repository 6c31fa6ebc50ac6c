"""The dependency audit (scripts/audit_deps.py): findings, the ignore file, and what it does when it cannot run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# The shape pip-audit's `--format json` prints (one vulnerable, one clean, one skipped dependency).
REPORT = {
    "dependencies": [
        {
            "name": "aiohttp",
            "version": "3.9.0",
            "vulns": [
                {"id": "PYSEC-2024-24", "fix_versions": ["3.9.2"], "aliases": ["CVE-2024-23334"], "description": "x"},
                {"id": "GHSA-8qpw-xqxj-h4r2", "fix_versions": ["3.9.4"], "aliases": [], "description": "y"},
            ],
        },
        {"name": "numpy", "version": "1.26.4", "vulns": []},
        {"name": "hibari-tts", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


def test_findings_and_skips(audit: ModuleType) -> None:
    report = audit.parse_report(REPORT, {})
    assert report.audited == 2 and list(report.skipped) == ["hibari-tts"]
    assert [f.vuln_id for f in report.findings] == ["PYSEC-2024-24", "GHSA-8qpw-xqxj-h4r2"]
    assert str(report.findings[0]) == "aiohttp 3.9.0: PYSEC-2024-24 (CVE-2024-23334), fixed in 3.9.2"


def test_ignored_ids_match_by_id_or_alias(audit: ModuleType, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# accepted\nCVE-2024-23334  static files are served by the proxy, not aiohttp\n")
    report = audit.parse_report(REPORT, audit.read_ignores(ignore))
    assert [f.vuln_id for f in report.findings] == ["GHSA-8qpw-xqxj-h4r2"]


def test_an_ignore_without_a_reason_is_refused(audit: ModuleType, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("GHSA-8qpw-xqxj-h4r2\n")
    with pytest.raises(audit.IgnoreFileError, match="has no reason"):
        audit.read_ignores(ignore)


def test_the_shipped_ignore_file_is_valid(audit: ModuleType) -> None:
    for vuln_id, reason in audit.read_ignores().items():
        assert len(reason) > 10, f"{vuln_id}: give a real reason"


def test_vulnerable_lock_fails_and_unreachable_service_warns(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("aiohttp==3.9.0\n")
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service="pypi": (REPORT, ""))
    assert audit.main([str(lock)]) == 1

    out = capsys.readouterr().out
    assert "VULNERABLE aiohttp 3.9.0: PYSEC-2024-24" in out
    verdict = "dependency audit: 2/3 pinned packages checked, 2 known vulnerabilities; 1 could not be checked"
    assert out.splitlines()[-1] == verdict

    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service="pypi": (None, "Name or service not known"))
    assert audit.main([str(lock)]) == 0
    out = capsys.readouterr().out
    assert "WARNING" in out and "did NOT run" in out and "Name or service not known" in out
    assert out.splitlines()[-1].startswith("dependency audit: NOT RUN - no pinned package was checked")
    assert audit.main(["--require", str(lock)]) == 2  # a machine that must audit fails instead
    assert "NOT RUN" in capsys.readouterr().out.splitlines()[-1]


def test_a_service_without_data_for_any_pin_is_an_audit_that_did_not_run(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A registry mirror answers, but for no pinned version: "0 known vulnerabilities" would claim a clean audit.
    lock = tmp_path / "requirements.lock"
    lock.write_text("hibari-tts==0.2.1\n")
    skipped = {"dependencies": [REPORT["dependencies"][2]], "fixes": []}
    calls: list[str] = []

    def run(lock: Path, service: str = "pypi") -> tuple[dict | None, str]:
        calls.append(service)
        return (skipped, "") if service == "pypi" else (None, "ConnectionError: api.osv.dev")

    monkeypatch.setattr(audit, "run_pip_audit", run)
    assert audit.main([str(lock)]) == 0
    assert calls == ["pypi", "osv"]  # the second source was tried
    out = capsys.readouterr().out
    assert "0 known vulnerabilities" not in out and "packages audited" not in out
    verdict = out.splitlines()[-1]
    assert verdict.startswith("dependency audit: NOT RUN")
    assert "not found on PyPI" in verdict and "api.osv.dev" in verdict  # why, from both services
    assert audit.main(["--require", str(lock)]) == 2
