"""An investor's own history, a page at a time: allocations, dividends, fills, transactions,
OTC orders. Each list shows the caller's rows only (the owner is the actor, never a parameter)."""

from __future__ import annotations

from sqlalchemy import Connection

from alefctl.workflows import policy
from alefctl.workflows.account.pages import Page, PageQuery, fetch_page
from alefctl.workflows.actor import Actor

ALLOCATIONS_SQL = (
    "SELECT a.id, t.symbol, a.token_id, a.quantity, a.price_per_token, a.amount,"
    " a.allocation_type, a.status, a.on_chain_status, a.on_chain_tx_hash, a.confirmed_at,"
    " a.created_at FROM token_allocations a JOIN tokens t ON t.id = a.token_id"
    " WHERE a.user_id = :u")
DIVIDENDS_SQL = (
    "SELECT p.id, p.dividend_id, t.symbol, d.token_id, d.dividend_type, d.per_token_usd,"
    " d.per_token_qty, d.record_date, p.token_balance, p.gross_amount, p.fee_amount,"
    " p.net_amount, p.token_quantity, p.status, p.on_chain_status, p.paid_at, p.created_at"
    " FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
    " JOIN tokens t ON t.id = d.token_id WHERE p.user_id = :u")
# The seller pays the trade's fee (workflows/trading/ledger.py); the buyer pays none.
FILLS_SQL = (
    "SELECT tr.id, t.symbol, tr.token_id, CASE WHEN tr.buyer_id = :u THEN 'buy' ELSE 'sell'"
    " END AS side, CASE WHEN tr.buyer_id = :u THEN tr.buy_order_id ELSE tr.sell_order_id END"
    " AS order_id, CASE WHEN (tr.buyer_id = :u) = (tr.taker_side = 'buy') THEN 'taker'"
    " ELSE 'maker' END AS liquidity, tr.price, tr.quantity, tr.total,"
    " CASE WHEN tr.seller_id = :u THEN tr.platform_fee ELSE 0.00 END AS fee,"
    " tr.settlement_status, tr.settlement_type, tr.tx_hash, tr.settled_at, tr.created_at"
    " FROM trades tr JOIN tokens t ON t.id = tr.token_id"
    " WHERE (tr.buyer_id = :u OR tr.seller_id = :u)")
TRANSACTIONS_SQL = (
    "SELECT w.id, w.type, w.currency, t.symbol, w.amount, w.quantity, w.status, w.balance_after,"
    " w.reference_type, w.reference_id, w.description, w.created_at"
    " FROM wallet_transactions w LEFT JOIN tokens t ON t.id = w.token_id WHERE w.user_id = :u")
OTC_SQL = (
    "SELECT o.id, t.symbol, o.token_id, o.client_order_id, o.side, o.quantity, o.price, o.total,"
    " o.locked_fiat, o.locked_quantity, o.status, o.rejection_reason, o.trade_id,"
    " o.reviewed_at, o.created_at FROM otc_orders o JOIN tokens t ON t.id = o.token_id"
    " WHERE o.user_id = :u")
WITHDRAWALS_SQL = (
    "SELECT w.id, w.amount, w.currency, w.reference, w.status, w.approval_request_id, w.decided_at,"
    " w.reason, w.created_at FROM withdrawal_requests w"
    " LEFT JOIN tokens t ON false WHERE w.user_id = :u")  # no token: a token filter finds none
LISTS = {"allocations": (ALLOCATIONS_SQL, "a"), "dividends": (DIVIDENDS_SQL, "p"),
         "fills": (FILLS_SQL, "tr"), "transactions": (TRANSACTIONS_SQL, "w"),
         "otc_orders": (OTC_SQL, "o"), "withdrawals": (WITHDRAWALS_SQL, "w")}


def history_page(conn: Connection, actor: Actor, kind: str, query: PageQuery) -> Page:
    """One page of the caller's list of this kind (a key of LISTS), newest first."""
    policy.require(actor, "account.read")
    select, alias = LISTS[kind]
    return fetch_page(conn, select, alias, actor.user_id, query)
