"""Tokens: create a draft, find, list, and record NAV."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.ids import new_id
from alefctl.money import CURRENCIES, parse_amount
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.businesses import get_business
from alefctl.workflows.validation import percentage, positive_decimal, whole_number

# A token whose tokens trade here: its secondary market, running or paused (order book, OTC,
# halts, custody moves).
TRADED_STATUSES = ("secondary", "paused")

SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
TOKEN_COLUMNS = (
    "t.id, t.business_id, b.owner_id AS issuer_id, t.name, t.symbol, t.decimals, t.status,"
    " t.trading_mode, t.total_supply, t.tokens_sold, t.tokens_reserved, t.total_raised,"
    " t.escrow_balance, t.price_per_token, t.min_investment, t.raise_currency,"
    " t.primary_offering_pct, t.team_pct, t.reserve_pct, t.tick_size, t.fee_bps,"
    " t.nav_per_token, t.maturity_date, t.primary_start, t.primary_end, t.contract_address,"
    " t.identity_registry_addr, t.compliance_addr, t.deployed_at, t.created_at,"
    " t.breaker_move_pct, t.breaker_window_s, t.breaker_halt_s, t.fat_finger_pct,"
    " t.nav_deviation_pct, t.halted_at, t.halted_until, t.halt_reason,"
    " t.platform_pct, t.soft_cap, t.max_investment, t.lockup_until, t.cancel_reason"
)
# The token's own protection thresholds (None: the platform's default; workflows/protections.py)
# and its halt, shown nested by to_dict, not as columns.
NESTED_FIELDS = ("breaker_move_pct", "breaker_window_s", "breaker_halt_s", "fat_finger_pct",
                 "nav_deviation_pct", "halted_at", "halted_until", "halt_reason")
# Set (or with None, lift) a token's halt: workflows/halts.py, and a tripped circuit breaker.
SET_HALT = text("UPDATE tokens SET halted_at = :since, halted_until = :until, halt_reason = :reason,"
                " updated_at = now() WHERE id = :id")


def halt_in_force(halted_at: datetime | None, halted_until: datetime | None,
                  now: datetime) -> bool:
    """Whether a halt stops trading at this time: set, and without an end or not yet ended."""
    return halted_at is not None and (halted_until is None or halted_until > now)


@dataclass(frozen=True)
class Token:
    """A security token and its offering figures."""

    id: uuid.UUID
    business_id: uuid.UUID
    issuer_id: uuid.UUID
    name: str
    symbol: str
    decimals: int
    status: str
    trading_mode: str
    total_supply: int
    tokens_sold: int
    tokens_reserved: int
    total_raised: Decimal
    escrow_balance: Decimal
    price_per_token: Decimal
    min_investment: int
    raise_currency: str
    primary_offering_pct: Decimal
    team_pct: Decimal
    reserve_pct: Decimal
    tick_size: Decimal
    fee_bps: int
    nav_per_token: Decimal | None
    maturity_date: datetime | None
    primary_start: datetime | None
    primary_end: datetime | None
    contract_address: str | None
    identity_registry_addr: str | None
    compliance_addr: str | None
    deployed_at: datetime | None
    created_at: datetime
    platform_pct: Decimal | None  # None: created before it was fixed at creation (migration 0015)
    soft_cap: Decimal | None
    max_investment: int | None
    lockup_until: datetime | None
    cancel_reason: str | None
    breaker_move_pct: Decimal | None = None
    breaker_window_s: int | None = None
    breaker_halt_s: int | None = None
    fat_finger_pct: Decimal | None = None
    nav_deviation_pct: Decimal | None = None
    halted_at: datetime | None = None
    halted_until: datetime | None = None
    halt_reason: str | None = None

    @property
    def halt(self) -> dict[str, Any] | None:
        """The halt in force now (since, until: None until an admin resumes it, reason)."""
        if not halt_in_force(self.halted_at, self.halted_until, datetime.now(UTC)):
            return None
        return {"since": self.halted_at, "until": self.halted_until, "reason": self.halt_reason}

    def tokens_of(self, units: int) -> int | Decimal:
        """A chain balance in base units as tokens: an int when whole (never 1E+2), else the
        exact fraction."""
        whole, part = divmod(units, 10 ** self.decimals)
        return whole if not part else Decimal(units).scaleb(-self.decimals).normalize()

    @property
    def primary_cap(self) -> int:
        """Tokens offered in the primary offering: primary_offering_pct of the supply."""
        return int(self.total_supply * self.primary_offering_pct // 100)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output, with the tokens still offered."""
        data = {name: value for name, value in asdict(self).items()
                if name not in NESTED_FIELDS}
        return {**data, "primary_cap": self.primary_cap,
                "tokens_available": self.primary_cap - self.tokens_sold - self.tokens_reserved,
                "halt": self.halt}


