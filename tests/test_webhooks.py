"""Webhooks: subscribe over HTTP (secret once; only public http(s) targets unless allowed),
deliveries signed as README documents, in order per subscription, at least once across a
crashed deliverer and a restarted server, backed off and disabled after repeated failures."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text

from alefctl.pii import PiiCipher
from alefctl.server import create_app
from alefctl.settings import WebhookSettings, load_settings
from alefctl.workflows.notifications import notify_user
from alefctl.workflows.webhooks.delivery import deliver_due
from server_client import Api
from webhook_receiver import Receiver

HOOKS = {"allow_private_targets": True, "interval_s": 0.1, "backoff_base_s": 0.2,
         "timeout_s": 3}
KEY = Fernet.generate_key().decode()
CIPHER = PiiCipher(KEY.encode())  # the servers' security.encryption_key: secrets sealed with it


@contextmanager
def serving(engine, db_url: str, home: Path, admin, **webhooks: object):  # noqa: ANN001, ANN202
    """The server, its webhook deliverer running, on this test's database."""
    settings = load_settings(home=home, database={"url": db_url},
                             server={"settlement_loop": False}, webhooks=HOOKS | webhooks,
                             security={"encryption_key": KEY})
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, engine, admin)


def _notify(engine, email: str, count: int) -> list[str]:  # noqa: ANN001
    """`count` notifications to a user, each in a transaction of its own; their ids."""
    ids = []
    for number in range(count):
        with engine.begin() as conn:
            user = conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
            user_id = user.scalar_one()
            notify_user(conn, user_id, "dividend.paid", f"payment {number}", "user", user_id)
            ids.append(str(conn.execute(text(
                "SELECT id FROM notifications ORDER BY created_at DESC, id DESC LIMIT 1")
            ).scalar_one()))
    return ids


