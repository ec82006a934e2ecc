"""`alefctl wallet`: fiat (USD) and stablecoin (USDC) deposits and withdrawals, and a user's
balances."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    fields,
    info,
    requires,
    state,
    stdout,
    table,
)
from alefctl.commands.refs import resolved

if TYPE_CHECKING:
    from alefctl.workflows.approvals import ApprovalRequest

app = typer.Typer(help="Fiat and stablecoin money in and out, and balances.", no_args_is_help=True)

UserOpt = Annotated[str, typer.Option("--user", help="User id, id prefix or email.")]
AmountOpt = Annotated[str, typer.Option("--amount", help="Amount, e.g. 1000.00.")]
CurrencyOpt = Annotated[str, typer.Option(
    "--currency", help="USD (fiat balance) or USDC (stablecoin balance).")]
ReferenceOpt = Annotated[str | None, typer.Option(help="Bank reference or note.")]


@app.command("deposit")
@command_errors
@requires("wallet.deposit")
def deposit(user: UserOpt, amount: AmountOpt, reference: ReferenceOpt = None,
            currency: CurrencyOpt = "USD", as_json: JsonOption = False) -> None:
    """Credit a user's USD or USDC balance with money received (admin). At or above
    approvals.money_threshold_usd (USDC counts 1:1) it is a request that another admin
    approves."""
    from alefctl.workflows.wallet import Movement, submit_deposit

    threshold = state.settings().approvals.money_threshold_usd
    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        outcome = submit_deposit(conn, actor, user_id, amount, reference, threshold=threshold,
                                 currency=currency)
    if not isinstance(outcome, Movement):
        _needs_second_admin(outcome, as_json)
        return
    emit(outcome.to_dict(), as_json, lambda: info(
        f"deposited {outcome.amount} {outcome.currency} to {outcome.email};"
        f" {outcome.currency} balance {outcome.balance_after}"))


@app.command("withdraw")
@command_errors
@requires("wallet.withdraw")
def withdraw(user: UserOpt, amount: AmountOpt, reference: ReferenceOpt = None,
             currency: CurrencyOpt = "USD", yes: YesOption = False,
             as_json: JsonOption = False) -> None:
    """Pay money out of a user's USD or USDC balance (admin); never beyond its free balance
    (USD: less sale proceeds not settled on-chain). At or above approvals.money_threshold_usd
    (USDC counts 1:1) it is a request that another admin approves."""
    from alefctl.workflows.wallet import Movement, submit_withdrawal

    from alefctl.money import parse_currency

    user_id, code = resolved("user", user), parse_currency(currency)
    confirm(f"Withdraw {amount} {code} from {user}?", yes)
    threshold = state.settings().approvals.money_threshold_usd
    with state.transaction() as (conn, actor):
        outcome = submit_withdrawal(conn, actor, user_id, amount, reference, threshold=threshold,
                                    currency=code)
    if not isinstance(outcome, Movement):
        _needs_second_admin(outcome, as_json)
        return
    emit(outcome.to_dict(), as_json, lambda: info(
        f"withdrew {outcome.amount} {outcome.currency} from {outcome.email};"
        f" {outcome.currency} balance {outcome.balance_after}"))


def _needs_second_admin(request: ApprovalRequest, as_json: bool) -> None:
    """Nothing moved: say who must act next; the request id is the data (stdout)."""
    def render() -> None:
        stdout.print(str(request.id), highlight=False)
        info(f"{request.summary}: at or above the four-eyes threshold, so nothing moved yet;"
             f" it needs a second admin: alefctl approvals approve {request.id}")

    emit(request.to_dict(), as_json, render)


@app.command("show")
@command_errors
@requires("wallet.show")
def show(user: UserOpt, as_json: JsonOption = False) -> None:
    """Show a user's fiat, stablecoin and token balances and recent movements."""
    from alefctl.workflows.wallet import show_wallet

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        view = show_wallet(conn, actor, user_id)

    def render() -> None:
        fields(view.email, {"fiat_balance": view.fiat_balance,
                            "fiat_locked_in_orders": view.fiat_locked_in_orders})
        if view.tokens:
            table("tokens", ("symbol", "balance", "locked_balance"),
                  [list(t.values()) for t in view.tokens])
        if view.stablecoins:
            table("stablecoins", ("currency", "balance", "locked"),
                  [list(s.values()) for s in view.stablecoins])
        columns = ("created_at", "type", "currency", "amount", "balance_after", "status")
        table("recent movements", columns,
              [[t[c] for c in columns] for t in view.recent_transactions])

    emit(view.to_dict(), as_json, render)
