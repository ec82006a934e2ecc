"""The investor's own account (/api/v1/me): profile, balances, holdings, paged history, a
statement, their wallet address and their pending OTC orders. Reads and rules live in
workflows/account/; every route shows or changes the caller's own objects only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute, check_value
from alefctl.server.routes import out, render, transaction
from alefctl.server.routes.me_examples import STATEMENT, example
from alefctl.server.state import server_state
from alefctl.workflows.account import deposits, history, overview
from alefctl.workflows.account.otc import cancel_own_otc_order
from alefctl.workflows.account.pages import MAX_LIMIT, PageQuery
from alefctl.workflows.account.statement import statement, statement_csv
from alefctl.workflows.account.wallet import WalletProof, register_wallet
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1/me", tags=["account"], route_class=EdgeRoute)
READ = acting("account.read")


def page_query(limit: int = Query(50, ge=1, le=MAX_LIMIT), cursor: str | None = None,
               token: str | None = Query(None, description="token symbol"),
               since: datetime | None = Query(None, alias="from", description="from (inclusive)"),
               until: datetime | None = Query(None, alias="to", description="to (exclusive)"),
               ) -> PageQuery:
    """The paging and filter parameters every list takes."""
    query = PageQuery(limit, cursor, token, since, until)
    for name in ("cursor", "token", "since", "until"):
        check_value(getattr(query, name), {"since": "from", "until": "to"}.get(name, name))
    return query


def _page(request: Request, actor: Actor, kind: str, query: PageQuery) -> dict:
    """One page and the link to the next (the same query, the next cursor)."""
    with transaction(request) as conn:
        page = history.history_page(conn, actor, kind, query)
    following = None
    if page.next_cursor:
        url = request.url.include_query_params(cursor=page.next_cursor)
        following = f"{url.path}?{url.query}"
    return {"items": out(page.items), "next": following, "next_cursor": page.next_cursor}


@router.get("", responses=example("profile"))
def me(request: Request, actor: Actor = Depends(READ)) -> dict:
    """The caller's profile: KYC status and level, accreditation, FATCA, wallet address."""
    with transaction(request) as conn:
        return out(overview.profile(conn, actor))


@router.get("/deposit-instructions", responses=example("deposit_instructions"))
def deposit_instructions(request: Request, actor: Actor = Depends(READ)) -> dict:
    """Where to send USD (bank details) or USDC (the platform's address), and the caller's own
    deposit reference to put on every transfer; an admin credits the money when it arrives."""
    return out(deposits.deposit_instructions(actor, server_state(request).settings.deposits))


@router.get("/balances", responses=example("balances"))
def balances(request: Request, actor: Actor = Depends(READ)) -> dict:
    """Fiat available, locked (orders, OTC orders, pending subscriptions), held until
    settlement (part of available, not yet withdrawable), and stablecoins."""
    with transaction(request) as conn:
        return out(overview.balances(conn, actor))


@router.get("/holdings", responses=example("holdings"))
def holdings(request: Request, actor: Actor = Depends(READ)) -> list:
    """Per token: quantity, locked in orders, on-chain, average cost, last price, value."""
    with transaction(request) as conn:
        return out(overview.holdings(conn, actor))


def _list_route(kind: str, path: str, summary: str) -> None:
    def endpoint(request: Request, query: PageQuery = Depends(page_query),
                 actor: Actor = Depends(READ)) -> dict:
        return _page(request, actor, kind, query)

    endpoint.__name__ = f"list_{kind}"
    endpoint.__doc__ = summary
    router.add_api_route(path, endpoint, methods=["GET"], responses=example(kind))


_list_route("allocations", "/allocations", "The caller's primary allocations, newest first.")
_list_route("dividends", "/dividends", "Dividend payments to the caller, newest first.")
_list_route("fills", "/fills", "The caller's trades with their fees, newest first.")
_list_route("transactions", "/transactions", "The caller's wallet ledger, newest first.")
_list_route("otc_orders", "/otc-orders", "The caller's fixed-price (OTC) orders, newest first.")
_list_route("withdrawals", "/withdrawals", "The caller's withdrawal requests, newest first.")


@router.delete("/otc-orders/{otc_id}", responses=example("otc_cancel"))
def cancel_otc(otc_id: str, request: Request, actor: Actor = Depends(acting("otc.cancel"))) -> dict:
    """Cancel one of the caller's pending OTC orders; its locked money or tokens come back."""
    with transaction(request) as conn:
        return out(cancel_own_otc_order(conn, actor, otc_id))


@router.get("/statement", responses=STATEMENT)
def get_statement(request: Request, since: datetime = Query(alias="from"),
                  until: datetime = Query(alias="to"),
                  format: Literal["json", "csv"] = "json",  # noqa: A002 - the documented name
                  actor: Actor = Depends(READ)) -> Response:
    """Opening and closing positions, every movement with its reference, fees and dividends
    of [from, to), as JSON or CSV (for an accountant)."""
    with transaction(request) as conn:
        data = statement(conn, actor, since, until)
    if format == "csv":
        return Response(statement_csv(data), media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="statement.csv"'})
    return render(out(data))


class WalletBody(BaseModel):
    """A wallet address and the EIP-191 signature of the registration message (README,
    "The account API") made with that wallet's key."""

    address: str = Field(max_length=42, description="0x + 40 hex digits (EIP-55 if mixed case)")
    nonce: str = Field(max_length=64, description="8-64 of A-Z a-z 0-9 - _, used once")
    issued_at: datetime = Field(description="when the message was signed, ISO-8601 with zone")
    signature: str = Field(max_length=132, description="0x + 130 hex digits (personal_sign)")


@router.put("/wallet", responses=example("wallet"))
def put_wallet(body: WalletBody, request: Request,
               actor: Actor = Depends(acting("account.wallet"))) -> dict:
    """Register the caller's wallet address, proven by a signed message; a wallet holding
    tokens is changed only through the admin recovery workflow (409)."""
    proof = WalletProof(body.address, body.nonce, body.issued_at, body.signature)
    max_age = server_state(request).settings.account.wallet_proof_max_age_s
    with transaction(request) as conn:
        return out(register_wallet(conn, actor, proof, max_age_s=max_age))
