"""`alefctl check`: every invariant holds on a platform run through its real money paths, and
each one finds a violation planted for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text
from test_dividends import approved, draft_token, paying_token

from alefctl.db.system_users import treasury_id
from alefctl.ids import new_id
from alefctl.workflows.dividends.distribution import distribute
from alefctl.workflows.invariants import CHECKS, run_checks
from alefctl.workflows.lifecycle import enable_secondary, start_offering
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.offering import confirm_payments, reject_allocation, subscribe
from alefctl.workflows.wallet import withdraw

D = Decimal


def failures(platform) -> dict[str, list[dict]]:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return {r.name: r.violations for r in run_checks(conn, platform.admin) if not r.ok}


def place(platform, who, side: str, quantity: int, price: str) -> dict:  # noqa: ANN001
    """An order through the real order path (the server's group writer, in-process)."""
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.books import Books, load_books
    from alefctl.workflows.trading.funds import NotionalLimits
    from alefctl.workflows.trading.group import OrderGroup, PlaceOrder

    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(load_books(conn)), NotionalLimits(D(500), D(5000), D(50000)),
                           treasury_id(conn), lambda: datetime.now(UTC))
        outcome = group.run(PlaceOrder(who, OrderRequest("DATE", side, "limit", quantity, D(price))))
        assert not isinstance(outcome, Exception), outcome
        group.flush()
    return outcome


