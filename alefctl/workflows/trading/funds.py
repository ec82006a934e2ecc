"""Who may trade, and locking the money or tokens an order may use (spec steps 2 and 3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.db.locks import USERS_IN_LOCK_ORDER
from alefctl.errors import Conflict, InsufficientFunds, PermissionDenied
from alefctl.money import format_usd
from alefctl.workflows.investment_limits import check_room, room_left
from alefctl.workflows.money import take_free_fiat
from alefctl.workflows.trading.lifetime import LifetimeBounds


@dataclass(frozen=True)
class NotionalLimits:
    """Most invested per rolling 12 months per accreditation (the spec: $500 / $5,000 /
    $50,000; workflows/investment_limits.py), the most open orders (pending stops included) one
    investor may have on one token, and the bounds of an order's lifetime."""

    retail: Decimal
    professional: Decimal
    institutional: Decimal
    max_open_orders: int = 1000
    lifetime: LifetimeBounds = LifetimeBounds()  # how long GTD and DAY orders may rest

    @classmethod
    def from_settings(cls, trading: Any, lifetime: Any = None) -> NotionalLimits:
        """The limits configured in settings.trading (and settings.lifetime, where orders are
        placed)."""
        return cls(trading.limit_retail_usd, trading.limit_professional_usd,
                   trading.limit_institutional_usd, trading.max_open_orders,
                   LifetimeBounds() if lifetime is None else LifetimeBounds.from_settings(lifetime))

    def for_accreditation(self, accreditation: str) -> Decimal:
        """The limit that applies to an investor."""
        return {"institutional": self.institutional,
                "professional": self.professional}.get(accreditation, self.retail)


# The treasury comes first, with the traders: it is the gate of balance changes (db.locks).
LOCK_TRADERS = text(
    "SELECT id, role, kyc_status, fatca_status, is_activated, wallet_address,"
    " accreditation_status, fiat_balance FROM users WHERE id = ANY(:ids) OR id = :treasury"
    f" ORDER BY {USERS_IN_LOCK_ORDER.format(user='id')} FOR UPDATE")
TRADER_BY_ID = text("SELECT id, role, kyc_status, fatca_status, is_activated, wallet_address,"
                    " accreditation_status, fiat_balance FROM users WHERE id = :id")
TOKENS_BY_REF = "symbol = ANY(:refs) OR CAST(id AS text) = ANY(:refs)"  # a symbol or an id
# Free: what the holder may sell, neither locked in orders nor frozen (workflows/holders/).
_LOCK_WALLETS = ("SELECT user_id, token_id, is_frozen, balance - locked_balance - frozen_quantity"
                 " AS free FROM wallets WHERE user_id = ANY(:users) AND {tokens}"
                 " ORDER BY user_id, token_id FOR UPDATE")
LOCK_WALLETS = text(_LOCK_WALLETS.format(tokens="token_id = ANY(:tokens)"))
LOCK_WALLETS_BY_TOKEN_REF = text(_LOCK_WALLETS.format(
    tokens=f"token_id IN (SELECT id FROM tokens WHERE {TOKENS_BY_REF})"))


def lock_traders(conn: Connection, user_ids: list[uuid.UUID],
                 treasury_id: uuid.UUID) -> dict[uuid.UUID, Any]:
    """Investors' rows by id (and the treasury's), locked until commit, in one statement."""
    return {row.id: row for row in conn.execute(LOCK_TRADERS, {"ids": user_ids,
                                                               "treasury": treasury_id})}


def lock_free_tokens(conn: Connection, user_ids: list[uuid.UUID], token_ids: list[uuid.UUID]
                     ) -> tuple[dict[tuple[uuid.UUID, uuid.UUID], int], set[tuple[uuid.UUID, uuid.UUID]]]:
    """Free (unlocked, unfrozen) token balances by (user, token), and the frozen wallets;
    wallets locked until commit."""
    rows = conn.execute(LOCK_WALLETS, {"users": user_ids, "tokens": token_ids}).all()
    return free_tokens(rows), frozen_wallets(rows)


