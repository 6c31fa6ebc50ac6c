"""`empathica serve`: load the engines, open the store, listen, and shut down cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from compose.config import Config
from compose.engines import EngineError, load_engines
from server.web.app import create_app
from storage.store import ConversationStore

LISTENING = "Empathica is listening on {url} — open it in a browser"


def serve(config: Config, host: str | None = None, port: int | None = None) -> int:
    """Run the server until interrupted; returns the exit code (2 when a model is missing)."""
    logging.basicConfig(level=logging.INFO, format="[empathica] %(levelname)s %(name)s: %(message)s")
    try:
        engines = load_engines(config)
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr, flush=True)
        return 2
    store = ConversationStore(config.storage.path)
    try:
        asyncio.run(_listen(create_app(config, engines, store), host or config.server.host, _port(config, port)))
    finally:
        store.close()
    return 0


def _port(config: Config, port: int | None) -> int:
    return config.server.port if port is None else port


async def _listen(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    real_port = runner.addresses[0][1] if runner.addresses else port
    shown = f"[{host}]" if ":" in host else host
    print(LISTENING.format(url=f"http://{shown}:{real_port}/"), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
