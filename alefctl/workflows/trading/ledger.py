"""Instant settlement in the database (spec step 6), accumulated over a group and written once.

Per trade: the buyer's order spends total = price x quantity of its locked money and the buyer
receives the tokens; the seller's locked tokens leave and the seller receives total - fee; the
treasury receives the fee (total x fee bps / 10000, rounded down to the cent). Ledger rows keep
each user's rule: free balance + locked in open orders = sum of non-cancelled USD rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from alefctl.db.batches import RoundTrip, insert_rows, row_set
from alefctl.ids import new_id
from alefctl.money import cents_down
from alefctl.workflows.money import CREDIT_FIAT_ROWS, RECORD_TRADE_ROWS
from alefctl.workflows.trading.state import OrderState

# quantity and price change when an order is amended (trading/amend.py)
_ORDER_CHANGES = {"quantity": "bigint", "price": "numeric", "filled_quantity": "bigint",
                  "locked_fiat": "numeric", "locked_quantity": "bigint", "status": "text",
                  "cancel_reason": "text", "engine_seq": "bigint"}
INSERT_ORDERS = insert_rows(
    "orders", id="uuid", user_id="uuid", token_id="uuid", client_order_id="text", side="text",
    order_type="text", time_in_force="text", stp_mode="text", stop_price="numeric",
    created_at="timestamptz", expire_at="timestamptz", **_ORDER_CHANGES)
UPDATE_ORDERS = row_set(
    "UPDATE orders o SET quantity = v.quantity, price = v.price,"
    " filled_quantity = v.filled_quantity, locked_fiat = v.locked_fiat,"
    " locked_quantity = v.locked_quantity, status = v.status, cancel_reason = v.cancel_reason,"
    " engine_seq = v.engine_seq, updated_at = now() FROM {rows} WHERE o.id = v.id",
    id="uuid", **_ORDER_CHANGES)
INSERT_HISTORY = insert_rows(
    "order_status_history", id="uuid", order_id="uuid", from_status="text", to_status="text",
    filled_quantity="bigint", reason="text")
INSERT_TRADES = insert_rows(
    "trades", id="uuid", token_id="uuid", buy_order_id="uuid", sell_order_id="uuid",
    buyer_id="uuid", seller_id="uuid", taker_side="text", price="numeric", quantity="bigint",
    total="numeric", platform_fee="numeric", effective_fee_bps="int", engine_seq="bigint",
    created_at="timestamptz")
INSERT_TRADE_HISTORY = row_set(
    "INSERT INTO trade_settlement_history (id, trade_id, from_status, to_status)"
    " SELECT v.id, v.trade_id, NULL, 'pending' FROM {rows}", id="uuid", trade_id="uuid")
# Existing wallets take the deltas; a wallet that does not exist yet (it only ever receives
# tokens) is inserted, or, if another transaction has just inserted it, updated.
MOVE_TOKENS = row_set(
    "WITH moves AS (SELECT * FROM {rows}), moved AS (UPDATE wallets w SET balance ="
    " w.balance + m.balance, locked_balance = w.locked_balance + m.locked, updated_at = now()"
    " FROM moves m WHERE w.user_id = m.user_id AND w.token_id = m.token_id"
    " RETURNING w.user_id, w.token_id)"
    " INSERT INTO wallets (id, user_id, token_id, balance, locked_balance)"
    " SELECT m.id, m.user_id, m.token_id, m.balance, m.locked FROM moves m WHERE NOT EXISTS"
    " (SELECT 1 FROM moved d WHERE d.user_id = m.user_id AND d.token_id = m.token_id)"
    " ON CONFLICT (user_id, token_id) DO UPDATE SET balance = wallets.balance + excluded.balance,"
    " locked_balance = wallets.locked_balance + excluded.locked_balance, updated_at = now()",
    id="uuid", user_id="uuid", token_id="uuid", balance="bigint", locked="bigint")


class GroupLedger:
    """Every database change of a group's trades and status changes, written at the end."""

    def __init__(self, treasury_id: uuid.UUID):
        self.treasury_id = treasury_id
        self.fiat_credits: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
        self.token_moves: dict[tuple[uuid.UUID, uuid.UUID], list[int]] = {}
        self.history: list[dict[str, Any]] = []
        self.trades: list[dict[str, Any]] = []
        self.ledger_rows: list[dict[str, Any]] = []

    def credit_fiat(self, user_id: uuid.UUID, amount: Decimal) -> None:
        """Add money to a free balance at the end of the group."""
        if amount:
            self.fiat_credits[user_id] += amount

    def move_tokens(self, user_id: uuid.UUID, token_id: uuid.UUID, balance: int, locked: int) -> None:
        """Change a wallet's balance and locked balance at the end of the group."""
        move = self.token_moves.setdefault((user_id, token_id), [0, 0])
        move[0] += balance
        move[1] += locked

    def opened(self, order: OrderState) -> None:
        """Record a new order's first status."""
        self._history(order, None, order.status, None)

    def status_change(self, order: OrderState, new_status: str, reason: str | None = None) -> None:
        """Move an order to a status, with its history row."""
        if new_status != order.status:
            self._history(order, order.status, new_status, reason)
            order.status = new_status

    def amended(self, order: OrderState) -> None:
        """Record that an order's quantity or price changed (its status does not)."""
        self._history(order, order.status, order.status, "amended")

    def trade(self, taker: OrderState, maker: OrderState, price: Decimal, quantity: int,
              fee_bps: int, engine_seq: int, at: datetime) -> dict[str, Any]:
        """Settle one fill between a taker and a maker; returns the trade row."""
        buy, sell = (taker, maker) if taker.side == "buy" else (maker, taker)
        total = price * quantity
        fee = cents_down(total * fee_bps / 10_000)
        trade = {"id": new_id(), "token_id": taker.token_id, "buy_order_id": buy.id,
                 "sell_order_id": sell.id, "buyer_id": buy.user_id, "seller_id": sell.user_id,
                 "taker_side": taker.side, "price": price, "quantity": quantity, "total": total,
                 "platform_fee": fee, "effective_fee_bps": fee_bps, "engine_seq": engine_seq,
                 "created_at": at}
        self.trades.append(trade)
        buy.filled_quantity += quantity
        buy.locked_fiat -= total
        sell.filled_quantity += quantity
        sell.locked_quantity -= quantity
        self.move_tokens(buy.user_id, taker.token_id, quantity, 0)
        self.move_tokens(sell.user_id, taker.token_id, -quantity, -quantity)
        self.credit_fiat(sell.user_id, total - fee)
        self.credit_fiat(self.treasury_id, fee)
        for user_id, kind, amount in ((buy.user_id, "trade_buy", -total),
                                      (sell.user_id, "trade_sell", total),
                                      (sell.user_id, "fee", -fee),
                                      (self.treasury_id, "fee", fee)):
            if amount:
                self.ledger_rows.append({"id": new_id(), "user_id": user_id,
                                         "token_id": taker.token_id, "type": kind,
                                         "amount": amount, "quantity": quantity,
                                         "trade_id": trade["id"]})
        return trade

    def release(self, order: OrderState, keep_fiat: Decimal = Decimal("0.00")) -> None:
        """Return what an order holds beyond keep_fiat: money to the balance, tokens unlocked."""
        if order.side == "buy" and order.locked_fiat > keep_fiat:
            self.credit_fiat(order.user_id, order.locked_fiat - keep_fiat)
            order.locked_fiat = keep_fiat
        elif order.side == "sell" and order.is_finished and order.locked_quantity:
            self.move_tokens(order.user_id, order.token_id, 0, -order.locked_quantity)
            order.locked_quantity = 0

    def flush(self, conn: Connection, orders: list[OrderState]) -> None:
        """Write the group: orders, history, trades, ledger, balances (in one global order, in
        one round trip)."""
        trip = RoundTrip(conn)
        for statement, rows in [
            (INSERT_ORDERS, [o.row() for o in orders if o.is_new]),
            (UPDATE_ORDERS, [o.row() for o in orders if not o.is_new]),
            (INSERT_HISTORY, self.history),
            (INSERT_TRADES, self.trades),
            (INSERT_TRADE_HISTORY, [{"id": new_id(), "trade_id": t["id"]} for t in self.trades]),
            (RECORD_TRADE_ROWS, self.ledger_rows),
            (CREDIT_FIAT_ROWS, [{"user_id": u, "amount": a}
                           for u, a in sorted(self.fiat_credits.items()) if a]),
            (MOVE_TOKENS, [{"id": new_id(), "user_id": u, "token_id": t, "balance": b, "locked": lk}
                           for (u, t), (b, lk) in sorted(self.token_moves.items()) if b or lk]),
        ]:
            trip.write(statement, rows)
        trip.run()

    def _history(self, order: OrderState, old: str | None, new: str, reason: str | None) -> None:
        self.history.append({"id": new_id(), "order_id": order.id, "from_status": old,
                             "to_status": new, "filled_quantity": order.filled_quantity, "reason": reason})
