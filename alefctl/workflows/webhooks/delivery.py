"""The webhook deliverer: drains the outbox (webhook_deliveries) that the notifications trigger
fills in the notification's own transaction (migration 0020).

One subscription is served by one runner at a time (its row is locked FOR UPDATE SKIP LOCKED for
the attempt), and only its oldest pending delivery is attempted, so deliveries arrive in order.
The attempt's outcome is written in the same transaction as the lock: a crash mid-attempt rolls
back to 'pending' and the delivery is sent again (at least once; receivers dedupe on the
X-Alef-Delivery id). A failure waits backoff_base_s * 2^(attempts-1) (at most backoff_max_s)
before the next attempt; after max_failures failures in a row the subscription is disabled.
A deactivated user's subscriptions are not served (their deliveries wait for reactivation) and
get nothing new (migration 0024).
`alefctl notification deliver-webhooks` (cron) and the server's loop run this same function."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import requests
from sqlalchemy import Connection, text

from alefctl.errors import AlefError, InvalidInput
from alefctl.jsonfmt import to_jsonable
from alefctl.workflows.webhooks.signing import signed_request, unsealed
from alefctl.workflows.webhooks.targets import check_target

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.pii import PiiCipher
    from alefctl.settings import WebhookSettings

HEAD_SQL = (
    "SELECT w.id AS webhook_id, w.url, w.secret, w.consecutive_failures, d.id, d.seq, d.event,"
    " d.attempts, n.id AS notification_id, n.kind, n.subject, n.object_type, n.object_id,"
    " n.payload, n.created_at FROM webhooks w JOIN users u ON u.id = w.user_id AND u.is_activated"
    " JOIN LATERAL (SELECT * FROM webhook_deliveries d WHERE d.webhook_id = w.id"
    " AND d.status = 'pending' ORDER BY d.seq LIMIT 1) d ON true"
    " JOIN notifications n ON n.id = d.notification_id"
    " WHERE w.status = 'active' AND d.next_attempt_at <= now() AND w.id <> ALL(:skip)"
    " ORDER BY d.seq LIMIT 1 FOR UPDATE OF w SKIP LOCKED")


@dataclass
class DeliveryReport:
    """What one drain did."""

    delivered: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # secrets this key cannot unseal

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"delivered": self.delivered, "failed": self.failed, "disabled": self.disabled,
                "unreadable_secrets": self.unreadable}

    def problems(self) -> list[str]:
        """What an operator must look at, one line each."""
        return [*(f"webhook {w} disabled after repeated failures" for w in self.disabled),
                *(f"webhook {w}: its secret cannot be unsealed with this security.encryption_key"
                  " (every deliverer must share the server's key); nothing was sent or counted"
                  for w in self.unreadable)]


def _payload(head: dict[str, Any]) -> dict[str, Any]:
    return to_jsonable({"id": head["id"], "event": head["event"], "notification": {
        "id": head["notification_id"], "kind": head["kind"], "subject": head["subject"],
        "object_type": head["object_type"], "object_id": head["object_id"],
        "payload": head["payload"], "created_at": head["created_at"]}})


def _attempt(head: dict[str, Any], secret: str,
             settings: WebhookSettings) -> tuple[int | None, str | None]:
    """POST one delivery: (HTTP status, error text or None when delivered)."""
    try:
        check_target(head["url"], settings.allow_private_targets)
        body, headers = signed_request(secret, _payload(head))
        answer = requests.post(head["url"], data=body, headers=headers,
                               timeout=settings.timeout_s, allow_redirects=False)
    except InvalidInput as exc:  # a private target
        return None, str(exc)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"HTTP {answer.status_code}"


def _record(conn: Connection, head: dict[str, Any], status: int | None, error: str | None,
            settings: WebhookSettings, report: DeliveryReport) -> None:
    if error is None:
        conn.execute(text("UPDATE webhook_deliveries SET status = 'delivered', attempts ="
                          " attempts + 1, last_attempt_at = now(), last_status = :s,"
                          " last_error = NULL, delivered_at = now() WHERE id = :id"),
                     {"s": status, "id": head["id"]})
        conn.execute(text("UPDATE webhooks SET consecutive_failures = 0 WHERE id = :w"),
                     {"w": head["webhook_id"]})
        report.delivered += 1
        return
    wait = min(settings.backoff_base_s * 2 ** head["attempts"], settings.backoff_max_s)
    conn.execute(text("UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = :s,"
                      " last_attempt_at = now(),"
                      " last_error = :e, next_attempt_at = now() + :wait WHERE id = :id"),
                 {"s": status, "e": error, "wait": timedelta(seconds=wait), "id": head["id"]})
    failures = head["consecutive_failures"] + 1
    disable = failures >= settings.max_failures
    conn.execute(text("UPDATE webhooks SET consecutive_failures = :f, updated_at = now(),"
                      " status = CASE WHEN :off THEN 'disabled' ELSE status END,"
                      " disabled_reason = CASE WHEN :off THEN :why ELSE disabled_reason END"
                      " WHERE id = :w"),
                 {"f": failures, "off": disable, "w": head["webhook_id"],
                  "why": f"{failures} failed attempts in a row; last: {error}"})
    report.failed += 1
    if disable:
        report.disabled.append(str(head["webhook_id"]))


def deliver_due(db: Engine, settings: WebhookSettings, cipher: PiiCipher, *, limit: int = 500,
                stopping: Callable[[], bool] = lambda: False) -> DeliveryReport:
    """Attempt due deliveries, one transaction each, until none is due (or `limit`). A
    subscription whose secret this deliverer cannot unseal (another key) is skipped, its
    deliveries left as they were and named in the report: the deliverer's fault, not the
    receiver's, so it never counts towards disabling the subscription."""
    report = DeliveryReport()
    skip: list[uuid.UUID] = []
    for _ in range(limit):
        if stopping():
            break
        with db.begin() as conn:
            row = conn.execute(text(HEAD_SQL), {"skip": skip}).first()
            if row is None:
                break
            head = dict(row._mapping)
            try:
                secret = unsealed(cipher, head["secret"])
            except AlefError:
                skip.append(head["webhook_id"])
                report.unreadable.append(str(head["webhook_id"]))
                continue
            status, error = _attempt(head, secret, settings)
            _record(conn, head, status, error, settings, report)
    return report


def has_due(conn: Connection) -> bool:
    """Whether any active subscription has a delivery due (cheap: the partial index)."""
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id ="
        " d.webhook_id JOIN users u ON u.id = w.user_id AND u.is_activated"
        " WHERE d.status = 'pending' AND w.status = 'active'"
        " AND d.next_attempt_at <= now())")).scalar_one())
