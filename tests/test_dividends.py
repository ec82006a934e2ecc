"""Dividends: declaration snapshot and rounding, review rules, exactly-once distribution of all
three types, refusals that move nothing, and the commands."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from alefctl.errors import Conflict, InsufficientFunds, InvalidInput, NotFound, PermissionDenied
from alefctl.ids import new_id
from alefctl.settings import TradingSettings
from alefctl.workflows.businesses import NewBusiness, register_business, review_business
from alefctl.workflows.dividends.declaration import (
    NewDividend,
    declare,
    get_dividend,
    list_dividends,
    list_payments,
)
from alefctl.workflows.dividends.distribution import (
    distribute,
    finish_distribution,
    pay_chunk,
    start_distribution,
)
from alefctl.workflows.dividends.review import approve, cancel, submit
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.tokens import NewToken, create_token, get_token
from alefctl.workflows.wallet import deposit

CENT = Decimal("0.01")
PLATFORM_FEE = TradingSettings().dividend_fee_pct  # the settings' default: 1.00


def paying_token(platform, holdings: dict[str, int], symbol: str = "DATE",  # noqa: ANN001, ANN201
                 issuer_fiat: str | None = "100000.00", status: str = "secondary"):
    """A token in a paying status whose holders got their tokens through confirmed allocations."""
    draft_token(platform, symbol)
    holders = {name: platform.person(name) for name in holdings}
    with platform.engine.begin() as conn:
        # Deploying needs the chain (another engineer's part): an address stands in for the
        # contract, and the token is put straight into the status under test.
        address = "0x" + symbol.encode().hex().ljust(40, "0")
        conn.execute(text("UPDATE tokens SET contract_address = :a, status = :s,"
                          " trading_mode = 'full_orderbook' WHERE symbol = :sym"),
                     {"a": address, "s": status, "sym": symbol})
        token = get_token(conn, symbol)
        for name, quantity in holdings.items():
            conn.execute(text(
                "INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type,"
                " status) VALUES (:id, :t, :u, :q, 'airdrop', 'confirmed')"),
                {"id": new_id(), "t": token.id, "u": holders[name].user_id, "q": quantity})
            credit_tokens(conn, holders[name].user_id, token.id, quantity)
        if issuer_fiat:
            deposit(conn, platform.admin, platform.issuer.email, issuer_fiat)
    return token, holders


def draft_token(platform, symbol: str):  # noqa: ANN001, ANN201
    """A draft token of a fresh active business of the issuer (one business per symbol)."""
    with platform.engine.begin() as conn:
        business = register_business(conn, platform.issuer, NewBusiness(
            f"{symbol} Holdings", f"REG-{symbol}", "AE", "agriculture", "5"))
        review_business(conn, platform.admin, str(business.id), approve=True)
        return create_token(conn, platform.issuer, NewToken(
            str(business.id), f"{symbol} token", symbol, 10_000_000, "10.00", "95", "0"),
            default_fee_bps=50)


def declared(platform, dividend_type: str = "fiat", symbol: str = "DATE",  # noqa: ANN001, ANN201
             fee_pct: str | Decimal = PLATFORM_FEE, **amounts):  # noqa: ANN003
    """Declare on an existing token as its issuer; fee_pct is the platform's (settings)."""
    with platform.engine.begin() as conn:
        return declare(conn, platform.issuer, NewDividend(symbol, dividend_type, **amounts),
                       fee_pct=fee_pct)


def approved(platform, dividend_type: str = "fiat", **amounts):  # noqa: ANN001, ANN003, ANN201
    """Declare, submit and approve."""
    dividend = declared(platform, dividend_type, **amounts)
    with platform.engine.begin() as conn:
        submit(conn, platform.issuer, str(dividend.id))
        return approve(conn, platform.admin, str(dividend.id))


def fiat(platform, *emails: str) -> list[Decimal]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return [conn.execute(text("SELECT fiat_balance FROM users WHERE email = :e"),
                             {"e": email}).scalar_one() for email in emails]


