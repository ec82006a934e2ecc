"""Maturity and delisting close the market from every path (closing.py): open orders and
pending OTC orders cancelled, their locked money and tokens back with their owners; an OTC
order of a closed token cannot be approved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from market_close_helpers import free_funds, otc_statuses, otc_with_pending
from server_client import running_api
from settlement_helpers import LIMITS, minted_token, place
from sqlalchemy import text

from alefctl.errors import Conflict, InvalidInput
from alefctl.workflows.lifecycle import change_status, mature_due, retire
from alefctl.workflows.otc import approve_otc_order


def _closed(platform, pending, reason: str) -> None:  # noqa: ANN001
    assert free_funds(platform, "OTC") == pending["before"]
    assert set(otc_statuses(platform).values()) == {f"cancelled: the token is {reason}"}


def test_retire_closes_orders_and_otc_orders(platform, chain_client) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    minted_token(platform, chain_client, "BOOK", {"bob": 10})
    order = place(platform, "bob", "BOOK", "sell", 4, "11.00")
    retire(platform.engine, platform.admin, "OTC", "delist", LIMITS)
    _closed(platform, pending, "delisted")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="already cancelled"):
        approve_otc_order(conn, platform.admin, pending["ids"][0])
    retire(platform.engine, platform.admin, "BOOK", "mature", LIMITS)
    with platform.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM orders WHERE id = :o"),
                              {"o": order["id"]}).scalar_one()
    assert status == "cancelled"
    with platform.engine.begin() as conn, pytest.raises(InvalidInput, match="retire"):
        change_status(conn, platform.admin, "BOOK", "delist")  # no path around the close


def test_an_otc_order_of_a_closed_token_is_not_approved(platform, chain_client) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    with platform.engine.begin() as conn:  # closed behind the workflow's back (an old bug)
        conn.execute(text("UPDATE tokens SET status = 'delisted' WHERE symbol = 'OTC'"))
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="is delisted"):
        approve_otc_order(conn, platform.admin, pending["ids"][0])


def test_mature_due_closes_otc_orders(platform, chain_client) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET maturity_date = :d WHERE symbol = 'OTC'"),
                     {"d": datetime.now(UTC) - timedelta(days=1)})
    assert [t.symbol for t in mature_due(platform.engine, platform.admin, LIMITS)] == ["OTC"]
    _closed(platform, pending, "matured")


def test_cli_delist_closes_otc_orders(platform, chain_client, cli) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    result = cli("token", "delist", "OTC", "--yes")
    assert result.exit_code == 0, result.output
    _closed(platform, pending, "delisted")


def test_cli_mature_due_closes_otc_orders(platform, chain_client, cli) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET maturity_date = :d WHERE symbol = 'OTC'"),
                     {"d": datetime.now(UTC) - timedelta(days=1)})
    assert cli.json("token", "mature-due", "--json") is not None
    _closed(platform, pending, "matured")


def test_http_mature_closes_otc_orders(platform, chain_client, engine, db_url, tmp_path) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    with running_api(engine, db_url, tmp_path / "home", platform.admin) as api:
        done = api.call("POST", "/api/v1/admin/tokens/OTC/mature", "admin@x.io")
        assert done.status_code == 200, done.text
        _closed(platform, pending, "matured")
        refused = api.call("POST", f"/api/v1/admin/otc-orders/{pending['ids'][0]}", "admin@x.io",
                           json={"decision": "approve"})
        assert refused.status_code == 409


def test_serve_closes_otc_orders_left_pending_at_start(platform, chain_client, engine, db_url,
                                                       tmp_path) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    with engine.begin() as conn:  # matured by a process that stopped before closing the market
        conn.execute(text("UPDATE tokens SET status = 'matured' WHERE symbol = 'OTC'"))
    with running_api(engine, db_url, tmp_path / "home", platform.admin):
        _closed(platform, pending, "matured")  # by the server's start, before any request
