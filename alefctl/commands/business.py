"""`alefctl business`: register, list, approve or reject businesses."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    emit_list,
    emit_object,
    info,
    requires,
    state,
)
from alefctl.commands.refs import resolved

app = typer.Typer(help="Businesses: register, list, approve, reject.", no_args_is_help=True)
BusinessArg = Annotated[str, typer.Argument(help="Business id, id prefix or company name.")]
COLUMNS = ("id", "company_name", "country", "industry", "alef_allocation_pct", "status")


@app.command("register")
@command_errors
@requires("business.register")
def register(
    name: Annotated[str, typer.Option("--name", help="Company name.")],
    registration_number: Annotated[str, typer.Option(help="Company registration number.")],
    country: Annotated[str, typer.Option(help="ISO country code.")],
    industry: Annotated[str, typer.Option(help="Industry.")],
    alef_allocation_pct: Annotated[str, typer.Option(
        help="% of supply the platform treasury receives at go-live.")] = "0",
    as_json: JsonOption = False,
) -> None:
    """Register a business (issuer with KYC level 2 or more; use --as)."""
    from alefctl.workflows.businesses import NewBusiness, register_business

    form = NewBusiness(name, registration_number, country, industry, alef_allocation_pct)
    with state.transaction() as (conn, actor):
        business = register_business(conn, actor, form)
    emit(business.to_dict(), as_json,
         lambda: info(f"business {business.id} registered; awaiting approval"))


@app.command("list")
@command_errors
@requires("business.read")
def list_(status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
          as_json: JsonOption = False) -> None:
    """List businesses (admins: all; issuers: their own)."""
    from alefctl.workflows.businesses import list_businesses

    with state.transaction() as (conn, actor):
        found = list_businesses(conn, actor, status)
    emit_list("businesses", COLUMNS, found, as_json)


@app.command("show")
@command_errors
@requires("business.read")
def show(business: BusinessArg, as_json: JsonOption = False) -> None:
    """Show one business."""
    from alefctl.workflows.businesses import get_business

    business_id = resolved("business", business)
    with state.transaction() as (conn, _actor):
        found = get_business(conn, business_id)
    emit_object(found.company_name, found, as_json)


@app.command("approve")
@command_errors
@requires("business.review")
def approve(business: BusinessArg, as_json: JsonOption = False) -> None:
    """Approve a business: it becomes active and may create tokens (admin)."""
    _review(business, True, None, as_json)


@app.command("reject")
@command_errors
@requires("business.review")
def reject(business: BusinessArg, reason: Annotated[str, typer.Option(help="Why.")],
           as_json: JsonOption = False) -> None:
    """Reject a business with a reason (admin)."""
    _review(business, False, reason, as_json)


def _review(business: str, approve: bool, reason: str | None, as_json: bool) -> None:
    from alefctl.workflows.businesses import review_business

    business_id = resolved("business", business)
    with state.transaction() as (conn, actor):
        reviewed = review_business(conn, actor, business_id, approve=approve, reason=reason)
    emit(reviewed.to_dict(), as_json,
         lambda: info(f"business {reviewed.company_name} is {reviewed.status}"))
