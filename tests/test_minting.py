"""The on-chain allocation worker on the embedded EVM: mints once, also across crashes."""

from __future__ import annotations

import pytest
from platform_builders import wallet_for
from sqlalchemy import text

from alefctl.workflows.lifecycle import start_offering
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import retry_failed, run_mint_jobs


@pytest.fixture
def confirmed(platform, chain_client):  # noqa: ANN001, ANN201
    """MINT deployed with confirmed allocations: alice 30, bob 20 (decimals 18)."""
    platform.draft_token("MINT")
    deploy_token(platform.engine, platform.admin, "MINT", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "MINT")
    for name, quantity in (("alice", 30), ("bob", 20)):
        investor = platform.approved(name, wallet=wallet_for(name), fiat="1000")
        with platform.engine.begin() as conn:
            subscribe(conn, investor, "MINT", quantity)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, "MINT")
        token = conn.execute(text("SELECT contract_address, identity_registry_addr FROM tokens"
                                  " WHERE symbol = 'MINT'")).one()
    return token


def _states(platform) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT u.email, a.on_chain_status, a.on_chain_tx_hash FROM"
                                 " token_allocations a JOIN users u ON u.id = a.user_id")).all()
    return {r.email: (r.on_chain_status, r.on_chain_tx_hash) for r in rows}


def _chain_balance(client, token, name: str) -> int:  # noqa: ANN001
    return client.balance_of(token.contract_address, wallet_for(name)) // 10**18


def test_worker_registers_and_mints_in_one_batch(platform, chain_client, confirmed) -> None:  # noqa: ANN001
    report = run_mint_jobs(platform.engine, chain_client)
    assert (report.minted, report.failed) == (2, 0)
    states = _states(platform)
    assert {s for s, _ in states.values()} == {"minted"}
    assert len({h for _, h in states.values()}) == 1  # one batchMint
    assert _chain_balance(chain_client, confirmed, "alice") == 30
    assert _chain_balance(chain_client, confirmed, "bob") == 20
    assert chain_client.is_verified(confirmed.identity_registry_addr, wallet_for("alice"))
    again = run_mint_jobs(platform.engine, chain_client)
    assert (again.minted, again.failed) == (0, 0)
    assert chain_client.total_supply(confirmed.contract_address) == 50 * 10**18


def test_crash_after_broadcast_before_receipt_never_mints_twice(platform, chain_client, confirmed,  # noqa: ANN001
                                                               monkeypatch) -> None:
    def crash(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit("worker killed while waiting for the receipt")

    monkeypatch.setattr(chain_client, "wait", crash)
    with pytest.raises(SystemExit):
        run_mint_jobs(platform.engine, chain_client)
    monkeypatch.undo()
    assert {s for s, _ in _states(platform).values()} == {"minting"}
    report = run_mint_jobs(platform.engine, chain_client)
    assert report.minted == 2
    assert chain_client.total_supply(confirmed.contract_address) == 50 * 10**18


def test_crash_between_recording_and_broadcast_mints_once(platform, chain_client, confirmed,  # noqa: ANN001
                                                          monkeypatch) -> None:
    for name in ("alice", "bob"):  # so that the first broadcast of the run is the mint
        chain_client.register_identity(confirmed.identity_registry_addr, wallet_for(name), 784)
    original = chain_client.w3.eth.send_raw_transaction

    def crash(_raw):  # noqa: ANN001, ANN202
        raise SystemExit("worker killed before the broadcast")

    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", crash)
    with pytest.raises(SystemExit):
        run_mint_jobs(platform.engine, chain_client)
    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", original)
    states = _states(platform)
    assert all(s == "minting" and h for s, h in states.values())  # recorded, never sent
    report = run_mint_jobs(platform.engine, chain_client)
    assert (report.requeued, report.minted) == (2, 2)
    assert chain_client.total_supply(confirmed.contract_address) == 50 * 10**18


def test_refused_wallet_fails_alone_and_can_be_retried(platform, chain_client, confirmed) -> None:  # noqa: ANN001
    chain_client.set_address_frozen(confirmed.contract_address, wallet_for("bob"), True)
    chain_client.set_max_balance(confirmed.contract_address, 25 * 10**18)  # alice's 30 is refused
    report = run_mint_jobs(platform.engine, chain_client)
    assert (report.minted, report.failed) == (1, 1)
    states = _states(platform)
    assert states["alice@x.io"][0] == "failed" and states["bob@x.io"][0] == "minted"
    with platform.engine.connect() as conn:
        error = conn.execute(text("SELECT on_chain_error FROM token_allocations a JOIN users u ON"
                                  " u.id = a.user_id WHERE u.email = 'alice@x.io'")).scalar_one()
    assert "balance" in error.lower()
    chain_client.set_max_balance(confirmed.contract_address, 0)
    with platform.engine.begin() as conn:
        assert retry_failed(conn, platform.admin, None) == 1
    assert run_mint_jobs(platform.engine, chain_client).minted == 1
    assert _chain_balance(chain_client, confirmed, "alice") == 30


def test_chain_commands(cli, platform, chain_client, confirmed, tmp_path) -> None:  # noqa: ANN001
    status = cli.json("chain", "status")
    assert status["chain_id"] and status["signer"].startswith("0x")


def test_token_dividend_is_minted_on_chain(platform, chain_client) -> None:  # noqa: ANN001
    from platform_builders import live_token

    from alefctl.workflows.dividends.declaration import NewDividend, declare
    from alefctl.workflows.dividends.distribution import distribute
    from alefctl.workflows.dividends.review import approve, submit

    token = live_token(platform, chain_client, "TDIV", {"alice": 30, "bob": 20})
    assert run_mint_jobs(platform.engine, chain_client).minted == 3  # two holders + treasury
    with platform.engine.begin() as conn:
        dividend = declare(conn, platform.issuer, NewDividend("TDIV", "token", per_token_qty=2),
                           fee_pct="1.00")
        submit(conn, platform.issuer, str(dividend.id))
        approve(conn, platform.admin, str(dividend.id))
    distribute(platform.engine, platform.admin, str(dividend.id))
    report = run_mint_jobs(platform.engine, chain_client)
    assert (report.minted, report.failed) == (2, 0)  # the treasury's holding earns none
    unit = 10**18
    assert chain_client.balance_of(token.contract_address, wallet_for("alice")) == 90 * unit
    assert chain_client.balance_of(token.contract_address, wallet_for("bob")) == 60 * unit
    with platform.engine.connect() as conn:
        states = conn.execute(text("SELECT DISTINCT on_chain_status FROM dividend_payments"))
        minted_supply = conn.execute(text("SELECT sum(balance) FROM wallets WHERE token_id = :t"),
                                     {"t": token.id}).scalar_one()
    assert list(states.scalars()) == ["minted"]
    assert chain_client.total_supply(token.contract_address) == minted_supply * unit
    assert run_mint_jobs(platform.engine, chain_client).minted == 0  # never twice
