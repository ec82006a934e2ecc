"""Compliance rules per token: set by an admin (audited), refused before an order rests or a
subscription is taken (409 with a code naming the rule), and enforced on-chain by a chain job."""

from __future__ import annotations

import pytest
from platform_builders import wallet_for
from server_client import place
from sqlalchemy import text

from alefctl.errors import PermissionDenied
from alefctl.workflows.compliance import ComplianceRefused, set_rules
from alefctl.workflows.lifecycle import start_offering
from alefctl.workflows.offering import subscribe
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.token_state import run_token_state_jobs

US, AE = 840, 784


def _code(response) -> str:  # noqa: ANN001
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["code"])


def test_the_command_sets_audits_and_shows_the_rules(market, cli) -> None:  # noqa: ANN001
    rules = cli.json("token", "compliance", "DATE", "--deny-country", "US", "--deny-country", "ca",
                     "--max-balance", "150", "--max-holders", "3", "--json")
    assert rules == {"denied_countries": ["CA", "US"], "max_balance": 150, "max_holders": 3,
                     "allowed_countries": []}
    lifted = cli.json("token", "compliance", "DATE", "--allow-country", "CA", "--max-holders", "0",
                      "--json")
    assert (lifted["denied_countries"], lifted["allowed_countries"], lifted["max_holders"]) == (
        ["US"], ["CA"], None)
    shown = cli.json("token", "show", "DATE", "--json")
    assert shown["compliance"]["denied_countries"] == ["US"]
    assert [job["kind"] for job in shown["chain_jobs"]] == ["compliance", "compliance"]
    with market.engine.connect() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_logs WHERE action ="
                                    " 'token.compliance'")).scalar_one()
    assert audited == 2
    refused = cli("token", "compliance", "DATE", "--deny-country", "XX")
    assert refused.exit_code == 2 and "unknown country" in refused.stderr
    assert cli.as_user("alice@x.io")("token", "compliance", "DATE", "--max-holders", "1").exit_code == 4


def test_buys_the_rules_forbid_are_refused_before_they_rest(market, platform) -> None:  # noqa: ANN001
    with market.engine.begin() as conn:
        set_rules(conn, platform.admin, "DATE", max_balance=150, max_holders=2)
    assert _code(place(market, "alice", "buy", 51, "10.00")) == "compliance_max_balance"
    assert place(market, "alice", "buy", 50, "10.00").status_code == 201
    # her resting bid counts: another 1 would take her past 150
    assert _code(place(market, "alice", "buy", 1, "10.00")) == "compliance_max_balance"
    assert _code(place(market, "carol", "buy", 1, "10.00")) == "compliance_max_holders"
    with market.engine.begin() as conn:
        set_rules(conn, platform.admin, "DATE", deny=["AE"], max_holders=0)
    assert _code(place(market, "carol", "buy", 1, "10.00")) == "compliance_country_denied"
    assert place(market, "bob", "sell", 1, "11.00").status_code == 201  # sells are not acquisitions
    with market.engine.connect() as conn:
        resting = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    assert resting == 2


def test_subscriptions_are_checked_too(platform, chain_client) -> None:  # noqa: ANN001
    platform.draft_token("SUBS")
    deploy_token(platform.engine, platform.admin, "SUBS", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "SUBS")
        set_rules(conn, platform.admin, "SUBS", max_balance=100, max_holders=1)
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="50000")
    bob = platform.approved("bob", wallet=wallet_for("bob"), fiat="50000")
    with platform.engine.begin() as conn:
        subscribe(conn, alice, "SUBS", 60)
    for investor, quantity, code in ((alice, 41, "compliance_max_balance"),
                                     (bob, 1, "compliance_max_holders")):
        with pytest.raises(ComplianceRefused) as refused, platform.engine.begin() as conn:
            subscribe(conn, investor, "SUBS", quantity)
        assert refused.value.code == code and refused.value.http_status == 409


def test_only_admins_set_rules(platform) -> None:  # noqa: ANN001
    platform.draft_token("ADM")
    with pytest.raises(PermissionDenied), platform.engine.begin() as conn:
        set_rules(conn, platform.issuer, "ADM", max_holders=5)


def test_a_chain_job_enforces_the_rules_on_chain(market, platform, chain_client) -> None:  # noqa: ANN001
    with market.engine.begin() as conn:
        set_rules(conn, platform.admin, "DATE", deny=["US", "CA"], max_balance=150, max_holders=3)
        token = conn.execute(text("SELECT contract_address, decimals FROM tokens"
                                  " WHERE symbol = 'DATE'")).one()
    report = run_token_state_jobs(market.engine, chain_client)
    assert report.done == 1 and report.failed == 0
    address = token.contract_address
    assert chain_client.max_balance(address) == 150 * 10 ** token.decimals
    assert chain_client.max_holders(address) == 3
    assert chain_client.is_country_restricted(address, US)
    with market.engine.begin() as conn:
        set_rules(conn, platform.admin, "DATE", allow=["US"], max_balance=0)
    assert run_token_state_jobs(market.engine, chain_client).done == 1
    assert not chain_client.is_country_restricted(address, US)
    assert chain_client.is_country_restricted(address, 124)  # CA stays denied
    assert chain_client.max_balance(address) == 0


def test_the_admin_route_sets_the_rules(market) -> None:  # noqa: ANN001
    path = "/api/v1/admin/tokens/DATE/compliance"
    body = {"deny_countries": ["US"], "max_holders": 2000}
    assert market.call("PUT", path, "alice@x.io", json=body).status_code == 403
    bad = market.call("PUT", path, "admin@x.io", json={"deny_countries": ["USA1"]})
    assert bad.status_code == 422 and bad.json()["field"] == "deny_country"
    done = market.call("PUT", path, "admin@x.io", json=body)
    assert done.status_code == 200, done.text
    assert done.json() == {"denied_countries": ["US"], "max_balance": None, "max_holders": 2000,
                           "allowed_countries": []}
