"""Dividends: declare (the record-date snapshot of holders into payment rows: snapshot.py), and
find or list declarations.

Amounts, per holder: gross = per_token_usd * balance, fee = gross * fee_pct / 100, where fee_pct
is the platform's (trading.dividend_fee_pct, passed in by the front end; never the issuer's),
net = gross - fee; gross and fee are each rounded down to the cent, so net is exact too.
total_gross_usd is per_token_usd * total_held rounded down to the cent; what the per-holder
rounding leaves of it is booked in remainder_usd, so that
total_net_usd + total_fee_usd + remainder_usd = total_gross_usd to the cent.
The issuer keeps the remainder: it is never debited (distribution debits net + fee only), so no
one is charged for money no holder receives. Below the cent, per_token_usd * total_held may
carry dust (per_token_usd has 6 decimals) that no `usd` column can hold; it never moves.

Token dividends carry no USD amounts and no fee: each holder receives per_token_qty * balance new
tokens (see distribution.py for why they are minted).
Review (submit, approve, cancel) is in review.py; paying is in distribution.py.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alefctl.ids import new_id, parse_id
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.snapshot import record_date_passed, take_snapshot
from alefctl.workflows.tokens import get_token
from alefctl.workflows.validation import percentage, positive_decimal, whole_number

DIVIDEND_TYPES = ("fiat", "stablecoin", "token")
DIVIDEND_STATUSES = ("draft", "pending_approval", "approved", "distributing", "distributed",
                     "cancelled")
# Only a token whose holders are settled on the books pays: not in its offering, not delisted.
PAYING_TOKEN_STATUSES = ("secondary", "paused", "matured")
PER_TOKEN_USD_PLACES = 6  # dividend_declarations.per_token_usd is NUMERIC(20, 6)

DIVIDEND_COLUMNS = (
    "d.id, d.token_id, t.symbol, b.owner_id AS issuer_id, d.dividend_type, d.per_token_usd,"
    " d.per_token_qty, d.record_date, d.payment_date, d.total_held, d.total_gross_usd, d.fee_pct,"
    " d.total_fee_usd, d.total_net_usd, d.remainder_usd, d.total_token_qty, d.holder_count,"
    " d.status, d.declared_by, u.email AS declared_by_email, d.approved_by, d.approved_at,"
    " d.distributed_at, d.cancelled_at, d.cancel_reason, d.created_at, d.snapshot_taken_at,"
    " d.treasury_included, c.paid_count, c.pending_count, c.failed_count"
)
DIVIDEND_FROM = (
    "dividend_declarations d JOIN tokens t ON t.id = d.token_id"
    " JOIN businesses b ON b.id = t.business_id JOIN users u ON u.id = d.declared_by"
    " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE p.status = 'paid') AS paid_count,"
    " count(*) FILTER (WHERE p.status = 'pending') AS pending_count,"
    " count(*) FILTER (WHERE p.status = 'failed') AS failed_count"
    " FROM dividend_payments p WHERE p.dividend_id = d.id) c"
)
@dataclass(frozen=True)
class NewDividend:
    """What an issuer sends to declare a dividend; numbers may be strings from a front end. No
    fee: it is the platform's (declare's fee_pct, from settings)."""

    token: str
    dividend_type: str
    per_token_usd: str | Decimal | None = None
    per_token_qty: int | str | None = None
    record_date: datetime | None = None
    payment_date: datetime | None = None


@dataclass(frozen=True)
class Dividend:
    """A dividend declaration with its totals and how many payments are paid or pending."""

    id: uuid.UUID
    token_id: uuid.UUID
    symbol: str
    issuer_id: uuid.UUID
    dividend_type: str
    per_token_usd: Decimal | None
    per_token_qty: int | None
    record_date: datetime
    payment_date: datetime | None
    total_held: int
    total_gross_usd: Decimal
    fee_pct: Decimal
    total_fee_usd: Decimal
    total_net_usd: Decimal
    remainder_usd: Decimal
    total_token_qty: int
    holder_count: int
    status: str
    declared_by: uuid.UUID
    declared_by_email: str
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    distributed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    snapshot_taken_at: datetime | None
    treasury_included: bool
    paid_count: int
    pending_count: int
    failed_count: int

    @property
    def funding_usd(self) -> Decimal:
        """What distribution debits from the issuer's fiat balance: net + fee (not the remainder)."""
        return self.total_net_usd + self.total_fee_usd

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output, with the issuer's funding requirement."""
        return {**asdict(self), "funding_usd": self.funding_usd}


