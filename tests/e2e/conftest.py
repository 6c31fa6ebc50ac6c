"""The real server for end-to-end tests: one subprocess per test session, so the models load once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server_process import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`empathica serve --port 0` on a temporary database, with the default models."""
    directory = tmp_path_factory.mktemp("empathica-e2e")
    process = ServerProcess(directory / "conversations.sqlite3", directory / "server.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def server_url(server: ServerProcess) -> str:
    """http://127.0.0.1:PORT of the running server."""
    return server.url