@dataclass(frozen=True)
class NewToken:
    """What an issuer sends to create a draft token; numbers may be strings from a front end.
    No fee: the trading fee is the platform's (create_token's default_fee_bps, from settings)."""

    business_id: str
    name: str
    symbol: str
    total_supply: int | str
    price_per_token: str | Decimal
    primary_offering_pct: str | Decimal | None = None  # None: what the other shares leave
    team_pct: str | Decimal = "0"
    reserve_pct: str | Decimal = "0"
    min_investment: int | str = 1
    raise_currency: str = "USD"
    tick_size: str | Decimal = "0.01"
    decimals: int | str = 18
    maturity_date: datetime | None = None
    soft_cap: str | Decimal | None = None
    max_investment: int | str | None = None
    lockup_until: datetime | None = None


def create_token(conn: Connection, actor: Actor, form: NewToken, default_fee_bps: int) -> Token:
    """Create a draft token for the actor's active business; every error names its field. Its
    trading fee is the platform's for new tokens (trading.default_fee_bps), never the issuer's."""
    policy.require(actor, "token.create")
    business = get_business(conn, form.business_id)
    if business.owner_id != actor.user_id:
        raise NotFound(f"business not found: {form.business_id}")
    if business.status != "active":
        raise Conflict(f"business {business.company_name} is {business.status}; only an active"
                       " business can create tokens")
    symbol = form.symbol.strip()
    if not SYMBOL.match(symbol):
        raise InvalidInput("symbol must be 1-10 upper-case letters or digits, starting with a"
                           f" letter (got {form.symbol!r})", field="symbol")
    pcts = supply_split(form, business.alef_allocation_pct)
    if form.raise_currency not in CURRENCIES:
        raise InvalidInput(f"raise_currency must be one of {', '.join(CURRENCIES)}",
                           field="raise_currency")
    if form.maturity_date is not None and form.maturity_date <= datetime.now().astimezone():
        raise InvalidInput("maturity_date must be in the future", field="maturity_date")
    params = {
        "id": new_id(), "business": business.id, "by": actor.user_id,
        "name": validation.non_empty(form.name, field="name", max_length=100), "symbol": symbol,
        "decimals": whole_number(form.decimals, field="decimals", minimum=0, maximum=18),
        "supply": whole_number(form.total_supply, field="total_supply", minimum=1),
        "price": parse_amount(form.price_per_token, field="price_per_token"),
        "min": whole_number(form.min_investment, field="min_investment", minimum=1),
        "currency": form.raise_currency, "tick": parse_amount(form.tick_size, field="tick_size"),
        "fee": whole_number(default_fee_bps, field="fee_bps", minimum=0, maximum=10_000),
        "maturity": form.maturity_date, **pcts, **offering_terms(form),
    }
    if conn.execute(text("SELECT 1 FROM tokens WHERE symbol = :s"), {"s": symbol}).first():
        raise Conflict(f"symbol {symbol} is already taken", field="symbol")
    conn.execute(text(
        "INSERT INTO tokens (id, business_id, created_by, name, symbol, decimals, total_supply,"
        " price_per_token, min_investment, raise_currency, tick_size, fee_bps, maturity_date,"
        " primary_offering_pct, team_pct, reserve_pct, platform_pct, soft_cap, max_investment,"
        " lockup_until) VALUES (:id, :business, :by, :name, :symbol, :decimals, :supply, :price,"
        " :min, :currency, :tick, :fee, :maturity, :primary_offering_pct, :team_pct,"
        " :reserve_pct, :platform_pct, :soft_cap, :max_investment, :lockup_until)"), params)
    token = get_token(conn, symbol)
    actor.audit(conn, "token.create", "token", token.id, after=token.to_dict())
    return token


