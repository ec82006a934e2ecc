"""Builders for the position history, register and record-date tests: a token on the book
whose holders got their tokens by confirmed allocations, and the database's clock."""

from __future__ import annotations

from datetime import datetime

from platform_builders import Platform, wallet_for
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.ids import new_id
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.wallet import deposit


def trading_token(platform: Platform, holdings: dict[str, int], symbol: str = "DATE",
                  traders: tuple[str, ...] = (), treasury: int = 0) -> Token:
    """A token trading on the book (a stand-in contract address: no chain), its holders
    approved investors with money, allocated their tokens; traders: investors holding none."""
    platform.draft_token(symbol)
    for name in (*holdings, *traders):
        platform.approved(name, wallet=wallet_for(name), fiat="5000")
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET contract_address = :a, status = 'secondary',"
                          " trading_mode = 'full_orderbook' WHERE symbol = :s"),
                     {"a": "0x" + symbol.encode().hex().ljust(40, "0"), "s": symbol})
        token = get_token(conn, symbol)
        owners = {name: conn.execute(text("SELECT id FROM users WHERE email = :e"),
                                     {"e": f"{name}@x.io"}).scalar_one() for name in holdings}
        if treasury:
            owners["treasury"], holdings = treasury_id(conn), {**holdings, "treasury": treasury}
        for name, quantity in holdings.items():
            conn.execute(text(
                "INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type,"
                " status, confirmed_at) VALUES (:id, :t, :u, :q, 'airdrop', 'confirmed', now())"),
                {"id": new_id(), "t": token.id, "u": owners[name], "q": quantity})
            credit_tokens(conn, owners[name], token.id, quantity)
        deposit(conn, platform.admin, platform.issuer.email, "100000.00")
    return token


def db_now(platform: Platform) -> datetime:
    """The database's clock (what positions_history is stamped with)."""
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT clock_timestamp()")).scalar_one()


def history(platform: Platform, symbol: str = "DATE") -> list[tuple[str, int, int]]:
    """(holder name, change, balance) of every position change of a token, in order."""
    with platform.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT split_part(u.email, '@', 1) AS name, h.change, h.balance"
            " FROM positions_history h JOIN users u ON u.id = h.user_id"
            " JOIN tokens t ON t.id = h.token_id WHERE t.symbol = :s ORDER BY h.changed_at, h.id"),
            {"s": symbol}).all()
    return [tuple(row) for row in rows]
