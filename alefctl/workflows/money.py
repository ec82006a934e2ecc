"""Moving money: every change of a balance and the wallet_transactions row that records it.

This is the one module that writes users.fiat_balance, user_balances and wallet_transactions
(a test holds every other module to it). Amounts are signed from the user's side: + credit,
- debit. The rule every caller keeps: a user's free fiat plus what is locked in their open
orders equals the sum of their USD wallet_transactions that are not cancelled. So:

- a completed move (deposit, withdrawal, proceeds, fees, dividends, trades) changes the balance
  and writes a 'completed' row;
- money paid into escrow leaves the balance with a 'pending' row, which `complete_pending`
  confirms and `refund_pending` cancels (the cancellation is the refund: no second row);
- money locked into an order (`take_free_fiat`) or given back from one (`return_free_fiat`)
  writes no row: it stays the user's, locked, until a trade records where it went.

Callers lock users' rows in the order of `alefctl.db.locks` before moving their money.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from alefctl.db.batches import row_set
from alefctl.errors import Conflict
from alefctl.ids import new_id


@dataclass(frozen=True)
class Entry:
    """What a wallet transaction records besides its user and amount."""

    kind: str  # wallet_transactions.type
    token_id: uuid.UUID | None = None
    quantity: int | None = None
    reference: tuple[str, uuid.UUID] | None = None  # (reference_type, reference_id)
    description: str | None = None
    created_by: uuid.UUID | None = None


@dataclass(frozen=True)
class Posted:
    """A written wallet transaction and the balance it left."""

    transaction_id: uuid.UUID
    balance_after: Decimal


_ADD_FIAT = text("UPDATE users SET fiat_balance = fiat_balance + :a, updated_at = now()"
                 " WHERE id = :u RETURNING fiat_balance")
_RECORD = text(
    "INSERT INTO wallet_transactions (id, user_id, token_id, type, currency, amount, quantity,"
    " status, balance_after, reference_type, reference_id, description, created_by) VALUES"
    " (:id, :u, :t, :kind, :currency, :a, :q, :status, :after, :rtype, :rid, :description, :by)")
_OPEN_STABLECOIN = text("INSERT INTO user_balances (user_id, currency) VALUES (:u, :c)"
                        " ON CONFLICT (user_id, currency) DO NOTHING")
_ADD_STABLECOIN = text("UPDATE user_balances SET balance = balance + :a, updated_at = now()"
                       " WHERE user_id = :u AND currency = :c RETURNING balance")


def move_fiat(conn: Connection, user_id: uuid.UUID, signed_amount: Decimal, entry: Entry,
              status: str = "completed") -> Posted:
    """Change a user's fiat balance and record it (the caller checked any overdraft)."""
    return move_money(conn, user_id, "USD", signed_amount, entry, status)


def move_money(conn: Connection, user_id: uuid.UUID, currency: str, signed_amount: Decimal,
               entry: Entry, status: str = "completed") -> Posted:
    """Change a user's balance in USD (fiat_balance) or a stablecoin (user_balances) and record
    it (the caller checked any overdraft)."""
    balance_after = _add(conn, user_id, currency, signed_amount)
    transaction_id = new_id()
    rtype, rid = entry.reference or (None, None)
    conn.execute(_RECORD, {
        "id": transaction_id, "u": user_id, "t": entry.token_id, "kind": entry.kind,
        "currency": currency, "a": signed_amount, "q": entry.quantity, "status": status,
        "after": balance_after,
        "rtype": rtype, "rid": rid, "description": entry.description, "by": entry.created_by})
    return Posted(transaction_id, balance_after)


def free_balance(conn: Connection, user_id: uuid.UUID, currency: str) -> Decimal:
    """A user's free balance in USD or a stablecoin (zero without a stablecoin row)."""
    if currency == "USD":
        return conn.execute(text("SELECT fiat_balance FROM users WHERE id = :u"),
                            {"u": user_id}).scalar_one()
    return conn.execute(text("SELECT balance - locked FROM user_balances WHERE user_id = :u AND"
                             " currency = :c"), {"u": user_id, "c": currency}).scalar() or Decimal(0)


def _add(conn: Connection, user_id: uuid.UUID, currency: str, signed_amount: Decimal) -> Decimal:
    if currency == "USD":
        return conn.execute(_ADD_FIAT, {"a": signed_amount, "u": user_id}).scalar_one()
    conn.execute(_OPEN_STABLECOIN, {"u": user_id, "c": currency})
    return conn.execute(_ADD_STABLECOIN, {"a": signed_amount, "u": user_id,
                                          "c": currency}).scalar_one()


def complete_pending(conn: Connection, transaction_ids: list[uuid.UUID]) -> None:
    """Confirm pending payments: the money they took is spent for good."""
    conn.execute(text("UPDATE wallet_transactions SET status = 'completed', updated_at = now()"
                      " WHERE id = ANY(:ids) AND status = 'pending'"), {"ids": transaction_ids})


