"""An investor's statement for a period, for an accountant: opening and closing positions, every
movement with its reference, and the period's fees, dividends, deposits and withdrawals.

Cash positions come from the ledger (wallet_transactions), the record money.py keeps: a
currency's balance at a time is the sum of its rows not cancelled before that time (money locked
in an open order is still the investor's; money paid into a pending subscription has left).
Token positions come from positions_history (workflows/positions.py), which sees every change of
a wallet: trades, allocations, refunds, redemptions, burns, agent transfers, withdrawals."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput
from alefctl.jsonfmt import to_jsonable
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.positions import HOLDINGS_BEFORE

MAX_MOVEMENTS = 20_000  # a longer period is refused: ask for a shorter one
_CASH_SQL = text(
    "SELECT currency, sum(amount) AS amount FROM wallet_transactions WHERE user_id = :u"
    " AND currency <> 'TOKEN' AND status <> 'cancelled' AND created_at < :at GROUP BY currency")
_MOVEMENTS_SQL = text(
    "SELECT w.created_at, w.id, w.type, w.currency, t.symbol, w.amount, w.quantity, w.status,"
    " w.balance_after, w.reference_type, w.reference_id, w.description"
    " FROM wallet_transactions w LEFT JOIN tokens t ON t.id = w.token_id WHERE w.user_id = :u"
    " AND w.status <> 'cancelled' AND w.created_at >= :since AND w.created_at < :until"
    " ORDER BY w.created_at, w.id LIMIT :limit")
CSV_COLUMNS = ("created_at", "id", "type", "currency", "symbol", "amount", "quantity", "status",
               "balance_after", "reference_type", "reference_id", "description")


def statement(conn: Connection, actor: Actor, since: datetime, until: datetime) -> dict[str, Any]:
    """The caller's statement for [since, until)."""
    policy.require(actor, "account.read")
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("from and to need a time zone (e.g. 2026-01-01T00:00:00Z)", field="from")
    if until <= since:
        raise InvalidInput("to must be after from", field="to")
    movements = [dict(row._mapping) for row in conn.execute(_MOVEMENTS_SQL, {
        "u": actor.user_id, "since": since, "until": until, "limit": MAX_MOVEMENTS + 1})]
    if len(movements) > MAX_MOVEMENTS:
        raise InvalidInput(f"more than {MAX_MOVEMENTS} movements: ask for a shorter period",
                           field="to")
    return {"user_id": actor.user_id, "email": actor.email, "from": since, "to": until,
            "opening": _positions(conn, actor.user_id, since),
            "closing": _positions(conn, actor.user_id, until),
            "totals": _totals(movements), "movements": movements}


def _positions(conn: Connection, user_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    cash: dict[str, Decimal] = {"USD": Decimal("0.00")}
    for row in conn.execute(_CASH_SQL, {"u": user_id, "at": at}):
        cash[row.currency] = cash.get(row.currency, Decimal("0.00")) + row.amount
    tokens = {row.symbol: int(row.quantity)
              for row in conn.execute(text(HOLDINGS_BEFORE), {"user": user_id, "before": at})}
    return {"cash": cash, "tokens": tokens}


def _totals(movements: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Cash of the period by currency and kind: fees paid are positive, as are dividends."""
    totals: dict[str, dict[str, Decimal]] = {}
    for currency in sorted({m["currency"] for m in movements} - {"TOKEN"} | {"USD"}):
        def total(*kinds: str, currency: str = currency) -> Decimal:
            return sum((m["amount"] for m in movements
                        if m["type"] in kinds and m["currency"] == currency), Decimal("0.00"))

        totals[currency] = {
            "deposits": total("deposit"), "withdrawals": -total("withdrawal"),
            "fees": -total("fee", "success_fee"), "dividends": total("dividend"),
            "trade_purchases": -total("trade_buy"), "trade_sales": total("trade_sell"),
            "subscriptions": -total("token_buy")}
    return totals


def statement_csv(data: dict[str, Any]) -> str:
    """The statement as CSV: opening positions, movements, closing positions, totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for edge, at in (("opening", data["from"]), ("closing", data["to"])):
        rows = _position_rows(edge, at, data[edge])
        if edge == "closing":
            for movement in data["movements"]:
                writer.writerow([_cell(movement[c]) for c in CSV_COLUMNS])
        writer.writerows(rows)
    for currency, totals in data["totals"].items():
        for kind, amount in totals.items():
            writer.writerow([_cell(data["to"]), "", f"total_{kind}", currency, "",
                             _cell(amount)] + [""] * 6)
    return out.getvalue()


def _position_rows(edge: str, at: datetime, positions: dict[str, Any]) -> list[list[str]]:
    rows = [[_cell(at), "", f"{edge}_balance", currency, "", _cell(amount)] + [""] * 6
            for currency, amount in positions["cash"].items()]
    rows += [[_cell(at), "", f"{edge}_position", "TOKEN", symbol, "0.00", str(quantity)]
             + [""] * 5 for symbol, quantity in positions["tokens"].items()]
    return rows


def _cell(value: Any) -> str:
    plain = to_jsonable(value)
    return "" if plain is None else str(plain)
