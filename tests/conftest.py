"""Suite-wide report: scripts/test.sh passes the dependency audit's verdict, shown again beside the test totals."""

from __future__ import annotations

import os

import pytest

AUDIT_VERDICT = "EMPATHICA_DEPENDENCY_AUDIT"  # the last line of scripts/audit_deps.py, set by scripts/test.sh


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat whether the dependency audit ran: its output is thousands of lines above the totals."""
    verdict = os.environ.get(AUDIT_VERDICT, "").strip()
    if verdict:
        terminalreporter.write_sep("=", "dependency audit")
        terminalreporter.write_line(verdict)
