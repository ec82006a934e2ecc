"""`alefctl token` commands on a token's holders as a whole: the holder register, the cap table,
burns and the redemption at maturity (attached to `alefctl token` by token.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    fields,
    info,
    parse_time,
    requires,
    state,
    table,
)
from alefctl.commands.holder import FromOpt, ReasonOpt, needs_second_admin
from alefctl.commands.refs import TokenArg, resolved

_COMMANDS: list[tuple[str, Callable[..., Any]]] = []


def _commands(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Collect a command for `attach`, in the order of this module."""
    def collect(function: Callable[..., Any]) -> Callable[..., Any]:
        _COMMANDS.append((name, function))
        return function
    return collect


def attach(app: typer.Typer) -> None:
    """Register these commands on `alefctl token`."""
    for name, function in _COMMANDS:
        app.command(name)(function)


@_commands("burn")
@command_errors
@requires("token.burn")
def burn(token: TokenArg, from_user: FromOpt,
         quantity: Annotated[int, typer.Option("--quantity", help="Tokens to destroy.")],
         reason: ReasonOpt, as_json: JsonOption = False) -> None:
    """Request a burn of a holder's tokens: another admin approves it, which takes them from
    the database position and queues burn on-chain (`alefctl chain work`)."""
    from alefctl.workflows.holders.severe import request_burn

    token_id, holder = resolved("token", token), resolved("user", from_user)
    with state.transaction() as (conn, actor):
        request = request_burn(conn, actor, token_id, holder, quantity, reason)
    needs_second_admin(request, as_json)


@_commands("redeem")
@command_errors
@requires("token.redeem")
def redeem(token: TokenArg,
           price_per_token: Annotated[str, typer.Option(
               "--price-per-token", help="Paid per token: the face value or final NAV.")],
           as_json: JsonOption = False) -> None:
    """Request the redemption of a matured token: another admin approves it, which pays every
    holder from the issuer's balance (rounded down to the cent; the remainder stays with the
    issuer), queues the burn of their tokens (`alefctl chain work`) and marks it redeemed."""
    from alefctl.workflows.redemption import request_redemption

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        planned = request_redemption(conn, actor, token_id, price_per_token)
    emit(planned, as_json, lambda: info(
        f"{planned['symbol']}: redemption at {planned['price_per_token']} per token needs a"
        f" second admin: alefctl approvals approve {planned['approval_id']}"))


@_commands("redemption")
@command_errors
@requires("token.redeem")
def redemption(token: TokenArg, as_json: JsonOption = False) -> None:
    """Show a token's redemption: price, status, totals, each holder's payment and burn."""
    from alefctl.workflows.redemption import get_redemption

    token_id = resolved("token", token)
    with state.transaction() as (conn, _actor):
        shown = get_redemption(conn, token_id)
    emit(shown, as_json, lambda: fields(f"{shown['symbol']} redemption",
                                        {k: v for k, v in shown.items() if k != "payments"}))


REGISTER_COLUMNS = ("legal_name", "email", "country", "wallet_address", "quantity",
                    "pct_of_supply", "acquired_at")


