"""`empathica models list | install | verify`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from compose.config import Config
from compose.models import config_model_names
from core.provision import ModelError, install, is_installed, load_manifest, models_home, sha256_file


def list_models() -> int:
    """Print every known model: name, installed or not, description."""
    manifest = load_manifest()
    width = max(map(len, manifest))
    print(f"models home: {models_home()}")
    for name, spec in manifest.items():
        state = "installed" if is_installed(name) else "missing"
        print(f"{name:<{width}}  {state:<9}  {spec.description}")
    return 0


def install_models(config: Config, names: Sequence[str], install_all: bool = False) -> int:
    """Install `names` (default: the models `config` needs; all with `install_all`)."""
    manifest = load_manifest()
    chosen = list(manifest) if install_all else list(names) or config_model_names(config)
    unknown = [n for n in chosen if n not in manifest]
    if unknown:
        print(f"empathica: unknown model(s) {', '.join(unknown)}; known: {', '.join(manifest)}", file=sys.stderr)
        return 2
    failed = 0
    for name in chosen:
        try:
            directory = install(name, manifest=manifest)
        except ModelError as exc:
            print(f"empathica: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name}: installed in {directory}")
    return 1 if failed else 0


def verify_models() -> int:
    """Re-hash every installed model file against the manifest; exit 1 when any is corrupt."""
    manifest = load_manifest()
    home = models_home()
    bad = 0
    for name, spec in manifest.items():
        directory = home / name
        if not directory.is_dir():
            print(f"{name}: not installed")
            continue
        problems = []
        for file in spec.files:
            path = directory / file.name
            if not path.is_file():
                problems.append(f"{file.name} missing")
            elif sha256_file(path, label=f"verifying {name}/{file.name}") != file.sha256:
                problems.append(f"{file.name} has the wrong sha256")
        if problems:
            bad += 1
            print(f"{name}: BROKEN ({'; '.join(problems)}): run `empathica models install {name}`")
        else:
            print(f"{name}: ok")
    return 1 if bad else 0
