"""Market protection thresholds per token (README, "Protections and halts").

A token's own thresholds are columns of its row (migration 0010); NULL means the platform's
default (settings.protections), so a token without an override follows the settings. The order
group turns the values that apply into the engine's ProtectionConfig (`engine_config`); a
percentage of 0 switches that check off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput
from alefctl.settings import ProtectionSettings
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import get_token
from engine import ProtectionConfig

BPS_PER_PCT = 100
# The columns of a token's own thresholds, with their bounds (as the migration checks them).
PCT_LIMIT = Decimal(10_000)
CENT = Decimal("0.01")
SECONDS_LIMITS = {"breaker_window_s": 86_400, "breaker_halt_s": 604_800}


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of one token (per-token values), or the platform's defaults."""

    breaker_move_pct: Decimal
    breaker_window_s: int
    breaker_halt_s: int
    fat_finger_pct: Decimal
    nav_deviation_pct: Decimal


TOKEN_FIELDS = tuple(f.name for f in fields(Thresholds))
TOKEN_COLUMNS = ", ".join(TOKEN_FIELDS)


@dataclass(frozen=True)
class ProtectionDefaults:
    """The platform's defaults (settings.protections), and the fat-finger block, platform-wide."""

    thresholds: Thresholds
    fat_finger_block_x: Decimal

    @classmethod
    def from_settings(cls, protections: Any) -> ProtectionDefaults:
        """The defaults configured in settings.protections."""
        values = {name: getattr(protections, name) for name in TOKEN_FIELDS}
        values.update({name: Decimal(value).quantize(CENT) for name, value in values.items()
                       if name.endswith("_pct")})  # shown as a token's own are: 10.00
        return cls(Thresholds(**values), protections.fat_finger_block_x)

    def applying(self, token: Any) -> Thresholds:
        """The thresholds that apply to a token (a row or object with the TOKEN_FIELDS)."""
        own = {name: getattr(token, name) for name in TOKEN_FIELDS}
        return Thresholds(**{name: getattr(self.thresholds, name) if value is None else value
                             for name, value in own.items()})

    def engine_config(self, token: Any) -> ProtectionConfig:
        """The engine's configuration for a token."""
        values = self.applying(token)
        return ProtectionConfig(
            circuit_breaker_enabled=values.breaker_move_pct > 0,
            circuit_breaker_move_bps=int(values.breaker_move_pct * BPS_PER_PCT),
            circuit_breaker_window_seconds=float(values.breaker_window_s),
            circuit_breaker_cooldown_seconds=float(values.breaker_halt_s),
            fat_finger_enabled=True,  # the block stays; only the confirmation can be off
            fat_finger_block_bps=int(self.fat_finger_block_x * 10_000),
            fat_finger_confirm_bps=int(values.fat_finger_pct * BPS_PER_PCT),
            nav_deviation_enabled=values.nav_deviation_pct > 0,
            nav_deviation_confirm_bps=int(values.nav_deviation_pct * BPS_PER_PCT))


PLATFORM_DEFAULTS = ProtectionDefaults.from_settings(ProtectionSettings.model_validate({}))


def protections_of(token: Any, defaults: ProtectionDefaults) -> dict[str, Any]:
    """What `token protections` and `token show` print: each threshold that applies, the
    platform-wide fat-finger block, and which thresholds are the token's own."""
    return {**asdict(defaults.applying(token)), "fat_finger_block_x": defaults.fat_finger_block_x,
            "own": [name for name in TOKEN_FIELDS if getattr(token, name) is not None]}


def set_protections(conn: Connection, actor: Actor, token_ref: str, changes: dict[str, Any],
                    defaults: ProtectionDefaults, *, reset: bool = False) -> dict[str, Any]:
    """Set (or with `reset`, clear back to the defaults, before `changes`) a token's own
    thresholds (admin, audited); the running server applies them from its next order."""
    policy.require(actor, "token.protections")
    checked = {name: _checked(name, value) for name, value in changes.items()}
    token = get_token(conn, token_ref, for_update=True)
    new: dict[str, Any] = {name: None for name in TOKEN_FIELDS} if reset else {}
    new.update(checked)
    if new:
        assignments = ", ".join(f"{name} = :{name}" for name in new)
        conn.execute(text(f"UPDATE tokens SET {assignments}, updated_at = now() WHERE id = :id"),
                     {**new, "id": token.id})
        actor.audit(conn, "token.protections", "token", token.id,
                    before={name: getattr(token, name) for name in new}, after=new)
    return {"symbol": token.symbol, **protections_of(get_token(conn, str(token.id)), defaults)}


def show_protections(conn: Connection, token_ref: str,
                     defaults: ProtectionDefaults) -> dict[str, Any]:
    """A token's thresholds (anyone who may read tokens)."""
    token = get_token(conn, token_ref)
    return {"symbol": token.symbol, **protections_of(token, defaults)}


def _checked(name: str, value: Any) -> Decimal | int:
    """A threshold as given, within the bounds the migration checks."""
    if name not in TOKEN_FIELDS:
        raise InvalidInput(f"unknown protection: {name}", field=name)
    if name in SECONDS_LIMITS:
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 1 <= value <= SECONDS_LIMITS[name]:
            raise InvalidInput(f"{name} must be whole seconds from 1 to {SECONDS_LIMITS[name]}",
                               field=name)
        return value
    try:
        pct = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{name} is not a number: {value!r}", field=name) from None
    if not pct.is_finite() or not 0 <= pct <= PCT_LIMIT or pct != pct.quantize(CENT):
        raise InvalidInput(f"{name} must be a percentage from 0 to {PCT_LIMIT} with at most two"
                           " decimals (0 switches the check off)", field=name)
    return pct.quantize(CENT)
