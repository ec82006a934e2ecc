"""The cap table (issued, sold, team, reserve, platform, burned, outstanding, held, treasury) at
any instant, on the embedded chain; its command and route; and the `check` invariant that the
register sums to what is outstanding on the platform at every instant."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from platform_builders import wallet_for
from register_builders import db_now, trading_token
from settlement_helpers import link_chain
from sqlalchemy import text

from alefctl.errors import NotFound, PermissionDenied
from alefctl.workflows import approvals
from alefctl.workflows.cap_table import cap_table, chain_supply
from alefctl.workflows.holders.jobs import run_agent_jobs
from alefctl.workflows.holders.severe import request_burn
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.lifecycle import enable_secondary, start_offering
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.offering_admin import cancel_offering
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.register import holder_register
from alefctl.workflows.tokens import NewToken, create_token

CHECK = "register_sums_to_outstanding"


def _failing(platform) -> dict[str, list[dict]]:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return {r.name: r.violations for r in run_checks(conn, platform.admin, [CHECK]) if not r.ok}


def _figures(platform, as_of=None, actor=None) -> dict:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return cap_table(conn, actor or platform.admin, "CAP", as_of).to_dict()


def _offering_sold(platform, chain_client) -> None:  # noqa: ANN001
    """CAP: 1,000 tokens; team 10%, reserve 5%, platform 5%; alice buys 300, bob 200."""
    business = platform.business("5")
    with platform.engine.begin() as conn:
        create_token(conn, platform.issuer, NewToken(business, "Cap Farms", "CAP", 1000, "10.00",
                                                     None, "10", "5"), default_fee_bps=50)
    deploy_token(platform.engine, platform.admin, "CAP", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "CAP")
    for name, quantity in (("alice", 300), ("bob", 200)):
        investor = platform.approved(name, wallet=wallet_for(name), fiat="5000")
        with platform.engine.begin() as conn:
            subscribe(conn, investor, "CAP", quantity)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, "CAP")
        conn.execute(text("UPDATE users SET wallet_address = :w WHERE email = 'issuer@x.io'"),
                     {"w": wallet_for("issuer")})


def test_cap_table_adds_up_through_offering_go_live_and_burn(platform, chain_client, cli,  # noqa: ANN001
                                                            tmp_path) -> None:
    _offering_sold(platform, chain_client)
    before_live = db_now(platform)
    with platform.engine.begin() as conn:
        enable_secondary(conn, platform.admin, "CAP", Decimal("2"))
    assert run_mint_jobs(platform.engine, chain_client).failed == 0
    live = _figures(platform)
    assert {k: live[k] for k in ("authorized", "issued", "sold", "team", "reserve", "platform",
                                 "dividends", "other", "burned", "outstanding", "off_platform",
                                 "held", "treasury", "holder_count")} == {
        "authorized": 1000, "issued": 700, "sold": 500, "team": 100, "reserve": 50,
        "platform": 50, "dividends": 0, "other": 0, "burned": 0, "outstanding": 700,
        "off_platform": 0, "held": 700, "treasury": 50, "holder_count": 4}
    assert live["sold"] + live["team"] + live["reserve"] + live["platform"] == live["issued"]
    with platform.engine.begin() as conn:
        assert conn.execute(text("SELECT tokens_sold FROM tokens WHERE symbol = 'CAP'")
                            ).scalar_one() == live["sold"]
        register = holder_register(conn, platform.admin, "CAP")
        supply = chain_supply(conn, chain_client, cap_table(conn, platform.admin, "CAP"))
    assert sum(h.quantity for h in register.holders) == live["outstanding"]
    assert supply == {"total_supply": 700, "minted": 700, "in_flight": 0, "ok": True}

    then = _figures(platform, before_live)  # the offering sold, nothing allocated yet
    assert (then["issued"], then["sold"], then["team"], then["platform"], then["held"],
            then["treasury"], then["holder_count"]) == (500, 500, 0, 0, 500, 0, 2)

    checker = platform.person("checker", role="admin")
    with platform.engine.begin() as conn:
        request = request_burn(conn, platform.admin, "CAP", "bob@x.io", 20, "court order")
    approvals.approve(platform.engine, checker, str(request.id))
    burned = _figures(platform)
    assert (burned["issued"], burned["burned"], burned["outstanding"], burned["held"],
            burned["holder_count"]) == (700, 20, 680, 680, 4)
    with platform.engine.begin() as conn:  # off the books, not yet burned on-chain
        pending = chain_supply(conn, chain_client, cap_table(conn, platform.admin, "CAP"))
    assert pending == {"total_supply": 700, "minted": 700, "in_flight": 0, "ok": True}
    assert run_agent_jobs(platform.engine, chain_client).failed == 0
    with platform.engine.begin() as conn:
        done = chain_supply(conn, chain_client, cap_table(conn, platform.admin, "CAP"))
        assert sum(h.quantity for h in holder_register(conn, platform.admin, "CAP").holders) == 680
    assert done == {"total_supply": 680, "minted": 680, "in_flight": 0, "ok": True}
    assert _failing(platform) == {}

    link_chain(tmp_path / "home", chain_client)  # the command sees the same chain
    verified = cli.json("token", "cap-table", "CAP", "--verify-chain")
    assert (verified["outstanding"], verified["chain"]["total_supply"], verified["chain"]["ok"]) == (
        680, 680, True)
    with platform.engine.begin() as conn:  # the database no longer knows the team's mint
        conn.execute(text("UPDATE token_allocations SET on_chain_status = 'pending',"
                          " on_chain_tx_hash = NULL WHERE allocation_type = 'team'"))
    broken = cli("token", "cap-table", "CAP", "--verify-chain")
    assert broken.exit_code == 1 and "minted 580" in broken.stdout and "BREAK" in broken.stdout

    with platform.engine.begin() as conn:  # bob's first history row no longer leads to his second
        conn.execute(text(
            "UPDATE positions_history SET balance = balance + 1 WHERE id = (SELECT min(h.id)"
            " FROM positions_history h JOIN users u ON u.id = h.user_id"
            " WHERE u.email = 'bob@x.io')"))
    [violation] = _failing(platform)[CHECK]
    assert violation["symbol"] == "CAP" and violation["broken_history_rows"] == 1


def test_a_cancelled_offering_is_sold_then_burned(platform, chain_client) -> None:  # noqa: ANN001
    _offering_sold(platform, chain_client)
    sold = db_now(platform)
    with platform.engine.begin() as conn:
        cancel_offering(conn, platform.admin, "CAP", "the issuer withdrew")
    now = _figures(platform)
    assert (now["issued"], now["sold"], now["burned"], now["outstanding"], now["held"],
            now["holder_count"]) == (500, 500, 500, 0, 0, 0)
    assert _figures(platform, sold)["held"] == 500
    assert _failing(platform) == {}
    with platform.engine.begin() as conn:  # tokens credited with no record behind them
        credit_tokens(conn, platform.actor("alice@x.io").user_id,
                      conn.execute(text("SELECT id FROM tokens WHERE symbol = 'CAP'")).scalar_one(), 3)
    [violation] = _failing(platform)[CHECK]
    assert violation["just_before"] is None  # now
    assert (violation["register_total"], violation["outstanding_on_platform"]) == (3, 0)


def test_visibility_and_the_register_sums_at_every_instant(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100}, symbol="CAP", treasury=10)
    with platform.engine.begin() as conn:
        assert cap_table(conn, platform.issuer, "CAP").other == 110
        with pytest.raises(NotFound):
            cap_table(conn, platform.approved("otto", role="issuer"), "CAP")
        with pytest.raises(PermissionDenied):
            cap_table(conn, platform.actor("alice@x.io"), "CAP")
        # history says alice held 5 more for a moment before her allocation: a past instant
        # the current-state checks cannot see
        conn.execute(text(
            "INSERT INTO positions_history (token_id, user_id, change, balance, changed_at, tx_at)"
            " SELECT token_id, user_id, 5, 5, changed_at - interval '1 minute',"
            " tx_at - interval '1 minute' FROM"
            " positions_history WHERE user_id = (SELECT id FROM users WHERE email = 'alice@x.io')"))
    [violation] = _failing(platform)[CHECK]
    assert violation["register_total"] - violation["outstanding_on_platform"] == 5


def test_a_transaction_that_began_first_and_wrote_last_is_no_false_alarm(platform) -> None:  # noqa: ANN001
    """A begins, B issues tokens and commits, then A issues its own: A's issue is stamped with
    its start (before B's), its position row is written after B's; the register just before
    B's issue still adds up, counted by when each transaction began."""
    token = trading_token(platform, {"alice": 100}, symbol="CAP", treasury=10)
    issue = ("INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type,"
             " status, confirmed_at) VALUES (gen_random_uuid(), :t, :u, 7, 'team', 'confirmed',"
             " now())")
    with platform.engine.connect() as first:
        first.execute(text("SELECT now()"))  # A's transaction begins
        time.sleep(0.05)
        with platform.engine.begin() as second:  # B issues to bob and commits
            bob = platform.approved("bob").user_id
            second.execute(text(issue), {"t": token.id, "u": bob})
            credit_tokens(second, bob, token.id, 7)
        time.sleep(0.05)
        first.execute(text(issue), {"t": token.id, "u": platform.issuer.user_id})
        credit_tokens(first, platform.issuer.user_id, token.id, 7)
        first.commit()
    assert _failing(platform) == {}


def test_cap_table_command_and_route(platform, cli, api) -> None:  # noqa: ANN001
    token = trading_token(platform, {"alice": 100}, symbol="CAP", treasury=10)
    before = db_now(platform).isoformat()
    with platform.engine.begin() as conn:
        conn.execute(text("INSERT INTO token_allocations (id, token_id, user_id, quantity,"
                          " allocation_type, status, confirmed_at) SELECT gen_random_uuid(), id,"
                          " :u, 40, 'team', 'confirmed', now() FROM tokens WHERE symbol = 'CAP'"),
                     {"u": platform.issuer.user_id})
        credit_tokens(conn, platform.issuer.user_id, token.id, 40)
    shown = cli.json("token", "cap-table", "CAP")
    assert (shown["issued"], shown["team"], shown["other"], shown["held"], shown["treasury"],
            shown["holder_count"]) == (150, 40, 110, 150, 10, 3)
    assert cli.json("token", "cap-table", "CAP", "--as-of", before)["issued"] == 110
    rendered = cli("token", "cap-table", "CAP")
    assert rendered.exit_code == 0 and "outstanding" in rendered.stdout
    assert "150" in rendered.stdout
    assert cli.as_user("issuer@x.io")("token", "cap-table", "CAP").exit_code == 0
    assert cli.as_user("alice@x.io")("token", "cap-table", "CAP").exit_code == 4
    assert cli("token", "cap-table", "NOPE").exit_code == 3
    assert cli("token", "cap-table", "CAP", "--as-of", "yesterday").exit_code == 2
    assert cli("token", "cap-table", "CAP", "--as-of", before, "--verify-chain").exit_code == 2

    path = f"/api/v1/admin/tokens/{token.id}/cap-table"
    now = api.call("GET", path, "admin@x.io")
    assert now.status_code == 200, now.text
    assert (now.json()["outstanding"], now.json()["team"]) == (150, 40)
    then = api.call("GET", path, "admin@x.io", params={"as_of": before}).json()
    assert then["outstanding"] == 110
    for outsider in ("issuer@x.io", "alice@x.io"):  # an admin route, as the register's
        refused = api.call("GET", path, outsider)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
