"""The one masking rule: what never reaches a log, an error text or a stored error.

Two levels (README, "Secrets and personal data"):

`mask_secrets(text)`, wherever text leaves alefctl (logs, error messages, stored errors such as
trades.settlement_error, `config show`, `chain status`, the demo's output):
- an alefctl API key (`alef_` + 43 URL-safe characters) keeps its public prefix, the 13
  characters key lists show, and loses the rest: `alef_AbCdEfGh***`;
- the value of a credential parameter (`api_key=`, `apikey=`, `access_token=`, `auth_token=`,
  `client_secret=`, `secret=`, `password=`) and a `Bearer` token: `***`;
- in a URL (`scheme://...`, and the path that requests quotes as `url: /...`): the userinfo
  (`https://user:pass@host` becomes `https://***@host`), the value of a query parameter named
  like a credential (the names above, `key`, `token`, `sig`, `signature`, `auth`), and every path
  segment or query value that looks like a provider key: 32 or more characters of letters,
  digits, `-` and `_`, or 16 or more that mix letters and digits (Alchemy's `/v2/KEY`, Infura's
  `/v3/ID`, QuickNode, Ankr). UUIDs and 0x hex (addresses, hashes) are public and kept.

`redact(text)`, for logs and unexpected-error texts: mask_secrets, then personal data:
- what the database echoes of a row or a key (`Failing row contains (...)`, `Key (...)=(...)`),
  SQLAlchemy's `[parameters: ...]` and pydantic's `input_value=...`: the values become `***`;
- document numbers: a run of 6 or more digits becomes `••••` and its last 4, as lists show
  them (decimals such as amounts and times, UUIDs and hex are left alone);
- e-mail addresses keep their first character and their domain: `a***@example.com`.
Full names cannot be told from other words in free text; they reach an error only inside a
database row or a statement's parameters, which are masked above (and alefctl's engine does not
put parameters into its errors at all: hide_parameters).

`RedactingFilter` applies redact to a log record (message, arguments, traceback). alefctl's
loggers come from `get_logger`, which adds it; `install_log_redaction` adds it to uvicorn's
loggers (the server does, in create_app).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal

MASK = "***"
# An alefctl key: "alef_" and 43 URL-safe characters; the first 13 characters are public (key
# lists show them: workflows/api_keys.py, PREFIX_LENGTH), anything longer is cut back to them.
_ALEF_KEY = re.compile(r"(?<![A-Za-z0-9_-])(alef_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_CREDENTIAL_NAMES = (r"api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token"
                     r"|client[_-]?secret|secret|password|passwd")
_CREDENTIAL_PARAM = re.compile(rf"(?i)(?<![A-Za-z0-9_])((?:{_CREDENTIAL_NAMES})=)[^&\s'\"]+")
_QUERY_CREDENTIAL = re.compile(rf"(?i)(?:{_CREDENTIAL_NAMES}|key|token|sig|signature|auth)")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}|\\^`]+")
_REQUESTS_PATH = re.compile(r"(\burl: )(/[^\s'\"()]*)")
_URL_TRAILER = ".,:;!?"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PUBLIC = re.compile(rf"{_UUID}|0[xX][0-9a-fA-F]+")

_FAILING_ROW = re.compile(r"(Failing row contains \().*", re.M)
_KEY_DETAIL = re.compile(r"(Key \([^)\n]*\)=\()[^\n]*\)", re.M)
_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]", re.M)
_INPUT_VALUE = re.compile(r"(input_value=).*?(?=, input_type=|\]|$)", re.M)
_DIGITS = re.compile(rf"(?P<keep>{_UUID}|0[xX][0-9a-fA-F]+|[0-9a-fA-F]{{32,}}|\d+\.\d+)"
                     r"|(?<!\d)(?P<digits>\d{6,})(?!\d)")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@"
                    r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")


def mask_secrets(text: str) -> str:
    """The text with API keys, credential parameters and URL credentials masked."""
    text = _URL.sub(_masked_url, text)
    text = _REQUESTS_PATH.sub(lambda m: m.group(1) + _masked_path(m.group(2)), text)
    text = _CREDENTIAL_PARAM.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _ALEF_KEY.sub(rf"\1{MASK}", text)


def redact(text: str) -> str:
    """The text fit for a log: secrets masked (mask_secrets), and personal data."""
    text = mask_secrets(text)
    text = _FAILING_ROW.sub(rf"\1{MASK})", text)
    text = _KEY_DETAIL.sub(rf"\1{MASK})", text)
    text = _PARAMETERS.sub(f"[parameters: {MASK}]", text)
    text = _INPUT_VALUE.sub(rf"\1{MASK}", text)
    text = _DIGITS.sub(_masked_digits, text)
    return _EMAIL.sub(rf"\1{MASK}@\2", text)


def _masked_url(match: re.Match[str]) -> str:
    url = match.group(0)
    kept = len(url.rstrip(_URL_TRAILER))
    url, trailer = url[:kept], url[kept:]
    scheme, _, rest = url.partition("://")
    end = min([rest.index(c) for c in "/?#" if c in rest], default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{MASK}@{authority.rpartition('@')[2]}"
    return f"{scheme}://{authority}{_masked_path(tail)}{trailer}"


def _masked_path(tail: str) -> str:
    """A URL's path, query and fragment with key-like segments and credential values masked."""
    path, hash_mark, fragment = tail.partition("#")
    path, question_mark, query = path.partition("?")
    segments = [MASK if _key_like(segment) else segment for segment in path.split("/")]
    pairs = []
    for pair in query.split("&") if question_mark else []:
        name, equals, value = pair.partition("=")
        if equals and (_QUERY_CREDENTIAL.fullmatch(name) or _key_like(value)):
            value = MASK
        elif not equals and _key_like(name):
            name = MASK
        pairs.append(name + equals + value)
    return "/".join(segments) + question_mark + "&".join(pairs) + hash_mark + fragment