def _verified(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """README's recipe: HMAC-SHA256 of the raw body; the body's timestamp is the header's."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-Alef-Signature"])
    payload = json.loads(body)
    assert str(payload["timestamp"]) == headers["X-Alef-Timestamp"]
    assert abs(time.time() - payload["timestamp"]) < 300
    assert headers["X-Alef-Delivery"] == payload["id"]
    return payload


def _wait(condition, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_only_public_http_targets_and_the_secret_is_shown_once(api) -> None:  # noqa: ANN001
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/x", "http://169.254.169.254/",
                "ftp://hooks.example.com/", "http://[::1]/", "https://user:pw@8.8.8.8/"):
        refused = api.call("POST", "/api/v1/webhooks", api.admin.email,
                           json={"url": url, "events": ["*"]})
        assert refused.status_code == 422, (url, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    unknown = api.call("POST", "/api/v1/webhooks", api.admin.email,
                       json={"url": "https://8.8.8.8/hook", "events": ["no.such"]})
    assert unknown.status_code == 422 and "no.such" in unknown.json()["detail"]


def test_deliveries_are_signed_ordered_and_survive_a_crash_and_a_restart(
        engine, db_url, tmp_path, platform, cli_env) -> None:  # noqa: ANN001
    platform.approved("carol")
    with Receiver(hold_on=2) as receiver:
        with serving(engine, db_url, tmp_path / "a", platform.admin, deliver_loop=False) as api:
            made = api.call("POST", "/api/v1/webhooks", "carol@x.io",
                            json={"url": receiver.url, "events": ["dividend.paid"]})
            assert made.status_code == 201, made.text
            hook = made.json()
            secret = hook["secret"]
            assert secret.startswith("whsec_")
            listed = api.call("GET", "/api/v1/webhooks", "carol@x.io").json()
            assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
            theirs = api.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                              platform.issuer.email)
            assert theirs.status_code in (403, 404)
        notes = _notify(engine, "carol@x.io", 4)
        # a deliverer (cron) crashes while the receiver holds the second delivery
        env = {**os.environ, **cli_env, "ALEF_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
               "ALEF_SECURITY_ENCRYPTION_KEY": KEY}
        cron = subprocess.Popen([sys.executable, "-m", "alefctl", "notification",
                                 "deliver-webhooks"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        assert receiver.holding.wait(60), cron.stderr.read() if cron.poll() is not None else ""
        cron.send_signal(signal.SIGKILL)
        cron.wait(10)
        receiver.release.set()
        with engine.begin() as conn:
            statuses = conn.execute(text("SELECT status FROM webhook_deliveries ORDER BY seq"))
            assert statuses.scalars().all() == ["delivered", "pending", "pending", "pending"]
        # the server starts and delivers the rest, the interrupted one again, in order
        with serving(engine, db_url, tmp_path / "b", platform.admin) as api:
            _wait(lambda: len(receiver.received) >= 5)
            log = api.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries?limit=2",
                           "carol@x.io").json()
            assert log["next"] and [d["status"] for d in log["items"]] == ["delivered"] * 2
    payloads = [_verified(secret, headers, body) for headers, body in receiver.received]
    got = [p["notification"]["id"] for p in payloads]
    assert got == [notes[0], notes[1], notes[1], notes[2], notes[3]]  # at least once, in order
    assert payloads[0]["event"] == "dividend.paid" and payloads[0]["notification"]["subject"]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM webhook_deliveries WHERE status ="
                                 " 'delivered'")).scalar_one() == 4


def test_failures_back_off_and_disable_the_subscription(engine, db_url, tmp_path,
                                                        platform) -> None:  # noqa: ANN001
    platform.approved("carol")
    settings = WebhookSettings(**HOOKS, max_failures=3)
    with Receiver(status=500) as receiver:
        with serving(engine, db_url, tmp_path / "a", platform.admin, deliver_loop=False) as api:
            hook = api.call("POST", "/api/v1/webhooks", "carol@x.io",
                            json={"url": receiver.url, "events": ["*"]}).json()
            _notify(engine, "carol@x.io", 2)
            waits = []
            for attempt in range(3):
                report = deliver_due(engine, settings, CIPHER)
                assert report.failed == 1 and report.delivered == 0
                with engine.begin() as conn:
                    waits.append(conn.execute(text(
                        "SELECT extract(epoch FROM next_attempt_at - last_attempt_at) FROM"
                        " webhook_deliveries ORDER BY seq LIMIT 1")).scalar_one())
                assert deliver_due(engine, settings, CIPHER).failed == 0  # not due yet
                time.sleep(float(waits[-1]) + 0.05)
            assert [float(w) for w in waits] == [0.2, 0.4, 0.8]
            assert report.disabled == [hook["id"]]
            assert len(receiver.received) == 3  # the second waits behind the first, in order
            shown = api.call("GET", f"/api/v1/webhooks/{hook['id']}", "carol@x.io").json()
            assert shown["status"] == "disabled" and "HTTP 500" in shown["disabled_reason"]
            log = api.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                           "carol@x.io").json()["items"]
            assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [
                ("pending", 0, None), ("pending", 3, 500)]
            assert deliver_due(engine, settings, CIPHER).failed == 0  # disabled: nothing more sent
            gone = api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", "carol@x.io")
            assert gone.json()["status"] == "deleted"
            assert api.call("GET", "/api/v1/webhooks", "carol@x.io").json() == []


def test_a_disabled_subscription_is_enabled_again_and_its_secret_rotated(
        engine, db_url, tmp_path, platform) -> None:  # noqa: ANN001
    platform.approved("carol")
    platform.approved("dave")
    settings = WebhookSettings(**HOOKS, max_failures=1)
    with Receiver(status=500) as receiver:
        with serving(engine, db_url, tmp_path / "a", platform.admin, deliver_loop=False) as api:
            hook = api.call("POST", "/api/v1/webhooks", "carol@x.io",
                            json={"url": receiver.url, "events": ["*"]}).json()
            path = f"/api/v1/webhooks/{hook['id']}"
            notes = _notify(engine, "carol@x.io", 2)
            assert deliver_due(engine, settings, CIPHER).disabled == [hook["id"]]
            assert api.call("POST", f"{path}/enable", "dave@x.io").status_code == 404
            _notify(engine, "carol@x.io", 1)  # written while disabled: not queued for it
            receiver.status = 200
            rotated = api.call("POST", f"{path}/rotate-secret", "carol@x.io").json()
            assert rotated["secret"] != hook["secret"] and rotated["secret"].startswith("whsec_")
            shown = api.call("POST", f"{path}/enable", "carol@x.io")
            assert shown.status_code == 200, shown.text
            assert (shown.json()["status"], shown.json()["consecutive_failures"],
                    shown.json()["disabled_reason"]) == ("active", 0, None)
            again = api.call("POST", f"{path}/enable", "carol@x.io").json()
            assert again["updated_at"] == shown.json()["updated_at"]  # already active: unchanged
            assert deliver_due(engine, settings, CIPHER).delivered == 2  # due at once, no backoff left
            assert "secret" not in api.call("GET", path, "carol@x.io").json()
            with engine.begin() as conn:  # sealed at rest: the database alone cannot sign
                stored = conn.execute(text("SELECT secret FROM webhooks")).scalar_one()
                assert rotated["secret"] not in stored
                assert CIPHER.decrypt(stored) == rotated["secret"]
                # a plain secret stored before sealing began still signs
                conn.execute(text("UPDATE webhooks SET secret = :s"), {"s": hook["secret"]})
            late = _notify(engine, "carol@x.io", 1)
            assert deliver_due(engine, settings, CIPHER).delivered == 1
            assert _verified(hook["secret"], *receiver.received[-1])["notification"]["id"] == late[0]
            with engine.begin() as conn:  # a secret sealed with another key: the deliverer's fault
                conn.execute(text("UPDATE webhooks SET secret = :s"), {
                    "s": PiiCipher(Fernet.generate_key()).encrypt("whsec_x")})
            _notify(engine, "carol@x.io", 1)
            for _ in range(settings.max_failures + 1):  # another key: skipped, never counted
                skipped = deliver_due(engine, settings, CIPHER)
                assert (skipped.failed, skipped.delivered) == (0, 0)
                assert skipped.unreadable == [hook["id"]]
                assert "cannot be unsealed" in skipped.problems()[0]
            shown = api.call("GET", path, "carol@x.io").json()
            assert (shown["status"], shown["consecutive_failures"]) == ("active", 0)
            log = api.call("GET", f"{path}/deliveries?limit=1", "carol@x.io").json()["items"]
            assert (log[0]["status"], log[0]["attempts"]) == ("pending", 0)
    payloads = [_verified(rotated["secret"], headers, body)
                for headers, body in receiver.received[1:3]]
    assert [p["notification"]["id"] for p in payloads] == notes  # in order, new secret


def test_a_deactivated_users_webhooks_go_quiet(engine, db_url, tmp_path,
                                               platform) -> None:  # noqa: ANN001
    platform.approved("carol")
    settings = WebhookSettings(**HOOKS)
    with Receiver() as receiver:
        with serving(engine, db_url, tmp_path / "a", platform.admin, deliver_loop=False) as api:
            hook = api.call("POST", "/api/v1/webhooks", "carol@x.io",
                            json={"url": receiver.url, "events": ["*"]}).json()
            queued = _notify(engine, "carol@x.io", 1)
            with engine.begin() as conn:
                conn.execute(text("UPDATE users SET is_activated = false WHERE email ="
                                  " 'carol@x.io'"))
            _notify(engine, "carol@x.io", 1)  # written while deactivated: not queued
            assert deliver_due(engine, settings, CIPHER).delivered == 0  # queued one waits
            with engine.begin() as conn:
                conn.execute(text("UPDATE users SET is_activated = true WHERE email ="
                                  " 'carol@x.io'"))
            assert deliver_due(engine, settings, CIPHER).delivered == 1
    assert [_verified(hook["secret"], h, b)["notification"]["id"]
            for h, b in receiver.received] == queued
