"""Reconcile: the database's token positions against the chain, for people and for cron.

For every deployed token (or one), with the token's settlement lock and the mint worker's lock
held so no transfer or mint of ours moves it meanwhile, and one database snapshot:
- every holder with a wallet address: wallets.balance against balanceOf. A difference fully
  explained by the holder's unsettled items (trades not settled on-chain, allocations and token
  dividends not minted; reconcile_db) is "in_flight", not a break; items in 'processing' or
  'minting' may or may not be on-chain yet, so they widen the accepted range. Holders without a
  wallet address hold off-chain only and are listed, not compared. A holder with a failed item
  (a settlement or mint that failed) is listed as "failed", never as in flight: it fails the run;
- totalSupply against the minted allocations and token dividends (+ those being minted);
- tokens held on-chain by addresses the database has no position for (totalSupply minus the
  holders' balances), less those withdrawn to outside wallets and not deposited back (custody.py);
- frozen tokens and frozen wallets, reported (not breaks);
- the token's on-chain state against the database (onchain/token_state.py): paused exactly when
  its status is paused, matured or delisted; holder transfers closed (platform custody); the
  compliance rules. A difference that a chain job not yet run will fix is "state_pending"; any
  other is a break (kind "state").
A break is anything else; the command exits 1 when there is one, or a failed item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.errors import Conflict
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.token_state import desired_state, differences, open_jobs
from alefctl.workflows.reconcile_db import Holder, TokenSnapshot, token_snapshot
from alefctl.workflows.settlement.locks import TokenLocks
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from chain import ChainClient

LOCK_TIMEOUT_S = 60.0


@dataclass
class TokenReconciliation:
    """One token's result: its summary, breaks, explained differences and frozen holdings."""

    summary: dict[str, Any]
    breaks: list[dict[str, Any]] = field(default_factory=list)
    in_flight: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    off_chain: list[dict[str, Any]] = field(default_factory=list)
    frozen: list[dict[str, Any]] = field(default_factory=list)
    state_pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing breaks and no settlement or mint of the token failed."""
        return not self.breaks and not self.failed

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {**self.summary, "ok": self.ok, "breaks": self.breaks, "in_flight": self.in_flight,
                "failed": self.failed, "off_chain": self.off_chain, "frozen": self.frozen,
                "state_pending": self.state_pending}


def reconcile(db: Engine, actor: Actor, client: ChainClient,
              token_ref: str | None = None) -> list[TokenReconciliation]:
    """Compare every deployed token (or one) with the chain (admins)."""
    with db.begin() as conn:
        policy.require(actor, "reconcile.run")
        tokens = _tokens(conn, token_ref)
    with db.connect() as lock_conn:
        token_locks = TokenLocks(lock_conn)
        results = []
        for token in tokens:
            try:
                _hold_mint_worker(lock_conn)
                token_locks.wait(token.id, LOCK_TIMEOUT_S)
                results.append(_reconcile_token(db, client, token))
            finally:
                token_locks.release_all()
                locks.unlock(lock_conn, locks.MINT_WORKER)
                lock_conn.commit()
    return results


def _tokens(conn: Any, token_ref: str | None) -> list[Token]:
    if token_ref is not None:
        token = get_token(conn, token_ref)
        if token.contract_address is None:
            raise Conflict(f"{token.symbol} is not deployed; there is nothing on-chain to compare")
        return [token]
    symbols = conn.execute(text("SELECT symbol FROM tokens WHERE contract_address IS NOT NULL"
                                " ORDER BY symbol")).scalars().all()
    return [get_token(conn, symbol) for symbol in symbols]


def _reconcile_token(db: Engine, client: ChainClient, token: Token) -> TokenReconciliation:
    with db.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = token_snapshot(conn, token.id)
    result = TokenReconciliation({"symbol": token.symbol, "contract_address": token.contract_address})
    try:
        supply = client.total_supply(token.contract_address or "")
    except Exception as error:  # noqa: BLE001 - e.g. no contract at that address on this chain
        result.breaks.append(_break(token, "contract", None, detail=f"cannot read the token on"
                                    f" this chain: {error}"))
        return result
    known = 0
    for holder in snapshot.holders:
        known += _compare_holder(client, token, holder, result)
    _compare_supply(token, snapshot, supply, known, result)
    _compare_state(db, client, token, result)
    return result


def _compare_state(db: Engine, client: ChainClient, token: Token,
                   result: TokenReconciliation) -> None:
    """The on-chain pause, custody and compliance rules against what the database says."""
    with db.connect() as conn:
        desired = desired_state(conn, token.id)
        waiting = [job for job in open_jobs(conn, token.id) if job["status"] != "failed"]
    try:
        found = differences(client, token.contract_address or "", desired)
    except Exception as error:  # noqa: BLE001 - e.g. a suite deployed before custody existed
        result.breaks.append(_break(token, "state", None, detail=(
            f"cannot read the token's on-chain state: {error}")))
        return
    result.summary.update({"status": token.status, "paused_on_chain": desired.paused
                           != ("paused" in found)})
    for name, (on_chain, expected) in found.items():
        row = {"state": name, "on_chain": on_chain, "expected": expected}
        if waiting:
            result.state_pending.append(row)
        else:
            result.breaks.append(_break(token, "state", row, detail=(
                f"{name} is {on_chain} on-chain, the database ({token.status}) says {expected}")))


def _compare_holder(client: ChainClient, token: Token, holder: Holder,
                    result: TokenReconciliation) -> int:
    """Compare one holder; returns its on-chain balance in base units (0 without a wallet)."""
    if holder.wallet_address is None:
        result.off_chain.append({"email": holder.email, "db_balance": holder.balance})
        if holder.failed_items():
            result.failed.append({"email": holder.email, "wallet": None,
                                  "db_balance": holder.balance,
                                  "items": [item.to_dict() for item in holder.items]})
        return 0
    contract, unit = token.contract_address or "", 10 ** token.decimals
    units = client.balance_of(contract, holder.wallet_address)
    frozen = client.frozen_tokens(contract, holder.wallet_address)
    wallet_frozen = client.is_frozen(contract, holder.wallet_address)
    low, high = holder.expected_range()
    row = {"email": holder.email, "wallet": holder.wallet_address, "db_balance": holder.balance,
           "chain_balance": _whole(units, token.decimals), "expected_min": low,
           "expected_max": high, "items": [item.to_dict() for item in holder.items]}
    if not low * unit <= units <= high * unit:
        result.breaks.append(_break(token, "position", row, detail=(
            f"on-chain {row['chain_balance']}, the database explains"
            f" {low if low == high else f'{low}..{high}'}")))
    elif holder.failed_items():
        result.failed.append(row)
    elif holder.items and units != holder.balance * unit:
        result.in_flight.append(row)
    if frozen or wallet_frozen:
        result.frozen.append({"email": holder.email, "wallet": holder.wallet_address,
                              "frozen": _whole(frozen, token.decimals),
                              "wallet_frozen": wallet_frozen})
    return units


def _compare_supply(token: Token, snapshot: TokenSnapshot, supply: int, known: int,
                    result: TokenReconciliation) -> None:
    unit = 10 ** token.decimals
    low, high = snapshot.minted, snapshot.minted + snapshot.minting
    result.summary.update({
        "total_supply": _whole(supply, token.decimals), "minted_db": snapshot.minted,
        "minting_db": snapshot.minting, "holders": len(snapshot.holders)})
    if not low * unit <= supply <= high * unit:
        result.breaks.append(_break(token, "supply", None, detail=(
            f"totalSupply {_whole(supply, token.decimals)}, minted in the database"
            f" {low if low == high else f'{low}..{high}'}")))
    result.summary["withdrawn"] = snapshot.withdrawn
    outside = supply - known  # held by addresses with no position: withdrawn tokens only
    fewest = snapshot.withdrawn - snapshot.depositing
    most = snapshot.withdrawn + snapshot.withdrawing
    if not fewest * unit <= outside <= most * unit:
        result.breaks.append(_break(token, "unknown_holders", None, detail=(
            f"{_whole(outside, token.decimals)} tokens are held on-chain by addresses"
            f" with no position in the database ({snapshot.withdrawn} withdrawn)")))


def _break(token: Token, kind: str, row: dict[str, Any] | None, *, detail: str) -> dict[str, Any]:
    return {"symbol": token.symbol, "kind": kind, **(row or {}), "detail": detail}


def _whole(units: int, decimals: int) -> Decimal:
    """Base units as whole tokens, exactly, without an exponent (100, 12.5)."""
    value = Decimal(units).scaleb(-decimals)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _hold_mint_worker(lock_conn: Any) -> None:
    """Wait for the allocation mint worker to finish its run, and keep it out until released."""
    from alefctl.errors import Unavailable

    try:
        lock_conn.execute(text("SELECT set_config('lock_timeout', :t, true)"),
                          {"t": f"{int(LOCK_TIMEOUT_S * 1000)}ms"})
        locks.lock(lock_conn, locks.MINT_WORKER)
    except Exception as error:
        lock_conn.rollback()
        raise Unavailable("the allocation mint worker is still running; try again") from error
    lock_conn.commit()
