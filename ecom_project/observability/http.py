"""`/metrics` and `/health` for consumer processes (the web process uses Django's views)."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def serve_health(port: int, *, healthy: Callable[[], bool], host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/metrics":
                body, ctype, status = generate_latest(), CONTENT_TYPE_LATEST, 200
            elif self.path == "/health":
                ok = healthy()
                body = json.dumps({"status": "ok" if ok else "down"}).encode()
                ctype, status = "application/json", 200 if ok else 503
            else:
                body, ctype, status = b'{"error":{"code":"not_found","message":"no such path","fields":{}}}', "application/json", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
