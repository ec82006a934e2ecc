"""Notifications: events become rows in their own transaction, an investor reads and marks
their own over HTTP (unread first, paged), staff read their role's on the CLI, and the
WebSocket channel `notifications` pushes each one when it is written."""

from __future__ import annotations

from sqlalchemy import text

from account_helpers import all_pages
from server_client import place


def _notes(market, who: str, query: str = ""):  # noqa: ANN001, ANN202
    answer = market.call("GET", f"/api/v1/me/notifications{query}", who)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _clear(market, *names: str) -> None:  # noqa: ANN001
    """Mark what setting up the market notified (KYC decisions, allocations) read."""
    for name in names:
        done = market.call("POST", "/api/v1/me/notifications/read", f"{name}@x.io",
                           json={"all": True})
        assert done.status_code == 200 and done.json()["unread"] == 0, done.text


def test_setting_up_the_market_notified_kyc_deposits_and_allocations(market) -> None:  # noqa: ANN001
    kinds = [n["kind"] for n in _notes(market, "alice@x.io")["items"]]
    assert sorted(kinds) == ["allocation.confirmed", "deposit.received", "kyc.approved"]
    with market.engine.begin() as conn:  # as the mint job leaves it (workflows/onchain/minting.py)
        conn.execute(text("UPDATE token_allocations SET on_chain_status = 'minted',"
                          " on_chain_tx_hash = :h"), {"h": "0x" + "ab" * 32})
    first = _notes(market, "alice@x.io")["items"][0]
    assert first["kind"] == "allocation.minted" and "100 DATE" in first["subject"]


def test_a_fill_and_a_withdrawal_notify_their_investors(market, cli) -> None:  # noqa: ANN001
    _clear(market, "alice", "carol")
    assert place(market, "alice", "sell", 10, "10.00").status_code == 201
    assert place(market, "carol", "buy", 10, "10.00").json()["status"] == "filled"
    carol = _notes(market, "carol@x.io", "?unread=true")
    assert [(n["kind"], n["read"]) for n in carol["items"]] == [("order.filled", False)]
    assert carol["items"][0]["payload"]["symbol"] == "DATE" and carol["unread"] == 1
    assert [n["kind"] for n in _notes(market, "alice@x.io", "?unread=true")["items"]] == [
        "order.filled"]
    asked = market.call("POST", "/api/v1/me/withdrawals", "carol@x.io",
                        json={"amount": "100.00", "reference": "IBAN"})
    admin_inbox = cli.json("notification", "list", "--unread")
    assert [n["kind"] for n in admin_inbox] == ["withdrawal.pending", "business.pending"]
    cli.json("withdrawal", "confirm", asked.json()["id"])
    kinds = [n["kind"] for n in _notes(market, "carol@x.io", "?unread=true")["items"]]
    assert kinds == ["withdrawal.approved", "order.filled"]  # unread, newest first
    from alefctl.server.routes.notifications_examples import ANSWERS

    assert set(_notes(market, "carol@x.io")) == set(ANSWERS["notifications"])
    assert set(_notes(market, "carol@x.io")["items"][0]) == set(
        ANSWERS["notifications"]["items"][0])


def test_marked_read_goes_after_the_unread_and_only_for_its_reader(market, cli) -> None:  # noqa: ANN001
    _clear(market, "alice", "carol")
    with market.engine.begin() as conn:  # only this test's notifications
        conn.execute(text("DELETE FROM notification_reads"))
        conn.execute(text("DELETE FROM notifications"))
    for price in ("10.00", "10.10", "10.20"):
        assert place(market, "alice", "sell", 1, price).status_code == 201
        assert place(market, "carol", "buy", 1, price).json()["status"] == "filled"
    items = _notes(market, "carol@x.io")["items"]
    oldest = items[-1]["id"]
    marked = market.call("POST", "/api/v1/me/notifications/read", "carol@x.io",
                         json={"ids": [oldest]})
    assert marked.json() == {"marked": 1, "unread": 2}
    after = _notes(market, "carol@x.io")["items"]
    assert [n["id"] for n in after] == [items[0]["id"], items[1]["id"], oldest]
    assert after[-1]["read"] and after[-1]["read_at"]
    assert [n["id"] for n in _notes(market, "carol@x.io", "?unread=true")["items"]] == [
        items[0]["id"], items[1]["id"]]
    paged = all_pages(lambda m, u: market.call(m, u, "carol@x.io"), "/api/v1/me/notifications",
                      limit=2)
    assert [n["id"] for n in paged] == [n["id"] for n in after]
    theirs = _notes(market, "alice@x.io")["items"][0]["id"]
    refused = market.call("POST", "/api/v1/me/notifications/read", "carol@x.io",
                          json={"ids": [theirs]})
    assert refused.status_code == 404  # another's notification: as if it did not exist
    both = market.call("POST", "/api/v1/me/notifications/read", "carol@x.io",
                       json={"ids": [oldest], "all": True})
    assert both.status_code == 422
    done = market.call("POST", "/api/v1/me/notifications/read", "carol@x.io", json={"all": True})
    assert done.json() == {"marked": 2, "unread": 0}
    assert _notes(market, "alice@x.io")["unread"] == 3  # alice's are hers to read


