"""A user's webhook subscriptions: create (the secret is returned once), list, delete, re-enable
after the deliverer disabled one, rotate the secret, and each one's delivery log. A user sees and
changes only their own subscriptions."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput, NotFound
from alefctl.ids import new_id
from alefctl.workflows import policy
from alefctl.workflows.account.pages import Page, PageQuery, fetch_page
from alefctl.workflows.actor import Actor
from alefctl.workflows.notifications import KINDS
from alefctl.workflows.webhooks.signing import new_secret, sealed
from alefctl.workflows.webhooks.targets import check_target

if TYPE_CHECKING:
    from alefctl.pii import PiiCipher

COLUMNS = ("id, url, events, status, consecutive_failures, disabled_reason, created_at,"
           " updated_at")
MAX_PER_USER = 10


def create_webhook(conn: Connection, actor: Actor, url: str, events: list[str],
                   allow_private: bool, cipher: PiiCipher) -> dict[str, Any]:
    """Subscribe `url` to notification kinds (or '*'); the result holds the secret, which is
    never shown again (it is stored sealed)."""
    policy.require(actor, "webhook.manage")
    target = check_target(url, allow_private)
    wanted = sorted(set(events))
    unknown = [kind for kind in wanted if kind != "*" and kind not in KINDS]
    if not wanted or unknown:
        raise InvalidInput(f"unknown event kinds: {', '.join(unknown) or 'none given'}"
                           f" (known: *, {', '.join(KINDS)})", field="events")
    count = conn.execute(text("SELECT count(*) FROM webhooks WHERE user_id = :u AND status"
                              " <> 'deleted'"), {"u": actor.user_id}).scalar_one()
    if count >= MAX_PER_USER:
        raise InvalidInput(f"at most {MAX_PER_USER} webhooks per user", field="url")
    webhook_id, secret = new_id(), new_secret()
    conn.execute(text("INSERT INTO webhooks (id, user_id, url, events, secret) VALUES"
                      " (:id, :u, :url, :events, :secret)"),
                 {"id": webhook_id, "u": actor.user_id, "url": target, "events": wanted,
                  "secret": sealed(cipher, secret)})
    actor.audit(conn, "webhook.create", "webhook", webhook_id, after={"url": target,
                                                                      "events": wanted})
    return {**get_webhook(conn, actor, str(webhook_id)), "secret": secret}


def _own(conn: Connection, actor: Actor, webhook_id: str) -> uuid.UUID:
    try:
        wanted = uuid.UUID(webhook_id)
    except ValueError:
        raise NotFound(f"no webhook {webhook_id}") from None
    found = conn.execute(text("SELECT id FROM webhooks WHERE id = :id AND user_id = :u AND"
                              " status <> 'deleted'"), {"id": wanted, "u": actor.user_id})
    if found.scalar() is None:
        raise NotFound(f"no webhook {webhook_id}")
    return wanted


def get_webhook(conn: Connection, actor: Actor, webhook_id: str) -> dict[str, Any]:
    """One of the actor's subscriptions (without its secret)."""
    policy.require(actor, "webhook.manage")
    found = _own(conn, actor, webhook_id)
    row = conn.execute(text(f"SELECT {COLUMNS} FROM webhooks WHERE id = :id"), {"id": found})
    return dict(row.one()._mapping)


def list_webhooks(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The actor's subscriptions, oldest first."""
    policy.require(actor, "webhook.manage")
    rows = conn.execute(text(f"SELECT {COLUMNS} FROM webhooks WHERE user_id = :u AND status"
                             " <> 'deleted' ORDER BY created_at, id"), {"u": actor.user_id})
    return [dict(row._mapping) for row in rows]


def delete_webhook(conn: Connection, actor: Actor, webhook_id: str) -> dict[str, Any]:
    """Stop a subscription; its pending deliveries are abandoned, its log kept."""
    policy.require(actor, "webhook.manage")
    found = _own(conn, actor, webhook_id)
    conn.execute(text("UPDATE webhooks SET status = 'deleted', updated_at = now() WHERE id = :id"),
                 {"id": found})
    conn.execute(text("UPDATE webhook_deliveries SET status = 'abandoned' WHERE webhook_id = :id"
                      " AND status = 'pending'"), {"id": found})
    actor.audit(conn, "webhook.delete", "webhook", found)
    return {"id": found, "status": "deleted"}


def enable_webhook(conn: Connection, actor: Actor, webhook_id: str,
                   allow_private: bool) -> dict[str, Any]:
    """Turn a disabled subscription back on: its failure count starts again from zero and its
    pending deliveries are due at once, in order. The target is checked again (it may be why
    deliveries failed). Enabling an active subscription changes nothing. Notifications written
    while it was disabled were not queued for it."""
    policy.require(actor, "webhook.manage")
    found = _own(conn, actor, webhook_id)
    row = conn.execute(text("SELECT url, status FROM webhooks WHERE id = :id FOR UPDATE"),
                       {"id": found}).one()
    if row.status == "disabled":
        check_target(row.url, allow_private)
        conn.execute(text("UPDATE webhooks SET status = 'active', consecutive_failures = 0,"
                          " disabled_reason = NULL, updated_at = now() WHERE id = :id"),
                     {"id": found})
        conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE"
                          " webhook_id = :id AND status = 'pending'"), {"id": found})
        actor.audit(conn, "webhook.enable", "webhook", found)
    return get_webhook(conn, actor, str(found))


def rotate_secret(conn: Connection, actor: Actor, webhook_id: str,
                  cipher: PiiCipher) -> dict[str, Any]:
    """Give a subscription a new signing secret, returned this once; deliveries from now on
    (including retries of pending ones) are signed with it, and the old one stops working."""
    policy.require(actor, "webhook.manage")
    found = _own(conn, actor, webhook_id)
    secret = new_secret()
    conn.execute(text("UPDATE webhooks SET secret = :secret, updated_at = now() WHERE id = :id"),
                 {"secret": sealed(cipher, secret), "id": found})
    actor.audit(conn, "webhook.rotate_secret", "webhook", found)
    return {**get_webhook(conn, actor, str(found)), "secret": secret}


DELIVERIES_SQL = (
    "SELECT d.id, d.seq, d.event, d.notification_id, d.status, d.attempts, d.last_attempt_at, d.next_attempt_at,"
    " d.last_status, d.last_error, d.delivered_at, d.created_at FROM webhook_deliveries d"
    " JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN tokens t ON false"
    " WHERE w.user_id = :u AND d.webhook_id = :webhook")


def list_deliveries(conn: Connection, actor: Actor, webhook_id: str, query: PageQuery) -> Page:
    """A page of a subscription's delivery log, newest first."""
    policy.require(actor, "webhook.manage")
    found = _own(conn, actor, webhook_id)
    # `found` is a parsed UUID, so inlining it is safe (fetch_page binds only its own names)
    return fetch_page(conn, DELIVERIES_SQL.replace(":webhook", f"'{found}'"), "d",
                      actor.user_id, query)
