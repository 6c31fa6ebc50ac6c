"""The aiohttp application: the web page, its static files, the conversation websocket, health and metrics."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from aiohttp import web

from compose.config import Config
from compose.engines import Engines, make_endpointer
from server.metrics import CONTENT_TYPE, Metrics
from server.session.session import Session, SessionSettings, SharedState
from server.turn.engine_guards import EngineGuards
from server.turn.pipeline import TurnPipeline
from server.web.access import origin_allowed
from server.web.avatar_routes import AvatarRoutes, engine_faces, portrait_store
from server.web.background import retention_context, retry_context
from server.web.clips import ClipCache
from server.web.portraits import portraits_dir
from server.web.ws_response import LingeringWebSocketResponse
from storage.pending import PendingTurns, journal_path
from storage.store import ConversationStore

STATIC_DIR = Path(__file__).with_name("static")

PIPELINE_KEY = web.AppKey("pipeline", TurnPipeline)
STORE_KEY = web.AppKey("store", ConversationStore)
SETTINGS_KEY = web.AppKey("session_settings", SessionSettings)
CONFIG_KEY = web.AppKey("config", Config)
SESSIONS_KEY: web.AppKey[set[LingeringWebSocketResponse]] = web.AppKey("sessions", set)
METRICS_KEY = web.AppKey("metrics", Metrics)
SHARED_KEY = web.AppKey("sessions_shared", SharedState)
AVATAR_KEY = web.AppKey("avatar_routes", AvatarRoutes)


def build_pipeline(
    engines: Engines,
    store: ConversationStore,
    memory_window: int = 8,
    pending: PendingTurns | None = None,
    guards: EngineGuards | None = None,
    prime_cache: bool = True,
) -> TurnPipeline:
    """The turn pipeline on the shared engines; `pending` keeps turns the database refuses for a later write.

    `guards` say which engine calls may overlap across sessions (default: one call at a time on every engine).
    `prime_cache`: warm the reply model's prompt cache between turns (config llm.primes_cache).
    """
    return TurnPipeline(
        recognizer=engines.recognizer,
        perceiver=engines.perceiver,
        choose_reply_emotion=engines.choose_reply_emotion,
        responder=engines.responder,
        synthesizer=engines.media.synthesizer,
        renderer=engines.media.renderer,
        encoder_factory=engines.media.encoder_factory,
        store=store,
        safety=engines.safety,
        on_safety=engines.on_safety,
        memory=engines.memory,
        memory_window=memory_window,
        persona_engines=engines.personas.engines if engines.personas is not None else None,
        pending=pending,
        voice_estimator=engines.voice_estimator,
        acknowledger=engines.acknowledger,
        guards=guards if guards is not None else EngineGuards(),
        prime_cache=prime_cache,
    )


def create_app(config: Config, engines: Engines, store: ConversationStore) -> web.Application:
    """The web application; engines and store are loaded by the caller and shared by every connection."""
    app = web.Application()
    app[CONFIG_KEY] = config
    app[STORE_KEY] = store
    # Turns the database refuses (locked, disk full) wait in memory and in a journal beside it: nothing is lost.
    pending = PendingTurns(store, journal_path(store.path))
    # Sessions' turns overlap: each local engine serves one call at a time, a remote LLM (llm.backend = "openai")
    # serves every session at once.
    guards = EngineGuards.create(remote_llm=config.llm.backend == "openai")
    app[PIPELINE_KEY] = build_pipeline(
        engines, store, config.server.history_turns, pending, guards, config.llm.primes_cache
    )
    app[SESSIONS_KEY] = set()
    app[METRICS_KEY] = Metrics()
    # Uploaded portraits live beside the database; sessions choose one by id in `hello`.
    avatar = AvatarRoutes(
        config,
        portrait_store(config, portraits_dir(store.path)),
        ClipCache(config.avatar.fps, config.avatar.clip_seconds, guards.media()),
        engine_faces(engines),
        asyncio.Semaphore(1),
    )
    app[AVATAR_KEY] = avatar
    app[SETTINGS_KEY] = SessionSettings(
        persona=config.persona.name,
        media_mime=engines.media_mime,
        max_utterance_seconds=config.server.max_utterance_seconds,
        token=config.server.token,
        history_turns=config.server.history_turns,
        max_turns_per_minute=config.server.max_turns_per_minute,
        portrait_path=avatar.portraits.path_of,
        max_turns_per_minute_per_address=config.server.max_turns_per_minute_per_address,
        hello_timeout=config.server.hello_timeout_seconds,
        max_sessions=config.server.max_sessions,
    )
    # Slots, rate limits and who serves which conversation: shared by every connection.
    app[SHARED_KEY] = SharedState(app[SETTINGS_KEY])
    app.router.add_get("/", index)
    app.router.add_get("/kiosk", index)  # the same page; the client switches to kiosk mode by its path
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", STATIC_DIR, show_index=False)
    avatar.add_to(app)
    app.on_shutdown.append(_close_sockets)
    app.cleanup_ctx.append(retention_context(store, config.storage.retention_days))
    app.cleanup_ctx.append(retry_context(pending))
    return app


async def index(request: web.Request) -> web.StreamResponse:
    """The conversation page."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise web.HTTPNotFound(text="the web page is not installed (server/web/static/index.html is missing)")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the engines are loaded once the server listens, so being here means ready."""
    return web.json_response({"ok": True})