def failed_checks(platform) -> dict[str, list]:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return {r.name: r.violations for r in run_checks(conn, platform.admin) if not r.ok}


def reference_amounts(per_token: str, balance: int, fee_pct: str) -> tuple[Decimal, Decimal, Decimal]:
    """gross, fee, net of one holder, computed independently in Python."""
    gross = (Decimal(per_token) * balance).quantize(CENT, rounding=ROUND_DOWN)
    fee = (gross * Decimal(fee_pct) / 100).quantize(CENT, rounding=ROUND_DOWN)
    return gross, fee, gross - fee


def test_rounding_three_holders_books_the_remainder(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 7, "bob": 11, "carol": 13})
    dividend = declared(platform, per_token_usd="1.234567", fee_pct="2.5")
    payments = {p.email: p for p in list_payments(platform.engine.connect(), platform.admin,
                                                  str(dividend.id))}
    for name, balance in (("alice", 7), ("bob", 11), ("carol", 13)):
        payment = payments[f"{name}@x.io"]
        assert (payment.gross_amount, payment.fee_amount, payment.net_amount) == \
            reference_amounts("1.234567", balance, "2.5")
    # 1.234567 x 31 = 38.271577 -> 38.27; per holder 8.64 + 13.58 + 16.04 = 38.26
    assert dividend.total_gross_usd == Decimal("38.27")
    assert dividend.remainder_usd == Decimal("0.01")
    assert (dividend.total_fee_usd, dividend.total_net_usd) == (Decimal("0.94"), Decimal("37.32"))
    assert dividend.total_net_usd + dividend.total_fee_usd + dividend.remainder_usd == \
        dividend.total_gross_usd
    assert (dividend.holder_count, dividend.total_held, dividend.status) == (3, 31, "draft")
    assert dividend.funding_usd == Decimal("38.26")


def test_fiat_dividend_end_to_end(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 100, "bob": 250, "carol": 333}, status="paused")
    dividend = approved(platform, per_token_usd="0.333333", fee_pct="1.5")
    issuer, treasury = platform.issuer.email, "treasury@system.alefctl"
    before = fiat(platform, issuer, treasury, "alice@x.io", "bob@x.io", "carol@x.io")
    paid = distribute(platform.engine, platform.admin, str(dividend.id), chunk_size=2)
    assert (paid.status, paid.paid_count, paid.pending_count) == ("distributed", 3, 0)
    assert paid.distributed_at is not None
    after = fiat(platform, issuer, treasury, "alice@x.io", "bob@x.io", "carol@x.io")
    nets = [reference_amounts("0.333333", b, "1.5")[2] for b in (100, 250, 333)]
    assert [a - b for a, b in zip(after[2:], before[2:], strict=True)] == nets
    assert after[1] - before[1] == dividend.total_fee_usd
    assert before[0] - after[0] == dividend.total_net_usd + dividend.total_fee_usd
    with platform.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.email, w.type, w.amount, w.balance_after, w.currency FROM wallet_transactions w"
            " JOIN users u ON u.id = w.user_id WHERE w.reference_id = :d ORDER BY u.email"),
            {"d": dividend.id}).all()
        linked = conn.execute(text(
            "SELECT count(*) FROM dividend_payments p JOIN wallet_transactions w"
            " ON w.id = p.wallet_transaction_id WHERE p.dividend_id = :d AND p.status = 'paid'"
            " AND w.amount = p.net_amount"), {"d": dividend.id}).scalar_one()
        actions = conn.execute(text("SELECT action FROM audit_logs WHERE object_id = :d"
                                    " ORDER BY created_at, id"), {"d": dividend.id}).scalars().all()
    assert [(r.email, r.type) for r in rows] == [
        ("alice@x.io", "dividend"), ("bob@x.io", "dividend"), ("carol@x.io", "dividend"),
        (issuer, "dividend"), (treasury, "fee")]
    assert rows[0].balance_after == after[2] and rows[3].amount == after[0] - before[0]
    assert linked == 3
    assert actions == ["dividend.declare", "dividend.submit", "dividend.approve",
                       "dividend.start_distribution", "dividend.distribute"]
    assert failed_checks(platform) == {}


