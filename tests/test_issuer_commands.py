"""Issuer and admin commands end to end through the CLI, with their exit codes."""

from __future__ import annotations

from platform_builders import wallet_for


def test_business_token_offering_commands(cli, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    business = cli.as_user("issuer@x.io").json("business", "register", "--name", "Palm Co",
                        "--registration-number", "P-1", "--country", "ae", "--industry", "dates",
                        "--alef-allocation-pct", "5")
    assert business["status"] == "pending"
    assert cli.as_user("issuer@x.io")("business", "approve", business["id"]).exit_code == 4
    assert cli("business", "reject", business["id"], "--reason", "").exit_code == 2
    assert cli.as_user("admin@x.io").json("business", "approve", business["id"])["status"] == "active"
    again = cli.as_user("admin@x.io")("business", "approve", business["id"])
    assert again.exit_code == 5 and "cannot approve: the business is active" in again.stderr

    bad = cli.as_user("issuer@x.io")("token", "create", "--business", business["id"], "--name",
              "Palm", "--symbol", "PALM", "--supply", "1000", "--price", "5.00", "--primary-pct",
              "80", "--team-pct", "20")  # + the business's 5%: 105
    assert bad.exit_code == 2 and "must be at most 100" in bad.stderr
    token = cli.as_user("issuer@x.io").json("token", "create", "--business", business["id"],
                     "--name", "Palm", "--symbol", "PALM", "--supply", "1000", "--price", "5.00",
                     "--primary-pct", "80", "--team-pct", "15")
    assert token["status"] == "draft" and token["primary_cap"] == 800
    assert cli("token", "start-offering", "PALM").exit_code == 5  # not deployed yet
    assert cli("token", "show", "NOPE").exit_code == 3

    deployed = cli.json("token", "deploy", "PALM")
    assert len(deployed["steps"]) == 5 and deployed["token"]["contract_address"]
    assert cli.json("token", "deploy", "PALM")["already_deployed"] is True
    assert cli.json("token", "start-offering", "PALM")["status"] == "primary"

    investor = platform.approved("ivy", wallet=wallet_for("ivy"), fiat="1000")
    allocation = cli.as_user(investor.email).json("token", "subscribe", "PALM", "--quantity", "10")
    assert allocation["amount"] == "50.00" and allocation["status"] == "pending_payment"
    assert cli.as_user(investor.email)("token", "subscribe", "PALM", "--quantity", "1000").exit_code == 5
    confirmed = cli.json("token", "confirm-payment", "PALM")
    assert [a["status"] for a in confirmed] == ["confirmed"]
    assert cli.json("allocation", "list", "--token", "PALM")[0]["on_chain_status"] == "pending"
    work = cli.json("chain", "work", "--once")
    assert work["minted"] == 1
    balance = cli.json("chain", "balance", "--token", "PALM", "--wallet", wallet_for("ivy"))
    assert balance["db_balance"] == balance["chain_balance"] == 10 and balance["matches"]
    assert cli("token", "enable-secondary", "PALM").exit_code == 2  # needs --yes off a terminal
    live = cli.json("token", "enable-secondary", "PALM", "--yes")
    assert live["success_fee"] == "1.00" and live["issuer_proceeds"] == "49.00"
    assert cli.json("token", "pause", "PALM")["status"] == "paused"
    assert cli.json("token", "resume", "PALM")["status"] == "secondary"
    assert cli.json("token", "delist", "PALM", "--yes")["status"] == "delisted"
    assert cli("token", "resume", "PALM").exit_code == 5
    assert cli.json("token", "mature-due") == []
