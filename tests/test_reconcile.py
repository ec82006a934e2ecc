"""`alefctl reconcile`: database positions against the embedded chain; in-flight differences are
explained, planted ones are breaks (exit 1)."""

from __future__ import annotations

import json

from eth_utils import keccak, to_checksum_address
from platform_builders import live_token, wallet_for
from settlement_helpers import link_chain, minted_token, trade

from alefctl.workflows.reconcile import reconcile
from alefctl.workflows.settlement.runner import run_settlement


def _by_email(rows: list[dict]) -> dict[str, dict]:
    return {row["email"]: row for row in rows}


def test_unsettled_trades_are_in_flight_and_settlement_makes_it_clean(platform, chain_client) -> None:  # noqa: ANN001
    minted_token(platform, chain_client, "REC", {"alice": 100, "bob": 50}, ("carol",))
    trade(platform, "alice", "carol", "REC", 10)
    [before] = reconcile(platform.engine, platform.admin, chain_client, "REC")
    assert before.ok, before.breaks
    flights = _by_email(before.in_flight)
    assert set(flights) == {"alice@x.io", "carol@x.io"}
    assert flights["alice@x.io"]["items"] == [
        {"kind": "sale", "status": "pending", "items": 1, "delta": 10}]
    assert (flights["carol@x.io"]["db_balance"], str(flights["carol@x.io"]["chain_balance"])) == (10, "0")
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1
    [after] = reconcile(platform.engine, platform.admin, chain_client, "REC")
    assert after.ok and after.in_flight == [] and after.frozen == []
    summary = after.to_dict()
    assert str(summary["total_supply"]) == str(summary["minted_db"]) and summary["minting_db"] == 0


def test_unminted_allocations_are_explained(platform, chain_client, cli, tmp_path) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "NEW", {"alice": 40})  # confirmed, not minted yet
    link_chain(tmp_path / "home", chain_client)
    result = cli("reconcile", "--token", "NEW", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    [token] = json.loads(result.stdout)["tokens"]
    assert token["ok"] and token["total_supply"] == "0" and token["minted_db"] == 0
    alice = _by_email(token["in_flight"])["alice@x.io"]
    assert alice["items"] == [{"kind": "allocation", "status": "pending", "items": 1, "delta": -40}]


def test_a_transfer_the_database_does_not_know_is_a_break(platform, chain_client, cli,  # noqa: ANN001
                                                          tmp_path) -> None:
    token = minted_token(platform, chain_client, "BRK", {"alice": 100, "bob": 50})
    stranger = to_checksum_address(keccak(text="reconcile:stranger")[-20:])
    chain_client.register_identity(token.identity_registry_addr, stranger, 784)
    chain_client.forced_transfer(token.contract_address, wallet_for("alice"), stranger, 5 * 10**18)
    chain_client.freeze_partial_tokens(token.contract_address, wallet_for("bob"), 7 * 10**18)
    link_chain(tmp_path / "home", chain_client)
    result = cli("reconcile", "--json")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    [brk] = [t for t in data["tokens"] if t["symbol"] == "BRK"]
    assert data["ok"] is False and brk["ok"] is False
    kinds = {(b["kind"], b.get("email")) for b in brk["breaks"]}
    assert kinds == {("position", "alice@x.io"), ("unknown_holders", None)}
    alice = next(b for b in brk["breaks"] if b["kind"] == "position")
    assert (alice["db_balance"], alice["chain_balance"]) == (100, "95")
    assert brk["frozen"] == [{"email": "bob@x.io", "wallet": wallet_for("bob"), "frozen": "7",
                              "wallet_frozen": False}]
    human = cli("reconcile", "--token", "BRK")
    assert human.exit_code == 1
    assert "unknown_holders" in human.stdout and "break(s)" in human.stderr
    assert cli("reconcile", "--token", "NOPE").exit_code == 3
    assert cli.as_user("alice@x.io")("reconcile").exit_code == 4


def test_items_that_may_be_on_chain_widen_the_accepted_range() -> None:
    import uuid

    from alefctl.workflows.reconcile_db import Holder, Item

    holder = Holder(uuid.uuid4(), "a@x.io", "0x" + "1" * 40, 50, 0, [
        Item("sale", "processing", 1, 10), Item("purchase", "pending", 1, -5),
        Item("allocation", "minting", 1, -20)])
    assert holder.expected_range() == (25, 55)  # 50 - 5, then -20 or 0, then 0 or +10
