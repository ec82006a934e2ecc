"""`alefctl demo`: the lifecycle on the embedded parts; it can be run again."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import create_engine, text


def test_demo_runs_the_lifecycle(cli, db_url) -> None:  # noqa: ANN001
    report = cli.json("demo")
    investors = [u for u in report["users"] if u["role"] == "investor"]
    assert len(investors) == 5 and all(u["wallet_address"] for u in investors)
    assert sum(Decimal(d["amount"]) for d in report["deposits"]) == Decimal("105000.00")
    assert any("dave refused" in step and "FATCA" in step for step in report["steps"])
    assert report["token"]["contract_address"].startswith("0x")
    assert any("2 subscriptions refunded (300.00 USD); allocations minted 1, burned 1" in step
               for step in report["steps"])
    redeemed = next(step for step in report["steps"] if "matured and redeemed at 1.005" in step)
    assert "3 holders paid 65.32 USD" in redeemed and "remainder 0.005" in redeemed
    assert "3 burns on-chain" in redeemed
    assert report["positions"] and all(p["db_balance"] == p["chain_balance"]
                                       for p in report["positions"])
    assert sum(t["quantity"] for t in report["trades"]) == 120
    assert report["book"]["bids"][0] == ["10.30", 30]
    assert report["verified"] is True
    assert any(step.startswith("settlement: 2 trades settled on-chain in 1 ") for step in report["steps"])
    assert any("0 breaks (clean)" in step for step in report["steps"])
    assert all(p["db_balance"] == p["chain_balance"] for p in report["positions"])
    engine = create_engine(db_url)
    with engine.connect() as conn:
        held = conn.execute(text(
            "SELECT (SELECT sum(fiat_balance) FROM users) + (SELECT coalesce(sum(locked_fiat), 0)"
            " FROM orders WHERE status IN ('open', 'partially_filled', 'pending_stop'))"
            " + (SELECT sum(escrow_balance) FROM tokens)")).scalar_one()
    engine.dispose()
    assert held == Decimal("105000.00")  # every dollar deposited is still somewhere
    # (escrow is paid out at go-live, and the dividend moved money from the issuer to holders)
    again = cli.json("demo")  # a second run does not collide with the first
    assert again["tag"] != report["tag"]


def test_demo_prints_a_summary(cli) -> None:  # noqa: ANN001
    result = cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "deposited 105,000.00 USD across 5 investors" in result.stdout
    assert "database vs chain" in result.stdout


def test_demo_on_a_new_platform_creates_its_first_admin(cli, empty_db_url: str) -> None:  # noqa: ANN001
    from pathlib import Path

    fresh = {"ALEF_DATABASE_URL": empty_db_url, "ALEF_API_KEY": ""}
    result = cli("demo", "--json", **fresh)
    assert result.exit_code == 0, result.stderr
    assert "created the first admin admin@localhost" in result.stderr
    assert (Path(cli.env["ALEF_HOME"]) / "credentials").is_file()
    assert cli.json("whoami", **fresh)["email"] == "admin@localhost"
    quiet = cli("check", "--quiet", **fresh)  # the demo leaves nothing failed or stuck
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
