"""Businesses and token creation: who may do what, and every refusal names its field."""

from __future__ import annotations

import pytest
from settlement_helpers import LIMITS
from sqlalchemy import text

from alefctl.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alefctl.workflows.businesses import NewBusiness, list_businesses, register_business, review_business
from alefctl.workflows.lifecycle import change_status, retire, start_offering
from alefctl.workflows.tokens import NewToken, create_token, get_token, list_tokens, set_nav

FORM = NewBusiness("Acme Dates", "R-1", "AE", "agriculture", "5")


def test_register_needs_an_issuer_with_kyc_level_2(platform) -> None:  # noqa: ANN001
    unverified = platform.person("newbie", role="issuer")
    low = platform.approved("low", role="issuer", level=1)
    with platform.engine.begin() as conn:
        with pytest.raises(PermissionDenied, match="level 2"):
            register_business(conn, unverified, FORM)
        with pytest.raises(PermissionDenied, match="level 2"):
            register_business(conn, low, FORM)
        with pytest.raises(PermissionDenied):
            register_business(conn, platform.admin, FORM)
        business = register_business(conn, platform.issuer, FORM)
    assert business.status == "pending"
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="already registered"):
        register_business(conn, platform.issuer, FORM)


def test_approve_reject_and_visibility(platform) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        first = register_business(conn, platform.issuer, FORM)
        second = register_business(conn, platform.issuer, NewBusiness("B", "R-2", "GB", "x"))
        with pytest.raises(PermissionDenied):
            review_business(conn, platform.issuer, str(first.id), approve=True)
        with pytest.raises(InvalidInput, match="reason"):
            review_business(conn, platform.admin, str(second.id), approve=False)
        assert review_business(conn, platform.admin, str(first.id), approve=True).status == "active"
        rejected = review_business(conn, platform.admin, str(second.id), approve=False, reason="no")
        assert rejected.status == "rejected" and rejected.rejection_reason == "no"
        with pytest.raises(Conflict, match="cannot approve: the business is rejected"):
            review_business(conn, platform.admin, str(second.id), approve=True)
        other = platform.approved("other", role="issuer")
        assert list_businesses(conn, other) == []
        assert len(list_businesses(conn, platform.admin, "active")) == 1


@pytest.mark.parametrize("pct", ["-1", "101", "abc", "1.234"])
def test_allocation_pct_is_checked(platform, pct) -> None:  # noqa: ANN001
    form = NewBusiness("A", "R-9", "AE", "x", pct)
    with platform.engine.begin() as conn, pytest.raises(InvalidInput) as error:
        register_business(conn, platform.issuer, form)
    assert error.value.field == "alef_allocation_pct"


def _token_form(business_id: str, **overrides) -> NewToken:  # noqa: ANN003
    values = dict(business_id=business_id, name="Date Farms", symbol="DATE", total_supply=1000,
                  price_per_token="10.00", primary_offering_pct="80", team_pct="10",
                  reserve_pct="5")  # + the business's 5% platform allocation: 100
    values.update(overrides)
    return NewToken(**values)


def test_create_token_draft(platform) -> None:  # noqa: ANN001
    business_id = platform.business()
    with platform.engine.begin() as conn:
        token = create_token(conn, platform.issuer, _token_form(business_id), default_fee_bps=50)
    assert (token.status, token.trading_mode, token.fee_bps, token.primary_cap) == (
        "draft", "primary_subscription", 50, 800)
    with platform.engine.begin() as conn:
        assert get_token(conn, "DATE").id == get_token(conn, str(token.id)).id
        assert [t.symbol for t in list_tokens(conn, "draft")] == ["DATE"]
        with pytest.raises(Conflict, match="symbol DATE is already taken"):
            create_token(conn, platform.issuer, _token_form(business_id), default_fee_bps=50)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"symbol": "date"}, "symbol"),
    ({"symbol": "WAYTOOLONG11"}, "symbol"),
    ({"reserve_pct": "10"}, "primary_offering_pct"),  # 80 + 10 + 10 + 5 > 100
    ({"primary_offering_pct": None, "team_pct": "95"}, "primary_offering_pct"),  # none left
    ({"max_investment": "2", "min_investment": "3"}, "max_investment"),
    ({"total_supply": "0"}, "total_supply"),
    ({"total_supply": "many"}, "total_supply"),
    ({"price_per_token": "0.001"}, "price_per_token"),
    ({"min_investment": 0}, "min_investment"),
    ({"raise_currency": "EUR"}, "raise_currency"),
    ({"tick_size": "-1"}, "tick_size"),
])
def test_token_errors_name_the_field(platform, overrides, field) -> None:  # noqa: ANN001
    business_id = platform.business()
    with platform.engine.begin() as conn, pytest.raises(InvalidInput) as error:
        create_token(conn, platform.issuer, _token_form(business_id, **overrides), 50)
    assert error.value.field == field


def test_the_trading_fee_is_the_platforms(platform) -> None:  # noqa: ANN001
    business_id = platform.business()
    with pytest.raises(TypeError):  # a token's form has no fee: the issuer cannot send one
        _token_form(business_id, fee_bps=0)
    with platform.engine.begin() as conn, pytest.raises(InvalidInput) as error:
        create_token(conn, platform.issuer, _token_form(business_id), default_fee_bps=10_001)
    assert error.value.field == "fee_bps"
    with platform.engine.begin() as conn:
        assert create_token(conn, platform.issuer, _token_form(business_id), 25).fee_bps == 25


def test_only_the_owner_of_an_active_business_creates_tokens(platform) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        pending = register_business(conn, platform.issuer, FORM)
        with pytest.raises(Conflict, match="only an active business"):
            create_token(conn, platform.issuer, _token_form(str(pending.id)), 50)
    active = platform.business()
    stranger = platform.approved("stranger", role="issuer")
    with platform.engine.begin() as conn, pytest.raises(NotFound):
        create_token(conn, stranger, _token_form(active), 50)


def test_lifecycle_refuses_transitions_off_the_flow(platform) -> None:  # noqa: ANN001
    token = platform.draft_token()
    with platform.engine.begin() as conn:
        with pytest.raises(Conflict, match="not deployed"):
            start_offering(conn, platform.admin, "DATE")
        for action in ("pause", "resume"):
            with pytest.raises(Conflict, match=f"cannot {action}: the token is draft"):
                change_status(conn, platform.admin, "DATE", action)
        with pytest.raises(PermissionDenied):
            change_status(conn, platform.issuer, "DATE", "pause")
    for action in ("mature", "delist"):  # they close the market too (closing.py)
        with pytest.raises(Conflict, match=f"cannot {action}: the token is draft"):
            retire(platform.engine, platform.admin, "DATE", action, LIMITS)
    with pytest.raises(PermissionDenied):
        retire(platform.engine, platform.issuer, "DATE", "mature", LIMITS)
    assert token.status == "draft"


def test_set_nav_records_history(platform) -> None:  # noqa: ANN001
    platform.draft_token()
    investor = platform.approved("inv")
    with platform.engine.begin() as conn:
        updated = set_nav(conn, platform.issuer, "DATE", "10.50")
        set_nav(conn, platform.admin, "DATE", "11")
        with pytest.raises(PermissionDenied):
            set_nav(conn, investor, "DATE", "1")
        with pytest.raises(InvalidInput):
            set_nav(conn, platform.admin, "DATE", "-2")
        history = conn.execute(text("SELECT nav_per_token FROM nav_history ORDER BY created_at"))
        assert [str(v) for v in history.scalars()] == ["10.500000", "11.000000"]
    assert str(updated.nav_per_token) == "10.500000"
