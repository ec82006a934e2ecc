"""Paying a dividend exactly once, in set-based chunks that each commit on their own.

1. start_distribution (one transaction): approved -> distributing. Locks the treasury, then the
   issuer (the spec's lock order), refuses unless the issuer's fiat balance covers net + fee, then
   debits the issuer net + fee and credits the treasury the fee. The holders' net is now owed by
   the declaration ("in flight": the pending payments of a distributing declaration, which
   `alefctl check` counts). Nothing moves if it is refused. Run again, it moves nothing.
2. pay_chunk (one transaction each): up to chunk_size pending payments, in holder id order after
   the previous chunk and locked with SKIP LOCKED, are credited and set paid in one statement
   of data-modifying CTEs (UPDATE ... FROM, INSERT ... SELECT): fiat to users.fiat_balance,
   stablecoin to user_balances (USDC, upsert), token to wallets (mint). A payment is credited in
   the same transaction that moves it pending -> paid, so a crash at any point leaves each
   payment either paid and credited or pending and not: a re-run pays the pending ones and
   nobody twice. Two runners at once share the work (SKIP LOCKED); a last pass from the first
   holder picks up payments another runner let go of. Holder ledger rows carry no created_by:
   the start and finish audit rows name the admin.
   A payment whose recipient may not receive (a deactivated account) is marked 'failed' with
   the reason instead, its net still owed (`alefctl dividend retry`, failures.py).
3. finish_distribution: distributing -> distributed once no payment is pending; it waits for a
   runner still paying a chunk (which holds the declaration FOR SHARE), then counts afresh.

Token dividends are minted, not transferred from the issuer's token wallet: issuers hold no
tokens on this platform (the offering sells to investors, go-live allocates to the treasury), so
a transfer would have nothing to draw on, and the spec's token dividend "mints additional
tokens". The holders' wallets are credited at once (DB first); each payment is marked
on_chain_status 'pending' for the mint worker (minting.py). A token's minted supply is then its
confirmed allocations plus its paid token dividends.
Stablecoin dividends are funded from the issuer's fiat (USD) like fiat ones, and paid in USDC 1:1.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.db.locks import USERS_IN_LOCK_ORDER
from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict, InsufficientFunds, NotFound
from alefctl.ids import UUID_V7_SQL, parse_id
from alefctl.money import format_usd
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.declaration import Dividend, get_dividend
from alefctl.workflows.money import CREDIT_DUE_SQL, DUE_LEDGER_COLUMNS, RECORD_DUE_SQL, Entry, move_fiat
from alefctl.workflows.transitions import DIVIDEND_FLOW, transition

DEFAULT_CHUNK_SIZE = 10_000
NO_USER = uuid.UUID(int=0)
# Keyset by user id: each chunk starts after the last one, never rescanning paid rows.
CLAIM_SQL = (
    "SELECT id, user_id, coalesce(paid_to, user_id) AS recipient FROM dividend_payments"
    " WHERE dividend_id = :d AND status = 'pending'"
    " AND user_id > :after ORDER BY user_id LIMIT :n FOR UPDATE SKIP LOCKED"
)
# Rows of the holders, locked in the lock order (db.locks) before crediting, after the treasury.
LOCK_HOLDERS_SQL = {
    "fiat": "SELECT 1 FROM users u JOIN unnest(CAST(:users AS uuid[])) c(id) ON u.id = c.id"
            f" ORDER BY {USERS_IN_LOCK_ORDER.format(user='u.id')} FOR UPDATE OF u",
    "stablecoin": "SELECT 1 FROM user_balances b JOIN unnest(CAST(:users AS uuid[])) c(id)"
                  " ON b.user_id = c.id AND b.currency = 'USDC'"
                  f" ORDER BY {USERS_IN_LOCK_ORDER.format(user='b.user_id')} FOR UPDATE OF b",
    "token": "SELECT 1 FROM wallets w JOIN unnest(CAST(:users AS uuid[])) c(id)"
             " ON w.user_id = c.id AND w.token_id = :token"
             f" ORDER BY {USERS_IN_LOCK_ORDER.format(user='w.user_id')} FOR UPDATE OF w",
}
# The credit of each type: a data-modifying CTE returning (user_id, balance_after). Token dividends
# are new tokens minted to the holders (see above), not money.
CREDIT_SQL = CREDIT_DUE_SQL | {
    "token": f"INSERT INTO wallets (id, user_id, token_id, balance) SELECT {UUID_V7_SQL}, user_id,"
             " :token, token_quantity FROM due ON CONFLICT (user_id, token_id) DO UPDATE SET"
             " balance = wallets.balance + EXCLUDED.balance, updated_at = now()"
             " RETURNING user_id, CAST(NULL AS numeric) AS balance_after",
}
# A payment whose recipient may not receive fails with the reason (failures.py retries it).
REFUSAL_SQL = "CASE WHEN NOT u.is_activated THEN 'account deactivated' END"
FAIL_SQL = (
    f"UPDATE dividend_payments p SET status = 'failed', failure_reason = {REFUSAL_SQL},"
    " failed_at = now() FROM users u WHERE p.id = ANY(CAST(:ids AS uuid[]))"
    f" AND p.status = 'pending' AND u.id = coalesce(p.paid_to, p.user_id)"
    f" AND {REFUSAL_SQL} IS NOT NULL RETURNING p.id"
)
# The recipient is the holder, or whom an admin re-routed the payment to (paid_to).
PAY_SQL = (
    "WITH due AS MATERIALIZED (SELECT p.id AS payment_id, coalesce(p.paid_to, p.user_id)"
    " AS user_id, p.net_amount,"
    f" p.token_quantity, {UUID_V7_SQL} AS transaction_id FROM unnest(CAST(:ids AS uuid[])) c(id)"
    " JOIN dividend_payments p ON p.id = c.id WHERE p.status = 'pending'),"
    " credited AS ({credit}),"
    f" recorded AS ({RECORD_DUE_SQL})"
    " UPDATE dividend_payments p SET status = 'paid', paid_at = now(),"
    " wallet_transaction_id = due.transaction_id, on_chain_status = {on_chain}"
    " FROM due WHERE p.id = due.payment_id"
)


@dataclass(frozen=True)
class PaidChunk:
    """What one chunk paid or failed, and the last holder it reached (where the next starts)."""

    paid: int
    last_user_id: uuid.UUID | None
    failed: int = 0

    @property
    def settled(self) -> int:
        """Payments this chunk took out of pending."""
        return self.paid + self.failed


@dataclass(frozen=True)
class DistributionProgress:
    """How far a distribution has got: payments paid so far out of the holders."""

    dividend_id: uuid.UUID
    paid: int
    holder_count: int


def distribute(engine: Engine, actor: Actor, ref: str, chunk_size: int = DEFAULT_CHUNK_SIZE,
               on_progress: Callable[[DistributionProgress], None] | None = None) -> Dividend:
    """Start (or resume) and pay a distribution, each step in its own transaction (admins)."""
    with engine.begin() as conn:
        dividend = start_distribution(conn, actor, ref)
    paid, after = dividend.paid_count + dividend.failed_count, None
    while True:
        with engine.begin() as conn:
            chunk = pay_chunk(conn, actor, str(dividend.id), chunk_size, after)
        if chunk.settled == 0:
            if after is None:
                break
            after = None  # one pass from the start: payments another runner let go of
            continue
        paid, after = paid + chunk.settled, chunk.last_user_id
        if on_progress is not None:
            on_progress(DistributionProgress(dividend.id, paid, dividend.holder_count))
    with engine.begin() as conn:
        return finish_distribution(conn, actor, str(dividend.id))


def start_distribution(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """approved -> distributing: the issuer funds net + fee, the treasury gets the fee (admins)."""
    policy.require(actor, "dividend.distribute")
    current = get_dividend(conn, actor, ref)
    if current.status in ("distributing", "distributed"):
        return current  # already funded: resume without waiting for a runner's chunk
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if dividend.status in ("distributing", "distributed"):
        return dividend  # funded meanwhile: never fund twice
    if dividend.status not in DIVIDEND_FLOW["start_distribution"][0]:
        raise Conflict(f"cannot distribute: the dividend is {dividend.status} (needs approved)")
    treasury = treasury_id(conn)
    # Lock order of the spec: the treasury before the issuer.
    conn.execute(text("SELECT 1 FROM users WHERE id = :u FOR UPDATE"), {"u": treasury})
    issuer_balance = conn.execute(text("SELECT fiat_balance FROM users WHERE id = :u FOR UPDATE"),
                                  {"u": dividend.issuer_id}).scalar_one()
    if issuer_balance < dividend.funding_usd:
        raise InsufficientFunds(
            f"the issuer's fiat balance {format_usd(issuer_balance)} USD does not cover the"
            f" dividend's {format_usd(dividend.funding_usd)} USD (net"
            f" {format_usd(dividend.total_net_usd)} + fee {format_usd(dividend.total_fee_usd)})")
    transition(conn, "dividend_declarations", dividend.id, DIVIDEND_FLOW, "start_distribution",
               returning="id")
    _book(conn, actor, dividend, dividend.issuer_id, -dividend.funding_usd, "dividend")
    _book(conn, actor, dividend, treasury, dividend.total_fee_usd, "fee")
    started = get_dividend(conn, actor, str(dividend.id))
    actor.audit(conn, "dividend.start_distribution", "dividend_declaration", dividend.id,
                before={"status": dividend.status, "issuer_fiat_balance": issuer_balance},
                after={"status": started.status, "issuer_debit": dividend.funding_usd,
                       "treasury_fee": dividend.total_fee_usd})
    return started


def pay_chunk(conn: Connection, actor: Actor, ref: str, chunk_size: int = DEFAULT_CHUNK_SIZE,
              after_user_id: uuid.UUID | None = None) -> PaidChunk:
    """Pay up to chunk_size pending payments of a distributing declaration, by holder id (admins)."""
    policy.require(actor, "dividend.distribute")
    dividend_id = parse_id(ref, field="dividend")
    row = conn.execute(text("SELECT status, dividend_type, token_id FROM dividend_declarations"
                            " WHERE id = :d FOR SHARE"), {"d": dividend_id}).first()
    if row is None:
        raise NotFound(f"dividend not found: {ref}")
    if row.status != "distributing":
        return PaidChunk(0, None)
    claimed = conn.execute(text(CLAIM_SQL), {"d": dividend_id, "n": chunk_size,
                                             "after": after_user_id or NO_USER}).all()
    if not claimed:
        return PaidChunk(0, None)
    paid, failed = pay_claimed(conn, dividend_id, row.dividend_type, row.token_id, claimed)
    return PaidChunk(paid, claimed[-1].user_id, failed)


def pay_claimed(conn: Connection, dividend_id: uuid.UUID, kind: str, token_id: uuid.UUID,
                claimed: Sequence[Any]) -> tuple[int, int]:
    """Pay claimed pending payments (rows of id, recipient, locked by the caller): those whose
    recipient may not receive fail with the reason; returns (paid, failed)."""
    failed = set(conn.execute(text(FAIL_SQL), {"ids": [c.id for c in claimed]}).scalars())
    payable = [c for c in claimed if c.id not in failed]
    if not payable:
        return 0, len(failed)
    treasury = treasury_id(conn)
    locks.lock_treasury(conn, treasury, shared=True)  # the gate: an order group may be crediting them
    conn.execute(text(LOCK_HOLDERS_SQL[kind]), {"users": [c.recipient for c in payable],
                                                 "treasury": treasury, "token": token_id})
    on_chain = "'pending'" if kind == "token" else "NULL"
    sql = PAY_SQL.format(credit=CREDIT_SQL[kind], ledger=DUE_LEDGER_COLUMNS[kind], on_chain=on_chain)
    paid = conn.execute(text(sql), {"ids": [c.id for c in payable], "d": dividend_id,
                                    "token": token_id, "kind": "dividend",
                                    "ref_type": "dividend_declaration", "ref_id": dividend_id}).rowcount
    if paid != len(payable):
        raise Conflict(f"paid {paid} of {len(payable)} claimed payments; nothing was kept")
    return paid, len(failed)


def finish_distribution(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """distributing -> distributed once every payment is paid; else returns it still distributing."""
    policy.require(actor, "dividend.distribute")
    dividend = get_dividend(conn, actor, ref, for_update=True)
    # The lock waits for runners still paying (they hold the row FOR SHARE); count afresh after it.
    pending = conn.execute(text("SELECT count(*) FROM dividend_payments WHERE dividend_id = :d"
                                " AND status = 'pending'"), {"d": dividend.id}).scalar_one()
    if dividend.status != "distributing" or pending > 0:
        return get_dividend(conn, actor, ref)
    transition(conn, "dividend_declarations", dividend.id, DIVIDEND_FLOW, "finish_distribution",
               returning="id", distributed_at=datetime.now().astimezone())
    finished = get_dividend(conn, actor, str(dividend.id))
    actor.audit(conn, "dividend.distribute", "dividend_declaration", dividend.id,
                before={"status": dividend.status},
                after={"status": finished.status, "paid": finished.paid_count,
                       "failed": finished.failed_count,
                       "total_net_usd": finished.total_net_usd,
                       "total_token_qty": finished.total_token_qty})
    return finished


def _book(conn: Connection, actor: Actor, dividend: Dividend, user_id: uuid.UUID,
          signed_amount: Decimal, kind: str) -> None:
    """Move fiat for one user and write its wallet transaction (amount signed from the user's side)."""
    if signed_amount != 0:
        move_fiat(conn, user_id, signed_amount, Entry(
            kind, token_id=dividend.token_id, reference=("dividend_declaration", dividend.id),
            created_by=actor.user_id))
