"""Issuers do not set the platform's fees: a token's trading fee is trading.default_fee_bps and
a dividend's fee trading.dividend_fee_pct, both from the settings; a fee sent by an issuer is
refused naming it, on the command line and over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_client import Api
from sqlalchemy import text
from test_dividends import paying_token

from alefctl.server import create_app
from alefctl.settings import load_settings

TOKEN = {"name": "Palm", "symbol": "PALM", "total_supply": 1000, "price_per_token": "5.00",
         "primary_offering_pct": "80", "team_pct": "15"}
DIVIDEND = {"token_id": "DATE", "dividend_type": "fiat", "per_token_usd": "0.50"}


def _token_args(business: str) -> list[str]:
    return ["token", "create", "--business", business, "--name", "Palm", "--symbol", "PALM",
            "--supply", "1000", "--price", "5.00", "--primary-pct", "80", "--team-pct", "15"]


def _tokens(platform) -> int:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM tokens")).scalar_one()


def test_the_commands_take_no_fee_from_the_issuer(cli, platform) -> None:  # noqa: ANN001
    issuer = cli.as_user(platform.issuer.email)
    business = platform.business()
    refused = issuer(*_token_args(business), "--fee-bps", "0")
    assert refused.exit_code == 2 and "--fee-bps" in refused.stderr
    assert _tokens(platform) == 0
    token = issuer.json(*_token_args(business), ALEF_TRADING_DEFAULT_FEE_BPS="30")
    assert token["fee_bps"] == 30
    help_text = issuer("token", "create", "--help").stdout
    assert "--fee-bps" not in help_text and "trading.default_fee_bps" in help_text

    paying_token(platform, {"alice": 10})
    declare = ("dividend", "declare", "DATE", "--type", "fiat", "--per-token-usd", "0.5")
    refused = issuer(*declare, "--fee-pct", "0")
    assert refused.exit_code == 2 and "--fee-pct" in refused.stderr
    dividend = issuer.json(*declare, ALEF_TRADING_DIVIDEND_FEE_PCT="2.5")
    assert (dividend["fee_pct"], dividend["total_fee_usd"]) == ("2.50", "0.12")


def test_http_refuses_an_issuers_fee_and_applies_the_settings(engine, db_url, tmp_path,  # noqa: ANN001
                                                              platform) -> None:
    business = platform.business()
    paying_token(platform, {"alice": 10, "bob": 30})
    settings = load_settings(home=tmp_path / "home", database={"url": db_url},
                             trading={"default_fee_bps": 30, "dividend_fee_pct": "2.5"},
                             server={"settlement_loop": False})
    tokens = _tokens(platform)
    with TestClient(create_app(settings, engine)) as client:
        api = Api(client, engine, platform.admin)
        for path, body, field in (("/api/v1/tokens", {**TOKEN, "business_id": business,
                                                      "fee_bps": 0}, "fee_bps"),
                                  ("/api/v1/dividends", {**DIVIDEND, "fee_pct": "0"}, "fee_pct")):
            refused = api.call("POST", path, "issuer@x.io", json=body)
            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert problem["code"] == "invalid_input" and problem["detail"].startswith(field)
            assert [error["field"] for error in problem["errors"]] == [field]
        assert _tokens(platform) == tokens

        token = api.call("POST", "/api/v1/tokens", "issuer@x.io",
                         json={**TOKEN, "business_id": business})
        assert token.status_code == 201, token.text
        assert token.json()["fee_bps"] == 30
        dividend = api.call("POST", "/api/v1/dividends", "issuer@x.io", json=DIVIDEND)
        assert dividend.status_code == 201, dividend.text
        assert (dividend.json()["fee_pct"], dividend.json()["total_fee_usd"]) == ("2.50", "0.49")
