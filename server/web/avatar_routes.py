"""HTTP routes for the avatar's face: portrait upload (POST /portraits) and idle/listening clips (GET /avatar/clip).

Both follow the websocket's access rules (origin allowlist, `server.token`). Errors are JSON
`{"error": CODE, "message": TEXT}` with a status that says whose fault it was; the text says what to do.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import BodyPartReader, web

from avatar.base import LoopRenderer, Renderer
from avatar.clip_encoder import CLIP_MIME
from avatar.loop import LOOP_STATES, LoopState
from avatar.renderer import mirror_emotion
from compose.config import Config
from compose.engines import Engines
from core.emotion import BASIC_EMOTIONS, EmotionState
from server.web.access import Refused, check_access
from server.web.clips import Clip, ClipCache
from server.web.image_upload import ImageLimits, UploadRejected
from server.web.portraits import PortraitStore, is_portrait_id

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_MAX_PARTS = 8  # multipart fields looked at before giving up on finding the photo
_FILE_FIELDS = ("portrait", "image", "file", "photo")


@dataclass(frozen=True)
class Faces:
    """How the clip route finds a face: a cache key and a (blocking) renderer for (persona, uploaded portrait file).

    The key names what the face looks like (the persona's portrait, or the upload), so personas that share a
    portrait share their clips.
    """

    key: Callable[[str, str | None], Hashable]
    renderer: Callable[[str, str | None], Renderer]


@dataclass
class AvatarRoutes:
    """The state behind the routes: the portrait store, the clip cache and the faces; one per application."""

    config: Config
    portraits: PortraitStore
    clips: ClipCache
    faces: Faces
    # Face detection on uploads takes a core for ~0.1-2 s: one upload at a time, the rest queue.
    upload_slots: asyncio.Semaphore

    def add_to(self, app: web.Application) -> None:
        """Register POST /portraits and GET /avatar/clip."""
        app.router.add_post("/portraits", self.upload_portrait)
        app.router.add_get("/avatar/clip", self.clip)

    def _check(self, request: web.Request) -> None:
        server = self.config.server
        check_access(request, server.allowed_origins, server.token, server.host)

    async def upload_portrait(self, request: web.Request) -> web.Response:
        """Store an uploaded portrait (raw JPEG/PNG/WebP body, or multipart with a file field); query `glasses=1`:
        the face wears glasses.

        200 `{"portrait_id": HEX, "width": N, "height": N, "advice": [...], "glasses": BOOL}`; refusals carry
        400/401/403/413/415/422.
        """
        try:
            self._check(request)
            glasses = _flag(request.query.get("glasses", ""), "glasses")
            data = await read_upload(request, self.portraits.limits.max_bytes)
            async with self.upload_slots:
                stored = await asyncio.to_thread(self.portraits.add, data, glasses)
        except (Refused, UploadRejected) as exc:
            return error_response(exc.status, exc.code, exc.message, getattr(exc, "headers", None))
        return web.json_response(
            {
                "portrait_id": stored.portrait_id,
                "width": stored.width,
                "height": stored.height,
                "advice": list(stored.advice),
                "glasses": stored.glasses,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def clip(self, request: web.Request) -> web.Response:
        """A seamless idle or listening loop of a persona's face (or an uploaded portrait) as an MP4 file.

        Query: `state` (idle|listening, default idle), `persona` (default: the configured one), `portrait` (an
        uploaded portrait's id), `emotion` (listening only: a basic emotion label the face softly mirrors, see
        `listening_emotion`). Answers 304 to a matching If-None-Match and 206 to a byte Range.
        """
        try:
            self._check(request)
            state, persona, portrait = self._clip_query(request)
            mirrored = listening_emotion(state, request.query.get("emotion", "neutral"))
            key = (self.faces.key(persona, portrait), state) + ((mirrored.label,) if mirrored else ())
            clip = await self.clips.get(key, lambda: self._loop_renderer(persona, portrait), state, mirrored)
        except (Refused, UploadRejected) as exc:
            return error_response(exc.status, exc.code, exc.message, getattr(exc, "headers", None))
        except Exception as exc:  # a portrait that no longer loads, an encoder failure: say so, keep serving
            log.exception("could not render the %s clip", request.query.get("state", "idle"))
            return error_response(500, "render_failed", f"could not render the clip ({exc}); try again later")
        return clip_response(request, clip)

    def _clip_query(self, request: web.Request) -> tuple[LoopState, str, str | None]:
        state = request.query.get("state", "idle")
        if state not in LOOP_STATES:
            raise Refused(400, "bad_request", f"state must be one of: {', '.join(LOOP_STATES)}")
        persona = request.query.get("persona", "").strip() or self.config.persona.name
        if len(persona) > 100:
            raise Refused(400, "bad_request", "persona must be at most 100 characters")
        portrait_id = request.query.get("portrait")
        if portrait_id is None:
            return state, persona, None  # `in LOOP_STATES` narrowed `state` to a LoopState
        if not is_portrait_id(portrait_id):
            raise Refused(400, "bad_request", "portrait must be a portrait_id returned by POST /portraits")
        path = self.portraits.path_of(portrait_id)
        if path is None:
            raise Refused(404, "unknown_portrait", "no such portrait (uploads are kept for a while); upload it again")
        return state, persona, str(path)

    def _loop_renderer(self, persona: str, portrait: str | None) -> LoopRenderer:
        renderer = self.faces.renderer(persona, portrait)
        if not renderer.loops:
            raise Refused(501, "not_supported", "this server's avatar cannot render idle clips")
        return renderer


def listening_emotion(state: LoopState, label: str) -> EmotionState | None:
    """The emotion a clip shows for the `emotion` query: None (neutral) or, for a listening clip, the soft mirror
    of a user who feels `label` (avatar.renderer.mirror_emotion; anger and disgust both become concern).

    One clip per mirrored label, whatever the user's intensity: a label's clip is rendered once per face and
    served from the cache after that. Raises Refused for an unknown label or an emotion on an idle clip.
    """
    if label not in BASIC_EMOTIONS:
        raise Refused(400, "bad_request", f"emotion must be one of: {', '.join(BASIC_EMOTIONS)}")
    if label == "neutral":
        return None  # the plain listening (or idle) clip, under its old cache key
    if state != "listening":
        raise Refused(400, "bad_request", "only a listening clip mirrors an emotion; use state=listening")
    # Mirror the label's full emotion, then render the mirrored label's own: anger, disgust and sadness share one
    # clip (concern) however strong each label's category centre is.
    shown = mirror_emotion(EmotionState.from_label(label, 1.0)).label
    return mirror_emotion(EmotionState.from_label(shown, 1.0))


def _flag(value: str, name: str) -> bool:
    """A yes/no query parameter: "1", "true", "yes" or "0", "false", "no", "" (absent); anything else is refused."""
    answer = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}.get(
        value.strip().lower()
    )
    if answer is None:
        raise Refused(400, "bad_request", f"{name} must be 1 or 0 (true or false), got {value[:20]!r}")
    return answer


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The JSON body every refusal of these routes has."""
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


async def read_upload(request: web.Request, limit: int) -> bytes:
    """The uploaded file's bytes, read with a bound: a raw body, or the file field of a multipart form.

    Any client-supplied file name is ignored (the store names files by their content). Raises Refused.
    """
    declared = request.content_length
    too_large = Refused(413, "too_large", f"the upload is larger than {limit} bytes; send a smaller photo")
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        if declared is not None and declared > limit + _CHUNK:  # the form's other fields are small
            raise too_large
        data = await _read_multipart(request, limit, too_large)
    else:
        if declared is not None and declared > limit:
            raise too_large  # refused before reading a byte of it
        data = await _read_bounded(request.content.read, limit, too_large)
    if not data:
        raise Refused(400, "empty", "the upload is empty; send the photo as the request body or a `portrait` field")
    return data


async def _read_multipart(request: web.Request, limit: int, too_large: Refused) -> bytes:
    try:
        reader = await request.multipart()
        for _ in range(_MAX_PARTS):
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, BodyPartReader) and (part.filename is not None or part.name in _FILE_FIELDS):
                return await _read_bounded(part.read_chunk, limit, too_large)
            await part.release()  # a text field: skip it
    except (ValueError, AssertionError, RuntimeError) as exc:  # aiohttp's multipart parser on a malformed body
        raise Refused(400, "bad_request", f"malformed multipart body ({exc}); send a normal form upload") from None
    raise Refused(400, "bad_request", "the form has no file; send the photo in a field named `portrait`")