def refund_pending(conn: Connection, transaction_id: uuid.UUID, description: str) -> Decimal:
    """Cancel a pending payment and give its money back; returns the amount refunded."""
    row = conn.execute(text(
        "UPDATE wallet_transactions SET status = 'cancelled', description = :d, updated_at = now()"
        " WHERE id = :id AND status = 'pending' RETURNING user_id, currency, amount"),
        {"id": transaction_id, "d": description}).one()
    _add(conn, row.user_id, row.currency, -row.amount)
    return -row.amount


def take_free_fiat(conn: Connection, user_id: uuid.UUID, amount: Decimal) -> bool:
    """Lock money into an order: False, moving nothing, unless the free balance covers it."""
    return conn.execute(text(
        "UPDATE users SET fiat_balance = fiat_balance - :a, updated_at = now()"
        " WHERE id = :u AND fiat_balance >= :a RETURNING id"),
        {"a": amount, "u": user_id}).first() is not None


def return_free_fiat(conn: Connection, user_id: uuid.UUID, amount: Decimal) -> None:
    """Give money locked in an order back to the free balance."""
    conn.execute(_ADD_FIAT, {"a": amount, "u": user_id})


def credit_tokens(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID, quantity: int) -> None:
    """Add tokens to a user's wallet, creating the wallet row if needed."""
    conn.execute(text(
        "INSERT INTO wallets (id, user_id, token_id, balance) VALUES (:id, :u, :t, :q)"
        " ON CONFLICT (user_id, token_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance,"
        " updated_at = now()"), {"id": new_id(), "u": user_id, "t": token_id, "q": quantity})


def debit_tokens(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID, quantity: int) -> None:
    """Take free tokens back from a user's wallet (a refunded allocation); never locked ones.
    Refused (Conflict) when the wallet no longer has them free (sold, withdrawn, locked)."""
    taken = conn.execute(text(
        "UPDATE wallets SET balance = balance - :q, updated_at = now() WHERE user_id = :u AND"
        " token_id = :t AND balance - locked_balance >= :q RETURNING id"),
        {"q": quantity, "u": user_id, "t": token_id}).first()
    if taken is None:
        raise Conflict(f"the holder no longer has {quantity} free tokens to give back")


# Set-based moves, for callers that move money of many users in one statement.

# An order group's fiat credits (free balances) and its trades' ledger rows.
CREDIT_FIAT_ROWS = row_set(
    "UPDATE users u SET fiat_balance = u.fiat_balance + v.amount, updated_at = now()"
    " FROM {rows} WHERE u.id = v.user_id", user_id="uuid", amount="numeric")
RECORD_TRADE_ROWS = row_set(
    "INSERT INTO wallet_transactions (id, user_id, token_id, type, amount, quantity, status,"
    " reference_type, reference_id) SELECT v.id, v.user_id, v.token_id, v.type, v.amount,"
    " v.quantity, 'completed', 'trade', v.trade_id FROM {rows}",
    id="uuid", user_id="uuid", token_id="uuid", type="text", amount="numeric", quantity="bigint",
    trade_id="uuid")

# Credits of a relation `due(user_id, net_amount, token_quantity, transaction_id)`, as
# data-modifying CTEs returning (user_id, balance_after), by what is paid; and the columns
# (currency, amount, quantity) of each credit's wallet transaction.
CREDIT_DUE_SQL = {
    "fiat": "UPDATE users u SET fiat_balance = u.fiat_balance + due.net_amount, updated_at = now()"
            " FROM due WHERE u.id = due.user_id RETURNING u.id AS user_id,"
            " u.fiat_balance AS balance_after",
    "stablecoin": "INSERT INTO user_balances (user_id, currency, balance) SELECT user_id, 'USDC',"
                  " net_amount FROM due ON CONFLICT (user_id, currency) DO UPDATE SET balance ="
                  " user_balances.balance + EXCLUDED.balance, updated_at = now()"
                  " RETURNING user_id, balance AS balance_after",
}
DUE_LEDGER_COLUMNS = {
    "fiat": "'USD', due.net_amount, NULL",
    "stablecoin": "'USDC', due.net_amount, NULL",
    "token": "'TOKEN', 0, due.token_quantity",
}
# The wallet transaction of each credit of `due` joined to `credited`, referencing :ref_id.
RECORD_DUE_SQL = (
    "INSERT INTO wallet_transactions (id, user_id, token_id, type, currency, amount, quantity,"
    " status, balance_after, reference_type, reference_id) SELECT due.transaction_id,"
    " due.user_id, :token, :kind, {ledger}, 'completed', credited.balance_after, :ref_type,"
    " :ref_id FROM due JOIN credited USING (user_id)"
)