def test_stablecoin_dividend_pays_usdc_funded_in_usd(platform) -> None:  # noqa: ANN001
    token, holders = paying_token(platform, {"alice": 10, "bob": 20}, status="matured")
    with platform.engine.begin() as conn:  # bob already holds USDC: the credit is an upsert
        conn.execute(text("INSERT INTO user_balances (user_id, currency, balance) VALUES"
                          " (:u, 'USDC', 5.00)"), {"u": holders["bob"].user_id})
        conn.execute(text("INSERT INTO wallet_transactions (id, user_id, type, currency, amount)"
                          " VALUES (:id, :u, 'deposit', 'USDC', 5.00)"),
                     {"id": new_id(), "u": holders["bob"].user_id})
    dividend = approved(platform, "stablecoin", per_token_usd="2.5", fee_pct="10")
    alice_fiat = fiat(platform, "alice@x.io")
    distribute(platform.engine, platform.admin, str(dividend.id))
    with platform.engine.connect() as conn:
        usdc = dict(conn.execute(text("SELECT u.email, b.balance FROM user_balances b JOIN users u"
                                      " ON u.id = b.user_id ORDER BY u.email")).all())
        currencies = conn.execute(text(
            "SELECT DISTINCT currency FROM wallet_transactions WHERE reference_id = :d AND"
            " type = 'dividend' AND amount > 0"), {"d": dividend.id}).scalars().all()
    assert usdc == {"alice@x.io": Decimal("22.50"), "bob@x.io": Decimal("50.00")}
    assert currencies == ["USDC"]
    assert fiat(platform, "alice@x.io") == alice_fiat  # paid in USDC, not in fiat
    assert fiat(platform, platform.issuer.email) == [Decimal("100000.00") - Decimal("75.00")]
    assert dividend.total_fee_usd == Decimal("7.50")
    assert failed_checks(platform) == {}


def test_token_dividend_mints_and_queues_the_on_chain_jobs(platform) -> None:  # noqa: ANN001
    token, holders = paying_token(platform, {"alice": 3, "bob": 5}, issuer_fiat=None)
    dividend = approved(platform, "token", per_token_qty=2, fee_pct="1")  # none on tokens
    assert (dividend.total_token_qty, dividend.total_gross_usd, dividend.fee_pct) == (16, 0, 0)
    paid = distribute(platform.engine, platform.admin, str(dividend.id))
    assert paid.status == "distributed"
    with platform.engine.connect() as conn:
        wallets = dict(conn.execute(text("SELECT u.email, w.balance FROM wallets w JOIN users u"
                                         " ON u.id = w.user_id ORDER BY u.email")).all())
        states = conn.execute(text("SELECT DISTINCT on_chain_status FROM dividend_payments"
                                   " WHERE dividend_id = :d"), {"d": dividend.id}).scalars().all()
    assert wallets == {"alice@x.io": 9, "bob@x.io": 15}
    assert states == ["pending"]
    assert fiat(platform, platform.issuer.email) == [Decimal("0.00")]  # no money moves
    assert failed_checks(platform) == {}  # the minted supply includes the dividend tokens


