"""The safety webhook posts each event to a real local HTTP server; an unreachable hook only logs."""

from __future__ import annotations

import http.server
import json
import socket
import threading

from agent.safety_hook import WebhookNotifier


def test_events_are_posted_as_json():
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        WebhookNotifier(f"http://127.0.0.1:{server.server_address[1]}/hook")({"category": "suicide"}).join(10)
    finally:
        server.shutdown()
    assert received == [{"category": "suicide"}]


def test_an_unreachable_hook_is_logged_not_raised(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout=1)({"category": "abuse"}).join(10)
    assert "safety webhook" in caplog.text


def test_the_log_holds_neither_the_hook_secret_nor_the_users_words(caplog):
    refused: list[str] = []

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            refused.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    event = {"category": "suicide", "session_id": "s9", "turn_id": 3, "user_text": "my private words"}
    try:
        for port in (server.server_address[1], closed):  # an HTTP error and a connection error both quote the URL
            url = f"http://hookuser:pa55word@127.0.0.1:{port}/services/T0/B0/SeCrEtToKeN?key=QuErYsEcReT"
            WebhookNotifier(url, timeout=1)(event).join(10)
    finally:
        server.shutdown()
    assert refused, "the refusing hook was reached"
    assert caplog.text.count("safety webhook http://127.0.0.1:") == 2 and "suicide event of session s9" in caplog.text
    for secret in ("SeCrEtToKeN", "QuErYsEcReT", "pa55word", "hookuser", "my private words"):
        assert secret not in caplog.text, secret
