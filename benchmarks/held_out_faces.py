"""Held-out portraits for benchmarks/expression.py: photos the face rig was never tuned on, fetched from PyPI.

The face_recognition 1.3.0 source distribution (MIT; sha256-pinned below) carries four test photos of two men:
`biden.jpg`, `obama.jpg`, `obama2.jpg` (turned about 27 degrees) and `obama3.jpg`: darker skin, deep-set eyes, low
thick brows, grey sparse brows, a tilted head, top light; unlike the built-in portraits. They are downloaded with pip
into the cache on first use and never committed (the repository ships no photos of its own beyond public-domain
sample data).

Usage: python -m benchmarks.held_out_faces  (prints the cached paths, downloading once)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_SDIST = "face_recognition-1.3.0.tar.gz"
_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
NAMES: tuple[str, ...] = ("biden", "obama", "obama2", "obama3")
CACHE = Path.home() / ".cache" / "empathica" / "held_out_faces"


def held_out_portraits(cache: Path = CACHE) -> list[tuple[str, Path]]:
    """(name, path) of each held-out photo, downloading the pinned sdist with pip into `cache` the first time.

    Raises RuntimeError, saying why, when pip cannot fetch it or its hash does not match the pin.
    """
    paths = [(name, cache / f"{name}.jpg") for name in NAMES]
    if all(path.is_file() for _, path in paths):
        return paths
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        print(f"fetching {_SDIST} from PyPI for its test photos ...", file=sys.stderr)
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        done = subprocess.run([*pip, "--dest", scratch, "face_recognition==1.3.0"], capture_output=True, text=True)
        sdist = Path(scratch) / _SDIST
        if done.returncode != 0 or not sdist.is_file():
            raise RuntimeError(f"pip could not download {_SDIST}: {done.stderr.strip()[-500:]}")
        digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
        if digest != _SHA256:
            raise RuntimeError(f"{_SDIST} has sha256 {digest}, expected {_SHA256}: not using it")
        with tarfile.open(sdist) as archive:
            for name, path in paths:
                member = archive.extractfile(f"face_recognition-1.3.0/tests/test_images/{name}.jpg")
                if member is None:
                    raise RuntimeError(f"{_SDIST} has no tests/test_images/{name}.jpg")
                path.write_bytes(member.read())
    return paths


if __name__ == "__main__":
    for label, location in held_out_portraits():
        print(f"{label}\t{location}")
