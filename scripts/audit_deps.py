"""Audit the pinned Python dependencies for known vulnerabilities (pip-audit against the lock files).

Usage: python scripts/audit_deps.py [--require] [LOCK ...]   (default: every requirements*.lock in the root)

Exits 1 when a pinned package has a known vulnerability that scripts/audit_ignore.txt does not list with a
reason. pip-audit needs a vulnerability service (PyPI's JSON API or OSV): no vulnerability database that is kept
current ships as a package that could be pinned and read offline (the one on PyPI, safety-db, stopped in 2021).
When no service can be reached, or it has no data for any pinned version, nothing was audited: the last line then
says `dependency audit: NOT RUN` with the reason, and the exit status is 0, or 2 with `--require` (for machines
that must not skip it). The last line is always the verdict (scripts/test.sh repeats it in the test summary).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = Path(__file__).with_name("audit_ignore.txt")
TIMEOUT_S = 600


@dataclass(frozen=True)
class Finding:
    """A known vulnerability of a pinned package."""

    package: str
    version: str
    vuln_id: str
    fix_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __str__(self) -> str:
        fix = f"fixed in {', '.join(self.fix_versions)}" if self.fix_versions else "no fixed version yet"
        alias = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"{self.package} {self.version}: {self.vuln_id}{alias}, {fix}"


@dataclass
class AuditReport:
    """What pip-audit found for one lock file."""

    findings: list[Finding] = field(default_factory=list)
    audited: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # package -> why it could not be audited


class IgnoreFileError(ValueError):
    """scripts/audit_ignore.txt has a line without a reason."""


def read_ignores(path: Path = IGNORE_FILE) -> dict[str, str]:
    """Vulnerability ids to accept, each with its reason: `ID  reason` per line, `#` comments."""
    ignores: dict[str, str] = {}
    if not path.is_file():
        return ignores
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise IgnoreFileError(f"{path}:{number}: {vuln_id} has no reason; write `{vuln_id}  why it is accepted`")
        ignores[vuln_id] = reason.strip()
    return ignores


def parse_report(data: dict[str, object], ignores: dict[str, str]) -> AuditReport:
    """Findings from pip-audit's JSON output, without the ignored ids (matched by id or alias)."""
    report = AuditReport()
    dependencies = data.get("dependencies", [])
    assert isinstance(dependencies, list)
    for dep in dependencies:
        name, version = str(dep.get("name")), str(dep.get("version", "?"))
        if dep.get("skip_reason"):
            report.skipped[name] = str(dep["skip_reason"])
            continue
        report.audited += 1
        for vuln in dep.get("vulns", []):
            finding = Finding(
                package=name,
                version=version,
                vuln_id=str(vuln["id"]),
                fix_versions=tuple(vuln.get("fix_versions", [])),
                aliases=tuple(vuln.get("aliases", [])),
            )
            if finding.vuln_id in ignores or any(alias in ignores for alias in finding.aliases):
                continue
            report.findings.append(finding)
    return report


SERVICES = ("pypi", "osv")  # PyPI's JSON API first; OSV when PyPI has no per-version data (e.g. a mirror)


def run_pip_audit(lock: Path, service: str = "pypi") -> tuple[dict[str, object] | None, str]:
    """pip-audit's JSON for one lock file (None when it could not run), and its error output."""
    command = [
        sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps", "--disable-pip",
        "--format", "json", "--progress-spinner", "off", "--vulnerability-service", service,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None, f"pip-audit did not finish within {TIMEOUT_S} s"
    try:
        return json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return None, (done.stderr or done.stdout).strip()[-1500:]


NOT_RUN_STATUS = 2  # with --require: the audit could not run


def main(argv: list[str]) -> int:
    """Audit each lock file; prints a one-line verdict last and returns the exit status."""
    require = "--require" in argv
    locks = [Path(a) for a in argv if a != "--require"] or sorted(ROOT.glob("requirements*.lock"))
    ignores = read_ignores()
    status = 0
    audited = total = vulnerable = 0
    reasons: list[str] = []  # why packages could not be audited
    for lock in locks:
        report, failures = None, []
        for service in SERVICES:
            data, errors = run_pip_audit(lock, service)
            if data is None:
                failures.append(f"{service}: {errors.splitlines()[-1] if errors else 'no output'}")
                continue
            report = parse_report(data, ignores)
            if report.audited:
                break
        if report is None:
            print(f"WARNING: the dependency audit of {lock.name} did NOT run: no vulnerability service could be "
                  f"reached ({'; '.join(failures)})", flush=True)
            reasons.append(failures[-1] if failures else "no vulnerability service answered")
            continue
        audited += report.audited
        total += report.audited + len(report.skipped)
        vulnerable += len(report.findings)
        if not report.audited:
            # Every package skipped (e.g. a mirror without per-version data): "0 vulnerabilities" would be a lie.
            why = "; ".join([f"pypi: {sorted(set(report.skipped.values()))[0]}", *failures])
            print(f"WARNING: the dependency audit of {lock.name} did NOT run: none of its {len(report.skipped)} "
                  f"packages could be audited ({why})", flush=True)
            reasons.append(why)
            continue
        lock_total = report.audited + len(report.skipped)
        print(f"{lock.name}: {report.audited}/{lock_total} packages audited, {len(report.findings)} known "
              "vulnerabilities")
        if report.skipped:
            examples = sorted(set(report.skipped.values()))[:3]
            print(f"WARNING: {len(report.skipped)} package(s) of {lock.name} could NOT be audited (the vulnerability "
                  f"service has no data for these versions), e.g.: {'; '.join(examples)}", flush=True)
            if failures:
                print(f"  other services tried: {'; '.join(failures)}", flush=True)
        for finding in report.findings:
            print(f"  VULNERABLE {finding}", flush=True)
        if report.findings:
            status = 1
    if status:
        print(f"Upgrade the package in the lock file, or accept the risk in {IGNORE_FILE.relative_to(ROOT)} "
              "with a reason (`ID  reason`).")
    print(verdict(audited, total, vulnerable, reasons), flush=True)
    if not audited and require:
        return status or NOT_RUN_STATUS
    return status


def verdict(audited: int, total: int, vulnerable: int, reasons: list[str]) -> str:
    """The one-line result: how many pinned packages were checked, or plainly that none was."""
    if not audited:
        why = reasons[0] if reasons else "no lock file"
        return (f"dependency audit: NOT RUN - no pinned package was checked for known vulnerabilities ({why}); "
                "run scripts/audit_deps.py where PyPI's or OSV's vulnerability service can be reached")
    unchecked = f"; {total - audited} could not be checked" if total > audited else ""
    return f"dependency audit: {audited}/{total} pinned packages checked, {vulnerable} known vulnerabilities{unchecked}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