def free_tokens(rows: Any) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Free token balances by (user, token) from rows of LOCK_WALLETS."""
    return {(row.user_id, row.token_id): row.free for row in rows}


def frozen_wallets(rows: Any) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The (user, token) positions frozen whole by an admin, from rows of LOCK_WALLETS."""
    return {(row.user_id, row.token_id) for row in rows if row.is_frozen}


def refuse_frozen(symbol: str) -> None:
    """Refuse a sell order of a holder whose wallet an admin froze."""
    raise Conflict(f"your {symbol} position is frozen by an admin: no sell order is accepted",
                   code="holder_frozen")


def check_trader(user: Any) -> None:
    """Refuse anyone the spec does not let trade."""
    if user.role != "investor":
        raise PermissionDenied("only investors place orders")
    if not user.is_activated:
        raise PermissionDenied("the account is deactivated")
    if user.kyc_status != "approved":
        raise PermissionDenied(f"KYC must be approved to trade (status {user.kyc_status})")
    if user.fatca_status == "blocked":
        raise PermissionDenied("trading is blocked for this investor under FATCA")
    if user.wallet_address is None:
        raise Conflict("register a wallet address first (PUT /api/v1/me/wallet)",
                       field="wallet_address")


def eligible_trader(conn: Connection, user_id: uuid.UUID, treasury_id: uuid.UUID) -> Any:
    """The investor's row, locked; refuses anyone the spec does not let trade."""
    user = lock_traders(conn, [user_id], treasury_id)[user_id]
    check_trader(user)
    return user


def check_investment(user: Any, invested: Decimal, amount: Decimal,
                     limits: NotionalLimits) -> None:
    """Refuse a buy that would pass the investor's rolling 12-month investment limit."""
    level = user.accreditation_status
    check_room(level if level in ("professional", "institutional") else "retail",
               limits.for_accreditation(level), invested, amount)


def market_budget(user: Any, free_fiat: Decimal, invested: Decimal,
                  limits: NotionalLimits) -> Decimal:
    """What a market buy may spend: the free balance, at most the room left under the limit."""
    room = room_left(limits.for_accreditation(user.accreditation_status), invested)
    if room <= 0:
        check_investment(user, invested, Decimal("0.01"), limits)
    budget = min(free_fiat, room)
    if budget <= 0:
        raise InsufficientFunds("no free USD balance for a market buy")
    return budget


def refuse_fiat(amount: Decimal, free_fiat: Decimal) -> None:
    """Refuse an order that needs more money than the free balance."""
    if amount > free_fiat:
        raise InsufficientFunds(f"the order needs {format_usd(amount)} USD; free balance"
                                f" {format_usd(free_fiat)}")


def refuse_tokens(quantity: int, free_tokens: int) -> None:
    """Refuse an order that needs more tokens than are free (not locked in other orders)."""
    if quantity > free_tokens:
        raise InsufficientFunds(f"the order needs {quantity} free tokens; you have {free_tokens}")


def lock_fiat(conn: Connection, user_id: uuid.UUID, amount: Decimal) -> None:
    """Move money from the free balance into an order."""
    if not take_free_fiat(conn, user_id, amount):
        refuse_fiat(amount, conn.execute(text("SELECT fiat_balance FROM users WHERE id = :u"),
                                         {"u": user_id}).scalar_one())


def lock_tokens(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID, quantity: int) -> None:
    """Move free tokens into an order (locked_balance); never tokens already locked."""
    locked = conn.execute(text(
        "UPDATE wallets SET locked_balance = locked_balance + :q, updated_at = now()"
        " WHERE user_id = :u AND token_id = :t AND NOT is_frozen"
        " AND balance - locked_balance - frozen_quantity >= :q RETURNING id"),
        {"q": quantity, "u": user_id, "t": token_id}).first()
    if locked is None:
        row = conn.execute(text(
            "SELECT w.is_frozen, w.balance - w.locked_balance - w.frozen_quantity AS free, t.symbol"
            " FROM wallets w JOIN tokens t ON t.id = w.token_id WHERE w.user_id = :u"
            " AND w.token_id = :t"), {"u": user_id, "t": token_id}).first()
        if row is not None and row.is_frozen:
            refuse_frozen(row.symbol)
        refuse_tokens(quantity, 0 if row is None else row.free)
