"""Notifications (/api/v1/me/notifications) and webhooks (/api/v1/webhooks): read and mark
one's own notifications; subscribe a URL to them. Rules live in workflows/notifications.py and
workflows/webhooks/; a caller sees and changes only their own."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute, check_value
from alefctl.server.routes import out, transaction
from alefctl.server.routes.notifications_examples import example
from alefctl.server.state import server_state
from alefctl.workflows import notifications
from alefctl.workflows.account.pages import MAX_LIMIT, PageQuery
from alefctl.workflows.actor import Actor
from alefctl.workflows.webhooks import subscriptions

router = APIRouter(prefix="/api/v1", tags=["notifications"], route_class=EdgeRoute)
READ = acting("notification.read")
MANAGE = acting("webhook.manage")


def _next(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    url = request.url.include_query_params(cursor=cursor)
    return f"{url.path}?{url.query}"


@router.get("/me/notifications", responses=example("notifications"))
def list_notifications(request: Request, limit: int = Query(50, ge=1, le=MAX_LIMIT),
                       cursor: str | None = None, unread: bool = False,
                       since: datetime | None = Query(None, alias="from"),
                       until: datetime | None = Query(None, alias="to"),
                       actor: Actor = Depends(READ)) -> dict:
    """The caller's notifications and their role's: unread first, then newest first;
    `unread=true` lists only the unread. `unread` in the answer counts them all."""
    check_value(cursor, "cursor")
    query = PageQuery(limit, cursor, None, since, until)
    with transaction(request) as conn:
        page = notifications.list_notifications(conn, actor, query, unread_only=unread)
        count = notifications.unread_count(conn, actor)
    return {"items": out(page.items), "next": _next(request, page.next_cursor),
            "next_cursor": page.next_cursor, "unread": count}


class ReadBody(BaseModel):
    """Which notifications to mark read: `ids`, or `all: true`."""

    ids: list[str] = Field(default_factory=list, max_length=500)
    all: bool = False


@router.post("/me/notifications/read", responses=example("read"))
def mark_read(body: ReadBody, request: Request, actor: Actor = Depends(READ)) -> dict:
    """Mark notifications read (for the caller only: a role's stays unread for the others)."""
    with transaction(request) as conn:
        return out(notifications.mark_read(conn, actor, body.ids, body.all))


class WebhookBody(BaseModel):
    """Where to POST and which notification kinds (README, "Notifications and webhooks")."""

    url: str = Field(max_length=2000, description="http(s) URL of a public host")
    events: list[str] = Field(min_length=1, max_length=50,
                              description="notification kinds, or ['*'] for all")


@router.post("/webhooks", status_code=201, responses=example("webhook_created", 201))
def create_webhook(body: WebhookBody, request: Request, actor: Actor = Depends(MANAGE)) -> dict:
    """Subscribe a URL; the answer holds the signing secret, shown this once."""
    served = server_state(request)
    allow = served.settings.webhooks.allow_private_targets
    with transaction(request) as conn:
        return out(subscriptions.create_webhook(conn, actor, body.url, body.events, allow,
                                                served.cipher))


@router.get("/webhooks", responses=example("webhooks"))
def list_webhooks(request: Request, actor: Actor = Depends(MANAGE)) -> list:
    """The caller's subscriptions (active and disabled), without their secrets."""
    with transaction(request) as conn:
        return out(subscriptions.list_webhooks(conn, actor))


@router.get("/webhooks/{webhook_id}", responses=example("webhook"))
def get_webhook(webhook_id: str, request: Request, actor: Actor = Depends(MANAGE)) -> dict:
    """One of the caller's subscriptions."""
    with transaction(request) as conn:
        return out(subscriptions.get_webhook(conn, actor, webhook_id))


@router.delete("/webhooks/{webhook_id}", responses=example("webhook_deleted"))
def delete_webhook(webhook_id: str, request: Request, actor: Actor = Depends(MANAGE)) -> dict:
    """Stop a subscription; its pending deliveries are abandoned."""
    with transaction(request) as conn:
        return out(subscriptions.delete_webhook(conn, actor, webhook_id))


@router.post("/webhooks/{webhook_id}/enable", responses=example("webhook"))
def enable_webhook(webhook_id: str, request: Request, actor: Actor = Depends(MANAGE)) -> dict:
    """Turn a subscription disabled after repeated failures back on; its pending deliveries
    are retried at once, in order (the target is checked again)."""
    allow = server_state(request).settings.webhooks.allow_private_targets
    with transaction(request) as conn:
        return out(subscriptions.enable_webhook(conn, actor, webhook_id, allow))


@router.post("/webhooks/{webhook_id}/rotate-secret", responses=example("webhook_created"))
def rotate_webhook_secret(webhook_id: str, request: Request,
                          actor: Actor = Depends(MANAGE)) -> dict:
    """A new signing secret, shown this once; the old one stops signing at once."""
    with transaction(request) as conn:
        return out(subscriptions.rotate_secret(conn, actor, webhook_id,
                                               server_state(request).cipher))


@router.get("/webhooks/{webhook_id}/deliveries", responses=example("deliveries"))
def deliveries(webhook_id: str, request: Request, limit: int = Query(50, ge=1, le=MAX_LIMIT),
               cursor: str | None = None, actor: Actor = Depends(MANAGE)) -> dict:
    """The subscription's delivery log, newest first: status, attempts, last answer."""
    check_value(cursor, "cursor")
    with transaction(request) as conn:
        page = subscriptions.list_deliveries(conn, actor, webhook_id, PageQuery(limit, cursor))
    return {"items": out(page.items), "next": _next(request, page.next_cursor),
            "next_cursor": page.next_cursor}