@pytest.mark.parametrize(("form", "error", "field"), [
    (NewDividend("DATE", "bonus", "1"), InvalidInput, "dividend_type"),
    (NewDividend("DATE", "fiat"), InvalidInput, "per_token_usd"),
    (NewDividend("DATE", "fiat", "0"), InvalidInput, "per_token_usd"),
    (NewDividend("DATE", "fiat", "0.0000001"), InvalidInput, "per_token_usd"),
    (NewDividend("DATE", "fiat", "1", per_token_qty=1), InvalidInput, "per_token_qty"),
    (NewDividend("DATE", "token", "1", per_token_qty=1), InvalidInput, "per_token_usd"),
    (NewDividend("DATE", "token"), InvalidInput, "per_token_qty"),
    (NewDividend("DATE", "token", per_token_qty=0), InvalidInput, "per_token_qty"),
    (NewDividend("DATE", "fiat", "0.001"), InvalidInput, "per_token_usd"),  # all round to 0
])
def test_declare_checks_its_input(platform, form, error, field) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 1, "bob": 2})
    with platform.engine.begin() as conn, pytest.raises(error) as raised:
        declare(conn, platform.issuer, form, fee_pct=PLATFORM_FEE)
    assert raised.value.field == field


@pytest.mark.parametrize("fee_pct", ["101", "1.234", "-1"])
def test_the_platform_fee_is_a_percentage(platform, fee_pct) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 1})
    with platform.engine.begin() as conn, pytest.raises(InvalidInput) as raised:
        declare(conn, platform.issuer, NewDividend("DATE", "fiat", "1"), fee_pct=fee_pct)
    assert raised.value.field == "fee_pct"


def test_declare_refusals(platform) -> None:  # noqa: ANN001
    from datetime import datetime, timedelta

    paying_token(platform, {"alice": 10})
    other_issuer = platform.approved("otto", role="issuer")
    form = NewDividend("DATE", "fiat", "1")
    with platform.engine.begin() as conn:
        with pytest.raises(PermissionDenied):
            declare(conn, platform.admin, form, fee_pct=PLATFORM_FEE)
        with pytest.raises(PermissionDenied, match="only the issuer of DATE"):
            declare(conn, other_issuer, form, fee_pct=PLATFORM_FEE)
        with pytest.raises(NotFound):
            declare(conn, platform.issuer, NewDividend("NOPE", "fiat", "1"), fee_pct=PLATFORM_FEE)
        # a record date to come is allowed (tests/test_record_dates.py); paying before it is not
        future = datetime.now().astimezone() + timedelta(days=1)
        with pytest.raises(InvalidInput, match="payment_date"):
            declare(conn, platform.issuer, NewDividend("DATE", "fiat", "1", record_date=future,
                                                       payment_date=future - timedelta(hours=1)),
                    fee_pct=PLATFORM_FEE)
    draft_token(platform, "DRAFT")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="DRAFT is draft"):
        declare(conn, platform.issuer, NewDividend("DRAFT", "fiat", "1"), fee_pct=PLATFORM_FEE)
    paying_token(platform, {}, symbol="EMPTY")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="no holders"):
        declare(conn, platform.issuer, NewDividend("EMPTY", "fiat", "1"), fee_pct=PLATFORM_FEE)
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dividend_declarations")).scalar_one() == 0


def test_default_fee_and_visibility(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 100})
    dividend = declared(platform, per_token_usd="1")  # the settings' default platform fee
    assert dividend.fee_pct == Decimal("1.00") and dividend.total_fee_usd == Decimal("1.00")
    outsider = platform.approved("otto", role="issuer")
    investor = platform.actor("alice@x.io")
    with platform.engine.begin() as conn:
        with pytest.raises(NotFound):
            get_dividend(conn, outsider, str(dividend.id))
        assert list_dividends(conn, outsider) == []
        assert [d.id for d in list_dividends(conn, platform.issuer)] == [dividend.id]
        assert [d.id for d in list_dividends(conn, platform.admin, "DATE", "draft")] == [dividend.id]
        with pytest.raises(PermissionDenied):
            list_dividends(conn, investor)


