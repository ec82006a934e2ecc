"""Trading halts as database state: an admin's halt and resume (CLI and HTTP), a tripped circuit
breaker that survives a restart, announcements on the token's WebSocket channels, and
self-trades that halt nobody."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from platform_builders import live_token, wallet_for
from server_client import place, running_api
from sqlalchemy import text

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def _trade_at(api, price: str) -> None:  # noqa: ANN001
    assert place(api, "alice", "sell", 1, price, confirm_fat_finger=True).status_code == 201
    bought = place(api, "carol", "buy", 1, price, confirm_fat_finger=True).json()
    assert bought["status"] == "filled", bought


def _halt_columns(engine) -> tuple:  # noqa: ANN001
    with engine.connect() as conn:
        return tuple(conn.execute(text("SELECT halted_at IS NOT NULL, halted_until, halt_reason"
                                       " FROM tokens WHERE symbol = 'DATE'")).one())


def _breakers_on_the_overview(engine) -> int:  # noqa: ANN001
    from alefctl.workflows.dashboard import attention, tripped_breakers

    with engine.connect() as conn:
        assert len(tripped_breakers(conn)) == attention(conn).breakers
        return attention(conn).breakers


def _audited(engine, action: str) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT after FROM audit_logs WHERE action = :a ORDER BY"
                                      " seq"), {"a": action}).scalars())


def test_an_admin_halt_refuses_orders_keeps_cancels_until_resumed(market, cli) -> None:  # noqa: ANN001
    resting = place(market, "carol", "buy", 2, "9.00").json()
    halted = cli.json("token", "halt", "DATE", "--reason", "news pending")
    assert halted["halt"]["reason"] == "news pending" and halted["halt"]["until"] is None
    refused = place(market, "carol", "buy", 1, "9.00")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "token_halted"
    assert refused.json()["detail"] == "DATE is halted until an admin resumes it: news pending"
    cancelled = market.call("DELETE", f"/api/v1/orders/{resting['id']}", "carol@x.io")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cli("token", "resume", "DATE").exit_code == 2  # a halt is lifted with a reason
    resumed = cli.json("token", "resume", "DATE", "--reason", "news out")
    assert resumed["halt"] is None and resumed["status"] == "secondary"
    assert place(market, "carol", "buy", 1, "9.00").status_code == 201
    assert cli("token", "resume", "DATE", "--reason", "again").exit_code == 5  # nothing to lift
    assert [a["reason"] for a in _audited(market.engine, "token.halt")] == ["news pending"]
    assert [a["reason"] for a in _audited(market.engine, "token.halt_lift")] == ["news out"]


def test_halt_until_a_time_ends_by_itself_and_refuses_bad_input(market, cli, platform) -> None:  # noqa: ANN001
    soon = datetime.now(UTC) + timedelta(seconds=2)
    halted = cli.json("token", "halt", "DATE", "--reason", "auction", "--until", soon.isoformat())
    assert re.fullmatch(ISO.replace("Z", r"(\.\d+)?Z"), halted["halt"]["until"])
    refused = place(market, "carol", "buy", 1, "9.00").json()
    assert refused["code"] == "token_halted" and "until 20" in refused["detail"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert cli("token", "halt", "DATE", "--reason", "x", "--until", past).exit_code == 2
    assert cli("token", "halt", "DATE", "--reason", "").exit_code == 2
    platform.approved("ivy")
    market.key("ivy@x.io")
    assert cli.as_user("ivy@x.io")("token", "halt", "DATE", "--reason", "x").exit_code == 4
    import time

    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    assert place(market, "carol", "buy", 1, "9.00").status_code == 201


def test_only_a_token_on_the_secondary_market_can_be_halted(platform, cli) -> None:  # noqa: ANN001
    platform.draft_token("DRAFT")
    assert cli("token", "halt", "DRAFT", "--reason", "x").exit_code == 5


def test_admin_routes_halt_and_resume(market) -> None:  # noqa: ANN001
    admin = market.admin.email
    halted = market.call("POST", "/api/v1/admin/tokens/DATE/halt", admin,
                         json={"reason": "system check"})
    assert halted.status_code == 200 and halted.json()["halt"]["reason"] == "system check"
    shown = market.call("GET", "/api/v1/tokens/DATE", "carol@x.io").json()
    assert shown["halt"]["reason"] == "system check"
    assert place(market, "carol", "buy", 1, "9.00").json()["code"] == "token_halted"
    investor = market.call("POST", "/api/v1/admin/tokens/DATE/resume", "carol@x.io",
                           json={"reason": "mine"})
    assert investor.status_code == 403
    unexplained = market.call("POST", "/api/v1/admin/tokens/DATE/resume", admin)
    assert unexplained.status_code == 422 and unexplained.json()["field"] == "reason"
    resumed = market.call("POST", "/api/v1/admin/tokens/DATE/resume", admin,
                          json={"reason": "all good"})
    assert resumed.status_code == 200 and resumed.json()["halt"] is None
    assert place(market, "carol", "buy", 1, "9.00").status_code == 201


def test_a_tripped_breaker_is_a_halt_that_survives_a_restart(platform, chain_client, engine,
                                                             db_url, tmp_path) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    with running_api(engine, db_url, tmp_path / "home1", platform.admin) as first:
        _trade_at(first, "10.00")
        _trade_at(first, "11.00")  # 10% within five minutes: the breaker trips
        refused = place(first, "carol", "buy", 1, "11.00").json()
        keys = first.keys
    assert refused["code"] == "token_halted"
    assert re.fullmatch(f"DATE is halted until {ISO}: circuit breaker: a trade at 11.00 USD after"
                        r" 10.00 USD, a move of 10% or more within 300 s", refused["detail"])
    was_halted, until, _reason = _halt_columns(engine)
    assert was_halted and until > datetime.now(UTC) + timedelta(minutes=4)
    with running_api(engine, db_url, tmp_path / "home2", platform.admin) as restarted:
        restarted.keys = keys
        again = place(restarted, "carol", "buy", 1, "11.00").json()
        assert again["code"] == "token_halted" and again["detail"] == refused["detail"]


def test_resuming_a_tripped_breaker_lets_trading_go_on(market, cli) -> None:  # noqa: ANN001
    _trade_at(market, "10.00")
    _trade_at(market, "11.00")
    assert place(market, "carol", "buy", 1, "11.00").json()["code"] == "token_halted"
    assert _breakers_on_the_overview(market.engine) == 1
    cli.json("token", "resume", "DATE", "--reason", "checked: a real move")
    assert _halt_columns(market.engine) == (False, None, None)
    assert _breakers_on_the_overview(market.engine) == 0  # lifted: no longer shown as tripped
    _trade_at(market, "11.00")  # the server's breaker was reset with the row: no refusal


def test_a_self_trade_does_not_trip_the_breaker(market) -> None:  # noqa: ANN001
    _trade_at(market, "10.00")
    assert place(market, "alice", "buy", 1, "12.00", confirm_fat_finger=True).status_code == 201
    washed = place(market, "alice", "sell", 1, "12.00", confirm_fat_finger=True,
                   self_trade_prevention="none").json()
    assert washed["status"] == "filled"  # with "none" she may trade with herself ...
    # ... and halts nobody (her trade is still the last price: 10.00 now needs confirming)
    assert place(market, "carol", "buy", 1, "10.00", confirm_fat_finger=True).status_code == 201
    assert _halt_columns(market.engine)[0] is False
    with market.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM circuit_breaker_events")).scalar_one() == 0


def test_halts_and_resumes_are_announced_on_the_public_channels(market, cli) -> None:  # noqa: ANN001
    key = market.key("carol@x.io")
    with market.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        socket.send_json({"op": "subscribe", "channel": "trades:DATE"})
        assert socket.receive_json()["type"] == "subscribed"
        cli.json("token", "halt", "DATE", "--reason", "news pending")
        halt = socket.receive_json()
        assert (halt["type"], halt["symbol"], halt["reason"], halt["until"]) == (
            "halt", "DATE", "news pending", None)
        cli.json("token", "resume", "DATE", "--reason", "news out")
        assert socket.receive_json() == {"type": "resume", "symbol": "DATE", "reason": "news out"}
        _trade_at(market, "10.00")
        _trade_at(market, "11.00")
        kinds = [socket.receive_json() for _ in range(3)]  # two trades, then the breaker's halt
        assert [m["type"] for m in kinds] == ["trade", "trade", "halt"]
        assert kinds[2]["reason"].startswith("circuit breaker") and kinds[2]["until"]


def test_the_end_of_a_halt_is_announced(market, cli) -> None:  # noqa: ANN001
    key = market.key("carol@x.io")
    with market.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        socket.send_json({"op": "subscribe", "channel": "book:DATE"})
        assert socket.receive_json()["type"] == "snapshot"
        assert socket.receive_json()["type"] == "subscribed"
        soon = datetime.now(UTC) + timedelta(seconds=1)
        cli.json("token", "halt", "DATE", "--reason", "auction", "--until", soon.isoformat())
        assert socket.receive_json()["type"] == "halt"
        assert socket.receive_json() == {"type": "resume", "symbol": "DATE",
                                         "reason": "the halt ended"}


def test_protections_per_token_are_set_shown_and_used(market, cli, platform) -> None:  # noqa: ANN001
    shown = cli.json("token", "show", "DATE")["protections"]
    assert (shown["breaker_move_pct"], shown["breaker_window_s"], shown["own"]) == ("10.00", 300, [])
    assert "breaker_move_pct" not in cli.json("token", "show", "DATE")  # nested, not a column
    tightened = cli.json("token", "protections", "DATE", "--breaker-pct", "5", "--halt-seconds",
                         "60", "--fat-finger-pct", "0")
    assert (tightened["breaker_move_pct"], tightened["breaker_halt_s"],
            tightened["fat_finger_pct"]) == ("5.00", 60, "0.00")
    assert tightened["own"] == ["breaker_move_pct", "breaker_halt_s", "fat_finger_pct"]
    assert cli.json("token", "show", "DATE")["protections"] == {
        name: value for name, value in tightened.items() if name != "symbol"}
    _trade_at(market, "10.00")
    assert place(market, "carol", "buy", 1, "9.40").status_code == 201  # no confirmation asked
    _trade_at(market, "10.50")  # 5% within five minutes: this token's breaker trips
    halted = place(market, "carol", "buy", 1, "10.50").json()
    assert halted["code"] == "token_halted" and "a move of 5% or more" in halted["detail"]
    _, until, _ = _halt_columns(market.engine)
    assert until < datetime.now(UTC) + timedelta(seconds=61)  # halted 60 s, not 300
    [audited] = _audited(market.engine, "token.protections")
    assert audited["breaker_move_pct"] == "5.00"
    reset = cli.json("token", "protections", "DATE", "--reset")
    assert (reset["breaker_move_pct"], reset["own"]) == ("10.00", [])


def test_protections_refuse_bad_values_and_non_admins(market, cli, platform) -> None:  # noqa: ANN001
    for option, value in (("--breaker-pct", "-1"), ("--breaker-pct", "1.234"),
                          ("--breaker-pct", "ten"), ("--halt-seconds", "0"),
                          ("--nav-pct", "NaN")):
        result = cli("token", "protections", "DATE", option, value)
        assert result.exit_code == 2, (option, value, result.output)
    platform.approved("ivy")
    market.key("ivy@x.io")
    assert cli.as_user("ivy@x.io")("token", "protections", "DATE").exit_code == 4
    admin = market.admin.email
    over_http = market.call("POST", "/api/v1/admin/tokens/DATE/protections", admin,
                            json={"nav_deviation_pct": "50"})
    assert over_http.status_code == 200 and over_http.json()["own"] == ["nav_deviation_pct"]
    bad = market.call("POST", "/api/v1/admin/tokens/DATE/protections", admin,
                      json={"breaker_window_s": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "breaker_window_s"
    assert market.call("GET", "/api/v1/admin/tokens/DATE/protections",
                       "carol@x.io").status_code == 403


def test_settings_defaults_become_the_engine_config_of_tokens_without_their_own() -> None:
    from decimal import Decimal
    from types import SimpleNamespace

    from alefctl.settings import load_settings
    from alefctl.workflows.protections import TOKEN_FIELDS, ProtectionDefaults

    settings = load_settings(protections={"breaker_move_pct": "7.5", "nav_deviation_pct": "0"})
    defaults = ProtectionDefaults.from_settings(settings.protections)
    plain = SimpleNamespace(**dict.fromkeys(TOKEN_FIELDS))
    config = defaults.engine_config(plain)
    assert (config.circuit_breaker_move_bps, config.nav_deviation_enabled,
            config.fat_finger_block_bps) == (750, False, 30_000)
    own = SimpleNamespace(**(vars(plain) | {"breaker_move_pct": Decimal("2.00"),
                                            "breaker_halt_s": 30}))
    config = defaults.engine_config(own)
    assert (config.circuit_breaker_move_bps, config.circuit_breaker_cooldown_seconds,
            config.circuit_breaker_window_seconds) == (200, 30.0, 300.0)


def test_while_halted_an_amend_may_reduce_but_not_reprice(market, cli) -> None:  # noqa: ANN001
    resting = place(market, "carol", "buy", 4, "9.00").json()
    cli.json("token", "halt", "DATE", "--reason", "news pending")
    path = f"/api/v1/orders/{resting['id']}"
    repriced = market.call("PATCH", path, "carol@x.io", json={"price": "9.10"})
    assert repriced.status_code == 409 and repriced.json()["code"] == "token_halted"
    reduced = market.call("PATCH", path, "carol@x.io", json={"quantity": 2})
    assert reduced.status_code == 200 and reduced.json()["quantity"] == 2
