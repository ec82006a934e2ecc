"""Money in and out of the platform, fiat (USD) or stablecoin (USDC) alike, and a user's
balances at a glance. USDC counts 1:1 to USD against the four-eyes threshold."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InsufficientFunds
from alefctl.money import format_usd, parse_amount, parse_currency
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.approvals import ApprovalRequest
from alefctl.workflows.money import Entry, move_money
from alefctl.workflows.proceeds import withdrawable_in
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from alefctl.workflows.users import User, get_user


@dataclass(frozen=True)
class Movement:
    """The result of a deposit or withdrawal."""

    transaction_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    type: str
    currency: str
    amount: Decimal
    balance_after: Decimal

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class WalletView:
    """What a user holds: fiat, fiat locked in orders, stablecoins, tokens, recent movements."""

    user_id: uuid.UUID
    email: str
    fiat_balance: Decimal
    fiat_locked_in_orders: Decimal
    stablecoins: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    recent_transactions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def submit_deposit(conn: Connection, actor: Actor, user_ref: str, amount: str | Decimal,
                   reference: str | None = None, *, threshold: Decimal,
                   currency: str | None = "USD") -> Movement | ApprovalRequest:
    """A deposit as the front ends take it (admins): below the four-eyes threshold
    (settings.approvals.money_threshold_usd; USDC counts 1:1) it is made at once; at or above
    it, it becomes a request that another admin approves (workflows/approvals.py), naming the
    currency, and nothing moves yet."""
    policy.require(actor, "wallet.deposit")
    value, code = parse_amount(amount), parse_currency(currency)
    if value < threshold:
        return deposit(conn, actor, user_ref, value, reference, currency=code)
    user = get_user(conn, user_ref)
    _check_activated(user)
    return approvals.request(conn, actor, "wallet.deposit", {
        "user_id": user.id, "email": user.email, "amount": value, "currency": code,
        "reference": reference})


def submit_withdrawal(conn: Connection, actor: Actor, user_ref: str, amount: str | Decimal,
                      reference: str | None = None, *, threshold: Decimal,
                      currency: str | None = "USD") -> Movement | ApprovalRequest:
    """A withdrawal as the front ends take it (admins): made at once below the four-eyes
    threshold (USDC counts 1:1), else a request for another admin. The balance of that currency
    must cover it now, and is checked again when the request is executed."""
    policy.require(actor, "wallet.withdraw")
    value, code = parse_amount(amount), parse_currency(currency)
    if value < threshold:
        return withdraw(conn, actor, user_ref, value, reference, currency=code)
    user = get_user(conn, user_ref)
    _check_covers(conn, user, value, code)
    return approvals.request(conn, actor, "wallet.withdraw", {
        "user_id": user.id, "email": user.email, "amount": value, "currency": code,
        "reference": reference})


def deposit(conn: Connection, actor: Actor, user_ref: str, amount: str | Decimal,
            reference: str | None = None, *, approval_id: uuid.UUID | None = None,
            currency: str | None = "USD") -> Movement:
    """Credit money received from outside the platform (admins only), whatever the amount: the
    operation itself, which an approved request runs (`approval_id`); front ends call
    submit_deposit."""
    policy.require(actor, "wallet.deposit")
    value, code = parse_amount(amount), parse_currency(currency)
    user = get_user(conn, user_ref, for_update=True)
    _check_activated(user)
    return _move(conn, actor, user, code, "deposit", value, reference, approval_id)


def withdraw(conn: Connection, actor: Actor, user_ref: str, amount: str | Decimal,
             reference: str | None = None, *, approval_id: uuid.UUID | None = None,
             currency: str | None = "USD") -> Movement:
    """Pay money out of the platform (admins only); never below the free balance of that
    currency. The operation itself, which an approved request runs; front ends call
    submit_withdrawal."""
    policy.require(actor, "wallet.withdraw")
    value, code = parse_amount(amount), parse_currency(currency)
    user = get_user(conn, user_ref, for_update=True)
    _check_covers(conn, user, value, code)
    return _move(conn, actor, user, code, "withdrawal", -value, reference, approval_id)


def _check_activated(user: User) -> None:
    if not user.is_activated:
        raise Conflict(f"{user.email} is deactivated; activate the user before depositing")


def _check_covers(conn: Connection, user: User, value: Decimal, currency: str) -> None:
    """The free balance of the currency, for USD less the proceeds of sales not settled
    on-chain (workflows/proceeds.py)."""
    allowed = withdrawable_in(conn, user.id, currency)
    if allowed < value:
        held = user.fiat_balance - allowed if currency == "USD" else Decimal(0)
        why = f" ({format_usd(held)} USD of sales not settled on-chain)" if held > 0 else ""
        raise InsufficientFunds(
            f"{user.email} has {format_usd(allowed)} {currency} available to withdraw{why};"
            f" cannot withdraw {format_usd(value)}"
        )


def show_wallet(conn: Connection, actor: Actor, user_ref: str, recent: int = 10) -> WalletView:
    """A user's balances (admins, or the user)."""
    user = get_user(conn, user_ref)
    if actor.user_id != user.id:
        policy.require(actor, "wallet.show.others")
    locked = conn.execute(
        text(
            "SELECT coalesce(sum(locked_fiat), 0) FROM orders WHERE user_id = :u"
            f" AND status IN {OPEN_STATUSES_SQL}"
        ),
        {"u": user.id},
    ).scalar_one()
    return WalletView(
        user_id=user.id,
        email=user.email,
        fiat_balance=user.fiat_balance,
        fiat_locked_in_orders=Decimal(locked),
        stablecoins=_rows(conn, "SELECT currency, balance, locked FROM user_balances"
                          " WHERE user_id = :u ORDER BY currency", user.id),
        tokens=_rows(conn, "SELECT t.symbol, w.balance, w.locked_balance FROM wallets w"
                     " JOIN tokens t ON t.id = w.token_id WHERE w.user_id = :u ORDER BY t.symbol",
                     user.id),
        recent_transactions=_rows(
            conn,
            "SELECT id, type, currency, amount, quantity, status, balance_after, created_at"
            " FROM wallet_transactions WHERE user_id = :u ORDER BY created_at DESC, id DESC"
            f" LIMIT {int(recent)}",
            user.id,
        ),
    )


def _move(conn: Connection, actor: Actor, user: User, currency: str, kind: str,
          signed_amount: Decimal, reference: str | None,
          approval_id: uuid.UUID | None) -> Movement:
    link = ("approval_request", approval_id) if approval_id else None
    posted = move_money(conn, user.id, currency, signed_amount,
                        Entry(kind, reference=link, description=reference, created_by=actor.user_id))
    movement = Movement(posted.transaction_id, user.id, user.email, kind, currency,
                        abs(signed_amount), posted.balance_after)
    after = movement.to_dict() | ({"approval_request_id": approval_id} if approval_id else {})
    actor.audit(conn, f"wallet.{kind}", "user", user.id, after=after)
    return movement


def _rows(conn: Connection, sql: str, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql), {"u": user_id})]
