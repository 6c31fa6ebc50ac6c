"""Portrait uploads (POST /portraits): strict checks, content-hash ids, one face, sessions wearing the upload."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from aiohttp import FormData
from PIL import Image

from agent.personas import load_personas, portrait_path
from avatar.portrait import default_portrait, glasses_marker
from compose.persona_engines import PersonaEngineCache, PersonaSpec
from server.turn.pipeline import TurnInput
from server.web.image_upload import ImageLimits, UploadRejected, decode_image, sniff_format
from server.web.portraits import PortraitStore, is_portrait_id, portraits_dir
from storage.store import ConversationStore
from tests.sample_faces import cameraman_png
from tests.server.fakes import FakeEncoder, FakeRenderer, FakeResponder, FakeSynthesizer, RecordingSink, make_pipeline
from tests.server.web.test_app import receive_json, start, until_reply_end

HOPPER = Path(portrait_path("grace_hopper") or "").read_bytes()  # a 512x600 JPEG with one face


def encode(image: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(out, format=fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares `width` x `height` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# ------------------------------------------------------------ the checks before any face detection


def test_type_comes_from_the_magic_bytes() -> None:
    assert sniff_format(HOPPER) == "JPEG"
    assert sniff_format(encode(np.zeros((8, 8, 3), np.uint8))) == "PNG"
    assert sniff_format(encode(np.zeros((8, 8, 3), np.uint8), "WEBP")) == "WEBP"
    assert sniff_format(b"GIF89a" + b"\0" * 20) is None
    assert sniff_format(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"not an image at all" * 10, 415, "unsupported_type"),
        (b"GIF89a" + b"\0" * 200, 415, "unsupported_type"),
        (HOPPER[: len(HOPPER) // 2], 400, "bad_image"),  # a truncated JPEG
        (b"\xff\xd8\xff" + b"\0" * 300, 400, "bad_image"),  # JPEG magic, garbage after it
        (png_header_only(100_000, 100_000), 400, "bad_dimensions"),  # 10 gigapixels in ~100 bytes
        (png_header_only(10_000, 5_000), 400, "bad_dimensions"),  # under Pillow's bomb limit, over ours
        (encode(np.zeros((5000, 200, 3), np.uint8)), 400, "bad_dimensions"),
        (encode(np.zeros((64, 64, 3), np.uint8)), 400, "bad_dimensions"),  # too small to animate
    ],
)
def test_bad_uploads_are_refused_before_detection(data: bytes, status: int, code: str) -> None:
    with pytest.raises(UploadRejected) as refused:
        decode_image(data, ImageLimits())
    assert (refused.value.status, refused.value.code) == (status, code)
    assert "upload" in refused.value.message  # every refusal says what to send instead


def test_decode_applies_exif_orientation_and_drops_alpha() -> None:
    image = Image.new("RGBA", (200, 300), (10, 20, 30, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", exif=exif)
    assert decode_image(out.getvalue(), ImageLimits()).shape == (200, 300, 3)
    assert decode_image(encode(image), ImageLimits()).shape == (300, 200, 3)


def test_oversized_bytes_are_refused() -> None:
    with pytest.raises(UploadRejected) as refused:
        decode_image(HOPPER, ImageLimits(max_bytes=1000))
    assert refused.value.status == 413


def test_portrait_ids_are_sha256_hex() -> None:
    assert is_portrait_id("a" * 64)
    assert not is_portrait_id("A" * 64) and not is_portrait_id("a" * 63) and not is_portrait_id("../" + "a" * 61)


@pytest.fixture()
async def app_client(tmp_path: Path) -> AsyncIterator[tuple]:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_MAX_PORTRAIT_BYTES="300000")
    yield client, tmp_path
    await client.close()
    store.close()


async def test_http_refusals_are_json_and_store_nothing(app_client: tuple) -> None:
    client, tmp_path = app_client
    cases = [
        (b"hello", 415),
        (HOPPER[:20000], 400),
        (png_header_only(100_000, 100_000), 400),
        (b"\xff\xd8\xff" + b"\0" * 300_001, 413),
        (b"", 400),
    ]
    for body, status in cases:
        response = await client.post("/portraits", data=body, headers={"Content-Type": "image/jpeg"})
        assert response.status == status, await response.text()
        assert set(await response.json()) == {"error", "message"}
    assert not list(tmp_path.rglob("*.png"))


async def test_oversized_chunked_upload_stops_reading(app_client: tuple) -> None:
    client, _ = app_client

    async def endless() -> AsyncIterator[bytes]:  # no Content-Length: the server must count as it reads
        yield b"\xff\xd8\xff"
        for _ in range(100):
            yield b"\0" * 65536

    response = await client.post("/portraits", data=endless())
    assert response.status == 413


async def test_foreign_origins_are_refused(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_ALLOWED_ORIGINS="https://kiosk.example")
    try:
        refused = await client.post("/portraits", data=HOPPER, headers={"Origin": "https://evil.example"})
        assert refused.status == 403
        clip = await client.get("/avatar/clip", headers={"Origin": "https://evil.example"})
        assert clip.status == 403
    finally:
        await client.close()
        store.close()


async def test_hello_with_an_unknown_or_malformed_portrait(app_client: tuple) -> None:
    client, _ = app_client
    ws = await client.ws_connect("/ws")
    await receive_json(ws)
    await ws.send_json({"type": "hello", "portrait": "0" * 64})
    error = await receive_json(ws)
    assert error["code"] == "invalid_message" and "POST /portraits" in error["message"]
    await ws.send_json({"type": "hello", "portrait": "../../etc/passwd"})
    error = await receive_json(ws)
    assert error["code"] == "invalid_message" and "portrait" in error["message"]
    await ws.close()


async def test_portrait_is_chosen_before_the_first_turn_only(app_client: tuple) -> None:
    client, tmp_path = app_client
    portrait_id = "ab" * 32
    folder = portraits_dir(tmp_path / "db.sqlite3")
    folder.mkdir()
    (folder / f"{portrait_id}.png").write_bytes(encode(np.zeros((256, 256, 3), np.uint8)))  # as if uploaded
    ws = await client.ws_connect("/ws")
    assert "portrait" not in await receive_json(ws)
    await ws.send_json({"type": "hello", "portrait": portrait_id})
    assert (await receive_json(ws))["portrait"] == portrait_id
    await ws.send_json({"type": "text", "text": "hello"})
    await until_reply_end(ws)
    await ws.send_json({"type": "hello", "portrait": portrait_id})
    error = await receive_json(ws)
    assert error["code"] == "invalid_message" and "before the first turn" in error["message"]
    await ws.close()


# ------------------------------------------------------------ with the real face detector

models = pytest.mark.models


@models
async def test_valid_portrait_is_stored_by_content(app_client: tuple) -> None:
    client, tmp_path = app_client
    first = await client.post("/portraits", data=HOPPER, headers={"Content-Type": "image/jpeg"})
    assert first.status == 200, await first.text()
    body = await first.json()
    assert is_portrait_id(body["portrait_id"]) and (body["width"], body["height"]) == (512, 512)
    assert body["advice"] == []  # a frontal, upright face
    # The same photo again, as a form with a hostile file name: the same id, stored under that id only.
    form = FormData()
    form.add_field("portrait", HOPPER, filename="../../../../tmp/evil.jpg", content_type="text/plain")
    again = await client.post("/portraits", data=form)
    assert again.status == 200 and (await again.json())["portrait_id"] == body["portrait_id"]
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".png"]
    assert stored == [portraits_dir(tmp_path / "db.sqlite3") / f"{body['portrait_id']}.png"]
    assert not list(tmp_path.rglob("evil*"))
    image = np.asarray(Image.open(stored[0]))
    assert image.shape == (512, 512, 3)


@models
async def test_a_session_wears_its_uploaded_portrait(app_client: tuple) -> None:
    client, _ = app_client
    portrait_id = (await (await client.post("/portraits", data=HOPPER)).json())["portrait_id"]
    ws = await client.ws_connect("/ws")
    await receive_json(ws)
    await ws.send_json({"type": "hello", "persona": "Kai", "portrait": portrait_id})
    ready = await receive_json(ws)
    assert ready["type"] == "ready" and ready["portrait"] == portrait_id and ready["persona"] == "Kai"
    await ws.close()


@models
@pytest.mark.parametrize(
    ("image", "code"),
    [
        (np.full((300, 300, 3), (90, 140, 200), np.uint8), "no_face"),  # a flat colour
        (np.concatenate([np.asarray(Image.open(io.BytesIO(HOPPER)))] * 2, axis=1), "several_faces"),
    ],
)
def test_portrait_needs_exactly_one_face(tmp_path: Path, image: np.ndarray, code: str) -> None:
    store = PortraitStore(tmp_path, 256)
    with pytest.raises(UploadRejected) as refused:
        store.add(encode(image))
    assert (refused.value.status, refused.value.code) == (422, code)
    assert "upload a" in refused.value.message
    assert not list(tmp_path.iterdir())


@models
async def test_a_turned_face_is_stored_with_advice(app_client: tuple) -> None:
    client, _ = app_client
    response = await client.post("/portraits", data=cameraman_png(scale=2), headers={"Content-Type": "image/png"})
    assert response.status == 200, await response.text()
    advice = (await response.json())["advice"]
    assert len(advice) == 1 and "turned about" in advice[0] and "straight at the camera" in advice[0]


def test_a_tilted_face_is_told_to_be_upright(tmp_path: Path) -> None:
    import cv2

    upright = default_portrait()
    tilted = cv2.warpAffine(
        upright, cv2.getRotationMatrix2D((256, 256), 30, 1.0), (512, 512), borderMode=cv2.BORDER_REFLECT
    )
    store = PortraitStore(tmp_path, 256)
    assert store.add(encode(upright)).advice == ()
    (advice,) = store.add(encode(tilted)).advice
    assert "tilted about" in advice


@models
async def test_a_face_with_glasses_is_stored_marked_under_its_own_id(app_client: tuple) -> None:
    client, _ = app_client
    plain = await (await client.post("/portraits", data=HOPPER)).json()
    marked = await client.post("/portraits?glasses=1", data=HOPPER)
    assert marked.status == 200, await marked.text()
    body = await marked.json()
    assert body["glasses"] is True and plain["glasses"] is False
    assert body["portrait_id"] != plain["portrait_id"]  # a renderer loaded for the plain upload is not reused
    refused = await client.post("/portraits?glasses=maybe", data=HOPPER)
    assert refused.status == 400 and (await refused.json())["error"] == "bad_request"


def test_the_glasses_mark_lies_beside_the_image_and_goes_with_it(tmp_path: Path) -> None:
    store = PortraitStore(tmp_path, 256, max_portraits=1)
    marked = store.add(HOPPER, glasses=True)
    assert marked.glasses and glasses_marker(marked.path).is_file()
    assert not glasses_marker(store.add(HOPPER).path).exists()
    assert not marked.path.exists() and not glasses_marker(marked.path).exists()  # evicted with its mark


def test_least_recently_used_portraits_are_evicted(tmp_path: Path) -> None:
    store = PortraitStore(tmp_path, 256, max_portraits=1)
    hopper = store.add(HOPPER)
    astronaut = store.add(encode(default_portrait()))
    assert hopper.portrait_id != astronaut.portrait_id
    assert store.path_of(hopper.portrait_id) is None
    assert store.path_of(astronaut.portrait_id) == astronaut.path and astronaut.path.is_file()


# ------------------------------------------------------------ the upload reaches the turn's engines


async def test_turn_uses_the_uploaded_portraits_renderer(tmp_path: Path) -> None:
    built: list[str] = []

    def renderer(portrait: str) -> FakeRenderer:
        built.append(portrait)
        return FakeRenderer()

    cache = PersonaEngineCache(
        load_personas(),
        PersonaSpec("Mira", "persona_default.txt", "cbt", "piper-joe", ""),
        lambda key: FakeResponder(),
        lambda voice: FakeSynthesizer(),
        renderer,
        lambda rate: FakeEncoder,
        max_uploaded_renderers=2,
    )
    store = ConversationStore(tmp_path / "db.sqlite3")
    pipeline = make_pipeline(store, persona_engines=cache.engines)
    for index, portrait in enumerate(["/p/one.png", None, "/p/two.png", "/p/three.png", "/p/one.png"]):
        turn = TurnInput("s", index, "text", time.perf_counter(), text="hi", persona="Kai", portrait=portrait)
        await pipeline.run(turn, RecordingSink(), asyncio.Event())
    # Kai's own face once; uploads in a bounded LRU: "one" was dropped for "three" and built again.
    assert built == ["/p/one.png", "astronaut", "/p/two.png", "/p/three.png", "/p/one.png"]
    assert cache.uploaded_renderers.keys() == ["/p/three.png", "/p/one.png"]
    assert cache.engines("Kai", "/p/one.png").spec.portrait == "/p/one.png"
    store.close()
