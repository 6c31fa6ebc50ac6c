"""The provenance object of a report: code, packages, models, dataset, configuration."""

from __future__ import annotations

import hashlib
import subprocess

from research.provenance import collect_provenance, file_sha256, git_state, model_files, package_versions


def test_file_hashes_and_model_folders(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF weights")
    folder = tmp_path / "minilm"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert file_sha256(model) == hashlib.sha256(b"GGUF weights").hexdigest()
    described = model_files({"llm": model, "perception": folder, "adapter": None, "gone": tmp_path / "nope"})
    assert described["llm"]["sha256"] == hashlib.sha256(b"GGUF weights").hexdigest()
    assert described["perception"]["files"] == {"config.json": hashlib.sha256(b"{}").hexdigest()}
    assert "adapter" not in described and described["gone"]["sha256"] is None


def test_git_state_of_a_repository_and_of_a_plain_folder(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("one")
    run = {"cwd": tmp_path, "check": True, "capture_output": True}
    subprocess.run(["git", "add", "a.txt"], **run)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], **run)
    clean = git_state(tmp_path)
    assert clean["dirty"] is False and len(clean["commit"]) == 40
    (tmp_path / "a.txt").write_text("two")
    assert git_state(tmp_path) == {"commit": clean["commit"], "dirty": True}


def test_collect_provenance(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    prov = collect_provenance(
        config={"llm": {"seed": 7}},
        dataset=data,
        dataset_format="jsonl",
        seeds=[7, 8],
        command=["empathica", "eval", "d.jsonl"],
        models={},
        settings={"baselines": []},
    )
    assert prov["command"] == "empathica eval d.jsonl" and prov["seeds"] == [7, 8]
    assert prov["dataset"]["sha256"] == hashlib.sha256(b"{}\n").hexdigest()
    assert prov["config"] == {"llm": {"seed": 7}} and prov["settings"] == {"baselines": []}
    assert prov["packages"]["numpy"] and package_versions(["surely-not-installed"]) == {"surely-not-installed": None}
