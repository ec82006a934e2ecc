"""The console's only door to the workflows: each call is one transaction as the console actor.

Screens never touch the database themselves: they hand a call to `run_call` (screens/base.py),
which runs it in a worker thread, and the call goes through ConsoleServices. Every workflow
called here audits with source "console", because the actor is resolved with that source.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from alefctl.errors import AlefError
from alefctl.workflows import policy
from alefctl.workflows.trading.funds import NotionalLimits

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from alefctl.pii import PiiCipher
    from alefctl.settings import Settings
    from alefctl.workflows.actor import Actor
    from alefctl.workflows.approvals import ApprovalRequest
    from alefctl.workflows.dividends.declaration import Dividend
    from alefctl.workflows.dividends.distribution import DistributionProgress
    from alefctl.workflows.protections import ProtectionDefaults
    from alefctl.workflows.rate_limits import Limits
    from chain import ChainClient

T = TypeVar("T")
SOURCE = "console"
UNSETTLED = ("failed", "processing", "pending")
SETTLEMENT_ROWS = 500  # per status


@dataclass
class ConsoleServices:
    """The database, the chain and the acting user the console works with."""

    engine: Engine
    actor_email: str
    cipher: Callable[[], PiiCipher]
    open_chain: Callable[[], AbstractContextManager[ChainClient]]
    success_fee_pct: Decimal
    limits: NotionalLimits = field(default_factory=lambda: NotionalLimits(
        Decimal(500), Decimal(5000), Decimal(50000)))
    protections: ProtectionDefaults = field(default_factory=lambda: _platform_defaults())
    rate_limits: Limits = field(default_factory=lambda: _default_rates())

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, actor_email: str) -> ConsoleServices:
        """Services on the configured database and chain, acting as the (authenticated) user."""
        from alefctl.chain_access import open_chain
        from alefctl.pii import load_cipher
        from alefctl.workflows.protections import ProtectionDefaults
        from alefctl.workflows.rate_limits import Limits

        return cls(engine, actor_email, lambda: load_cipher(settings),
                   lambda: open_chain(settings), settings.trading.success_fee_pct,
                   NotionalLimits.from_settings(settings.trading),
                   ProtectionDefaults.from_settings(settings.protections),
                   Limits.from_settings(settings.ratelimit))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[tuple[Connection, Actor]]:
        """One transaction and the console's actor, resolved in it."""
        from alefctl.workflows.actor import resolve_actor

        with self.engine.begin() as conn:
            yield conn, resolve_actor(conn, self.actor_email, SOURCE)

    def actor(self) -> Actor:
        """The acting user (checked on every call: a deactivated user is refused at once)."""
        with self.transaction() as (_conn, actor):
            return actor

    def call(self, workflow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run workflow(conn, actor, *args, **kwargs) in its own transaction."""
        with self.transaction() as (conn, actor):
            return workflow(conn, actor, *args, **kwargs)

    def on_engine(self, workflow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run workflow(engine, actor, *args, **kwargs): a workflow of several transactions (a
        change, then closing the user's orders)."""
        return workflow(self.engine, self.actor(), *args, **kwargs)

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read that takes no actor: query(conn, *args, **kwargs)."""
        with self.engine.begin() as conn:
            return query(conn, *args, **kwargs)

    def open_kyc(self, application_id: str) -> Any:
        """The application with its personal data; the first view starts the review."""
        from alefctl.workflows.kyc import open_kyc

        return self.call(open_kyc, application_id, self.cipher())

    def enable_secondary(self, token_ref: str) -> dict[str, Any]:
        """Go live with the platform's success fee from the settings."""
        from alefctl.workflows.lifecycle import enable_secondary

        return self.call(enable_secondary, token_ref, self.success_fee_pct)

    def retire(self, token_ref: str, action: str) -> Any:
        """Mature or delist a token: its open orders and pending OTC orders are cancelled
        (workflows/closing.py), as from every other front end."""
        from alefctl.workflows.lifecycle import retire

        return retire(self.engine, self.actor(), token_ref, action, self.limits)

    def deploy(self, token_ref: str) -> dict[str, Any]:
        """Deploy the token's suite on the configured chain (long: five transactions)."""
        from alefctl.workflows.onchain.deploy import deploy_token

        actor = self.actor()
        with self.open_chain() as client:
            return deploy_token(self.engine, actor, token_ref, client)

    def distribute(self, dividend_id: str,
                   on_progress: Callable[[DistributionProgress], None]) -> Dividend:
        """Pay a dividend in chunks, reporting progress after each."""
        from alefctl.workflows.dividends.distribution import distribute

        return distribute(self.engine, self.actor(), dividend_id, on_progress=on_progress)

    def settlement_queue(self) -> list[Any]:
        """Trades not yet settled, failed first, then processing, then pending (admins)."""
        admin = _settlement_admin()
        with self.transaction() as (conn, actor):
            return [trade for status in UNSETTLED for trade in admin.list_settlement_trades(
                conn, actor, status=status, limit=SETTLEMENT_ROWS)]

    def retry_settlements(self, trade_ids: list[str] | None) -> list[Any]:
        """Put failed settlements (the chosen ones, or all) back in the queue (admins)."""
        return self.call(_settlement_admin().retry_failed_settlements, trade_ids)

    def cancel_order(self, order_id: str) -> list[dict[str, Any]]:
        """Cancel an order; a running server applies it to its book (control.py)."""
        from alefctl.ids import parse_id
        from alefctl.workflows.trading.control import cancel_orders

        return cancel_orders(self.engine, self.actor(), [parse_id(order_id, field="order")],
                             self.limits)

    def preview(self, workflow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """What workflow(conn, actor, ...) would do now, rolled back: nothing of it is kept (no
        audit row either: rows are sealed at commit). For a confirmation that shows the outcome
        the workflow itself computes, so the console repeats none of its rules."""
        from alefctl.workflows.actor import resolve_actor

        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                return workflow(conn, resolve_actor(conn, self.actor_email, SOURCE), *args, **kwargs)
            finally:
                transaction.rollback()

    def approvals_queue(self, show_all: bool = False) -> list[ApprovalRequest]:
        """Four-eyes requests awaiting a decision (pending or failed), oldest first; or the latest
        of every status, newest first (admins)."""
        from alefctl.workflows import approvals

        with self.transaction() as (conn, actor):
            if show_all:
                return approvals.list_requests(conn, actor)
            waiting = [found for status in approvals.OPEN_STATUSES
                       for found in approvals.list_requests(conn, actor, status, limit=1000)]
        return sorted(waiting, key=lambda found: (found.requested_at, str(found.id)))

    def approve_request(self, request_id: str) -> ApprovalRequest:
        """Approve another admin's request, which runs its operation once (workflows/approvals.py)."""
        from alefctl.workflows import approvals

        return approvals.approve(self.engine, self.actor(), request_id)

    def reject_request(self, request_id: str, reason: str) -> ApprovalRequest:
        """Turn a request down with a reason; nothing runs."""
        from alefctl.workflows import approvals

        return self.call(approvals.reject, request_id, reason)

    def holders(self, symbol: str) -> tuple[Any, list[dict[str, Any]]]:
        """A token's holders from the database, with the chain's figures when it answers (else
        those are empty) (admins)."""
        from alefctl.chain_access import chain_errors
        from alefctl.workflows.holders.listing import holder_positions, with_chain

        with self.transaction() as (conn, actor):
            token, found = holder_positions(conn, actor, symbol)
        try:
            with chain_errors(), self.open_chain() as client:
                with_chain(token, found, client)
        except AlefError:
            for holder in found:
                holder.update(chain_balance=None, chain_frozen=None, chain_is_frozen=None,
                              matches=None)
        return token, found

    def change_freeze(self, kind: str, symbol: str, email: str, quantity: int | None,
                      reason: str) -> dict[str, Any]:
        """Freeze or unfreeze (workflows/holders/freezes.py), then send its chain job now if the
        chain answers (else `alefctl chain work` sends it)."""
        from alefctl.workflows.holders import freezes
        from alefctl.workflows.holders.jobs import send_now

        actor = self.actor()
        change = freezes.freeze if kind == "freeze" else freezes.unfreeze
        result = change(self.engine, actor, symbol, email, quantity, reason)
        if result["chain_status"] == "pending":
            operation, _unreachable = send_now(self.engine, self.open_chain, actor,
                                               result["operation_id"])
            result["chain_status"] = operation["chain_status"]
        return result

    def otc_queue(self) -> list[dict[str, Any]]:
        """Pending OTC orders (admins)."""
        from alefctl.workflows.otc import list_otc_orders

        with self.transaction() as (conn, actor):
            policy.require(actor, "otc.read")
            return list_otc_orders(conn, "pending")

    def decide_otc(self, otc_id: str, approve: bool, reason: str | None = None) -> dict[str, Any]:
        """Approve (trade against the treasury) or reject an OTC order."""
        from alefctl.workflows.otc import approve_otc_order, reject_otc_order

        if approve:
            return self.call(approve_otc_order, otc_id)
        return self.call(reject_otc_order, otc_id, reason)


def _platform_defaults() -> ProtectionDefaults:
    """The protection thresholds of the settings' defaults (tests build services without settings)."""
    from alefctl.workflows.protections import PLATFORM_DEFAULTS

    return PLATFORM_DEFAULTS


def _default_rates() -> Limits:
    """The rate limits of the settings' defaults (tests build services without settings)."""
    from alefctl.settings import RateLimitSettings
    from alefctl.workflows.rate_limits import Limits

    return Limits.from_settings(RateLimitSettings.model_validate({}))


def _settlement_admin() -> Any:
    from alefctl.workflows.settlement import admin

    return admin


def describe_error(exc: BaseException) -> str:
    """One line for a notification: the workflow's message, or what the database said; an
    unexpected error's text is redacted (no credentials, no personal data: redact.py)."""
    from alefctl.db.errors import database_error, first_line
    from alefctl.redact import redact

    if isinstance(exc, AlefError):
        return exc.message
    translated = database_error(exc)
    if translated is not None:
        return redact(translated.message)
    return redact(f"unexpected {type(exc).__name__}: {first_line(exc)}")