@dataclass(frozen=True)
class DividendPayment:
    """One holder's payment of a dividend, from the record-date snapshot."""

    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    token_balance: int
    gross_amount: Decimal
    fee_amount: Decimal
    net_amount: Decimal
    token_quantity: int
    status: str
    wallet_transaction_id: uuid.UUID | None
    on_chain_status: str | None
    paid_at: datetime | None
    failure_reason: str | None
    paid_to_email: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def declare(conn: Connection, actor: Actor, form: NewDividend, *, fee_pct: str | Decimal,
            treasury_earns: bool = False, snapshot_grace: timedelta = timedelta(0),
            now: datetime | None = None) -> Dividend:
    """Declare a draft dividend: the issuer of the token only. Its holders are those at the
    record date (snapshot.py): snapshotted now if the record date has passed by snapshot_grace
    (or none was given: then it is now), else when it does. fee_pct is the platform's fee
    (trading.dividend_fee_pct) on a fiat or stablecoin dividend; treasury_earns
    (dividends.treasury_earns) whether the platform treasury's own holding is paid."""
    policy.require(actor, "dividend.declare")
    token = get_token(conn, form.token, for_update=True)
    if token.issuer_id != actor.user_id:
        raise PermissionDenied(f"only the issuer of {token.symbol} may declare its dividends")
    if token.status not in PAYING_TOKEN_STATUSES:
        raise Conflict(f"{token.symbol} is {token.status}; dividends are declared on tokens that"
                       f" are {', '.join(PAYING_TOKEN_STATUSES)}")
    amounts = _amounts(form, fee_pct)
    now = now or conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    record_date, payment_date = _dates(form, now)
    dividend_id = new_id()
    with conn.begin_nested():  # a refused snapshot leaves nothing behind
        conn.execute(text(
            "INSERT INTO dividend_declarations (id, token_id, declared_by, dividend_type,"
            " per_token_usd, per_token_qty, record_date, payment_date, fee_pct, treasury_included)"
            " VALUES (:id, :t, :by, :type, :usd, :qty, :record, :payment, :fee, :treasury)"),
            {"id": dividend_id, "t": token.id, "by": actor.user_id, "type": form.dividend_type,
             "record": record_date, "payment": payment_date, "treasury": treasury_earns, **amounts})
        # no record date given: the holders now, at once
        if form.record_date is None or record_date_passed(record_date, now, snapshot_grace):
            take_snapshot(conn, dividend_id)
            _check_holders(conn, dividend_id, token.symbol)
    dividend = get_dividend(conn, actor, str(dividend_id))
    actor.audit(conn, "dividend.declare", "dividend_declaration", dividend_id,
                after=_summary(dividend))
    return dividend


def get_dividend(conn: Connection, actor: Actor, ref: str, *, for_update: bool = False) -> Dividend:
    """A declaration by id, seen by admins and the token's issuer; NotFound for anyone else."""
    lock = " FOR UPDATE OF d" if for_update else ""
    row = conn.execute(text(f"SELECT {DIVIDEND_COLUMNS} FROM {DIVIDEND_FROM} WHERE d.id = :id{lock}"),
                       {"id": parse_id(ref, field="dividend")}).first()
    if row is None or (row.issuer_id != actor.user_id and not policy.may(actor, "dividend.read.others")):
        raise NotFound(f"dividend not found: {ref}")
    return Dividend(**row._mapping)


def list_dividends(conn: Connection, actor: Actor, token_ref: str | None = None,
                   status: str | None = None) -> list[Dividend]:
    """Declarations, newest first: all for admins, their own tokens' for issuers."""
    policy.require(actor, "dividend.read")
    if status is not None and status not in DIVIDEND_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(DIVIDEND_STATUSES)}", field="status")
    token_id = get_token(conn, token_ref).id if token_ref else None
    issuer_id = None if policy.may(actor, "dividend.read.others") else actor.user_id
    rows = conn.execute(text(
        f"SELECT {DIVIDEND_COLUMNS} FROM {DIVIDEND_FROM}"
        " WHERE (CAST(:t AS uuid) IS NULL OR d.token_id = :t)"
        " AND (CAST(:s AS text) IS NULL OR d.status = :s)"
        " AND (CAST(:issuer AS uuid) IS NULL OR b.owner_id = :issuer)"
        " ORDER BY d.created_at DESC, d.id DESC"),
        {"t": token_id, "s": status, "issuer": issuer_id})
    return [Dividend(**row._mapping) for row in rows]


