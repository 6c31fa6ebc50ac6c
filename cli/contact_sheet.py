"""`empathica contact-sheet`: the avatar's face for the seven emotions at two intensities, as one PNG."""

from __future__ import annotations

import sys
from pathlib import Path

from compose.config import Config


def write_contact_sheet(config: Config, out: Path, portrait: str | None = None, tile: int = 160) -> int:
    """Render the sheet for the configured (or given) portrait into `out`; returns the exit code."""
    import cv2

    from agent.personas import portrait_path
    from avatar.contact_sheet import FACE_FILL, contact_sheet
    from avatar.landmarks import LandmarkDetector, NoFaceError, default_cache_dir
    from avatar.portrait import PortraitError, face_square, load_portrait
    from avatar.renderer import FaceRenderer
    from compose.engines import wears_glasses

    if not 48 <= tile <= 512:
        print(f"empathica: --tile must be between 48 and 512 pixels, got {tile}", file=sys.stderr)
        return 2
    chosen = portrait if portrait is not None else config.avatar.portrait
    path = portrait_path(chosen)
    detector = LandmarkDetector(cache_dir=default_cache_dir())
    try:
        image = load_portrait(path, config.avatar.size, detector)
        marks = detector.detect(image)
    except (PortraitError, NoFaceError) as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    renderer = FaceRenderer(image, marks, fps=config.avatar.fps, glasses=wears_glasses(config, chosen))
    box = face_square(marks.points, *renderer.size, fraction=FACE_FILL, lower=0.0)
    sheet = contact_sheet(renderer, box, tile=tile)
    # 64 levels per channel: indistinguishable in a photo with its own noise, and a third smaller as PNG, so the
    # sheet stays small enough to keep in the repository.
    quantised = (sheet & 0xFC) | 0x02
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(quantised, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        print(f"empathica: cannot write {out}; use a .png path in a writable folder", file=sys.stderr)
        return 2
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]}, {out.stat().st_size // 1024} KiB)")
    return 0
