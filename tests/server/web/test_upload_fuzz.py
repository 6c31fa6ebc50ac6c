"""Property-based fuzzing of portrait uploads: the image checks and POST /portraits on arbitrary bytes.

Whatever arrives, the answer is a decoded RGB image within the limits or a refusal with a 4xx status that says
what to upload instead: never another exception, never a 500.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from server.web.image_upload import ImageLimits, UploadRejected, decode_image
from tests.server.web.test_app import start

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = ImageLimits(max_bytes=200_000, max_side=512, min_side=128)
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x10\x00\x00\x00WEBPVP8 ")


def _valid(fmt: str) -> bytes:
    noise = np.random.default_rng(1).integers(0, 255, (160, 144, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format=fmt)
    return out.getvalue()


VALID = {fmt: _valid(fmt) for fmt in ("PNG", "JPEG", "WEBP")}


@st.composite
def mutated_image(draw: st.DrawFn) -> bytes:
    """A valid PNG/JPEG/WebP with bytes flipped, cut short, or spliced: what a broken or hostile upload looks like."""
    data = bytearray(VALID[draw(st.sampled_from(sorted(VALID)))])
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


uploads = (
    st.binary(max_size=4096)
    | st.tuples(st.sampled_from(MAGIC), st.binary(max_size=4096)).map(lambda parts: parts[0] + parts[1])
    | mutated_image()
)


@FUZZ
@given(data=uploads)
def test_decode_returns_an_image_within_limits_or_refuses(data: bytes) -> None:
    try:
        image = decode_image(data, LIMITS)
    except UploadRejected as exc:
        assert exc.status in (400, 413, 415) and exc.code and exc.message
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert LIMITS.min_side <= min(image.shape[:2]) and max(image.shape[:2]) <= LIMITS.max_side


@FUZZ
@given(
    body=st.binary(max_size=4096) | st.tuples(st.sampled_from(MAGIC), st.binary(max_size=2048)).map(b"".join),
    content_type=st.sampled_from(
        [
            "image/jpeg",
            "application/octet-stream",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "text/plain; charset=utf-8",
        ]
    ),
)
def test_post_portraits_never_fails_with_a_server_error(
    tmp_path_factory: Any, body: bytes, content_type: str
) -> None:
    async def scenario() -> None:
        directory: Path = tmp_path_factory.mktemp("upload")
        client, store = await start(directory / "db.sqlite3")
        try:
            response = await client.post("/portraits", data=body, headers={"Content-Type": content_type})
            assert response.status in (400, 413, 415, 422), (response.status, await response.text())
            payload = await response.json()
            assert set(payload) == {"error", "message"} and payload["message"]
            assert not list(directory.rglob("*.png")), "nothing refused is stored"
            health = await client.get("/healthz")
            assert health.status == 200
        finally:
            await client.close()
            store.close()

    asyncio.run(scenario())
