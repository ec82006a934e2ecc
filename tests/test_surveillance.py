"""Surveillance triage: alerts raised on the order path are listed, shown with their evidence,
acknowledged, dismissed or escalated, each step audited; from the CLI and over HTTP."""

from __future__ import annotations

from server_client import place
from sqlalchemy import text

from alefctl.workflows.dashboard import attention


def _wash_trade(market) -> str:  # noqa: ANN001
    """alice trades with herself; the detector raises a wash-trading alert. Its id."""
    assert place(market, "alice", "buy", 3, "9.00").status_code == 201
    filled = place(market, "alice", "sell", 3, "9.00", self_trade_prevention="none")
    assert filled.json()["status"] == "filled"
    with market.engine.connect() as conn:
        return str(conn.execute(text("SELECT id FROM surveillance_alerts")).scalar_one())


def _open_on_the_overview(market) -> int:  # noqa: ANN001
    with market.engine.connect() as conn:
        return attention(conn).alerts


def _audit_actions(market, alert_id: str) -> list[str]:  # noqa: ANN001
    with market.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT action FROM audit_logs WHERE object_id = :id ORDER BY seq"),
            {"id": alert_id}).scalars())


def test_list_and_show_carry_the_evidence(market, cli) -> None:  # noqa: ANN001
    alert_id = _wash_trade(market)
    listed = cli.json("surveillance", "list")
    assert [(a["id"], a["kind"], a["status"], a["user"], a["token"]) for a in listed] == [
        (alert_id, "wash_trading", "open", "alice@x.io", "DATE")]
    assert cli.json("surveillance", "list", "--kind", "spoofing") == []
    assert cli.json("surveillance", "list", "--status", "dismissed") == []
    shown = cli.json("surveillance", "show", alert_id[-12:])  # the console's tail works
    evidence = shown["evidence"]
    assert "same owner" in evidence["detail"]
    assert sorted(o["side"] for o in evidence["orders"]) == ["buy", "sell"]
    assert {o["user"] for o in evidence["orders"]} == {"alice@x.io"}
    assert all(o["placed_at"].endswith("Z") for o in evidence["orders"])
    [trade] = evidence["trades"]
    assert (trade["buyer"], trade["seller"], trade["price"], trade["quantity"]) == (
        "alice@x.io", "alice@x.io", "9.00", 3)
    assert trade["traded_at"].endswith("Z")
    assert {trade["buy_order_id"], trade["sell_order_id"]} == {o["id"] for o in evidence["orders"]}
    human = cli("surveillance", "show", alert_id)
    assert human.exit_code == 0 and "orders" in human.stdout and "alice@x.io" in human.stdout


def test_ack_then_dismiss_with_notes_each_step_audited(market, cli) -> None:  # noqa: ANN001
    alert_id = _wash_trade(market)
    assert _open_on_the_overview(market) == 1
    acked = cli.json("surveillance", "ack", alert_id, "--note", "looking at it")
    assert _open_on_the_overview(market) == 0  # someone owns it now
    assert (acked["status"], acked["assignee"], acked["acknowledged_by"]) == (
        "acknowledged", "admin@localhost", "admin@localhost")
    assert cli("surveillance", "ack", alert_id).exit_code == 5  # already acknowledged
    assert cli("surveillance", "dismiss", alert_id, "--reason", " ").exit_code == 2
    done = cli.json("surveillance", "dismiss", alert_id, "--reason", "test account")
    assert done["status"] == "dismissed" and done["resolved_by"] == "admin@localhost"
    assert [(n["action"], n["text"]) for n in done["notes"]] == [
        ("acknowledge", "looking at it"), ("dismiss", "test account")]
    assert cli("surveillance", "escalate", alert_id, "--reason", "x").exit_code == 5
    assert _audit_actions(market, alert_id) == ["surveillance.acknowledge", "surveillance.dismiss"]
    assert cli.json("surveillance", "list") == []
    assert [a["id"] for a in cli.json("surveillance", "list", "--status", "all")] == [alert_id]


def test_assignee_must_be_a_triager_and_filters_by_assignee(market, cli) -> None:  # noqa: ANN001
    alert_id = _wash_trade(market)
    refused = cli("surveillance", "ack", alert_id, "--assignee", "carol@x.io")
    assert refused.exit_code == 2 and "cannot be assigned" in refused.stderr
    cli.json("surveillance", "ack", alert_id, "--assignee", "admin@x.io")
    assert [a["id"] for a in cli.json("surveillance", "list", "--assignee", "admin@x.io")] == [
        alert_id]
    assert cli.json("surveillance", "list", "--assignee", "admin@localhost") == []


def test_investors_may_not_read_or_triage(market, cli) -> None:  # noqa: ANN001
    alert_id = _wash_trade(market)
    carol = cli.as_user("carol@x.io")
    assert carol("surveillance", "list").exit_code == 4
    assert carol("surveillance", "dismiss", alert_id, "--reason", "mine").exit_code == 4
    assert cli("surveillance", "show", "00000000").exit_code == 3


def test_http_escalate_straight_from_open(market) -> None:  # noqa: ANN001
    alert_id = _wash_trade(market)
    base = "/api/v1/admin/surveillance/alerts"
    listed = market.call("GET", f"{base}?status=open", "admin@x.io").json()
    assert [a["id"] for a in listed] == [alert_id]
    shown = market.call("GET", f"{base}/{alert_id}", "admin@x.io").json()
    assert len(shown["evidence"]["trades"]) == 1
    assert market.call("POST", f"{base}/{alert_id}/escalate", "admin@x.io",
                       json={"reason": ""}).status_code == 422
    done = market.call("POST", f"{base}/{alert_id}/escalate", "admin@x.io",
                       json={"reason": "repeated pattern, to compliance"})
    assert done.status_code == 200 and done.json()["status"] == "escalated"
    again = market.call("POST", f"{base}/{alert_id}/ack", "admin@x.io", json={})
    assert again.status_code == 409
    assert market.call("GET", f"{base}?status=nonsense", "admin@x.io").status_code == 422
    assert market.call("GET", base, "alice@x.io").status_code == 403
    assert _audit_actions(market, alert_id) == ["surveillance.escalate"]
