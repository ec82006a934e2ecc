"""An investor's own pending fixed-price (OTC) orders: cancel one, its locked funds released."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from alefctl.errors import NotFound
from alefctl.workflows import otc, policy
from alefctl.workflows.actor import Actor


def cancel_own_otc_order(conn: Connection, actor: Actor, otc_ref: str) -> dict[str, Any]:
    """Cancel the caller's pending OTC order (someone else's is not found; one no longer
    pending is a conflict); its locked money or tokens come back."""
    policy.require(actor, "otc.cancel")
    if otc.get_otc_order(conn, otc_ref)["user_id"] != actor.user_id:
        raise NotFound(f"OTC order not found: {otc_ref}")
    return otc.reject_otc_order(conn, actor, otc_ref, None, cancel=True)
