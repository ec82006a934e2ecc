"""An investor registers their own wallet address, proving control with a signed message.

The message (EIP-191 personal_sign, text below) names the user id, the checksummed address, a
nonce the investor picks and the time they signed it. It is accepted once: within
`account.wallet_proof_max_age_s` of its time, and a nonce only once per user (wallet_proofs).
A wallet that holds tokens, or has a mint or settlement still to reach the chain, is not
changed here: moving tokens to a new wallet is the admin recovery workflow. The new address is
registered in a token's identity registry when tokens first go to it (minting and settlement
register unregistered wallets first), so there is no chain job to run here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from alefctl.errors import Conflict, InvalidInput, PermissionDenied
from alefctl.ids import new_id
from alefctl.workflows import policy, validation
from alefctl.workflows.account.overview import profile
from alefctl.workflows.actor import Actor
from alefctl.workflows.users import get_user

MESSAGE = ("alefctl wallet registration\nuser: {user_id}\nwallet: {address}\nnonce: {nonce}\n"
           "issued at: {issued_at}")
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FUTURE_SKEW = timedelta(seconds=60)  # a signer's clock a little ahead is tolerated
_HOLDS_TOKENS = text(
    "SELECT EXISTS (SELECT FROM wallets WHERE user_id = :u AND balance > 0)"
    " OR EXISTS (SELECT FROM trades WHERE (buyer_id = :u OR seller_id = :u)"
    " AND settlement_status <> 'settled')"
    " OR EXISTS (SELECT FROM token_allocations WHERE user_id = :u AND status = 'confirmed'"
    " AND on_chain_status <> 'minted')"
    " OR EXISTS (SELECT FROM dividend_payments WHERE user_id = :u AND token_quantity > 0"
    " AND on_chain_status IS DISTINCT FROM 'minted')")


@dataclass(frozen=True)
class WalletProof:
    """A wallet address and the signed message proving its owner wants it registered."""

    address: str
    nonce: str
    issued_at: datetime
    signature: str


def proof_message(user_id: object, address: str, nonce: str, issued_at: datetime) -> str:
    """The exact text to sign (issued_at as ISO-8601 UTC with a Z, whole seconds)."""
    stamp = issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return MESSAGE.format(user_id=user_id, address=address, nonce=nonce, issued_at=stamp)


def register_wallet(conn: Connection, actor: Actor, proof: WalletProof, *,
                    max_age_s: int) -> dict[str, Any]:
    """Set the caller's wallet address after checking the proof; answers the profile."""
    policy.require(actor, "account.wallet")
    address = validation.evm_address(proof.address, field="address")
    _check_fresh(proof, max_age_s)
    signer = _signer(proof, proof_message(actor.user_id, address, proof.nonce, proof.issued_at))
    if signer != address:
        raise PermissionDenied("the signature is not this wallet's (sign the message with its key)",
                               code="invalid_signature")
    user = get_user(conn, str(actor.user_id), for_update=True)
    if user.wallet_address == address:
        return profile(conn, actor) | {"changed": False}
    if user.wallet_address and conn.execute(_HOLDS_TOKENS, {"u": actor.user_id}).scalar_one():
        raise Conflict("your current wallet holds tokens (or has transfers in flight); changing"
                       " it is done by an admin through wallet recovery", code="wallet_holds_tokens")
    _record(conn, actor, user.wallet_address, address, proof)
    actor.audit(conn, "account.wallet", "user", actor.user_id,
                before={"wallet_address": user.wallet_address}, after={"wallet_address": address})
    return profile(conn, actor) | {"changed": True}


def _check_fresh(proof: WalletProof, max_age_s: int) -> None:
    if not NONCE.match(proof.nonce):
        raise InvalidInput("nonce must be 8-64 letters, digits, '-' or '_'", field="nonce")
    if proof.issued_at.tzinfo is None:
        raise InvalidInput("issued_at needs a time zone (e.g. 2026-01-01T00:00:00Z)",
                           field="issued_at")
    age = datetime.now(UTC) - proof.issued_at
    if age > timedelta(seconds=max_age_s) or age < -FUTURE_SKEW:
        raise InvalidInput(f"issued_at must be within {max_age_s} s of now; sign a new message",
                           field="issued_at")


def _signer(proof: WalletProof, message: str) -> str:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return Account.recover_message(encode_defunct(text=message), signature=proof.signature)
    except Exception:  # eth_account raises several kinds for a malformed signature
        raise InvalidInput("signature is not a 65-byte hex signature", field="signature") from None


def _record(conn: Connection, actor: Actor, previous: str | None, address: str,
            proof: WalletProof) -> None:
    try:
        with conn.begin_nested():
            conn.execute(text(
                "INSERT INTO wallet_proofs (id, user_id, address, previous_address, nonce,"
                " issued_at, signature) VALUES (:id, :u, :a, :prev, :n, :at, :sig)"),
                {"id": new_id(), "u": actor.user_id, "a": address, "prev": previous,
                 "n": proof.nonce, "at": proof.issued_at, "sig": proof.signature})
            conn.execute(text("UPDATE users SET wallet_address = :a, updated_at = now()"
                              " WHERE id = :u"), {"a": address, "u": actor.user_id})
    except IntegrityError as exc:
        if "wallet_proofs_nonce_once" in str(exc.orig):
            raise Conflict("this nonce was used already; sign a new message",
                           field="nonce", code="nonce_used") from None
        if "users_wallet_address_key" in str(exc.orig):
            raise Conflict(f"wallet address {address} belongs to another user",
                           field="address") from None
        raise
