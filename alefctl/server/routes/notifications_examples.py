"""Example answers of the notification and webhook routes for the OpenAPI document."""

from __future__ import annotations

from typing import Any

AT = "2026-12-01T09:30:00Z"
NOTE = "0192f0a1-7c2e-7b3a-9d4e-00000000a001"
HOOK = "0192f0a1-7c2e-7b3a-9d4e-00000000b001"
CURSOR = "MHwyMDI2LTEyLTAxVDA5OjMwOjAwKzAwOjAwfDAxOTI"
WEBHOOK = {"id": HOOK, "url": "https://hooks.example.com/alef", "events": ["order.filled",
           "trade.settled"], "status": "active", "consecutive_failures": 0,
           "disabled_reason": None, "created_at": AT, "updated_at": AT}
ANSWERS: dict[str, Any] = {
    "notifications": {"items": [{
        "id": NOTE, "kind": "order.filled", "subject": "Your buy order of 10 DATE was filled",
        "object_type": "order", "object_id": "0192f0a1-7c2e-7b3a-9d4e-00000000c001",
        "payload": {"symbol": "DATE", "side": "buy", "quantity": 10, "filled_quantity": 10,
                    "cancel_reason": None},
        "audience": None, "created_at": AT, "read_at": None, "read": False}],
        "next": f"/api/v1/me/notifications?limit=1&cursor={CURSOR}", "next_cursor": CURSOR,
        "unread": 3},
    "read": {"marked": 1, "unread": 2},
    "webhook_created": WEBHOOK | {"secret": "whsec_3Jw0yq1x8m0b6aZrKQpV9c2T1nUe5sHfLgXoPdCk4Ai"},
    "webhook": WEBHOOK,
    "webhooks": [WEBHOOK],
    "webhook_deleted": {"id": HOOK, "status": "deleted"},
    "deliveries": {"items": [{
        "id": "0192f0a1-7c2e-7b3a-9d4e-00000000d001", "seq": 42, "event": "order.filled",
        "notification_id": NOTE, "status": "delivered", "attempts": 2,
        "last_attempt_at": AT, "next_attempt_at": AT, "last_status": 200, "last_error": None, "delivered_at": AT,
        "created_at": AT}], "next": None, "next_cursor": None},
}


def example(name: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route whose answer (200, or `status`) is ANSWERS[name]."""
    return {status: {"description": "OK", "content": {
        "application/json": {"example": ANSWERS[name]}}}}