def list_payments(conn: Connection, actor: Actor, ref: str, status: str | None = None,
                  limit: int | None = None) -> list[DividendPayment]:
    """The payments of a declaration by holder email (admins and the token's issuer)."""
    dividend = get_dividend(conn, actor, ref)
    rows = conn.execute(text(
        "SELECT p.id, p.user_id, u.email, p.token_balance, p.gross_amount, p.fee_amount,"
        " p.net_amount, p.token_quantity, p.status, p.wallet_transaction_id, p.on_chain_status,"
        " p.paid_at, p.failure_reason, r.email AS paid_to_email FROM dividend_payments p"
        " JOIN users u ON u.id = p.user_id LEFT JOIN users r ON r.id = p.paid_to"
        " WHERE p.dividend_id = :d AND (CAST(:s AS text) IS NULL OR p.status = :s)"
        " ORDER BY u.email LIMIT :limit"),
        {"d": dividend.id, "s": status, "limit": limit})
    return [DividendPayment(**row._mapping) for row in rows]


def _amounts(form: NewDividend, fee_pct: str | Decimal) -> dict[str, Any]:
    if form.dividend_type not in DIVIDEND_TYPES:
        raise InvalidInput(f"dividend_type must be one of {', '.join(DIVIDEND_TYPES)}",
                           field="dividend_type")
    if form.dividend_type == "token":
        if form.per_token_usd is not None:
            raise InvalidInput("a token dividend is given as per_token_qty, not per_token_usd",
                               field="per_token_usd")
        if form.per_token_qty is None:
            raise InvalidInput("a token dividend needs per_token_qty", field="per_token_qty")
        qty = whole_number(form.per_token_qty, field="per_token_qty", minimum=1)
        return {"usd": None, "qty": qty, "fee": Decimal(0)}
    if form.per_token_qty is not None:
        raise InvalidInput(f"a {form.dividend_type} dividend is given as per_token_usd, not"
                           " per_token_qty", field="per_token_qty")
    if form.per_token_usd is None:
        raise InvalidInput(f"a {form.dividend_type} dividend needs per_token_usd",
                           field="per_token_usd")
    usd = positive_decimal(form.per_token_usd, field="per_token_usd")
    if usd != round(usd, PER_TOKEN_USD_PLACES) or usd >= 10 ** 14:
        raise InvalidInput(f"per_token_usd must have at most {PER_TOKEN_USD_PLACES} decimals and"
                           " be below 10^14", field="per_token_usd")
    return {"usd": usd, "qty": None, "fee": percentage(fee_pct, field="fee_pct")}


def _check_holders(conn: Connection, dividend_id: uuid.UUID, symbol: str) -> None:
    """Refuse a snapshot with no holders, or in which every holder's payment rounds to zero."""
    row = conn.execute(text(
        "SELECT dividend_type, holder_count, total_gross_usd, treasury_included"
        " FROM dividend_declarations WHERE id = :d"), {"d": dividend_id}).one()
    if row.holder_count == 0:
        raise Conflict(f"{symbol} had no holders to pay at the record date"
                       + ("" if row.treasury_included else " (the treasury's holding earns no"
                          " dividend: settings dividends.treasury_earns)"))
    if row.dividend_type != "token" and row.total_gross_usd == 0:
        raise InvalidInput("per_token_usd is too small: every holder's payment rounds down to"
                           " zero", field="per_token_usd")


def _dates(form: NewDividend, now: datetime) -> tuple[datetime, datetime | None]:
    # A record date to come is allowed: the holders are snapshotted once it has passed.
    record_date = form.record_date or now
    if form.payment_date is not None and form.payment_date < record_date:
        raise InvalidInput("payment_date must not be before record_date", field="payment_date")
    return record_date, form.payment_date


def _summary(dividend: Dividend) -> dict[str, Any]:
    keys = ("symbol", "dividend_type", "per_token_usd", "per_token_qty", "fee_pct", "record_date",
            "treasury_included", "snapshot_taken_at", "holder_count", "total_held",
            "total_gross_usd", "total_fee_usd", "total_net_usd", "remainder_usd",
            "total_token_qty", "status")
    return {key: getattr(dividend, key) for key in keys}
