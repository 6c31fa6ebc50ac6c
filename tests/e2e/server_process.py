"""Run `empathica serve --port 0` as a subprocess for end-to-end tests and the latency benchmark."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

LISTENING = "Empathica is listening on "
START_TIMEOUT_S = 900.0  # loading the models on a small shared CPU can take minutes


class ServerProcess:
    """The real server on a temporary database; `url` is http://HOST:PORT (no trailing slash)."""

    def __init__(self, database: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.database = database
        self.log_path = log_path
        self.extra_env = env or {}
        self.url = ""
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None

    def start(self, port: int = 0, timeout: float = START_TIMEOUT_S) -> str:
        """Start the server and wait for its 'listening on' line; returns the URL."""
        env = {**os.environ, "EMPATHICA_STORAGE_DATABASE": str(self.database), **self.extra_env}
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        exe = shutil.which("empathica")
        command = [exe] if exe else [sys.executable, "-m", "cli.main"]
        log = open(self.log_path, "a")  # noqa: SIM115 - the child writes it for its whole life
        self._proc = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        log.close()
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self._proc, lines), daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise RuntimeError(f"the server did not start within {timeout:.0f} s:\n{self.log_tail()}")
            try:
                line = lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"the server exited with {self._proc.wait()}:\n{self.log_tail()}")
            if LISTENING in line:
                address = line.split(LISTENING, 1)[1].split()[0].rstrip("/")
                self.url = address
                self.port = int(address.rsplit(":", 1)[1])
                return self.url

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its memory from /proc)."""
        return self._proc.pid if self._proc is not None else None

    @staticmethod
    def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # keep draining so the child never blocks on a full pipe
            lines.put(line)
        lines.put(None)

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 20 s)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def restart(self) -> str:
        """Stop and start again on the same database and port."""
        port = self.port
        self.stop()
        return self.start(port=port)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return "(no log)"