def test_every_check_holds_after_the_real_money_paths(platform, cli) -> None:  # noqa: ANN001
    from platform_builders import wallet_for

    draft_token(platform, "DATE")
    with platform.engine.begin() as conn:
        # Deploying needs the chain (another engineer's part): an address stands in for it.
        conn.execute(text("UPDATE tokens SET contract_address = :a WHERE symbol = 'DATE'"),
                     {"a": "0x" + "da7e" * 10})
        start_offering(conn, platform.admin, "DATE")
    people = {name: platform.approved(name, wallet=wallet_for(name), fiat="5000")
              for name in ("alice", "bob", "carol")}
    with platform.engine.begin() as conn:
        subscribe(conn, people["alice"], "DATE", 100)
        subscribe(conn, people["bob"], "DATE", 50)
        rejected = subscribe(conn, people["carol"], "DATE", 10)
    with platform.engine.begin() as conn:
        reject_allocation(conn, platform.admin, str(rejected.id), "payment never arrived")
        confirm_payments(conn, platform.admin, "DATE")
        enable_secondary(conn, platform.admin, "DATE", D("2"))
        withdraw(conn, platform.admin, "carol@x.io", "100")
    assert failures(platform) == {}
    place(platform, people["alice"], "sell", 10, "12.00")
    assert place(platform, people["bob"], "buy", 4, "12.50")["status"] == "filled"
    place(platform, people["carol"], "buy", 3, "11.00")  # rests, its money locked
    assert failures(platform) == {}
    with platform.engine.begin() as conn:
        from alefctl.workflows.wallet import deposit

        deposit(conn, platform.admin, platform.issuer.email, "1000")
    for kind, amount in (("fiat", {"per_token_usd": "0.001"}), ("stablecoin", {"per_token_usd": "0.002"}),
                         ("token", {"per_token_qty": 1})):
        dividend = approved(platform, kind, **amount)
        distribute(platform.engine, platform.admin, str(dividend.id))
    assert failures(platform) == {}
    result = cli("check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"all {len(CHECKS)} checks hold" in result.stderr


def _plant_escrow(conn: Connection, ids: dict) -> str:
    conn.execute(text("UPDATE tokens SET escrow_balance = escrow_balance + 5.00"))
    return "5.00"


def _plant_fiat_move(conn: Connection, ids: dict) -> str:
    conn.execute(text("UPDATE users SET fiat_balance = fiat_balance + 1 WHERE id = :u"),
                 {"u": ids["bob"]})
    conn.execute(text("UPDATE users SET fiat_balance = fiat_balance - 1 WHERE id = :u"),
                 {"u": ids["issuer"]})
    return "bob@x.io"


def _plant_usdc(conn: Connection, ids: dict) -> str:
    conn.execute(text("INSERT INTO user_balances (user_id, currency, balance) VALUES (:u, 'USDC', 3)"),
                 {"u": ids["alice"]})
    return str(ids["alice"])


def _plant_overlock(conn: Connection, ids: dict) -> str:
    conn.execute(text("ALTER TABLE wallets DROP CONSTRAINT wallets_check,"
                      " DROP CONSTRAINT wallets_frozen_not_locked"))
    conn.execute(text("UPDATE wallets SET locked_balance = balance + 1 WHERE user_id = :u"),
                 {"u": ids["alice"]})
    return str(ids["alice"])


def _plant_position_without_history(conn: Connection, ids: dict) -> str:
    conn.execute(text("DELETE FROM positions_history WHERE user_id = :u"), {"u": ids["alice"]})
    return str(ids["alice"])


def _plant_position_before_its_issue(conn: Connection, ids: dict) -> str:
    """Alice's history says she held her tokens an hour before they were issued: every check of
    the current state holds, the register of that past hour does not add up."""
    conn.execute(text("UPDATE positions_history SET changed_at = changed_at - interval '1 hour',"
                      " tx_at = tx_at - interval '1 hour' WHERE user_id = :u"), {"u": ids["alice"]})
    return conn.execute(text("SELECT symbol FROM tokens WHERE id = :t"),
                        {"t": ids["token"]}).scalar_one()


def _plant_unminted_tokens(conn: Connection, ids: dict) -> str:
    credit_tokens(conn, ids["alice"], ids["token"], 1)
    return "DATE"


def _order(conn: Connection, ids: dict, side: str, status: str = "open", locked: str = "0",
           filled: int = 0) -> object:
    order_id = new_id()
    conn.execute(text(
        "INSERT INTO orders (id, user_id, token_id, side, order_type, price, quantity,"
        " filled_quantity, locked_fiat, status) VALUES (:id, :u, :t, :side, 'limit', 10, 5, :f,"
        " :locked, :status)"), {"id": order_id, "u": ids["alice"], "t": ids["token"], "side": side,
                                "status": status, "locked": D(locked), "f": filled})
    return order_id


def _plant_unfunded_buy(conn: Connection, ids: dict) -> str:
    return str(_order(conn, ids, "buy", locked="49.99"))


def _plant_uncovered_sell(conn: Connection, ids: dict) -> str:
    _order(conn, ids, "sell")
    return str(ids["alice"])


def _plant_trade_without_history(conn: Connection, ids: dict) -> str:
    buy, sell = _order(conn, ids, "buy", "filled", filled=5), _order(conn, ids, "sell", "filled", filled=5)
    trade_id = new_id()
    conn.execute(text(
        "INSERT INTO trades (id, token_id, buy_order_id, sell_order_id, buyer_id, seller_id,"
        " taker_side, price, quantity, total) VALUES (:id, :t, :b, :s, :u, :u, 'buy', 10, 5, 50)"),
        {"id": trade_id, "t": ids["token"], "b": buy, "s": sell, "u": ids["alice"]})
    return str(trade_id)


def _plant_negative(conn: Connection, ids: dict) -> str:
    conn.execute(text("ALTER TABLE users DROP CONSTRAINT users_fiat_balance_check"))
    conn.execute(text("UPDATE users SET fiat_balance = -1 WHERE id = :u"), {"u": ids["alice"]})
    return str(ids["alice"])


def _plant_unrefunded_cancellation(conn: Connection, ids: dict) -> str:
    conn.execute(text("UPDATE tokens SET status = 'cancelled', cancelled_at = now(),"
                      " cancel_reason = 'planted' WHERE id = :t"), {"t": ids["token"]})
    conn.execute(text("INSERT INTO token_allocations (id, token_id, user_id, quantity,"
                      " allocation_type, status) VALUES (:id, :t, :u, 1, 'primary', 'confirmed')"),
                 {"id": new_id(), "t": ids["token"], "u": ids["alice"]})
    return str(ids["token"])


def _plant_dividend_total(conn: Connection, ids: dict) -> str:
    conn.execute(text("UPDATE dividend_declarations SET total_fee_usd = total_fee_usd + 0.01"))
    return str(ids["dividend"])


def _plant_unbooked_approval(conn: Connection, ids: dict) -> str:
    request_id = new_id()
    conn.execute(text(
        "INSERT INTO approval_requests (id, kind, summary, params, requested_by, status,"
        " decided_by, decided_at, result, executed_at) VALUES (:id, 'wallet.deposit', 'deposit',"
        " '{}', :alice, 'executed', :bob, now(), '{}', now())"),
        {"id": request_id, "alice": ids["alice"], "bob": ids["bob"]})
    return str(request_id)


def _plant_unpaid_withdrawal(conn: Connection, ids: dict) -> str:
    """A withdrawal recorded as paid whose held ledger row was cancelled (the money came back)."""
    held, withdrawal_id = new_id(), new_id()
    conn.execute(text("INSERT INTO wallet_transactions (id, user_id, type, amount, status) VALUES"
                      " (:id, :u, 'withdrawal', -5.00, 'cancelled')"), {"id": held, "u": ids["alice"]})
    conn.execute(text(
        "INSERT INTO withdrawal_requests (id, user_id, amount, status, wallet_transaction_id,"
        " decided_by, decided_at) VALUES (:id, :u, 5.00, 'completed', :held, :bob, now())"),
        {"id": withdrawal_id, "u": ids["alice"], "held": held, "bob": ids["bob"]})
    return str(withdrawal_id)


def _plant_failed_settlement(conn: Connection, ids: dict) -> str:
    trade_id = _plant_trade_without_history(conn, ids)
    conn.execute(text("UPDATE trades SET settlement_status = 'failed', settlement_attempts = 5,"
                      " settlement_error = 'refused by the token' WHERE id = :id"), {"id": trade_id})
    return trade_id


def _plant_failed_mint(conn: Connection, ids: dict) -> str:
    conn.execute(text("UPDATE token_allocations SET on_chain_status = 'failed', on_chain_error ="
                      " 'wallet frozen' WHERE user_id = :u"), {"u": ids["bob"]})
    return "bob@x.io"


def _plant_failed_token_chain_job(conn: Connection, ids: dict) -> str:
    job_id = new_id()
    conn.execute(text("INSERT INTO token_chain_jobs (id, token_id, kind, status, attempts, error)"
                      " VALUES (:id, :t, 'compliance', 'failed', 5, 'not the owner')"),
                 {"id": job_id, "t": ids["token"]})
    return str(job_id)


def _plant_failed_agent_operation(conn: Connection, ids: dict) -> str:
    operation_id = new_id()
    conn.execute(text(
        "INSERT INTO agent_operations (id, kind, token_id, user_id, quantity, reason, requested_by,"
        " chain_status, chain_error) VALUES (:id, 'freeze', :t, :u, 3, 'court order', :u,"
        " 'failed', 'freeze exceeds balance')"), {"id": operation_id, "t": ids["token"],
                                                  "u": ids["bob"]})
    return str(operation_id)


def _plant_stuck_settlement(conn: Connection, ids: dict) -> str:
    trade_id = _plant_trade_without_history(conn, ids)
    conn.execute(text("UPDATE trades SET created_at = now() - interval '6 minutes' WHERE id = :id"),
                 {"id": trade_id})
    return trade_id


def _plant_withdrawn_unsettled_proceeds(conn: Connection, ids: dict) -> str:
    """alice sold 5 (not settled on-chain) and withdrew everything her ledger held."""
    _plant_trade_without_history(conn, ids)
    conn.execute(text(
        "INSERT INTO wallet_transactions (id, user_id, type, amount, status) SELECT :id, :u,"
        " 'withdrawal', -sum(amount), 'completed' FROM wallet_transactions WHERE user_id = :u"
        " AND status IN ('pending', 'completed') AND currency = 'USD'"),
        {"id": new_id(), "u": ids["alice"]})
    return "alice@x.io"


def _plant_unpaid_redemption(conn: Connection, ids: dict) -> str:
    """A token marked redeemed with no paid redemption and its holders still holding."""
    return conn.execute(text("UPDATE tokens SET status = 'redeemed' WHERE id = :t RETURNING symbol"),
                        {"t": ids["token"]}).scalar_one()


PLANTS: dict[str, Callable[[Connection, dict], str]] = {
    "dollars_conserved": _plant_escrow,
    "user_fiat_ledger": _plant_fiat_move,
    "user_stablecoin_ledger": _plant_usdc,
    "locked_within_balance": _plant_overlock,
    "token_supply_in_wallets": _plant_unminted_tokens,
    "cancelled_offerings_refunded": _plant_unrefunded_cancellation,
    "positions_history_matches_wallets": _plant_position_without_history,
    "register_sums_to_outstanding": _plant_position_before_its_issue,
    "open_buy_orders_funded": _plant_unfunded_buy,
    "open_sell_orders_covered": _plant_uncovered_sell,
    "trades_have_settlement_history": _plant_trade_without_history,
    "no_negative_amounts": _plant_negative,
    "dividend_totals_match_payments": _plant_dividend_total,
    "redemptions_paid_and_burned": _plant_unpaid_redemption,
    "approvals_executed_once": _plant_unbooked_approval,
    "withdrawals_match_ledger": _plant_unpaid_withdrawal,
    "no_failed_settlements": _plant_failed_settlement,
    "no_failed_mints": _plant_failed_mint,
    "no_failed_token_chain_jobs": _plant_failed_token_chain_job,
    "no_failed_agent_operations": _plant_failed_agent_operation,
    "no_stuck_jobs": _plant_stuck_settlement,
    "withdrawals_exclude_unsettled_sales": _plant_withdrawn_unsettled_proceeds,
}


def test_every_invariant_has_a_planted_violation() -> None:
    assert sorted(PLANTS) == sorted(check.name for check in CHECKS)


@pytest.fixture
def base(platform) -> dict:  # noqa: ANN001
    """A paying token with two holders and a distributed fiat dividend; every check holds."""
    token, holders = paying_token(platform, {"alice": 10, "bob": 20})
    dividend = approved(platform, per_token_usd="0.333", fee_pct="3")
    distribute(platform.engine, platform.admin, str(dividend.id))
    assert failures(platform) == {}
    return {"token": token.id, "alice": holders["alice"].user_id, "bob": holders["bob"].user_id,
            "issuer": platform.issuer.user_id, "dividend": dividend.id}


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_check_finds_its_planted_violation(platform, base, name) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        marker = PLANTS[name](conn, base)
    found = failures(platform)
    assert name in found
    assert marker in json.dumps(found[name], default=str)


def test_check_command_exit_codes_and_json(platform, base, cli) -> None:  # noqa: ANN001
    clean = cli.json("check")
    assert clean["ok"] is True and {c["name"] for c in clean["checks"]} == set(PLANTS)
    with platform.engine.begin() as conn:
        trade_id = _plant_trade_without_history(conn, base)
    broken = cli("check")
    assert broken.exit_code == 1
    assert "trades_have_settlement_history" in broken.stdout and trade_id in broken.stdout
    assert f"1 of {len(CHECKS)} checks failed" in broken.stderr
    as_json = cli("check", "--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    failed = [c for c in data["checks"] if not c["ok"]]
    assert data["ok"] is False and [c["name"] for c in failed] == ["trades_have_settlement_history"]
    assert failed[0]["violations"][0]["trade_id"] == trade_id
    only = cli.json("check", "--only", "dollars_conserved")
    assert [c["name"] for c in only["checks"]] == ["dollars_conserved"]
    assert cli("check", "--only", "nonsense").exit_code == 2
    investor = cli.as_user("alice@x.io")("check")
    assert investor.exit_code == 4


def test_stuck_thresholds_come_from_the_settings(platform, base, cli) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        trade_id = _plant_stuck_settlement(conn, base)
        conn.execute(text("INSERT INTO trade_settlement_history (id, trade_id, to_status)"
                          " VALUES (:id, :t, 'pending')"), {"id": new_id(), "t": trade_id})
    stuck = cli("check", "--quiet")
    assert stuck.exit_code == 1 and stuck.stdout == ""
    [line] = stuck.stderr.splitlines()
    assert line.startswith("check no_stuck_jobs: job settlement") and trade_id in line
    assert "waiting_minutes 6" in line
    patient = cli("check", "--quiet", ALEF_JOBS_SETTLEMENT_STUCK_MINUTES="10")
    assert (patient.exit_code, patient.stdout, patient.stderr) == (0, "", "")
    with platform.engine.begin() as conn:  # alice's allocation waits for its mint
        conn.execute(text("UPDATE token_allocations SET updated_at = now() - interval '16 minutes'"
                          " WHERE user_id = :u"), {"u": base["alice"]})
    mints = cli("check", "--quiet", ALEF_JOBS_SETTLEMENT_STUCK_MINUTES="10")
    assert mints.exit_code == 1 and "job allocation_mint" in mints.stderr
    assert cli("check", ALEF_JOBS_SETTLEMENT_STUCK_MINUTES="10",
               ALEF_JOBS_MINT_STUCK_MINUTES="20").exit_code == 0