def test_the_declarer_may_not_approve(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10})
    dividend = declared(platform, per_token_usd="1")
    with platform.engine.begin() as conn:
        submit(conn, platform.issuer, str(dividend.id))
        # The declarer later became an admin: still not allowed to approve their own dividend.
        conn.execute(text("UPDATE users SET role = 'admin' WHERE id = :u"),
                     {"u": platform.issuer.user_id})
    promoted = platform.actor(platform.issuer.email)
    with platform.engine.begin() as conn, pytest.raises(PermissionDenied, match="declared"):
        approve(conn, promoted, str(dividend.id))
    with platform.engine.begin() as conn, pytest.raises(IntegrityError):  # and the schema agrees
        conn.execute(text("UPDATE dividend_declarations SET approved_by = declared_by WHERE id = :d"),
                     {"d": dividend.id})
    with platform.engine.begin() as conn:
        assert approve(conn, platform.admin, str(dividend.id)).status == "approved"


def test_flow_refusals(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10})
    investor = platform.actor("alice@x.io")
    dividend = declared(platform, per_token_usd="1")
    ref = str(dividend.id)
    with platform.engine.begin() as conn:
        with pytest.raises(Conflict, match="cannot approve: the dividend is draft"):
            approve(conn, platform.admin, ref)
        with pytest.raises(NotFound):
            submit(conn, investor, ref)
    with pytest.raises(Conflict, match="dividend is draft"):
        distribute(platform.engine, platform.admin, ref)
    with platform.engine.begin() as conn:
        submit(conn, platform.issuer, ref)
    with pytest.raises(Conflict, match="pending_approval"):
        distribute(platform.engine, platform.admin, ref)
    with platform.engine.begin() as conn:
        approve(conn, platform.admin, ref)
    with pytest.raises(PermissionDenied):
        distribute(platform.engine, platform.issuer, ref)
    assert failed_checks(platform) == {}
    assert fiat(platform, "alice@x.io") == [Decimal("0.00")]
    distribute(platform.engine, platform.admin, ref)
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="cannot cancel"):
        cancel(conn, platform.admin, ref)
    again = distribute(platform.engine, platform.admin, ref)  # already done: nothing moves
    assert again.status == "distributed"
    assert fiat(platform, "alice@x.io") == [Decimal("9.90")]


def test_cancel_before_distribution(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10})
    outsider = platform.approved("otto", role="issuer")
    first = approved(platform, per_token_usd="1")
    second = declared(platform, per_token_usd="2")
    with platform.engine.begin() as conn:
        with pytest.raises(NotFound):
            cancel(conn, outsider, str(first.id))
        cancelled = cancel(conn, platform.issuer, str(first.id), "board changed its mind")
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "board changed its mind")
        assert cancel(conn, platform.admin, str(second.id)).status == "cancelled"
    with pytest.raises(Conflict, match="cancelled"):
        distribute(platform.engine, platform.admin, str(first.id))
    assert fiat(platform, "alice@x.io") == [Decimal("0.00")]
    assert failed_checks(platform) == {}


def test_insufficient_issuer_balance_moves_nothing(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 100, "bob": 100}, issuer_fiat="199.99")
    dividend = approved(platform, per_token_usd="1", fee_pct="0")
    with platform.engine.connect() as conn:
        ledger_rows = conn.execute(text("SELECT count(*) FROM wallet_transactions")).scalar_one()
    with pytest.raises(InsufficientFunds, match="199.99 USD does not cover"):
        distribute(platform.engine, platform.admin, str(dividend.id))
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM wallet_transactions")).scalar_one() == ledger_rows
        assert get_dividend(conn, platform.admin, str(dividend.id)).status == "approved"
    assert fiat(platform, platform.issuer.email, "alice@x.io") == [Decimal("199.99"), Decimal("0.00")]
    with platform.engine.begin() as conn:
        deposit(conn, platform.admin, platform.issuer.email, "0.01")
    assert distribute(platform.engine, platform.admin, str(dividend.id)).status == "distributed"
    assert fiat(platform, platform.issuer.email) == [Decimal("0.00")]


