"""Ids people can type: the one resolver of a command's object reference to a full id.

A reference is, for every kind, the id itself or a prefix of it (at least 8 hex digits; dashes
optional), or the last 12 hex digits the console shows; for users, tokens, businesses and API
keys also the natural key (email, symbol, company name, key prefix); for users also their deposit
reference (ALEF- and the tail, workflows/account/deposits.py), read as the tail. A prefix is looked up as a
range of the primary key (`id BETWEEN lo AND hi`), so the index serves it; the console's 12-digit
tail is a scan of the table. No match is NotFound (exit 3); several are InvalidInput (exit 2)
naming them; text that can be no reference is InvalidInput. A prefix or tail finds only the
actor's own objects unless the policy lets them see others' (a full id or a natural key is
looked up as before, and the workflow decides). The HTTP routes do not use this: they take full
ids.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput, NotFound
from alefctl.workflows import policy
from alefctl.workflows.account.deposits import PREFIX as DEPOSIT_PREFIX
from alefctl.workflows.account.deposits import REFERENCE as DEPOSIT_REFERENCE
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import SYMBOL

MIN_PREFIX = 8
TAIL_DIGITS = 12
SHOWN_MATCHES = 5
_TOO_SHORT = f"an id prefix needs at least {MIN_PREFIX} hex digits"
_HEX = re.compile(r"^[0-9a-f]{1,32}$")


def _no_natural_key(raw: str) -> str | None:
    return None


@dataclass(frozen=True)
class Kind:
    """An entity kind: its table, how a match is described, its natural key if it has one, and
    whose rows a prefix may find (owner column, and the action that lifts the limit)."""

    table: str
    label: str  # SQL expression naming a row in an ambiguity message
    natural: str = "false"  # SQL condition on :key
    natural_key: Callable[[str], str | None] = _no_natural_key  # the key, or None if raw is none
    owner: str | None = None
    others: str | None = None
    loose: bool = False  # any text may be a natural key (a company name), a cut-off id too


KINDS: dict[str, Kind] = {
    "user": Kind("users", "email", "email = :key", lambda raw: raw.lower() if "@" in raw else None,
                 "id", "user.show"),
    "token": Kind("tokens", "symbol", "symbol = :key",
                  lambda raw: raw.upper() if SYMBOL.match(raw.upper()) else None),
    "business": Kind("businesses", "company_name", "lower(company_name) = lower(:key)",
                     lambda raw: raw or None, "owner_id", "business.read.others", loose=True),
    "api key": Kind("api_keys", "name", "key_prefix = :key",
                    lambda raw: raw if raw.startswith("alef_") else None,
                    "user_id", "api_key.manage.others"),
    "order": Kind("orders", "side || ' ' || quantity || ', ' || status", owner="user_id",
                  others="order.read.others"),
    "trade": Kind("trades", "quantity || ' at ' || price || ', ' || settlement_status"),
    "allocation": Kind("token_allocations", "quantity || ' tokens, ' || status"),
    "dividend": Kind("dividend_declarations", "dividend_type || ', ' || status",
                     owner="declared_by", others="dividend.read.others"),
    "dividend payment": Kind("dividend_payments", "status || ', ' || net_amount"),
    "approval request": Kind("approval_requests", "kind || ', ' || status"),
    "kyc application": Kind("kyc_applications", "status"),
    "alert": Kind("surveillance_alerts", "kind || ', ' || status"),
    "otc order": Kind("otc_orders", "side || ' ' || quantity || ', ' || status"),
    "withdrawal": Kind("withdrawal_requests", "amount || ' USD, ' || status"),
    "agent operation": Kind("agent_operations", "kind || ', ' || chain_status"),
    "notification": Kind("notifications", "kind || ', ' || subject"),
}


def resolve_ref(conn: Connection, kind: str, raw: str, actor: Actor) -> uuid.UUID:
    """The id of the one object of this kind that raw names (see the module docstring)."""
    spec = KINDS[kind]
    ref = raw.strip()
    if kind == "user" and DEPOSIT_REFERENCE.match(ref):  # ALEF- and the user id's tail: a tail
        ref = ref[len(DEPOSIT_PREFIX):]  # (so only admins find others' by it)
    digits = ref.replace("-", "").lower()
    prefix = digits if _HEX.match(digits) and len(digits) >= MIN_PREFIX else None
    short = bool(_HEX.match(digits)) and len(digits) < MIN_PREFIX
    natural = spec.natural_key(ref)
    if natural is None and prefix is None:
        reason = f"is too short: {_TOO_SHORT}" if short else f"is not {_forms(kind)}"
        raise InvalidInput(f"{kind} {raw!r} {reason}", field=kind)
    rows = conn.execute(text(
        f"SELECT id, {spec.label} AS label FROM {spec.table}"
        f" WHERE {_where(spec, actor, prefix, tail='-' not in ref)} ORDER BY id LIMIT :limit"),
        {"key": natural, "lo": _bound(prefix, "0"), "hi": _bound(prefix, "f"), "tail": prefix,
         "me": actor.user_id, "limit": SHOWN_MATCHES + 1}).all()
    if not rows and short and spec.loose:  # a name no business has, or a cut-off id
        raise InvalidInput(f"no {kind} matches {raw!r}, and as an id prefix it is too short:"
                           f" {_TOO_SHORT}", field=kind)
    if not rows:
        raise NotFound(f"no {kind} matches {raw!r}", field=kind)
    if len(rows) > 1:
        shown = ", ".join(f"{row.id} ({row.label})" for row in rows[:SHOWN_MATCHES])
        more = " and more" if len(rows) > SHOWN_MATCHES else ""
        raise InvalidInput(f"{kind} {raw!r} is ambiguous: it matches {shown}{more};"
                           " give more digits", field=kind, code="ambiguous_id")
    return uuid.UUID(str(rows[0].id))


def _where(spec: Kind, actor: Actor, prefix: str | None, *, tail: bool) -> str:
    """The natural key, or the id range of the prefix (the primary key index serves it), or the
    console's tail (a scan); a prefix or tail limited to the actor's own rows where the policy
    does not let them see others'."""
    conditions = [spec.natural]
    limited = spec.owner is not None and spec.others is not None and not policy.may(actor, spec.others)
    mine = f" AND {spec.owner} = :me" if limited else ""
    if prefix is not None:
        conditions.append(f"(id BETWEEN :lo AND :hi{'' if len(prefix) == 32 else mine})")
    if prefix is not None and tail and len(prefix) == TAIL_DIGITS:
        conditions.append(f"(right(CAST(id AS text), {TAIL_DIGITS}) = :tail{mine})")
    return " OR ".join(conditions)


def _bound(prefix: str | None, fill: str) -> uuid.UUID | None:
    """The lowest (fill "0") or highest (fill "f") id that starts with the prefix."""
    return None if prefix is None else uuid.UUID(prefix.ljust(32, fill))


def _forms(kind: str) -> str:
    natural = {"user": "an email, ", "token": "a symbol, ", "api key": "a key prefix (alef_...), "}
    return f"{natural.get(kind, '')}an id or an id prefix of at least {MIN_PREFIX} hex digits"
