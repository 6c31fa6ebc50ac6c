"""Suite-wide: the `gpu` marker (deselected without a vLLM server), and the dependency audit's verdict, which
scripts/test.sh passes, shown again beside the test totals."""

from __future__ import annotations

import os

import pytest

AUDIT_VERDICT = "EMPATHICA_DEPENDENCY_AUDIT"  # the last line of scripts/audit_deps.py, set by scripts/test.sh
VLLM_URL = "EMPATHICA_VLLM_URL"  # a running `vllm serve` (docs/gpu.md): the `gpu` tests run against it


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"gpu: needs a real vLLM server on a GPU; deselected unless {VLLM_URL} is set")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a vLLM server (no GPU here, as in CI) the `gpu` tests are deselected, not skipped or failed."""
    if os.environ.get(VLLM_URL, "").strip():
        return
    gpu = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu:
        config.hook.pytest_deselected(items=gpu)
        items[:] = [item for item in items if item.get_closest_marker("gpu") is None]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat whether the dependency audit ran: its output is thousands of lines above the totals."""
    verdict = os.environ.get(AUDIT_VERDICT, "").strip()
    if verdict:
        terminalreporter.write_sep("=", "dependency audit")
        terminalreporter.write_line(verdict)
