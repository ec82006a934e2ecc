"""A small local HTTP server that receives webhook deliveries (for the webhook tests)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records each POST (headers, raw body); answers `status`; with `hold_on` = n, the n-th
    request (1-based) is held until `release` is set (to crash a deliverer mid-delivery)."""

    def __init__(self, status: int = 200, hold_on: int | None = None):
        self.status = status
        self.hold_on = hold_on
        self.holding = threading.Event()
        self.release = threading.Event()
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                if len(receiver.received) == receiver.hold_on:
                    receiver.holding.set()
                    receiver.release.wait(30)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet: the test reads the deliveries, not the request log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
