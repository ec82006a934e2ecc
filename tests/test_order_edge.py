"""One bad order never reaches a commit group: numbers the platform cannot take exactly are
refused at the edge (server/edge.py), on the order fast path and on every FastAPI route alike,
with 422 problem+json naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alefctl.errors import InvalidInput
from alefctl.workflows.orders import to_ticks

ORDER = '{"token_id": "DATE", "side": "buy", "quantity": %s, "price": %s}'
DIVIDEND = {"token_id": "DATE", "dividend_type": "fiat"}
# written with an exponent: as JSON numbers they parse to plain numbers (1e2 to 100), and
# "1.5e1" to 15, so the edge looks at the text (edge.check_json_body)
EXPONENTS = ["1e2", "1E2", "1.5e1", "1000e-2", '"1.5e1"', '"1E2"', '"15e-1"']
BAD_PRICES = ['"10.0000000000000000000000000001"', '"1E+400"', '"1e400"', '"1e1"', '"NaN"',
              '"Infinity"', '"-Infinity"', '"-0"', '"-0.00"', '1E+400', '"0.0000000000000000001"',
              *EXPONENTS]
BAD_QUANTITIES = [str(2**63), str(-(2**63) - 1), "1e3", "1E+400", "5.0", '"5"', "NaN", "-0"]


def _refused(response, field: str | None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_input"
    if field is not None and "field" in body:
        assert body["field"] == field, body
    assert "Traceback" not in response.text and "psycopg" not in response.text


@pytest.mark.parametrize("price", BAD_PRICES)
def test_bad_prices_are_refused_on_the_fast_path(api, platform, price: str) -> None:  # noqa: ANN001
    platform.approved("ivy")
    _refused(api.call("POST", "/api/v1/orders", "ivy@x.io", content=ORDER % ("1", price),
                      headers={"content-type": "application/json"}), "price")


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_bad_quantities_are_refused_on_the_fast_path(api, platform, quantity: str) -> None:  # noqa: ANN001
    platform.approved("ivy")
    answer = api.call("POST", "/api/v1/orders", "ivy@x.io", content=ORDER % (quantity, '"10.00"'),
                      headers={"content-type": "application/json"})
    _refused(answer, "quantity")


@pytest.mark.parametrize("value", ["1E+2", "-0", "0.0000000000000000001", "1.0000000000000000001"])
def test_the_same_rule_on_a_fastapi_route(api, value: str) -> None:  # noqa: ANN001
    answer = api.call("POST", "/api/v1/dividends", "issuer@x.io",
                      json={**DIVIDEND, "per_token_usd": value})
    _refused(answer, "per_token_usd")


def test_a_good_order_still_passes(market) -> None:  # noqa: ANN001
    answer = market.call("POST", "/api/v1/orders", "carol@x.io",
                         content=ORDER % ("2", '"10.000000000000000000"'),
                         headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text


def test_ticks_are_exact_beyond_28_digits() -> None:
    tick = Decimal("0.01")
    assert to_ticks(Decimal("99999999999999.99"), tick) == 9999999999999999
    assert to_ticks(Decimal("10.000000000000000000"), tick) == 1000
    with pytest.raises(InvalidInput):  # rounded onto the grid by a 28-digit division
        to_ticks(Decimal("10.00000000000000000000000000001"), tick)
    with pytest.raises(InvalidInput):
        to_ticks(Decimal("12345678901234.000000000000000001"), tick)


@pytest.mark.parametrize("value", EXPONENTS)
def test_an_exponent_is_refused_on_a_fastapi_route(api, value: str) -> None:  # noqa: ANN001
    body = f'{{"token_id": "DATE", "dividend_type": "fiat", "per_token_usd": {value}}}'
    _refused(api.call("POST", "/api/v1/dividends", "issuer@x.io", content=body,
                      headers={"content-type": "application/json"}), "per_token_usd")


def test_an_exponent_in_any_json_number_is_refused(api) -> None:  # noqa: ANN001
    body = ('{"business_id": "b", "name": "Acme", "symbol": "ACME", "total_supply": 1e3,'
            ' "price_per_token": "2.50", "primary_offering_pct": "90", "team_pct": "10"}')
    _refused(api.call("POST", "/api/v1/tokens", "issuer@x.io", content=body,
                      headers={"content-type": "application/json"}), "total_supply")


def test_text_that_looks_like_an_exponent_is_still_text(market) -> None:  # noqa: ANN001
    answer = market.call("POST", "/api/v1/orders", "carol@x.io",
                         json={"token_id": "DATE", "side": "buy", "quantity": 1, "price": "9.50",
                               "client_order_id": "1e5"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["client_order_id"] == "1e5"
