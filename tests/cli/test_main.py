"""The `empathica` command: help, model listing, clear failures, and an offline render."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from cli.main import build_parser, main
from compose.models import resolve_model

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "render", "models"):
        assert command in out


def test_parser_options() -> None:
    args = build_parser().parse_args(["--config", "x.toml", "serve", "--port", "0"])
    assert args.command == "serve" and args.port == 0 and args.config == Path("x.toml")
    args = build_parser().parse_args(["models", "install", "--all"])
    assert args.models_command == "install" and args.all


def test_models_list(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPATHICA_MODELS", str(tmp_path))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "whisper-base" in out and "missing" in out and "piper-joe" in out


def test_serve_without_models_fails_with_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "0", env={"EMPATHICA_MODELS": str(tmp_path / "none")})
    assert result.returncode == 2
    assert "empathica models install whisper-base" in result.stderr
    assert "listening" not in result.stdout


def test_bad_config_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("models", "list", env={"EMPATHICA_SERVER_PORT": "not-a-port"})
    assert result.returncode == 2 and "server.port" in result.stderr


def test_model_paths(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)) == gguf
    from core.provision import ModelError

    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.onnx"))


@pytest.mark.models
def test_render_writes_a_playable_mp4(tmp_path: Path) -> None:
    out = tmp_path / "reply.mp4"
    result = run_cli("render", "--text", "Hello there, it is good to see you.", "--emotion", "joy", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    with av.open(io.BytesIO(out.read_bytes())) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 10
