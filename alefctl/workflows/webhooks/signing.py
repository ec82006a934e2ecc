"""How a delivery is signed, and how a receiver verifies it (the recipe in README).

The body is JSON and names the time it was sent (`timestamp`, Unix seconds), which is also the
X-Alef-Timestamp header; X-Alef-Signature is `sha256=` + the hex HMAC-SHA256 of the raw body
with the subscription's secret. A receiver recomputes the HMAC over the bytes it received,
compares in constant time, and refuses a timestamp older than a few minutes (a replay).

The platform keeps each secret sealed at rest with security.encryption_key (the key of the KYC
documents), so a copy of the database alone cannot forge deliveries; `unsealed` also reads the
plain secrets stored before sealing began (they start with SECRET_PREFIX)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alefctl.pii import PiiCipher

SIGNATURE_HEADER = "X-Alef-Signature"
TIMESTAMP_HEADER = "X-Alef-Timestamp"
DELIVERY_HEADER = "X-Alef-Delivery"
TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret, as the subscriber sees it."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sealed(cipher: PiiCipher, secret: str) -> str:
    """The form of a secret stored in webhooks.secret."""
    return cipher.encrypt(secret)


def unsealed(cipher: PiiCipher, stored: str) -> str:
    """The secret to sign with, from its stored form (sealed, or plain from before sealing)."""
    return stored if stored.startswith(SECRET_PREFIX) else cipher.decrypt(stored)


def signature(secret: str, body: bytes) -> str:
    """The X-Alef-Signature value of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_request(secret: str, payload: dict[str, Any], now: float | None = None
                   ) -> tuple[bytes, dict[str, str]]:
    """The raw body (the payload with its timestamp) and the headers of one attempt."""
    stamp = int(now if now is not None else time.time())
    body = json.dumps({**payload, "timestamp": stamp}, separators=(",", ":")).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body),
                  TIMESTAMP_HEADER: str(stamp), DELIVERY_HEADER: str(payload["id"])}


def verify(secret: str, body: bytes, header_signature: str, header_timestamp: str,
           now: float | None = None) -> bool:
    """The receiver's check: the signature matches the raw body, the body's timestamp is the
    header's, and it is recent."""
    if not hmac.compare_digest(signature(secret, body), header_signature):
        return False
    stamp = json.loads(body).get("timestamp")
    current = now if now is not None else time.time()
    return str(stamp) == header_timestamp and abs(current - int(stamp)) <= TOLERANCE_S
