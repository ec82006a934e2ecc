"""LISTEN for requests from commands and the console (control.py) and hand them to the writer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from alefctl.redact import get_logger
from alefctl.workflows.trading.control import LISTEN_SQL

log = get_logger("alefctl.listener")


class TradingListener:
    """A thread with its own connection that LISTENs on the trading channel."""

    def __init__(self, db: Engine, on_request: Callable[[dict[str, Any]], None], *,
                 listen_sql: str = LISTEN_SQL, name: str = "trading-listener"):
        self.url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_request = on_request
        self.listen_sql = listen_sql  # another channel: server/notification_push.py
        self.stopping = threading.Event()
        self.listening = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start listening; returns once LISTEN is in place."""
        self.thread.start()
        self.listening.wait(timeout=10)

    def stop(self) -> None:
        """Stop within half a second."""
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(self.listen_sql)
                    self.listening.set()
                    while not self.stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._handle(note.payload)
            except Exception:  # reconnect: a lost connection must not stop the listener
                log.exception("trading listener lost its connection; reconnecting")
                self.stopping.wait(1.0)

    def _handle(self, payload: str) -> None:
        try:
            self.on_request(json.loads(payload))
        except Exception:
            log.exception("could not handle trading request %r", payload)
