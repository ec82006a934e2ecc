"""The masking rule (alefctl/redact.py): API keys, credential parameters, URL credentials and,
in logs, personal data; the log filter; where the rule is applied (config show, chain errors)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from alefctl.redact import (
    RedactingFilter,
    get_logger,
    install_log_redaction,
    mask_secrets,
    redact,
)

ROOT = Path(__file__).resolve().parents[1]
KEY = "alef_Q2xGc1Vn8kT4pWm0aZr7yE3bH5jN9dL6sF_uC-vXo1w"  # a create_api_key shape: 43 after alef_
ALCHEMY = "https://polygon-mainnet.g.alchemy.com/v2/Zx8Qm_3RtLp-9YwKc2VnBd7HsJf4GaE1"


@pytest.mark.parametrize(("text", "shown"), [
    # URL credentials: the userinfo, and path segments or query values that are keys
    (ALCHEMY, "https://polygon-mainnet.g.alchemy.com/v2/***"),
    ("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef",
     "https://mainnet.infura.io/v3/***"),
    ("https://user:pa55word@rpc.example.com:8545/", "https://***@rpc.example.com:8545/"),
    ("postgresql+psycopg://alef:hunter2@db:5432/alef", "postgresql+psycopg://***@db:5432/alef"),
    ("https://rpc.example.com/?key=abc&chain=137", "https://rpc.example.com/?key=***&chain=137"),
    ("https://rpc.example.com/eth?token=short1", "https://rpc.example.com/eth?token=***"),
    # what requests quotes of the URL, after the URL itself in the same message
    (f"connect to {ALCHEMY}: chain node unreachable (HTTPSConnectionPool(host='polygon-mainnet"
     ".g.alchemy.com', port=443): Max retries exceeded with url: /v2/Zx8Qm_3RtLp-9YwKc2VnBd7HsJf4"
     "GaE1 (Caused by NameResolutionError))",
     "connect to https://polygon-mainnet.g.alchemy.com/v2/***: chain node unreachable (HTTPSConn"
     "ectionPool(host='polygon-mainnet.g.alchemy.com', port=443): Max retries exceeded with url:"
     " /v2/*** (Caused by NameResolutionError))"),
    # API keys: a query parameter, a bearer token, a key anywhere (its public prefix kept)
    (f'127.0.0.1:5000 - "WebSocket /api/v1/ws?api_key={KEY}" [accepted]',
     '127.0.0.1:5000 - "WebSocket /api/v1/ws?api_key=***" [accepted]'),
    (f"Authorization: Bearer {KEY}", "Authorization: Bearer ***"),
    (f"key {KEY} refused", f"key {KEY[:13]}*** refused"),
    ("password=hunter2&user=ada", "password=***&user=ada"),
    # public things stay: hosts and ports, short path words, UUIDs, 0x addresses and hashes
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://polygonscan.com/tx/0x" + "ab" * 32, "https://polygonscan.com/tx/0x" + "ab" * 32),
    ("GET /api/v1/admin/tokens/0193ab12-34cd-7ef0-8123-456789abcdef/enable-secondary?status=open",
     "GET /api/v1/admin/tokens/0193ab12-34cd-7ef0-8123-456789abcdef/enable-secondary?status=open"),
    (f"key prefix {KEY[:13]}", f"key prefix {KEY[:13]}"),
])
def test_secrets_are_masked(text: str, shown: str) -> None:
    assert mask_secrets(text) == shown
    assert redact(text) == shown  # the log level masks the same, and more


@pytest.mark.parametrize(("text", "shown"), [
    ('DETAIL:  Failing row contains (0193, 0194, pending, Johanna Public, ZW, null, passport, '
     'gAAAAABn, 5432, manual).', "DETAIL:  Failing row contains (***)"),
    ("DETAIL:  Key (email)=(johanna@example.com) already exists.",
     "DETAIL:  Key (email)=(***) already exists."),
    ("[SQL: INSERT INTO kyc_applications ...]\n[parameters: {'name': 'Johanna Public', "
     "'last4': '5432'}]", "[SQL: INSERT INTO kyc_applications ...]\n[parameters: ***]"),
    ("Input should be a valid date [type=date_type, input_value='Johanna Public', input_type=str]",
     "Input should be a valid date [type=date_type, input_value=***, input_type=str]"),
    ("passport X98765432, emirates id 784-1990-1234567-1",
     "passport X••••5432, emirates id 784-1990-••••4567-1"),
    ("user johanna.public@example.com", "user j***@example.com"),
    # kept: amounts and times with decimals, UUIDs, hex, short numbers
    ("paid 1234567.89 at 2024-05-01T12:00:00.123456+00:00 for order 42",
     "paid 1234567.89 at 2024-05-01T12:00:00.123456+00:00 for order 42"),
    ("trade 0193ab12-3456-7890-8123-456789012345 tx 0x" + "12" * 32,
     "trade 0193ab12-3456-7890-8123-456789012345 tx 0x" + "12" * 32),
])
def test_logs_lose_personal_data(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_masking_twice_changes_nothing() -> None:
    text = f"{ALCHEMY} {KEY} X98765432 ada@x.io Failing row contains (a, b)"
    assert redact(redact(text)) == redact(text)


def test_a_created_key_keeps_only_its_listed_prefix(engine, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.api_keys import create_api_key

    with engine.begin() as conn:
        record, secret = create_api_key(conn, platform.admin, "admin@x.io", "t")
    assert redact(f"key={secret}") == "key=" + record.key_prefix + "***"
    assert mask_secrets(f"api_key={secret}") == "api_key=***"


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("alefctl.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_message_arguments_and_traceback() -> None:
    try:
        raise RuntimeError(f"boom at {ALCHEMY} for Failing row contains (Johanna, X98765432)")
    except RuntimeError as error:
        record = _record("lookup of %s failed: %r (%d tries)", KEY, error, 3, exc=error)
    assert RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text and "Zx8Qm" not in text and "Johanna" not in text
    assert "98765432" not in text and "(3 tries)" in text and "RuntimeError" in text
    assert record.exc_info is None  # the exception, with its unmasked text, left the record


def test_uvicorn_access_lines_keep_their_arguments() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/api/v1/ws?api_key={KEY}", "1.1", 401),
                               None)
    RedactingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                           use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /api/v1/ws?api_key=*** HTTP/1.1" 401 Unauthorized'


def test_alefctl_and_uvicorn_loggers_carry_the_filter() -> None:
    import alefctl.server.app  # noqa: F401 - the server's modules make their loggers

    install_log_redaction()
    for name in ("uvicorn.error", "uvicorn.access", "alefctl.server", "alefctl.settlement"):
        assert any(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters), name
    assert any(isinstance(f, RedactingFilter) for f in get_logger("alefctl.new").filters)


def test_uvicorn_logging_setup_keeps_the_filter() -> None:
    """`alefctl serve` builds the app (which installs the filter), then uvicorn configures its
    logging: loggers keep their filters through it."""
    import uvicorn

    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (lg.handlers[:], lg.level, lg.propagate, lg.filters[:])
             for n in names for lg in [logging.getLogger(n)]}
    try:
        install_log_redaction()
        uvicorn.Config(lambda *_: None, log_level="info", access_log=True)  # runs dictConfig
        for name in names:
            assert any(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters)
    finally:
        for name, (handlers, level, propagate, filters) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.filters[:] = handlers, filters
            logger.setLevel(level)
            logger.propagate = propagate


def test_every_alefctl_logger_comes_from_get_logger() -> None:
    """A logger made with logging.getLogger would not carry the filter."""
    found = [str(path.relative_to(ROOT)) for path in (ROOT / "alefctl").rglob("*.py")
             if re.search(r"getLogger\(\s*['\"]alefctl", path.read_text())]
    assert found == []


def test_config_show_masks_the_rpc_url_credentials(cli) -> None:  # noqa: ANN001
    url = "https://ops:pa55word@polygon-mainnet.g.alchemy.com/v2/Zx8Qm_3RtLp-9YwKc2VnBd7HsJf4GaE1"
    data = cli.json("config", "show", ALEF_CHAIN_RPC_URL=url)
    rows = {row["name"]: row for row in data["settings"]}
    assert rows["chain.rpc_url"]["value"] == "https://***@polygon-mainnet.g.alchemy.com/v2/***"
    assert "pa55word" not in json.dumps(data) and "Zx8Qm" not in json.dumps(data)
    shown = cli("config", "show", ALEF_CHAIN_RPC_URL=url)
    assert shown.exit_code == 0 and "pa55word" not in shown.stdout and "Zx8Qm" not in shown.stdout


def test_an_unreachable_node_is_named_without_its_credentials(cli) -> None:  # noqa: ANN001
    url = "http://ops:pa55word@127.0.0.1:9/v2/Zx8Qm_3RtLp-9YwKc2VnBd7HsJf4GaE1"
    result = cli("chain", "status", ALEF_CHAIN_RPC_URL=url)
    assert result.exit_code == 6, result.output
    assert "chain unavailable" in result.stderr and "127.0.0.1:9" in result.stderr
    assert "pa55word" not in result.output and "Zx8Qm" not in result.output