@_commands("holders")
@command_errors
@requires("token.holders")
def holders(
    token: TokenArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The instant (ISO-8601; UTC if no zone); default now.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    verify_chain: Annotated[bool, typer.Option(
        "--verify-chain", help="Check the current register against balanceOf per holder.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The holder register: every holder at an instant with legal name, country, wallet,
    quantity, % of what is held and when their holding began (admins; an issuer: their own
    tokens). --verify-chain (current register only) adds each holder's on-chain balance and a
    status (ok, in_flight, off_chain, break) and exits 1 on a break."""
    from alefctl.errors import InvalidInput
    from alefctl.workflows.register import holder_register
    from alefctl.workflows.register import verify_chain as verify

    fmt = "json" if as_json else output
    if fmt not in ("table", "csv", "json"):
        raise InvalidInput("--format must be table, csv or json", field="format")
    _now_only(verify_chain, as_of, "checks the current register")
    with state.transaction() as (conn, actor):
        register = holder_register(conn, actor, resolved("token", token), parse_time(as_of, "as_of"))
        checks = _verify_register(conn, register, verify) if verify_chain else None
    data = register.to_dict()
    if checks is not None:
        data["chain"] = checks
    if fmt == "csv":
        _register_csv(data["holders"], checks)
    else:
        emit(data, fmt == "json", lambda: _render_register(data))
    if checks is not None and any(c["status"] == "break" for c in checks):
        raise typer.Exit(1)


CAP_TABLE_ROWS = (("authorized", "the token's total supply"),
                  ("issued", "credited to holders to date"),
                  ("sold", "in the primary offering"), ("team", "team allocation"),
                  ("reserve", "reserve allocation"), ("platform", "platform allocation"),
                  ("dividends", "token dividends"), ("other", "other allocations"),
                  ("burned", "burns, redemptions, refunded subscriptions"),
                  ("outstanding", "issued - burned"),
                  ("off_platform", "withdrawn to outside wallets"),
                  ("held", "in the register (outstanding - off platform)"),
                  ("treasury", "the platform's holding"), ("holder_count", "holders"))


@_commands("cap-table")
@command_errors
@requires("token.holders")
def cap_table(
    token: TokenArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The instant (ISO-8601; UTC if no zone); default now.")] = None,
    verify_chain: Annotated[bool, typer.Option(
        "--verify-chain", help="Show the chain's totalSupply next to what is minted.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The cap table: issued (sold, team, reserve, platform, token dividends), burned,
    outstanding, off the platform, held in the register, the treasury's holding and the holder
    count, at an instant (admins; an issuer: their own tokens). --verify-chain (now only) adds
    the chain's totalSupply and exits 1 when it is outside what the database has minted."""
    from alefctl.workflows.cap_table import cap_table as figures
    from alefctl.workflows.cap_table import chain_supply

    _now_only(verify_chain, as_of, "compares the current supply")
    with state.transaction() as (conn, actor):
        result = figures(conn, actor, resolved("token", token), parse_time(as_of, "as_of"))
        chain = _verify_supply(conn, result, chain_supply) if verify_chain else None
    data = result.to_dict()
    if chain is not None:
        data["chain"] = chain

    def render() -> None:
        info(f"{data['symbol']} as of {data['as_of'].isoformat()}")
        rows = [[name, data[name], meaning] for name, meaning in CAP_TABLE_ROWS]
        if chain is not None:
            rows.append(["chain total supply", chain["total_supply"],
                         f"minted {chain['minted']}, in flight {chain['in_flight']}:"
                         f" {'ok' if chain['ok'] else 'BREAK'}"])
        table("cap table", ("figure", "tokens", "meaning"), rows)

    emit(data, as_json, render)
    if chain is not None and not chain["ok"]:
        raise typer.Exit(1)


def _verify_supply(conn, result, chain_supply):  # noqa: ANN001, ANN202
    from alefctl.chain_access import chain_errors, open_chain

    with open_chain(state.settings()) as client, chain_errors():
        return chain_supply(conn, client, result)


def _now_only(verify_chain: bool, as_of: str | None, what: str) -> None:
    from alefctl.errors import InvalidInput

    if verify_chain and as_of is not None:
        raise InvalidInput(f"--verify-chain {what}: drop --as-of", field="as_of")


def _verify_register(conn, register, verify):  # noqa: ANN001, ANN202
    from alefctl.chain_access import chain_errors, open_chain

    with open_chain(state.settings()) as client, chain_errors():
        return verify(conn, client, register)


def _register_csv(rows: list[dict], checks: list[dict] | None) -> None:
    import csv
    import sys

    from alefctl.jsonfmt import to_jsonable

    extra = ("chain_quantity", "chain_status") if checks is not None else ()
    writer = csv.writer(sys.stdout)
    writer.writerow([*REGISTER_COLUMNS, *extra])
    for index, row in enumerate(to_jsonable(rows)):
        check = ([checks[index]["chain_quantity"], checks[index]["status"]]
                 if checks is not None else [])
        writer.writerow([row[c] for c in REGISTER_COLUMNS] + check)


def _render_register(data: dict) -> None:
    info(f"{data['symbol']} as of {data['as_of'].isoformat()}: {data['holder_count']} holders,"
         f" {data['total_held']} tokens held")
    checks = {c["email"]: c for c in data.get("chain", [])}
    columns = REGISTER_COLUMNS + (("chain_quantity", "status") if checks else ())
    table("holders", columns, [[h[c] for c in REGISTER_COLUMNS]
                               + ([checks[h["email"]]["chain_quantity"], checks[h["email"]]["status"]]
                                  if checks else []) for h in data["holders"]])