def test_crash_after_a_chunk_then_rerun_pays_everyone_once(platform) -> None:  # noqa: ANN001
    names = ["h1", "h2", "h3", "h4", "h5"]
    paying_token(platform, dict.fromkeys(names, 10))
    dividend = approved(platform, per_token_usd="1", fee_pct="10")

    def crash(progress) -> None:  # noqa: ANN001
        raise RuntimeError(f"killed after {progress.paid} payments")

    with pytest.raises(RuntimeError, match="killed after 2 payments"):
        distribute(platform.engine, platform.admin, str(dividend.id), chunk_size=2, on_progress=crash)
    with platform.engine.connect() as conn:
        halfway = get_dividend(conn, platform.admin, str(dividend.id))
    assert (halfway.status, halfway.paid_count, halfway.pending_count) == ("distributing", 2, 3)
    assert sorted(fiat(platform, *(f"{n}@x.io" for n in names))) == [0, 0, 0, 9, 9]
    assert failed_checks(platform) == {}  # the funded, unpaid net is counted in flight
    finished = distribute(platform.engine, platform.admin, str(dividend.id), chunk_size=2)
    assert (finished.status, finished.paid_count) == ("distributed", 5)
    assert fiat(platform, *(f"{n}@x.io" for n in names)) == [Decimal("9.00")] * 5
    assert fiat(platform, platform.issuer.email) == [Decimal("100000.00") - Decimal("50.00")]
    with platform.engine.connect() as conn:
        debits = conn.execute(text("SELECT count(*) FROM wallet_transactions WHERE reference_id = :d"
                                   " AND amount < 0"), {"d": dividend.id}).scalar_one()
    assert debits == 1  # the issuer was funded once, on the first run
    assert failed_checks(platform) == {}


def test_crash_inside_a_chunk_rolls_the_chunk_back(platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10, "bob": 10})
    dividend = approved(platform, per_token_usd="1", fee_pct="0")
    ref = str(dividend.id)
    with platform.engine.begin() as conn:
        start_distribution(conn, platform.admin, ref)
    with pytest.raises(RuntimeError, match="power cut"), platform.engine.begin() as conn:
        assert pay_chunk(conn, platform.admin, ref, 100).paid == 2
        raise RuntimeError("power cut before commit")
    assert fiat(platform, "alice@x.io", "bob@x.io") == [Decimal("0.00")] * 2
    with platform.engine.connect() as conn:
        assert get_dividend(conn, platform.admin, ref).pending_count == 2
    assert failed_checks(platform) == {}
    assert distribute(platform.engine, platform.admin, ref).status == "distributed"
    assert fiat(platform, "alice@x.io", "bob@x.io") == [Decimal("10.00")] * 2


def test_two_runners_share_the_work_and_finish_once(platform) -> None:  # noqa: ANN001
    from concurrent.futures import ThreadPoolExecutor

    paying_token(platform, dict.fromkeys(["h1", "h2", "h3", "h4"], 10))
    dividend = approved(platform, per_token_usd="1", fee_pct="0")
    ref = str(dividend.id)
    with platform.engine.begin() as conn:
        start_distribution(conn, platform.admin, ref)
    first = platform.engine.connect()
    first.begin()
    assert pay_chunk(first, platform.admin, ref, 3).paid == 3  # holds three payments, not committed
    with platform.engine.begin() as second:
        assert pay_chunk(second, platform.admin, ref, 10).paid == 1  # skips the locked ones

    def finish() -> str:
        with platform.engine.begin() as conn:
            return finish_distribution(conn, platform.admin, ref).status

    with ThreadPoolExecutor(1) as pool:
        finishing = pool.submit(finish)  # waits for the first runner instead of finishing early
        with pytest.raises(TimeoutError):
            finishing.result(timeout=0.5)
        first.commit()
        first.close()
        assert finishing.result(timeout=30) == "distributed"
    assert fiat(platform, "h1@x.io", "h2@x.io", "h3@x.io", "h4@x.io") == [Decimal("10.00")] * 4
    assert failed_checks(platform) == {}


