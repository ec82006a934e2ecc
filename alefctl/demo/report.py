"""What the demo did, stage by stage, for printing or JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alefctl.workflows.users import User


@dataclass
class DemoReport:
    """Everything a demo run produced."""

    tag: str
    say: Callable[[str], None]
    users: list[User] = field(default_factory=list)
    deposits: list[dict[str, Any]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    token: dict[str, Any] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    book: dict[str, Any] = field(default_factory=dict)
    verified: bool = False

    def email(self, short: str) -> str:
        """The demo email of a person by short name."""
        return f"{short}.{self.tag}@demo.alefctl"

    def step(self, message: str) -> None:
        """Record and announce one thing the demo did (credentials masked: an error quoted in a
        step may name the chain node's URL)."""
        from alefctl.redact import mask_secrets

        message = mask_secrets(message)
        self.steps.append(message)
        self.say(message)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"tag": self.tag, "users": [u.to_dict() for u in self.users],
                "deposits": self.deposits, "steps": self.steps, "token": self.token,
                "positions": self.positions, "trades": self.trades, "book": self.book,
                "verified": self.verified}


def acting(engine: Any, email: str) -> Any:
    """The demo user with this email as an actor of the command line."""
    from alefctl.workflows.actor import resolve_actor

    with engine.begin() as conn:
        return resolve_actor(conn, email, "cli")
