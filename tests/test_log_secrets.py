"""No API key, personal data or URL credential in what the server logs, after a run that
exercises errors: the server under uvicorn as `alefctl serve` runs it (info level, here with the
access log on), a bad and a good key in the WebSocket's and an HTTP route's query string, a KYC
submission the database refuses (an unexpected error: 500, logged with its traceback), and a
deployment whose chain node, given with credentials in its URL, cannot be reached. Every log
record and everything written to stdout and stderr is searched. Stored errors too: a settlement
error row when the node is unreachable."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from settlement_helpers import minted_token, trade
from sqlalchemy import text

import chain
from alefctl.server import create_app
from alefctl.settings import load_settings
from alefctl.workflows.api_keys import create_api_key
from alefctl.workflows.settlement.runner import run_settlement

FULL_NAME = "Johanna Quintessa Public"
DOCUMENT = "X98765432"
PASSWORD = "pw-" + secrets.token_hex(6)
PROVIDER_KEY = secrets.token_urlsafe(24)  # 32 characters, like an Alchemy key
NODE = f"https://ops:{PASSWORD}@127.0.0.1:9/v2/{PROVIDER_KEY}"  # nothing listens on port 9
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@contextmanager
def _uvicorn(app) -> Iterator[str]:  # noqa: ANN001
    """The app under uvicorn in a thread, configured as `alefctl serve` configures it; uvicorn's
    loggers are put back as they were afterwards."""
    import uvicorn

    saved = {name: (logger.handlers[:], logger.level, logger.propagate, logger.filters[:])
             for name in UVICORN_LOGGERS for logger in [logging.getLogger(name)]}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info",
                                           access_log=True))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        for name, (handlers, level, propagate, filters) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.filters[:] = handlers, filters
            logger.setLevel(level)
            logger.propagate = propagate


def _websocket(host: str, key: str) -> int | None:
    """Connect with ?api_key=, subscribe; the close code (None while the server kept it open)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(f"ws://{host}/api/v1/ws?api_key={key}", open_timeout=30) as socket_:
        try:
            socket_.send('{"op": "subscribe", "channel": "orders"}')
            socket_.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    return None


def _deployment(client: httpx.Client, admin_key: str, symbol: str) -> dict:
    path = f"/api/v1/admin/tokens/{symbol}/deploy"
    headers = {"Authorization": f"Bearer {admin_key}"}
    assert client.post(path, headers=headers).status_code == 202
    deadline = time.monotonic() + 60
    while True:
        state = client.get(path, headers=headers).json()
        if state["status"] in ("failed", "deployed") or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_server_logs_carry_no_key_personal_data_or_url_credentials(  # noqa: ANN001
        engine, db_url, tmp_path, platform, caplog, capfd) -> None:
    platform.draft_token("LOGS")
    platform.person("jo")
    with engine.begin() as conn:
        investor_key = create_api_key(conn, platform.admin, "jo@x.io", "logs")[1]
        admin_key = create_api_key(conn, platform.admin, "admin@x.io", "logs")[1]
        # An error the KYC workflow does not foresee: the table refuses this applicant's row.
        conn.execute(text("ALTER TABLE kyc_applications ADD CONSTRAINT held_for_review"
                          f" CHECK (full_name <> '{FULL_NAME}')"))
    bad_key = "alef_" + secrets.token_urlsafe(32)
    # The server connects itself (as `alefctl serve` does); the chain is a node with credentials.
    settings = load_settings(home=tmp_path / "home", database={"url": db_url},
                             chain={"rpc_url": NODE},
                             server={"settlement_loop": False, "writer_process": False})
    caplog.set_level(logging.INFO)  # every logger, at the level `alefctl serve` logs at
    for client_logger in ("httpx", "httpcore", "websockets.client"):  # the test's own clients
        caplog.set_level(logging.WARNING, logger=client_logger)

    with _uvicorn(create_app(settings)) as host, \
            httpx.Client(base_url=f"http://{host}", timeout=30) as client:
        assert _websocket(host, bad_key) == 4001
        assert _websocket(host, investor_key) is None
        assert client.get(f"/api/v1/tokens?api_key={investor_key}").status_code == 401
        kyc = client.post("/api/v1/kyc", headers={"Authorization": f"Bearer {investor_key}"},
                          json={"full_name": FULL_NAME, "nationality": "ZW",
                                "document_type": "passport", "document_number": DOCUMENT})
        assert kyc.status_code == 500 and FULL_NAME not in kyc.text
        failed = _deployment(client, admin_key, "LOGS")
    assert failed["status"] == "failed", failed
    assert failed["error"].startswith("chain unavailable") and "127.0.0.1:9" in failed["error"]

    captured = capfd.readouterr()
    logged = "\n".join((caplog.text, captured.out, captured.err))
    leaks = {"bad key": bad_key, "investor key": investor_key, "admin key": admin_key,
             "key's secret part": investor_key[13:], "full name": FULL_NAME,
             "name": "Quintessa", "document number": DOCUMENT, "document digits": "98765432",
             "URL password": PASSWORD, "provider key": PROVIDER_KEY}
    assert [what for what, secret in leaks.items() if secret in logged] == []
    # What happened was logged: the handshakes and requests with their query strings masked,
    # the unexpected error with its traceback, the deployment's failure.
    assert 'WebSocket /api/v1/ws?api_key=***" [accepted]' in logged
    assert "GET /api/v1/tokens?api_key=*** HTTP/1.1" in logged
    assert "unexpected error" in logged and "IntegrityError" in logged
    assert "Failing row contains (***)" in logged
    assert "the chain could not be opened: chain unavailable" in logged
    assert PASSWORD not in failed["error"] and PROVIDER_KEY not in failed["error"]


def test_a_settlement_error_row_names_the_node_without_credentials(  # noqa: ANN001
        platform, chain_client, monkeypatch) -> None:
    minted_token(platform, chain_client, "SEC", {"alice": 100}, ("carol",))
    trade_id = trade(platform, "alice", "carol", "SEC", 10)
    with pytest.raises(chain.ChainUnavailable) as unreachable:  # the chain package's own text
        chain.connect(rpc_url=NODE, request_timeout=5)
    assert PROVIDER_KEY in str(unreachable.value)

    def node_down(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise unreachable.value

    monkeypatch.setattr(chain_client, "frozen_tokens", node_down)
    report = run_settlement(platform.engine, chain_client)
    assert report.requeued == 1, report
    with platform.engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT settlement_error FROM trades WHERE id = :t UNION ALL"
            " SELECT error FROM trade_settlement_history WHERE trade_id = :t AND error IS NOT NULL"),
            {"t": trade_id}).scalars().all()
    assert len(stored) == 2 and all("chain node unreachable" in error for error in stored)
    assert all("127.0.0.1:9/v2/***" in error for error in stored), stored
    assert not [error for error in stored if PROVIDER_KEY in error or PASSWORD in error]