async def _read_bounded(read: Callable[[int], Awaitable[bytes]], limit: int, too_large: Refused) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise too_large  # stop reading: the rest is never buffered
        chunks.append(chunk)
    return b"".join(chunks)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_MAX_RANGE_DIGITS = 15  # no clip is a petabyte: a longer number cannot be satisfied (and int() of 5,000 digits fails)


def clip_response(request: web.Request, clip: Clip) -> web.Response:
    """The clip with caching headers; 304 when the client has it, 206 for a single byte range (Safari needs it)."""
    headers = {"ETag": clip.etag, "Cache-Control": "private, max-age=3600", "Accept-Ranges": "bytes"}
    if clip.etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    size = len(clip.data)
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if max(len(first), len(last)) > _MAX_RANGE_DIGITS:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start = int(first) if first else max(0, size - int(last))
        end = min(size - 1, int(last)) if first and last else size - 1
        if start >= size or start > end:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return web.Response(status=206, body=clip.data[start : end + 1], content_type=CLIP_MIME, headers=headers)
    return web.Response(body=clip.data, content_type=CLIP_MIME, headers=headers)


def engine_faces(engines: Engines) -> Faces:
    """Faces from the loaded engines: each persona's renderer, or an uploaded portrait's (compose.persona_engines)."""
    personas = engines.personas
    if personas is None:  # one face for every session (a server built without per-persona engines)

        def only_renderer(persona: str, portrait: str | None) -> Renderer:
            if portrait is not None:
                raise Refused(501, "not_supported", "this server cannot wear uploaded portraits")
            return engines.media.renderer

        return Faces(key=lambda persona, portrait: ("default", portrait), renderer=only_renderer)
    return Faces(
        key=lambda persona, portrait: (
            ("upload", portrait) if portrait else ("portrait", personas.spec(persona).portrait)
        ),
        renderer=personas.renderer,
    )


def portrait_store(config: Config, directory: Path) -> PortraitStore:
    """The portrait store the configuration asks for, in `directory`."""
    server = config.server
    return PortraitStore(
        directory,
        config.avatar.size,
        ImageLimits(max_bytes=server.max_portrait_bytes),
        max_portraits=server.max_portraits,
    )
