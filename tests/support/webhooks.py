"""A webhook on loopback for hook tests and the chaos run: it keeps every request and answers as told.

The app's outbound rule lets a call reach loopback only when ``CALLBACK_ALLOWED_HOSTS`` names the exact origin, so
the receiver's ``origin`` is what a test puts there. ``status`` is the answer; ``fail_first`` makes the first calls
answer 503 whatever ``status`` says (a webhook that comes up late), so retries and holds can be driven without a
test touching the receiver mid-run.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["SECRET", "Receiver"]

# The signature a hook URL carries: it must never appear in a record, event or status.
SECRET = "S3CR3T-signature"


class Receiver:
    """Keeps every POST (lower-cased headers and JSON body) and answers ``status`` (503 for the first
    ``fail_first``)."""

    def __init__(self, status: int, *, fail_first: int = 0) -> None:
        self.status = status
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = 503 if len(receiver.requests) <= receiver.fail_first else receiver.status
                answer = b'{"error": "backend pool busy"}' if status >= 300 else b'{"drained": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = int(self.server.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}/drain?api-version=1&sig={SECRET}"

    def events(self) -> list[Any]:
        with self._lock:
            return [body for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
