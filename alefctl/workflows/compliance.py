"""Compliance rules of a token, as an issuer's counsel asks for them: denied countries, a maximum
balance per investor, a maximum number of holders.

One rule set per token (token_compliance_rules). It is checked here before an order or a
subscription is accepted (`check_acquisition`, the one place), and enforced on-chain by the
token's Compliance contract, which a chain job brings to the same rules (onchain/token_state.py).
An investor's country is the one registered on-chain for her wallet: residence, else the
nationality of her approved KYC (onchain/jobs.country_numeric).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.jobs import NATIONALITY_SQL
from alefctl.workflows.tokens import get_token
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from alefctl.workflows.validation import whole_number

RULES_SQL = text("SELECT denied_countries, allowed_countries, max_balance, max_holders"
                 " FROM token_compliance_rules WHERE token_id = :t")
# What an investor holds or has asked for: balance, pending subscriptions, open buy orders,
# OTC buys waiting for an admin.
HELD_SQL = text(
    "SELECT coalesce((SELECT balance FROM wallets WHERE user_id = :u AND token_id = :t), 0)"
    " + coalesce((SELECT sum(quantity) FROM token_allocations WHERE user_id = :u"
    " AND token_id = :t AND status = 'pending_payment'), 0)"
    " + coalesce((SELECT sum(remaining_quantity) FROM orders WHERE user_id = :u AND token_id = :t"
    f" AND side = 'buy' AND status IN {OPEN_STATUSES_SQL}), 0)"
    " + coalesce((SELECT sum(quantity) FROM otc_orders WHERE user_id = :u AND token_id = :t"
    " AND side = 'buy' AND status = 'pending'), 0)")
HOLDERS_SQL = text(
    "SELECT count(*) FROM (SELECT user_id FROM wallets WHERE token_id = :t AND balance > 0"
    " UNION SELECT user_id FROM token_allocations WHERE token_id = :t"
    " AND status = 'pending_payment') AS holders")
COUNTRY_SQL = text(f"SELECT u.country, {NATIONALITY_SQL.format(user='u')} AS nationality"
                   " FROM users u WHERE u.id = :u")


class ComplianceRefused(Conflict):
    """A token's compliance rules refuse the acquisition (409; the code names the rule)."""

    code = "compliance_refused"