async def metrics(request: web.Request) -> web.Response:
    """Counters, latency histograms and the open-session gauge in the Prometheus text format."""
    text = request.app[METRICS_KEY].render(open_sessions=len(request.app[SESSIONS_KEY]))
    return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One conversation; messages larger than `max_message_bytes` close it with code 1009.

    A browser page from an origin outside `server.allowed_origins` is refused with 403 before the upgrade. Without
    `server.token`, one more than `server.max_sessions` open conversations is refused with 503; with a token, a
    connection takes a slot only once its `hello` brings the token (server.session.admission).
    """
    app = request.app
    server = app[CONFIG_KEY].server
    if not origin_allowed(request, server.allowed_origins, server.host):
        raise web.HTTPForbidden(text="this page's origin may not open the conversation (server.allowed_origins)")
    admission = app[SHARED_KEY].admission
    takes_slot = not server.token
    if takes_slot and not admission.take():
        raise web.HTTPServiceUnavailable(
            text="the server is serving as many conversations as it may (server.max_sessions); try again shortly",
            headers={"Retry-After": "30"},
        )
    try:
        ws = LingeringWebSocketResponse(max_msg_size=server.max_message_bytes + 1, heartbeat=30.0)  # at most: fine
        await ws.prepare(request)
    except BaseException:
        if takes_slot:
            admission.give_back()
        raise
    return await _serve(request, app, ws, takes_slot)


async def _serve(
    request: web.Request, app: web.Application, ws: LingeringWebSocketResponse, holds_slot: bool
) -> web.WebSocketResponse:
    app[METRICS_KEY].connection_opened()
    session = Session(
        ws,
        app[PIPELINE_KEY],
        app[STORE_KEY],
        app[SETTINGS_KEY],
        metrics=app[METRICS_KEY],
        make_endpointer=partial(make_endpointer, app[CONFIG_KEY]),
        shared=app[SHARED_KEY],
        address=request.remote or "",
        holds_slot=holds_slot,  # the session gives it back when it ends
    )
    app[SESSIONS_KEY].add(ws)
    try:
        await session.run()
        await ws.linger(request)
    finally:
        app[SESSIONS_KEY].discard(ws)
    return ws


async def _close_sockets(app: web.Application) -> None:
    sessions = app[SESSIONS_KEY]  # on its own line: inside list() mypy infers the key's type from list's argument
    for ws in list(sessions):
        await ws.close(code=1001, message=b"server shutting down")
