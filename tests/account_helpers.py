"""Helpers of the account API tests: a signed wallet proof, paging through a list over HTTP."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from alefctl.workflows.account.wallet import proof_message


def wallet_body(user_id: str, account, *, nonce: str | None = None,  # noqa: ANN001
                age_s: int = 0, address: str | None = None) -> dict[str, str]:
    """The PUT /api/v1/me/wallet body, signed (EIP-191) with account's key."""
    from eth_account.messages import encode_defunct

    issued_at = (datetime.now(UTC) - timedelta(seconds=age_s)).replace(microsecond=0)
    nonce = nonce or secrets.token_hex(8)
    address = address or account.address
    message = proof_message(user_id, address, nonce, issued_at)
    signature = account.sign_message(encode_defunct(text=message)).signature
    return {"address": address, "nonce": nonce, "issued_at": issued_at.isoformat(),
            "signature": "0x" + bytes(signature).hex()}


def all_pages(call, path: str, limit: int = 2) -> list[dict]:  # noqa: ANN001
    """Every item of a list, following its next links; asserts each page's size."""
    items: list[dict] = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    while url:
        response = call("GET", url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        assert (page["next"] is None) == (page["next_cursor"] is None)
        if page["next"]:
            assert len(page["items"]) == limit
        items += page["items"]
        url = page["next"]
    return items
