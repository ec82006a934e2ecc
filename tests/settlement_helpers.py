"""Builders for settlement and reconcile tests: a minted token on the book, and real trades."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from platform_builders import Platform, live_token, wallet_for
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.tokens import Token
from alefctl.workflows.trading.books import Books, load_books
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder

D = Decimal
LIMITS = NotionalLimits(D(500), D(5000), D(50000))


def minted_token(platform: Platform, client: Any, symbol: str, holders: dict[str, int],
                 buyers: tuple[str, ...] = ()) -> Token:
    """A live token whose holders' allocations are minted on-chain, plus buyers with money."""
    token = live_token(platform, client, symbol, holders)
    for name in buyers:
        platform.approved(name, wallet=wallet_for(name), fiat="50000")
    report = run_mint_jobs(platform.engine, client)
    assert report.failed == 0, report
    return token


def place(platform: Platform, who: str, symbol: str, side: str, quantity: int,
          price: str = "10.00") -> dict[str, Any]:
    """An order through the real order path (the server's group writer, in-process)."""
    investor = platform.actor(f"{who}@x.io")
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(load_books(conn)), LIMITS, treasury_id(conn),
                           lambda: datetime.now(UTC))
        outcome = group.run(PlaceOrder(investor, OrderRequest(symbol, side, "limit", quantity,
                                                              D(price))))
        assert not isinstance(outcome, Exception), outcome
        group.flush()
    return outcome


def trade(platform: Platform, seller: str, buyer: str, symbol: str, quantity: int,
          price: str = "10.00") -> str:
    """One trade seller -> buyer (the seller's ask, then the buyer's bid); returns its id."""
    place(platform, seller, symbol, "sell", quantity, price)
    filled = place(platform, buyer, symbol, "buy", quantity, price)
    assert filled["status"] == "filled", filled
    with platform.engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT id FROM trades WHERE buy_order_id = :o"), {"o": filled["id"]}).scalar_one())


def trade_state(platform: Platform, trade_id: str) -> dict[str, Any]:
    """A trade's settlement columns and its history as (from, to, attempt) tuples."""
    with platform.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT settlement_status, settlement_type, settlement_attempts, settlement_error,"
            " tx_hash, settled_at FROM trades WHERE id = :id"), {"id": trade_id}).one()
        history = conn.execute(text(
            "SELECT from_status, to_status, attempt FROM trade_settlement_history"
            " WHERE trade_id = :id ORDER BY created_at, id"), {"id": trade_id}).all()
    return {**row._mapping, "history": [tuple(h) for h in history]}


def chain_tokens(client: Any, token: Token, name: str) -> int:
    """A holder's on-chain balance in whole tokens."""
    return int(client.balance_of(token.contract_address, wallet_for(name)) // 10**token.decimals)


def db_tokens(platform: Platform, symbol: str, name: str) -> int:
    """A holder's database balance."""
    with platform.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT coalesce(sum(w.balance), 0) FROM wallets w JOIN users u ON u.id = w.user_id"
            " JOIN tokens t ON t.id = w.token_id WHERE t.symbol = :s AND u.email = :e"),
            {"s": symbol, "e": f"{name}@x.io"}).scalar_one())


def link_chain(home: Path, client: Any) -> Path:
    """Make <home>/chain the session's embedded chain, so commands see the same chain."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "chain").symlink_to(client.w3.provider.data_dir, target_is_directory=True)
    return home


def anvil_or_skip(state_dir: Path) -> Any:
    """A running anvil node (chain.AnvilNode); the test skips without anvil, unless CI requires
    it (ALEF_REQUIRE_ANVIL=1), where a missing anvil fails it."""
    import os

    import chain
    import pytest

    if chain.find_anvil() is None:
        if os.environ.get("ALEF_REQUIRE_ANVIL") == "1":
            pytest.fail("ALEF_REQUIRE_ANVIL=1 but " + chain.anvil.ANVIL_INSTALL_HINT)
        pytest.skip(chain.anvil.ANVIL_INSTALL_HINT)
    return chain.start_anvil(state_dir)
