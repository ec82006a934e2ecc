"""`alefctl token`: create, deploy, offer, go live, and the rest of a token's life."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    emit_list,
    emit_object,
    fields,
    info,
    job_result,
    parse_time,
    requires,
    state,
    table,
)
from alefctl.commands.holder import FromOpt, ReasonOpt, needs_second_admin
from alefctl.commands.refs import resolved, resolved_all

app = typer.Typer(help="Tokens: create, deploy, offering, secondary trading, lifecycle.",
                  no_args_is_help=True)
TokenArg = Annotated[str, typer.Argument(help="Token symbol, id or id prefix.")]
LIST_COLUMNS = ("symbol", "name", "status", "trading_mode", "total_supply", "tokens_sold",
                "total_raised", "price_per_token", "contract_address")


@app.command("create")
@command_errors
@requires("token.create")
def create(
    business: Annotated[str, typer.Option(help="Business id, id prefix or company name (must be active).")],
    name: Annotated[str, typer.Option("--name", help="Token name.")],
    symbol: Annotated[str, typer.Option(help="Upper-case symbol, at most 10 characters.")],
    supply: Annotated[str, typer.Option(help="Total supply in whole tokens.")],
    price: Annotated[str, typer.Option(help="Primary price per token, USD.")],
    primary_pct: Annotated[str | None, typer.Option(
        help="% of supply offered in the primary; default: what team, reserve and the"
             " platform's allocation leave.")] = None,
    team_pct: Annotated[str, typer.Option(help="% of supply for the team.")] = "0",
    reserve_pct: Annotated[str, typer.Option(help="% of supply held in reserve.")] = "0",
    min_investment: Annotated[str, typer.Option(help="Minimum subscription, tokens.")] = "1",
    currency: Annotated[str, typer.Option(help="Raise currency: USD or USDC.")] = "USD",
    tick_size: Annotated[str, typer.Option(help="Price tick, USD.")] = "0.01",
    decimals: Annotated[str, typer.Option(help="On-chain decimals.")] = "18",
    maturity: Annotated[str | None, typer.Option(help="Maturity date (ISO-8601).")] = None,
    soft_cap: Annotated[str | None, typer.Option(
        help="Least the offering must raise, USD; below it, it fails and refunds.")] = None,
    max_investment: Annotated[str | None, typer.Option(
        help="Most tokens one investor may subscribe, all subscriptions together.")] = None,
    lockup_until: Annotated[str | None, typer.Option(
        help="Team and reserve tokens cannot be sold or withdrawn before (ISO-8601).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a draft token for an active business (its issuer). Its trade fee is the platform's,
    trading.default_fee_bps: an issuer does not set it."""
    from alefctl.workflows.tokens import NewToken, create_token

    form = NewToken(resolved("business", business), name, symbol, supply, price, primary_pct,
                    team_pct, reserve_pct, min_investment, currency, tick_size, decimals,
                    parse_time(maturity, "maturity"), soft_cap, max_investment,
                    parse_time(lockup_until, "lockup_until"))
    with state.transaction() as (conn, actor):
        token = create_token(conn, actor, form, state.settings().trading.default_fee_bps)
    emit(token.to_dict(), as_json, lambda: info(f"token {token.symbol} created (draft)"))


@app.command("list")
@command_errors
@requires("token.read")
def list_(status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
          as_json: JsonOption = False) -> None:
    """List tokens with status and trading mode."""
    from alefctl.workflows.tokens import list_tokens

    with state.transaction() as (conn, _actor):
        tokens = list_tokens(conn, status)
    emit_list("tokens", LIST_COLUMNS, tokens, as_json)


@app.command("show")
@command_errors
@requires("token.read")
def show(token: TokenArg, as_json: JsonOption = False) -> None:
    """Show a token: supply, sold, raised, contract addresses, its halt and protections,
    compliance rules, and its chain jobs not done yet (status and compliance changes on their
    way on-chain)."""
    from alefctl.workflows.compliance import get_rules
    from alefctl.workflows.onchain.token_state import open_jobs
    from alefctl.workflows.protections import ProtectionDefaults, protections_of
    from alefctl.workflows.tokens import get_token

    token_id = resolved("token", token)
    defaults = ProtectionDefaults.from_settings(state.settings().protections)
    with state.transaction() as (conn, _actor):
        found = get_token(conn, token_id)
        data = {**found.to_dict(), "protections": protections_of(found, defaults),
                "compliance": get_rules(conn, found.id).to_dict(),
                "chain_jobs": open_jobs(conn, found.id)}
    emit_object(found.symbol, data, as_json)


