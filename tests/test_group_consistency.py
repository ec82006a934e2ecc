"""An order group sees its own changes before it writes them (at flush): the compliance limits
count the group's earlier buys, fills and new holders, an OTC buy and a book buy share one
running investment sum, and no group fills a sell of a wallet frozen whole."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from platform_builders import live_token, wallet_for
from server_client import running_api
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.errors import AlefError
from alefctl.workflows.compliance import HOLDERS_SQL, set_rules
from alefctl.workflows.holders import freezes
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.otc import set_trading_mode
from alefctl.workflows.trading.books import Books, load_books
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.commands import AmendOrder
from alefctl.workflows.trading.group import CancelOrder, OrderGroup, PlaceOrder
from alefctl.workflows.trading.state import MonotonicClock

D = Decimal
ROOMY = NotionalLimits(D(50000), D(50000), D(50000))
TIGHT = NotionalLimits(D(500), D(500), D(500))  # $500 per 12 months, whatever the level


def order(platform, who: str, side: str, quantity: int, price: str = "10.00",  # noqa: ANN001
          symbol: str = "CMP") -> PlaceOrder:
    return PlaceOrder(platform.actor(f"{who}@x.io"),
                      OrderRequest(symbol, side, "limit", quantity, D(price)))


def in_one_group(platform, limits: NotionalLimits, *commands: Any,  # noqa: ANN001
                 prepared: bool = True) -> list[Any]:
    """Run the commands in one group, prepared as the writer does unless not `prepared` (a
    callable makes its command from the outcomes so far); the outcomes."""
    outcomes: list[Any] = []
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(load_books(conn)), limits, treasury_id(conn),
                           MonotonicClock())
        if prepared:
            group.prepare([c for c in commands if not callable(c)])
        for command in commands:
            outcomes.append(group.run(command(outcomes) if callable(command) else command))
        group.flush()
    return outcomes


def code(outcome: Any) -> str | None:
    return outcome.code if isinstance(outcome, AlefError) else None


@pytest.fixture
def ruled(platform, chain_client):  # noqa: ANN001, ANN201
    """CMP trading: alice and bob hold 100 each; carol and dave approved with money, no tokens."""
    live_token(platform, chain_client, "CMP", {"alice": 100, "bob": 100})
    for name in ("carol", "dave"):
        platform.approved(name, wallet=wallet_for(name), fiat="50000")
    return platform


def test_max_balance_counts_the_groups_own_buys_and_fills(ruled) -> None:  # noqa: ANN001
    with ruled.engine.begin() as conn:
        set_rules(conn, ruled.admin, "CMP", max_balance=100)
    in_one_group(ruled, ROOMY, order(ruled, "bob", "sell", 100))
    first, second = in_one_group(ruled, ROOMY, order(ruled, "carol", "buy", 60),
                                 order(ruled, "carol", "buy", 60))
    assert first["status"] == "filled"
    assert code(second) == "compliance_max_balance"  # 60 filled + 60 > 100
    with ruled.engine.connect() as conn:
        held = conn.execute(text("SELECT w.balance FROM wallets w JOIN users u ON u.id ="
                                 " w.user_id WHERE u.email = 'carol@x.io'")).scalar_one()
    assert held == 60


def test_a_buy_cancelled_in_the_group_no_longer_counts(ruled) -> None:  # noqa: ANN001
    with ruled.engine.begin() as conn:
        set_rules(conn, ruled.admin, "CMP", max_balance=100)
    resting, cancelled, again, over = in_one_group(
        ruled, ROOMY, order(ruled, "carol", "buy", 60, "9.00"),
        lambda done: CancelOrder(ruled.actor("carol@x.io"), str(done[0]["id"])),
        order(ruled, "carol", "buy", 60, "9.00"), order(ruled, "carol", "buy", 41, "9.00"))
    assert (resting["status"], cancelled["status"], again["status"]) == ("open", "cancelled", "open")
    assert code(over) == "compliance_max_balance"  # the resting 60 counts, the cancelled not


def test_a_buy_amended_down_in_the_group_counts_its_new_quantity(ruled) -> None:  # noqa: ANN001
    with ruled.engine.begin() as conn:
        set_rules(conn, ruled.admin, "CMP", max_balance=100)
    resting, amended, more = in_one_group(
        ruled, ROOMY, order(ruled, "carol", "buy", 60, "9.00"),
        lambda done: AmendOrder(ruled.actor("carol@x.io"), str(done[0]["id"]), quantity=20),
        order(ruled, "carol", "buy", 80, "9.00"))
    assert (resting["status"], amended["quantity"]) == ("open", 20)
    assert not isinstance(more, AlefError), more  # 20 + 80 fits the 100


def test_max_holders_counts_holders_made_in_the_group(ruled) -> None:  # noqa: ANN001
    with ruled.engine.begin() as conn:  # room for one more holder
        token_id = conn.execute(text("SELECT id FROM tokens WHERE symbol = 'CMP'")).scalar_one()
        holders = conn.execute(HOLDERS_SQL, {"t": token_id}).scalar_one()
        set_rules(conn, ruled.admin, "CMP", max_holders=holders + 1)
    in_one_group(ruled, ROOMY, order(ruled, "bob", "sell", 20))
    carol, dave = in_one_group(ruled, ROOMY, order(ruled, "carol", "buy", 5),
                               order(ruled, "dave", "buy", 5))
    assert carol["status"] == "filled"
    assert code(dave) == "compliance_max_holders"


@pytest.fixture
def otc_and_book(platform, chain_client):  # noqa: ANN001, ANN201
    """CMP on the book (alice holds 100) and OTC at $10 over the counter; carol has money."""
    live_token(platform, chain_client, "CMP", {"alice": 100})
    live_token(platform, chain_client, "OTC", {})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    with platform.engine.begin() as conn:
        set_trading_mode(conn, platform.admin, "OTC", "fixed_price_otc", "10.00")
    return platform


@pytest.mark.parametrize("otc_first", [False, True], ids=["book-then-otc", "otc-then-book"])
def test_an_otc_buy_and_a_book_buy_share_the_investment_limit(otc_and_book,  # noqa: ANN001
                                                              otc_first: bool) -> None:
    book = order(otc_and_book, "carol", "buy", 30, "10.00")  # $300, rests
    otc = order(otc_and_book, "carol", "buy", 30, "10.00", symbol="OTC")  # $300, waits
    first, second = in_one_group(otc_and_book, TIGHT, *((otc, book) if otc_first else (book, otc)))
    assert not isinstance(first, AlefError), first
    assert code(second) == "investment_limit"  # $600 > $500


def test_an_otc_buy_sees_the_money_a_book_buy_took_in_the_same_group(otc_and_book) -> None:  # noqa: ANN001
    with otc_and_book.engine.begin() as conn:  # carol has $500
        conn.execute(text("UPDATE users SET fiat_balance = 500 WHERE email = 'carol@x.io'"))
    book = order(otc_and_book, "carol", "buy", 30, "10.00")  # $300 locked by the group
    otc = order(otc_and_book, "carol", "buy", 30, "10.00", symbol="OTC")  # $300 more: refused
    first, second = in_one_group(otc_and_book, ROOMY, book, otc)
    assert not isinstance(first, AlefError), first
    assert code(second) == "insufficient_funds"  # not a failed flush losing the whole group
    with otc_and_book.engine.connect() as conn:
        left = conn.execute(text("SELECT fiat_balance FROM users WHERE email = 'carol@x.io'"))
        assert left.scalar_one() == D("200.00")


@pytest.fixture
def frozen_seller(platform, chain_client, monkeypatch):  # noqa: ANN001, ANN201
    """CMP: alice's sell of 10 at $10 rests; her wallet is frozen whole and the freeze's cancel
    of her sells never ran (a crash between the two steps); carol has money."""
    live_token(platform, chain_client, "CMP", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    in_one_group(platform, ROOMY, order(platform, "alice", "sell", 10))

    def crash(*_args: Any) -> None:
        raise RuntimeError("crashed after the freeze committed")

    monkeypatch.setattr(freezes, "_cancel_sells", crash)
    with pytest.raises(RuntimeError):
        freezes.freeze(platform.engine, platform.admin, "CMP", "alice@x.io", None, "sanctions")
    return platform


def alices_sells(engine) -> list[tuple[str, str | None, int]]:  # noqa: ANN001
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT o.status, o.cancel_reason, w.locked_balance FROM orders o JOIN users u ON"
            " u.id = o.user_id JOIN wallets w ON w.user_id = u.id AND w.token_id = o.token_id"
            " WHERE u.email = 'alice@x.io' AND o.side = 'sell'"))]


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "one-by-one"])
def test_a_group_never_fills_a_sell_of_a_frozen_wallet(frozen_seller,  # noqa: ANN001
                                                      prepared: bool) -> None:
    assert alices_sells(frozen_seller.engine) == [("open", None, 10)]
    (bought,) = in_one_group(frozen_seller, ROOMY, order(frozen_seller, "carol", "buy", 10),
                             prepared=prepared)
    assert bought["status"] == "open" and bought["filled_quantity"] == 0
    assert alices_sells(frozen_seller.engine) == [("cancelled", "holder_frozen", 0)]


def test_a_starting_server_cancels_sells_of_frozen_wallets(frozen_seller, db_url,  # noqa: ANN001
                                                           tmp_path) -> None:
    with running_api(frozen_seller.engine, db_url, tmp_path / "home", frozen_seller.admin):
        deadline = time.monotonic() + 5
        while alices_sells(frozen_seller.engine)[0][0] == "open" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert alices_sells(frozen_seller.engine) == [("cancelled", "holder_frozen", 0)]
