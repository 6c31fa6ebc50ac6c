"""Check and decode an uploaded image safely: type by magic bytes, dimensions from the header, then a full decode.

An upload is untrusted input. The checks run cheapest first, so hostile files are refused before they cost much:
the byte size (the caller reads with a bound), the first bytes (JPEG, PNG or WebP, whatever the name or the
Content-Type say), the width and height from the header (a small file may declare a huge image: a decompression
bomb), and only then a full decode, which also catches truncated files.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Magic bytes -> the Pillow format name the decoder must agree on.
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
_FORMATS = ("JPEG", "PNG", "WEBP")


class UploadRejected(ValueError):
    """An upload that is refused: `status` is the HTTP status, `code` a stable word, the message says what to do."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImageLimits:
    """What an accepted image may be: its byte size and its width and height in pixels."""

    max_bytes: int = 5_000_000
    max_side: int = 4096
    min_side: int = 128


def sniff_format(data: bytes) -> str | None:
    """The format ("JPEG", "PNG" or "WEBP") from the file's first bytes; None for anything else."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """The upload as an RGB uint8 (H, W, 3) array, upright (EXIF orientation applied); raises UploadRejected."""
    if len(data) > limits.max_bytes:
        raise UploadRejected(
            413, "too_large", f"the image is {len(data)} bytes; upload one of at most {limits.max_bytes} bytes"
        )
    kind = sniff_format(data)
    if kind is None:
        raise UploadRejected(415, "unsupported_type", "this is not a JPEG, PNG or WebP image; upload a photo in one")
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) between MAX_IMAGE_PIXELS and twice that: treat it as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            400, "bad_dimensions",
            f"the image declares far too many pixels; upload a photo of at most {limits.max_side}x{limits.max_side}",
        ) from None  # fmt: skip
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UploadRejected(
            400, "bad_image", f"the {kind} file cannot be read ({exc}); upload an intact photo"
        ) from None
    with image:
        width, height = image.size  # from the header: nothing is decoded yet
        if max(width, height) > limits.max_side:
            raise UploadRejected(
                400, "bad_dimensions",
                f"the image is {width}x{height}; upload one of at most {limits.max_side}x{limits.max_side} pixels",
            )  # fmt: skip
        if min(width, height) < limits.min_side:
            raise UploadRejected(
                400, "bad_dimensions",
                f"the image is {width}x{height}; upload one at least {limits.min_side} pixels on each side",
            )  # fmt: skip
        try:
            image.load()  # the full decode: a truncated or corrupt file fails here
            upright = ImageOps.exif_transpose(image)  # phone photos are often stored sideways with an EXIF flag
            rgb = upright.convert("RGB")  # palette, grey, CMYK and alpha images become plain RGB
        except Exception as exc:  # hostile files raise whatever the decoder trips on (OSError, struct.error, ...)
            raise UploadRejected(
                400, "bad_image", f"the {kind} file is damaged or truncated ({exc}); upload the complete photo"
            ) from None
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
