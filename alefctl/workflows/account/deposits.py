"""How an investor funds their account: where to send USD or USDC, and the reference that tells
the platform the money is theirs.

The reference is the investor's own (ALEF- and the last 12 hex digits of their user id, the
console's tail), the same on every transfer. An admin who sees it on an incoming wire or
transfer credits that investor with `alefctl wallet deposit --user ALEF-...` (or the admin
deposit route): the id resolver (workflows/refs.py) takes the reference as a user reference.
Nothing is credited by this module: money arrives only through an admin's deposit.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from alefctl.workflows import policy
from alefctl.workflows.actor import Actor

if TYPE_CHECKING:
    from alefctl.settings import DepositSettings

PREFIX = "ALEF-"
REFERENCE = re.compile(r"^ALEF-[0-9A-F]{12}$", re.IGNORECASE)


def deposit_reference(user_id: uuid.UUID) -> str:
    """The investor's deposit reference."""
    return PREFIX + user_id.hex[-12:].upper()


def deposit_instructions(actor: Actor, settings: DepositSettings) -> dict[str, Any]:
    """Where the caller sends USD and USDC, with their reference."""
    policy.require(actor, "account.read")
    reference = deposit_reference(actor.user_id)
    unset = "not published here: ask the platform's operations team"
    return {
        "reference": reference,
        "usd": {"bank_details": settings.bank_details or unset,
                "note": f"put {reference} in the transfer's reference or message"},
        "usdc": {"address": settings.usdc_address, "network": settings.usdc_network,
                 "note": f"tell the platform the transaction hash and {reference}"
                 if settings.usdc_address else unset},
        "credited_by": "an admin, when the money has arrived (balances and notifications show it)",
    }