def supply_split(form: NewToken, platform_pct: Decimal) -> dict[str, Decimal]:
    """The shares of the supply: primary, team, reserve and the platform's allocation (fixed now,
    from the business) must fit in 100%, so a sell-out can always go live. Without a primary
    share the offering takes what the others leave."""
    pcts = {name: percentage(getattr(form, name), field=name) for name in ("team_pct", "reserve_pct")}
    others = pcts["team_pct"] + pcts["reserve_pct"] + platform_pct
    primary = (100 - others if form.primary_offering_pct in (None, "")
               else percentage(form.primary_offering_pct, field="primary_offering_pct"))
    if primary <= 0:
        raise InvalidInput("primary_offering_pct must be above 0 (team, reserve and the platform's"
                           f" {platform_pct}% leave {100 - others}%)", field="primary_offering_pct")
    if primary + others > 100:
        raise InvalidInput(f"primary_offering_pct + team_pct + reserve_pct + the platform's"
                           f" allocation ({platform_pct}%) must be at most 100 (got"
                           f" {primary + others})", field="primary_offering_pct")
    return {"primary_offering_pct": primary, **pcts, "platform_pct": platform_pct}


def offering_terms(form: NewToken) -> dict[str, Any]:
    """The optional soft cap, per-investor maximum and lock-up of team and reserve tokens."""
    soft_cap = None if form.soft_cap in (None, "") else parse_amount(form.soft_cap, field="soft_cap")
    most = (None if form.max_investment in (None, "") else
            whole_number(form.max_investment, field="max_investment", minimum=1))
    if most is not None and most < whole_number(form.min_investment, field="min_investment",
                                                      minimum=1):
        raise InvalidInput("max_investment must be at least min_investment", field="max_investment")
    return {"soft_cap": soft_cap, "max_investment": most, "lockup_until": form.lockup_until}


def get_token(conn: Connection, ref: str, *, for_update: bool = False) -> Token:
    """A token by symbol or id, or NotFound; for_update locks the token row."""
    column = "t.symbol" if SYMBOL.match(ref.strip().upper()) and len(ref) <= 10 else "t.id"
    value: Any = ref.strip().upper() if column == "t.symbol" else _uuid(ref)
    lock = " FOR UPDATE OF t" if for_update else ""
    row = conn.execute(text(f"SELECT {TOKEN_COLUMNS} FROM tokens t JOIN businesses b"
                            f" ON b.id = t.business_id WHERE {column} = :v{lock}"),
                       {"v": value}).first()
    if row is None:
        raise NotFound(f"token not found: {ref}")
    return Token(**row._mapping)


def list_tokens(conn: Connection, status: str | None = None) -> list[Token]:
    """Every token, optionally of one status, by symbol."""
    rows = conn.execute(text(f"SELECT {TOKEN_COLUMNS} FROM tokens t JOIN businesses b"
                             " ON b.id = t.business_id WHERE (CAST(:s AS text) IS NULL"
                             " OR t.status = :s) ORDER BY t.symbol"), {"s": status})
    return [Token(**row._mapping) for row in rows]


def set_nav(conn: Connection, actor: Actor, ref: str, nav: str | Decimal,
            as_of: datetime | None = None) -> Token:
    """Record the token's net asset value per token (admins, or the issuer)."""
    token = get_token(conn, ref, for_update=True)
    if actor.user_id != token.issuer_id:
        policy.require(actor, "token.set_nav.others")
    value = positive_decimal(nav, field="nav")
    when = as_of or datetime.now().astimezone()
    conn.execute(text("INSERT INTO nav_history (id, token_id, nav_per_token, as_of, created_by)"
                      " VALUES (:id, :t, :nav, :as_of, :by)"),
                 {"id": new_id(), "t": token.id, "nav": value, "as_of": when, "by": actor.user_id})
    conn.execute(text("UPDATE tokens SET nav_per_token = :nav, nav_updated_at = :as_of,"
                      " updated_at = now() WHERE id = :t"),
                 {"nav": value, "as_of": when, "t": token.id})
    actor.audit(conn, "token.set_nav", "token", token.id, before={"nav": token.nav_per_token},
                after={"nav": value, "as_of": when})
    return get_token(conn, str(token.id))


def _uuid(ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        raise NotFound(f"token not found: {ref}") from None