def test_a_role_notification_is_read_by_each_of_its_people_apart(market, cli, platform) -> None:  # noqa: ANN001
    market.call("POST", "/api/v1/me/withdrawals", "carol@x.io",
                json={"amount": "5.00", "reference": "IBAN"})
    platform.person("admin2", role="admin")
    second = cli.as_user("admin2@x.io")
    done = cli.json("notification", "read", "--all")
    assert done == {"marked": 2, "unread": 0}  # the withdrawal and the issuer's business
    assert cli.json("notification", "list", "--unread") == []
    with market.engine.begin() as conn:
        unread_rows = conn.execute(text(
            "SELECT count(*) FROM notifications WHERE kind = 'withdrawal.pending'"
            " AND read_at IS NULL")).scalar_one()
    assert unread_rows == 1  # the row itself is untouched: read state is per reader
    assert [n["kind"] for n in second.json("notification", "list", "--unread")] == [
        "withdrawal.pending", "business.pending"]


def test_the_notifications_channel_pushes_each_one_when_written(market) -> None:  # noqa: ANN001
    client = market.client
    headers = {"Authorization": f"Bearer {market.key('carol@x.io')}"}
    with client.websocket_connect("/api/v1/ws", headers=headers) as socket:
        socket.send_json({"op": "subscribe", "channel": "notifications"})
        assert socket.receive_json()["type"] == "subscribed"
        assert place(market, "alice", "sell", 2, "10.00").status_code == 201
        assert place(market, "carol", "buy", 2, "10.00").json()["status"] == "filled"
        pushed = socket.receive_json()
        while pushed.get("type") != "notification":
            pushed = socket.receive_json()
        assert pushed["kind"] == "order.filled" and pushed["channel"] == "notifications"
        socket.send_json({"op": "subscribe", "channel": "notifications:someone-else"})
        assert socket.receive_json()["code"] == "forbidden"


def test_cancels_settlements_and_failures_notify(market, cli) -> None:  # noqa: ANN001
    _clear(market, "alice", "carol")
    cli.json("notification", "read", "--all")
    resting = place(market, "carol", "buy", 3, "9.00").json()
    cancelled = market.call("DELETE", f"/api/v1/orders/{resting['id']}", "carol@x.io")
    assert cancelled.status_code < 300, cancelled.text
    assert place(market, "alice", "sell", 1, "10.00").status_code == 201
    assert place(market, "carol", "buy", 1, "10.00").json()["status"] == "filled"
    assert place(market, "alice", "sell", 1, "10.00").status_code == 201
    assert place(market, "carol", "buy", 1, "10.00").json()["status"] == "filled"
    with market.engine.begin() as conn:  # as the settlement processor leaves them
        first, second = conn.execute(text("SELECT id FROM trades ORDER BY created_at, id")).scalars()
        conn.execute(text("UPDATE trades SET settlement_status = 'settled', settlement_type ="
                          " 'off_chain', settled_at = now() WHERE id = :t"), {"t": first})
        conn.execute(text("UPDATE trades SET settlement_status = 'failed', settlement_error ="
                          " 'reverted' WHERE id = :t"), {"t": second})
    kinds = [n["kind"] for n in _notes(market, "carol@x.io", "?unread=true")["items"]]
    assert kinds == ["trade.settled", "order.filled", "order.filled", "order.cancelled"]
    assert [n["kind"] for n in _notes(market, "alice@x.io", "?unread=true")["items"]] == [
        "trade.settled", "order.filled", "order.filled"]
    [failed] = cli.json("notification", "list", "--unread")
    assert failed["kind"] == "settlement.failed" and "reverted" in failed["subject"]