@dataclass(frozen=True)
class ComplianceRules:
    """A token's rules; None means no limit. allowed_countries: denials lifted (kept so that the
    chain job lifts them on-chain too)."""

    denied_countries: tuple[str, ...] = ()
    max_balance: int | None = None
    max_holders: int | None = None
    allowed_countries: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no rule is set."""
        return not self.denied_countries and self.max_balance is None and self.max_holders is None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"denied_countries": list(self.denied_countries), "max_balance": self.max_balance,
                "max_holders": self.max_holders, "allowed_countries": list(self.allowed_countries)}


@dataclass
class UnwrittenHoldings:
    """What an order group changed of HELD_SQL and HOLDERS_SQL and has not written yet (it
    writes its orders and trades at flush): the running counts `check_acquisition` adds to what
    it reads, as the group's invested_changes are to the investment limit."""

    # per (investor, token): buys placed, less buys cancelled and tokens sold
    held: Counter[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=Counter)
    # (investor, token) that held nothing when a buy of theirs was accepted: a new holder once
    # it fills
    entrants: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    # per token: the investors who became holders by a fill in the group
    new_holders: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)

    def bid(self, user_id: uuid.UUID, token_id: uuid.UUID, quantity: int, entrant: bool) -> None:
        """A buy of `quantity` was accepted (its owner held nothing before, if `entrant`)."""
        self.held[(user_id, token_id)] += quantity
        if entrant:
            self.entrants.add((user_id, token_id))

    def gone(self, user_id: uuid.UUID, token_id: uuid.UUID, quantity: int) -> None:
        """An open buy's remainder was cancelled, or tokens were sold."""
        self.held[(user_id, token_id)] -= quantity

    def bought(self, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
        """A buy filled: an entrant now holds tokens."""
        if (user_id, token_id) in self.entrants:
            self.new_holders.setdefault(token_id, set()).add(user_id)


def get_rules(conn: Connection, token_id: uuid.UUID) -> ComplianceRules:
    """The token's rules (no rule if none were set)."""
    row = conn.execute(RULES_SQL, {"t": token_id}).first()
    if row is None:
        return ComplianceRules()
    return ComplianceRules(tuple(sorted(row.denied_countries)), row.max_balance, row.max_holders,
                           tuple(sorted(row.allowed_countries)))


def set_rules(conn: Connection, actor: Actor, token_ref: str, *, deny: Iterable[str] = (),
              allow: Iterable[str] = (), max_balance: int | str | None = None,
              max_holders: int | str | None = None) -> ComplianceRules:
    """Change a token's rules (admins): deny or allow countries, set limits (0 removes one);
    audited, and a chain job brings the token's Compliance contract to the same rules."""
    from alefctl.workflows.onchain.token_state import queue_job

    policy.require(actor, "token.compliance")
    token = get_token(conn, token_ref, for_update=True)
    before = get_rules(conn, token.id)
    denied, allowed = _countries(deny, "deny_country"), _countries(allow, "allow_country")
    if denied & allowed:
        raise InvalidInput(f"{', '.join(sorted(denied & allowed))} both denied and allowed",
                           field="allow_country")
    after = ComplianceRules(
        tuple(sorted((set(before.denied_countries) | denied) - allowed)),
        _limit(max_balance, "max_balance", before.max_balance),
        _limit(max_holders, "max_holders", before.max_holders),
        tuple(sorted((set(before.allowed_countries) | allowed) - denied)))
    conn.execute(text(
        "INSERT INTO token_compliance_rules (token_id, denied_countries, allowed_countries,"
        " max_balance, max_holders, updated_by) VALUES (:t, :denied, :allowed, :balance, :holders,"
        " :by) ON CONFLICT (token_id) DO UPDATE SET denied_countries = :denied,"
        " allowed_countries = :allowed, max_balance = :balance, max_holders = :holders,"
        " updated_by = :by, updated_at = now()"),
        {"t": token.id, "denied": list(after.denied_countries),
         "allowed": list(after.allowed_countries), "balance": after.max_balance,
         "holders": after.max_holders, "by": actor.user_id})
    actor.audit(conn, "token.compliance", "token", token.id, before=before.to_dict(),
                after=after.to_dict())
    if after != before:
        queue_job(conn, actor, token.id, "compliance")
    return after


def check_acquisition(conn: Connection, token_id: uuid.UUID, user_id: uuid.UUID,
                      quantity: int, rules: ComplianceRules | None = None,
                      unwritten: UnwrittenHoldings | None = None) -> bool:
    """Refuse (409, code naming the rule) a buy or subscription the token's rules forbid;
    `rules` if the caller already loaded them, `unwritten` an order group's changes not written
    yet. True if the investor holds and asked for nothing yet (a holder to be)."""
    rules = rules if rules is not None else get_rules(conn, token_id)
    if rules.empty:
        return False
    if rules.denied_countries:
        country = investor_country(conn, user_id)
        if country in rules.denied_countries:
            raise ComplianceRefused(f"investors of {country} may not acquire this token",
                                    code="compliance_country_denied")
    if rules.max_balance is None and rules.max_holders is None:
        return False
    unwritten = unwritten if unwritten is not None else UnwrittenHoldings()
    held = int(conn.execute(HELD_SQL, {"u": user_id, "t": token_id}).scalar_one())
    held += unwritten.held[(user_id, token_id)]
    if rules.max_balance is not None and held + quantity > rules.max_balance:
        raise ComplianceRefused(
            f"you would hold {held + quantity} tokens (orders and subscriptions included), above"
            f" the maximum of {rules.max_balance} per investor", code="compliance_max_balance")
    if rules.max_holders is not None and held == 0:
        holders = int(conn.execute(HOLDERS_SQL, {"t": token_id}).scalar_one())
        holders += len(unwritten.new_holders.get(token_id, ()))
        if holders >= rules.max_holders:
            raise ComplianceRefused(f"the token has {holders} holders, the most allowed",
                                    code="compliance_max_holders")
    return held == 0


def investor_country(conn: Connection, user_id: uuid.UUID) -> str | None:
    """The investor's country for compliance: residence, else approved KYC nationality."""
    row = conn.execute(COUNTRY_SQL, {"u": user_id}).first()
    if row is None:
        return None
    return (row.country or row.nationality or "").strip().upper() or None


def _countries(codes: Iterable[str], field: str) -> set[str]:
    import iso3166

    found = set()
    for code in codes:
        country = iso3166.countries.get(code.strip().upper(), None) if code.strip() else None
        if country is None:
            raise InvalidInput(f"unknown country: {code!r} (an ISO 3166 code, e.g. US)", field=field)
        found.add(country.alpha2)
    return found


def _limit(value: int | str | None, field: str, current: int | None) -> int | None:
    if value is None:
        return current
    number = whole_number(value, field=field, minimum=0)
    return number or None