def test_payments_a_dying_runner_lets_go_of_are_picked_up(platform) -> None:  # noqa: ANN001
    paying_token(platform, dict.fromkeys(["h1", "h2", "h3", "h4"], 10))
    dividend = approved(platform, per_token_usd="1", fee_pct="0")
    ref = str(dividend.id)
    with platform.engine.begin() as conn:
        start_distribution(conn, platform.admin, ref)
    dying = platform.engine.connect()
    dying.begin()
    assert pay_chunk(dying, platform.admin, ref, 2).paid == 2  # h1 and h2, never committed

    def dies_after_the_first_chunk_of_the_other(progress) -> None:  # noqa: ANN001
        if not dying.closed:
            dying.rollback()
            dying.close()

    # The other runner skips h1 and h2 (locked), pays h3; the dying runner lets go; the other
    # pays h4, then goes back to the start and pays h1 and h2.
    result = distribute(platform.engine, platform.admin, ref, 1,
                        on_progress=dies_after_the_first_chunk_of_the_other)
    assert (result.status, result.paid_count) == ("distributed", 4)
    assert fiat(platform, "h1@x.io", "h2@x.io", "h3@x.io", "h4@x.io") == [Decimal("10.00")] * 4
    assert failed_checks(platform) == {}


def test_dividend_commands(cli, platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10, "bob": 30})
    issuer = cli.as_user(platform.issuer.email)
    made = issuer.json("dividend", "declare", "DATE", "--type", "fiat", "--per-token-usd", "0.5",
                       ALEF_TRADING_DIVIDEND_FEE_PCT="2")  # the platform's fee, from settings
    assert (made["fee_pct"], made["total_fee_usd"]) == ("2.00", "0.40")
    assert (made["status"], made["total_gross_usd"], made["funding_usd"]) == ("draft", "20.00", "20.00")
    ref = made["id"]
    assert issuer.json("dividend", "submit", ref)["status"] == "pending_approval"
    refused = issuer("dividend", "approve", ref)
    assert refused.exit_code == 4 and "needs role admin" in refused.stderr  # and never the declarer
    assert cli.as_user("admin@x.io").json("dividend", "approve", ref)["status"] == "approved"
    no_tty = cli("dividend", "distribute", ref)
    assert no_tty.exit_code == 2 and "--yes" in no_tty.stderr
    paid = cli("dividend", "distribute", ref, "--yes", "--chunk-size", "1", "--json")
    assert paid.exit_code == 0, paid.stderr
    assert "paid 1/2" in paid.stderr and "paid 2/2" in paid.stderr
    assert cli.json("dividend", "show", ref)["status"] == "distributed"
    again = cli("dividend", "distribute", ref, "--yes")
    assert again.exit_code == 0 and "already distributed" in again.stderr
    shown = cli.json("dividend", "show", ref, "--payments")
    assert [p["net_amount"] for p in shown["payments"]] == ["4.90", "14.70"]
    assert [d["id"] for d in cli.json("dividend", "list", "--token", "DATE")] == [ref]
    assert cli("dividend", "cancel", ref, "--yes").exit_code == 5
    assert cli("dividend", "show", "not-a-uuid").exit_code == 2
    assert cli("dividend", "show", str(new_id())).exit_code == 3
    table = cli("dividend", "show", ref, "--payments")
    assert table.exit_code == 0 and "alice@x.io" in table.stdout


def test_cancel_command_asks_first(cli, platform) -> None:  # noqa: ANN001
    paying_token(platform, {"alice": 10})
    ref = cli.as_user(platform.issuer.email).json("dividend", "declare", "DATE", "--type", "token",
                                                  "--per-token-qty", "1")["id"]
    assert cli("dividend", "cancel", ref).exit_code == 2
    out = cli.json("dividend", "cancel", ref, "--yes", "--reason", "typo")
    assert (out["status"], out["cancel_reason"]) == ("cancelled", "typo")
