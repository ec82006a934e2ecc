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

from sqlalchemy import Connection, text

from alefctl.db.batches import execute_batches
from alefctl.ids import new_id
from alefctl.money import cents_down
from alefctl.workflows.trading.state import OrderState

INSERT_ORDER = text(
    "INSERT INTO orders (id, user_id, token_id, client_order_id, side, order_type, time_in_force,"
    " stp_mode, price, stop_price, quantity, filled_quantity, locked_fiat, locked_quantity, status,"
    " cancel_reason, engine_seq, created_at, updated_at) VALUES (:id, :user_id, :token_id,"
    " :client_order_id, :side, :order_type, :time_in_force, :stp_mode, :price, :stop_price,"
    " :quantity, :filled_quantity, :locked_fiat, :locked_quantity, :status, :cancel_reason,"
    " :engine_seq, :created_at, now())")
UPDATE_ORDER = text(
    "UPDATE orders SET filled_quantity = :filled_quantity, locked_fiat = :locked_fiat,"
    " locked_quantity = :locked_quantity, status = :status, cancel_reason = :cancel_reason,"
    " engine_seq = :engine_seq, updated_at = now() WHERE id = :id")
INSERT_HISTORY = text(
    "INSERT INTO order_status_history (id, order_id, from_status, to_status, filled_quantity,"
    " reason) VALUES (:id, :order_id, :from_status, :to_status, :filled, :reason)")
INSERT_TRADE = text(
    "INSERT INTO trades (id, token_id, buy_order_id, sell_order_id, buyer_id, seller_id,"
    " taker_side, price, quantity, total, platform_fee, effective_fee_bps, engine_seq, created_at)"
    " VALUES (:id, :token_id, :buy_order_id, :sell_order_id, :buyer_id, :seller_id, :taker_side,"
    " :price, :quantity, :total, :platform_fee, :effective_fee_bps, :engine_seq, :created_at)")
INSERT_TRADE_HISTORY = text(
    "INSERT INTO trade_settlement_history (id, trade_id, from_status, to_status)"
    " VALUES (:id, :trade_id, NULL, 'pending')")
INSERT_LEDGER = text(
    "INSERT INTO wallet_transactions (id, user_id, token_id, type, amount, quantity, status,"
    " reference_type, reference_id) VALUES (:id, :user_id, :token_id, :type, :amount, :quantity,"
    " 'completed', 'trade', :trade_id)")
CREDIT_FIAT = text("UPDATE users SET fiat_balance = fiat_balance + :amount, updated_at = now()"
                   " WHERE id = :user_id")
# A new wallet only ever receives tokens; the row to insert is clamped because PostgreSQL
# checks it before it finds the conflict, and the real deltas apply in the update.
MOVE_TOKENS = text(
    "INSERT INTO wallets (id, user_id, token_id, balance, locked_balance) VALUES (:id, :user_id,"
    " :token_id, greatest(:balance, 0), least(greatest(:locked, 0), greatest(:balance, 0)))"
    " ON CONFLICT (user_id, token_id)"
    " DO UPDATE SET balance = wallets.balance + :balance, locked_balance ="
    " wallets.locked_balance + :locked, updated_at = now()")


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
        """Write the group: orders, history, trades, ledger, balances (in one global order)."""
        execute_batches(conn, [
            (INSERT_ORDER, [o.row() for o in orders if o.is_new]),
            (UPDATE_ORDER, [o.row() for o in orders if not o.is_new]),
            (INSERT_HISTORY, self.history),
            (INSERT_TRADE, self.trades),
            (INSERT_TRADE_HISTORY, [{"id": new_id(), "trade_id": t["id"]} for t in self.trades]),
            (INSERT_LEDGER, self.ledger_rows),
            (CREDIT_FIAT, [{"user_id": u, "amount": a}
                           for u, a in sorted(self.fiat_credits.items()) if a]),
            (MOVE_TOKENS, [{"id": new_id(), "user_id": u, "token_id": t, "balance": b, "locked": lk}
                           for (u, t), (b, lk) in sorted(self.token_moves.items()) if b or lk]),
        ])

    def _history(self, order: OrderState, old: str | None, new: str, reason: str | None) -> None:
        self.history.append({"id": new_id(), "order_id": order.id, "from_status": old,
                             "to_status": new, "filled": order.filled_quantity, "reason": reason})