@app.command("compliance")
@command_errors
@requires("token.compliance")
def compliance(
    token: TokenArg,
    deny_country: Annotated[list[str] | None, typer.Option(
        help="Refuse investors of this country (ISO 3166, e.g. US); repeatable.")] = None,
    allow_country: Annotated[list[str] | None, typer.Option(
        help="Lift a country's denial; repeatable.")] = None,
    max_balance: Annotated[str | None, typer.Option(
        help="Most tokens one investor may hold (0: no limit).")] = None,
    max_holders: Annotated[str | None, typer.Option(
        help="Most investors holding the token (0: no limit).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Set a token's compliance rules (admin): checked before orders and subscriptions, and
    enforced on-chain by a chain job (`alefctl chain work`, or `alefctl serve`). Without options,
    shows them."""
    from alefctl.workflows.compliance import get_rules, set_rules
    from alefctl.workflows.tokens import get_token

    token_id = resolved("token", token)
    changes = (deny_country, allow_country, max_balance, max_holders)
    with state.transaction() as (conn, actor):
        if all(change is None for change in changes):
            rules = get_rules(conn, get_token(conn, token_id).id)
        else:
            rules = set_rules(conn, actor, token_id, deny=deny_country or (),
                              allow=allow_country or (), max_balance=max_balance,
                              max_holders=max_holders)
    emit_object(f"{token} compliance", rules, as_json)


@app.command("deploy")
@command_errors
@requires("token.deploy")
def deploy(token: TokenArg, as_json: JsonOption = False) -> None:
    """Deploy the token's ERC-3643 suite (5 transactions); resumes after a failure (admin)."""
    from alefctl.chain_access import open_chain
    from alefctl.workflows.onchain.deploy import deploy_token

    actor = state.actor()
    info(f"deploying {token}: IdentityRegistry, Compliance, SecurityToken, 2 agent grants")
    with open_chain(state.settings()) as client:
        result = deploy_token(state.engine(), actor, resolved("token", token), client)

    def render() -> None:
        if result["already_deployed"]:
            info(f"{token} was already deployed at {result['token']['contract_address']}")
            return
        table(f"{token} deployed", ("step", "tx_hash", "gas_used"),
              [[s["step"], s["tx_hash"], s["gas_used"]] for s in result["steps"]])
        info(f"token {result['token']['contract_address']}, total gas {result['total_gas_used']}")

    emit(result, as_json, render)


@app.command("start-offering")
@command_errors
@requires("token.lifecycle")
def start_offering(
    token: TokenArg,
    starts_at: Annotated[str | None, typer.Option(help="ISO-8601; default now.")] = None,
    ends_at: Annotated[str | None, typer.Option(help="ISO-8601; default 30 days on.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Open the primary offering of a deployed token (admin)."""
    from alefctl.workflows.lifecycle import start_offering as start

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        moved = start(conn, actor, token_id, parse_time(starts_at, "starts_at"),
                      parse_time(ends_at, "ends_at"))
    emit(moved.to_dict(), as_json, lambda: info(
        f"{moved.symbol} offering open until {moved.primary_end.isoformat() if moved.primary_end else '?'}"))


@app.command("subscribe")
@command_errors
@requires("token.subscribe")
def subscribe(token: TokenArg, quantity: Annotated[str, typer.Option(help="Tokens to buy.")],
              as_json: JsonOption = False) -> None:
    """Subscribe to a primary offering (investor; use --as)."""
    from alefctl.workflows.offering import subscribe as subscribe_tokens
    from alefctl.workflows.trading.funds import NotionalLimits

    token_id = resolved("token", token)
    limits = NotionalLimits.from_settings(state.settings().trading)
    with state.transaction() as (conn, actor):
        allocation = subscribe_tokens(conn, actor, token_id, quantity, limits=limits)
    emit(allocation.to_dict(), as_json, lambda: info(
        f"subscribed {allocation.quantity} {allocation.symbol} for {allocation.amount} USD;"
        " awaiting payment confirmation"))


@app.command("confirm-payment")
@command_errors
@requires("offering.confirm_payment")
def confirm_payment(
    token: TokenArg,
    allocation: Annotated[list[str] | None, typer.Option(
        help="Only these allocation ids or id prefixes (repeatable); default: all pending.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Confirm pending allocations: tokens credited, mints queued (admin)."""
    from alefctl.workflows.offering import confirm_payments

    token_id = resolved("token", token)
    allocation_ids = None if allocation is None else resolved_all("allocation", allocation)
    with state.transaction() as (conn, actor):
        confirmed = confirm_payments(conn, actor, token_id, allocation_ids)
    emit([a.to_dict() for a in confirmed], as_json,
         lambda: info(f"confirmed {len(confirmed)} allocations"
                      f" ({sum(a.quantity for a in confirmed)} tokens); mints queued"))


@app.command("enable-secondary")
@command_errors
@requires("token.lifecycle")
def enable_secondary(token: TokenArg, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Go live: order book trading, treasury allocation, proceeds paid out (admin)."""
    from alefctl.workflows.lifecycle import enable_secondary as go_live

    token_id = resolved("token", token)
    confirm(f"Enable secondary trading of {token} and pay out its escrow?", yes)
    with state.transaction() as (conn, actor):
        result = go_live(conn, actor, token_id, state.settings().trading.success_fee_pct)
    emit(result, as_json, lambda: info(
        f"{token} is trading; treasury allocation {result['treasury_allocation']} tokens,"
        f" success fee {result['success_fee']} USD, issuer proceeds {result['issuer_proceeds']} USD"))


@app.command("trading-mode")
@command_errors
@requires("token.trading_mode")
def trading_mode(token: TokenArg,
                 mode: Annotated[str, typer.Option(help="full_orderbook or fixed_price_otc.")],
                 otc_price: Annotated[str | None, typer.Option(help="OTC price, USD.")] = None,
                 as_json: JsonOption = False) -> None:
    """Switch a trading token between the order book and fixed-price OTC (admin)."""
    from alefctl.workflows.otc import set_trading_mode

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        updated = set_trading_mode(conn, actor, token_id, mode, otc_price)
    emit(updated, as_json, lambda: info(f"{updated['symbol']} trades in {updated['trading_mode']}"))


@app.command("set-nav")
@command_errors
@requires("token.set_nav")
def set_nav(token: TokenArg, nav: Annotated[str, typer.Option(help="NAV per token, USD.")],
            as_of: Annotated[str | None, typer.Option(help="ISO-8601; default now.")] = None,
            as_json: JsonOption = False) -> None:
    """Record the net asset value per token (admin or issuer)."""
    from alefctl.workflows.tokens import set_nav as record_nav

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        updated = record_nav(conn, actor, token_id, nav, parse_time(as_of, "as_of"))
    emit(updated.to_dict(), as_json, lambda: info(f"{updated.symbol} NAV {updated.nav_per_token}"))


@app.command("session-end")
@command_errors
@requires("token.session_end")
def session_end(token: TokenArg,
                at: Annotated[str, typer.Argument(help="HH:MM in UTC, or default.")],
                as_json: JsonOption = False) -> None:
    """Set when the token's DAY orders expire (admin): new DAY orders from now on."""
    from alefctl.workflows.trading.lifetime import parse_session_end, set_session_end

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        changed = set_session_end(conn, actor, token_id, parse_session_end(at))
    emit(changed, as_json, lambda: info(f"{changed['symbol']} DAY orders expire at"
                                        f" {changed['session_end'] or 'the default'} UTC"))


def _status_command(action: str, destructive: bool, doc: str) -> None:
    def run(token: TokenArg, yes: YesOption = False, as_json: JsonOption = False) -> None:
        from alefctl.workflows.lifecycle import change_status, retire
        from alefctl.workflows.trading.funds import NotionalLimits

        token_id = resolved("token", token)
        if destructive:
            confirm(f"{action.capitalize()} {token}? Its open orders are cancelled; this cannot"
                    " be undone.", yes)
            limits = NotionalLimits.from_settings(state.settings().trading)
            moved = retire(state.engine(), state.actor(), token_id, action, limits)
        else:
            with state.transaction() as (conn, actor):
                moved = change_status(conn, actor, token_id, action)
        emit(moved.to_dict(), as_json, lambda: info(f"{moved.symbol} is {moved.status}"))

    run.__doc__ = doc
    app.command(action)(command_errors(requires("token.lifecycle")(run)))


_status_command("pause", False, "Pause trading of a token (admin); a chain job pauses it on-chain.")


@app.command("resume")
@command_errors
@requires("token.lifecycle")
def resume(token: TokenArg,
           reason: Annotated[str | None, typer.Option(help="Why it may trade again (required"
                                                       " to lift a halt).")] = None,
           as_json: JsonOption = False) -> None:
    """Let a token trade again: lift its halt (with --reason) and resume it if paused (admin;
    a chain job unpauses it on-chain)."""
    from alefctl.workflows.halts import resume_trading

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        resumed = resume_trading(conn, actor, token_id, reason)
    emit(resumed, as_json, lambda: info(f"{resumed['symbol']} is {resumed['status']}, not halted"))


@app.command("halt")
@command_errors
@requires("token.halt")
def halt(token: TokenArg, reason: Annotated[str, typer.Option(help="Why trading stops.")],
         until: Annotated[str | None, typer.Option(help="ISO-8601 time the halt ends by itself;"
                                                   " default: until `token resume`.")] = None,
         as_json: JsonOption = False) -> None:
    """Halt trading of a token: new orders are refused (409 token_halted), cancels work (admin)."""
    from alefctl.workflows.halts import halt_token

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        halted = halt_token(conn, actor, token_id, reason, parse_time(until, "until"))
    ends = halted["halt"]["until"] or "an admin resumes it"
    emit(halted, as_json, lambda: info(f"{halted['symbol']} is halted until {ends}"))


@app.command("protections")
@command_errors
@requires("token.protections")
def protections(
    token: TokenArg,
    breaker_pct: Annotated[str | None, typer.Option(help="Circuit breaker: the move, in %, that"
                                                    " halts the token (0: off).")] = None,
    breaker_window: Annotated[int | None, typer.Option(help="Circuit breaker: its window,"
                                                       " seconds.")] = None,
    halt_seconds: Annotated[int | None, typer.Option(help="Circuit breaker: how long a trip"
                                                     " halts the token, seconds.")] = None,
    fat_finger_pct: Annotated[str | None, typer.Option(help="A price this % from the last trade"
                                                       " needs confirming (0: off).")] = None,
    nav_pct: Annotated[str | None, typer.Option(help="A price this % from the NAV needs"
                                                " confirming (0: off).")] = None,
    reset: Annotated[bool, typer.Option(help="Back to the platform's defaults first.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a token's protection thresholds, or set its own (admin); the rest follow settings."""
    from alefctl.workflows.protections import ProtectionDefaults, set_protections

    given = {"breaker_move_pct": breaker_pct, "breaker_window_s": breaker_window,
             "breaker_halt_s": halt_seconds, "fat_finger_pct": fat_finger_pct,
             "nav_deviation_pct": nav_pct}
    changes = {name: value for name, value in given.items() if value is not None}
    defaults = ProtectionDefaults.from_settings(state.settings().protections)
    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        shown = set_protections(conn, actor, token_id, changes, defaults, reset=reset)
    emit(shown, as_json, lambda: fields(f"{shown['symbol']} protections", shown))


_status_command("mature", True, "Mark a token matured (admin); a chain job pauses it on-chain.")
_status_command("delist", True, "Delist a token (admin); a chain job pauses it on-chain.")


@app.command("mature-due")
@command_errors
@requires("token.mature_due")
def mature_due(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Mature every token past its maturity date (for cron; safe to run twice at once)."""
    from alefctl.workflows.lifecycle import mature_due as mature_all
    from alefctl.workflows.trading.funds import NotionalLimits

    limits = NotionalLimits.from_settings(state.settings().trading)
    matured = mature_all(state.engine(), state.actor(), limits)
    job_result([t.symbol for t in matured], as_json=as_json, quiet=quiet, problems=[],
               render=lambda: info(f"matured {len(matured)} tokens" + (
                   f": {', '.join(t.symbol for t in matured)}" if matured else "")))


@app.command("burn")
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


@app.command("redeem")
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


@app.command("redemption")
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


@app.command("holders")
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


@app.command("cap-table")
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