def _key_like(segment: str) -> bool:
    """A provider key in a URL: 32+ URL-safe characters, or 16+ mixing letters and digits."""
    if not _TOKEN_CHARS.fullmatch(segment) or _PUBLIC.fullmatch(segment):
        return False
    if len(segment) >= 32:
        return True
    return (len(segment) >= 16 and any(c.isdigit() for c in segment)
            and any(c.isalpha() for c in segment))


def _masked_digits(match: re.Match[str]) -> str:
    digits = match.group("digits")
    return match.group(0) if digits is None else "••••" + digits[-4:]


class _Redacted:
    """A log argument shown through redact, as %s (str) or %r (repr)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return redact(str(self.value))

    def __repr__(self) -> str:
        return redact(repr(self.value))


_PLAIN = (int, float, Decimal, type(None))  # numbers keep their %d, %f and their value
_TRACEBACKS = logging.Formatter()


def _redacted_argument(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    return value if isinstance(value, _PLAIN) else _Redacted(value)


class RedactingFilter(logging.Filter):
    """Masks a record's message, arguments and traceback with redact; drops nothing.

    The arguments are masked one by one, so a formatter that reads them (uvicorn's access log
    does) still finds them; a traceback is formatted here, masked, and kept as the record's
    exc_text, and the exception itself leaves the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _redacted_argument(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted_argument(value) for value in record.args)
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()
# uvicorn logs each WebSocket handshake with its path and query string (`?api_key=`) on
# uvicorn.error, and each request on uvicorn.access; asyncio logs tasks that failed.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "asyncio")


def _add_filter(logger: logging.Logger) -> None:
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(_FILTER)


def get_logger(name: str) -> logging.Logger:
    """The logger of an alefctl module, its records redacted (every alefctl logger comes from
    here)."""
    logger = logging.getLogger(name)
    _add_filter(logger)
    return logger


def install_log_redaction() -> None:
    """Redact the records of uvicorn's loggers and of every alefctl logger (idempotent).

    A filter belongs to its logger (records of child loggers do not pass it), and uvicorn's
    logging setup replaces handlers but keeps loggers' filters, so loggers carry it."""
    names = [*SERVER_LOGGERS, *(name for name in logging.root.manager.loggerDict
                                if name == "alefctl" or name.startswith("alefctl."))]
    for name in names:
        _add_filter(logging.getLogger(name))
