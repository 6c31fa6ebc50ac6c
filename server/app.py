"""The aiohttp application: the web page, its static files, the conversation websocket and a health check."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from server.config import Config
from server.engines import Engines
from server.pipeline import TurnPipeline
from server.session import Session, SessionSettings
from server.store import ConversationStore
from server.ws_response import LingeringWebSocketResponse

STATIC_DIR = Path(__file__).with_name("static")

PIPELINE_KEY = web.AppKey("pipeline", TurnPipeline)
STORE_KEY = web.AppKey("store", ConversationStore)
SETTINGS_KEY = web.AppKey("session_settings", SessionSettings)
LOCK_KEY = web.AppKey("turn_lock", asyncio.Lock)
CONFIG_KEY = web.AppKey("config", Config)
SESSIONS_KEY = web.AppKey("sessions", set)


def build_pipeline(engines: Engines, store: ConversationStore, memory_window: int = 8) -> TurnPipeline:
    """The turn pipeline on the shared engines."""
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
    )


def create_app(config: Config, engines: Engines, store: ConversationStore) -> web.Application:
    """The web application; engines and store are loaded by the caller and shared by every connection."""
    app = web.Application()
    app[CONFIG_KEY] = config
    app[STORE_KEY] = store
    app[PIPELINE_KEY] = build_pipeline(engines, store, config.server.history_turns)
    app[LOCK_KEY] = asyncio.Lock()
    app[SESSIONS_KEY] = set()
    app[SETTINGS_KEY] = SessionSettings(
        persona=config.persona.name,
        media_mime=engines.media_mime,
        max_utterance_seconds=config.server.max_utterance_seconds,
        token=config.server.token,
        history_turns=config.server.history_turns,
    )
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", STATIC_DIR, show_index=False)
    app.on_shutdown.append(_close_sockets)
    return app


async def index(request: web.Request) -> web.StreamResponse:
    """The conversation page."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise web.HTTPNotFound(text="the web page is not installed (server/static/index.html is missing)")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the engines are loaded once the server listens, so being here means ready."""
    return web.json_response({"ok": True})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One conversation; messages larger than `max_message_bytes` close it with code 1009."""
    app = request.app
    ws = LingeringWebSocketResponse(max_msg_size=app[CONFIG_KEY].server.max_message_bytes, heartbeat=30.0)
    await ws.prepare(request)
    session = Session(ws, app[PIPELINE_KEY], app[STORE_KEY], app[LOCK_KEY], app[SETTINGS_KEY])
    app[SESSIONS_KEY].add(ws)
    try:
        await session.run()
        await ws.linger(request)
    finally:
        app[SESSIONS_KEY].discard(ws)
    return ws


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SESSIONS_KEY]):
        await ws.close(code=1001, message=b"server shutting down")
