"""GET /avatar/clip: seamless idle/listening loops of a persona's (or an uploaded) face as MP4, cached with ETags."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent.personas import load_personas
from compose.config import load_config
from compose.engines import encoder_factory_for, fallback_spec, renderer_loader
from compose.persona_engines import PersonaEngineCache
from core.emotion import EmotionState
from server.web.access import Refused
from server.web.app import create_app
from server.web.avatar_routes import listening_emotion
from storage.store import ConversationStore
from tests.server.fakes import FakeResponder, FakeSynthesizer
from tests.server.web.test_app import fake_engines
from tests.server.web.test_portraits import HOPPER

FPS, SECONDS, SIZE = 10, 2, 128  # small and short: the loop's properties do not depend on its size


def decode(data: bytes) -> tuple[list[np.ndarray], av.container.InputContainer]:
    container = av.open(io.BytesIO(data))
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, container


def step(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture()
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    """A server whose personas have real faces (the renderer), with fakes for everything that speaks."""
    env = {
        "EMPATHICA_AVATAR_SIZE": str(SIZE),
        "EMPATHICA_AVATAR_FPS": str(FPS),
        "EMPATHICA_AVATAR_CLIP_SECONDS": str(SECONDS),
    }
    config = load_config(environ=env)
    engines = fake_engines()
    engines.personas = PersonaEngineCache(
        load_personas(),
        fallback_spec(config),
        lambda key: FakeResponder(),
        lambda voice: FakeSynthesizer(),
        renderer_loader(config, io.StringIO()),
        encoder_factory_for(config),
    )
    store = ConversationStore(tmp_path / "db.sqlite3")
    client = TestClient(TestServer(create_app(config, engines, store)))
    await client.start_server()
    yield client
    await client.close()
    store.close()


pytestmark = pytest.mark.models


async def test_idle_clip_is_a_seamless_mp4_loop(client: TestClient) -> None:
    response = await client.get("/avatar/clip", params={"state": "idle", "persona": "Kai"})
    assert response.status == 200, await response.text()
    assert response.content_type == "video/mp4"
    assert response.headers["ETag"].startswith('"') and "max-age" in response.headers["Cache-Control"]
    frames, container = decode(await response.read())
    video = container.streams.video[0]
    assert len(container.streams.audio) == 0  # video only: a silent loop may autoplay
    assert (video.average_rate, video.width, video.height) == (FPS, SIZE, SIZE)
    assert len(frames) == FPS * SECONDS
    steps = [step(frames[i], frames[i + 1]) for i in range(len(frames) - 1)]
    assert max(steps) > 0.05  # a living face, not a frozen frame
    # Seamless: from the last frame back to the first is no bigger a change than an ordinary frame step
    # (plus a little for the keyframe at the start, which is coded afresh).
    assert step(frames[-1], frames[0]) <= 1.5 * max(steps) + 0.5


async def test_second_request_is_cached_and_revalidates(client: TestClient) -> None:
    first = await client.get("/avatar/clip", params={"persona": "Kai"})
    data, etag = await first.read(), first.headers["ETag"]
    again = await client.get("/avatar/clip", params={"persona": "Kai", "state": "idle"})
    assert again.headers["ETag"] == etag and await again.read() == data
    revalidated = await client.get("/avatar/clip", params={"persona": "Kai"}, headers={"If-None-Match": etag})
    assert revalidated.status == 304 and await revalidated.read() == b""
    part = await client.get("/avatar/clip", params={"persona": "Kai"}, headers={"Range": "bytes=0-99"})
    assert part.status == 206 and await part.read() == data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    beyond = await client.get("/avatar/clip", params={"persona": "Kai"}, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status == 416
    # Sunny wears the same (astronaut) portrait as Kai: the same clip, not a second rendering.
    assert (await client.get("/avatar/clip", params={"persona": "Sunny"})).headers["ETag"] == etag


async def test_states_and_faces_give_different_clips(client: TestClient) -> None:
    async def etag(**params: str) -> str:
        response = await client.get("/avatar/clip", params=params)
        assert response.status == 200, await response.text()
        return response.headers["ETag"]

    upload = await client.post("/portraits", data=HOPPER)
    portrait_id = (await upload.json())["portrait_id"]
    tags = {
        await etag(persona="Kai"),
        await etag(persona="Kai", state="listening"),
        await etag(persona="Mira"),  # grace_hopper from the persona file, cropped from the original photo
        await etag(persona="Kai", portrait=portrait_id),
    }
    assert len(tags) == 4


async def test_listening_clips_softly_mirror_the_users_emotion(client: TestClient) -> None:
    async def clip(**params: str) -> tuple[str, bytes]:
        response = await client.get("/avatar/clip", params={"persona": "Kai", "state": "listening", **params})
        assert response.status == 200, await response.text()
        return response.headers["ETag"], await response.read()

    neutral_tag, neutral = await clip()
    assert (await clip(emotion="neutral"))[0] == neutral_tag  # neutral is the plain listening clip
    joy_tag, joy = await clip(emotion="joy")
    sad_tag, sad = await clip(emotion="sadness")
    assert len({neutral_tag, joy_tag, sad_tag}) == 3
    # Anger and disgust are met with concern: the sadness clip itself, not renderings of their own.
    assert (await clip(emotion="anger"))[0] == sad_tag == (await clip(emotion="disgust"))[0]
    # The same head motion, blinks and gaze: frame for frame only the expression differs, and it shows.
    plain, smiling, sorry = decode(neutral)[0], decode(joy)[0], decode(sad)[0]
    assert len(plain) == len(smiling) == len(sorry) == FPS * SECONDS
    for mirrored in (smiling, sorry):
        assert np.mean([step(a, b) for a, b in zip(plain, mirrored, strict=True)]) > 1.0  # ~2 measured at 128 px


def test_listening_emotion_is_one_soft_clip_per_mirrored_label() -> None:
    assert listening_emotion("listening", "neutral") is None
    assert listening_emotion("idle", "neutral") is None
    joy = listening_emotion("listening", "joy")
    assert joy is not None and joy.label == "joy"
    assert joy.intensity == pytest.approx(EmotionState.from_label("joy", 1.0).intensity / 2)  # a soft mirror
    assert listening_emotion("listening", "anger") == listening_emotion("listening", "sadness")
    for state, label in (("listening", "glee"), ("idle", "joy")):
        with pytest.raises(Refused) as refused:
            listening_emotion(state, label)
        assert refused.value.status == 400


async def test_bad_clip_requests(client: TestClient) -> None:
    cases = [
        ({"state": "sleeping"}, 400),
        ({"state": "listening", "emotion": "glee"}, 400),
        ({"emotion": "joy"}, 400),  # an idle clip mirrors nothing
        ({"portrait": "../../etc/passwd"}, 400),
        ({"portrait": "0" * 64}, 404),
        ({"persona": "x" * 101}, 400),
    ]
    for params, status in cases:
        response = await client.get("/avatar/clip", params=params)
        assert response.status == status
        assert set(await response.json()) == {"error", "message"}


async def test_a_renderer_without_frames_cannot_make_clips(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    app: web.Application = create_app(load_config(environ={}), fake_engines(), store)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.get("/avatar/clip")
        assert response.status == 501 and (await response.json())["error"] == "not_supported"
    finally:
        await client.close()
        store.close()
