"""A wallet's position in the database next to the chain's view of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict
from alefctl.workflows import validation
from alefctl.workflows.tokens import get_token

if TYPE_CHECKING:
    from chain import ChainClient


@dataclass(frozen=True)
class WalletPosition:
    """The database's balance of one wallet in one token."""

    symbol: str
    wallet: str
    contract_address: str
    decimals: int
    db_balance: int
    db_locked: int

    def with_chain(self, client: ChainClient) -> dict[str, Any]:
        """This position beside balanceOf and the frozen amount on-chain, in whole tokens."""
        unit = 10 ** self.decimals
        on_chain = client.balance_of(self.contract_address, self.wallet)
        frozen = client.frozen_tokens(self.contract_address, self.wallet)
        return {"symbol": self.symbol, "wallet": self.wallet, "db_balance": self.db_balance,
                "db_locked": self.db_locked, "chain_balance": on_chain // unit,
                "chain_frozen": frozen // unit, "chain_balance_units": on_chain,
                "matches": on_chain == self.db_balance * unit}


def wallet_positions(conn: Connection, token_ref: str, wallet: str) -> WalletPosition:
    """The database side of `chain balance` for a token and a wallet address."""
    token = get_token(conn, token_ref)
    if token.contract_address is None:
        raise Conflict(f"{token.symbol} is not deployed")
    address = validation.evm_address(wallet, field="wallet")
    row = conn.execute(text(
        "SELECT coalesce(sum(w.balance), 0) AS balance, coalesce(sum(w.locked_balance), 0) AS locked"
        " FROM wallets w JOIN users u ON u.id = w.user_id WHERE w.token_id = :t"
        " AND u.wallet_address = :a"), {"t": token.id, "a": address}).one()
    return WalletPosition(token.symbol, address, token.contract_address, token.decimals,
                          int(row.balance), int(row.locked))


def holder_balances(conn: Connection, token_id: Any) -> list[Any]:
    """Every holder of a token with a positive balance: email, wallet address, balance."""
    return list(conn.execute(text(
        "SELECT u.email, u.wallet_address, w.balance FROM wallets w JOIN users u"
        " ON u.id = w.user_id WHERE w.token_id = :t AND w.balance > 0 ORDER BY u.email"),
        {"t": token_id}).all())
