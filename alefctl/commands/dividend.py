"""`alefctl dividend`: declare, submit, approve, distribute, cancel, list and show dividends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    fields,
    info,
    job_result,
    parse_time,
    requires,
    state,
    stderr,
    table,
)
from alefctl.commands.refs import resolved, resolved_opt
from alefctl.errors import InvalidInput

if TYPE_CHECKING:
    from alefctl.workflows.dividends.declaration import Dividend

app = typer.Typer(help="Dividends: declare, submit, approve, distribute, cancel.",
                  no_args_is_help=True)
DividendArg = Annotated[str, typer.Argument(help="Dividend id or id prefix.")]
LIST_COLUMNS = ("id", "symbol", "dividend_type", "status", "per_token_usd", "per_token_qty",
                "holder_count", "paid_count", "failed_count", "total_gross_usd", "total_fee_usd",
                "total_net_usd", "record_date")
PAYMENT_COLUMNS = ("id", "email", "token_balance", "gross_amount", "fee_amount", "net_amount",
                   "token_quantity", "status", "failure_reason", "paid_to_email", "on_chain_status")


@app.command("declare")
@command_errors
@requires("dividend.declare")
def declare(
    token: Annotated[str, typer.Argument(help="Token symbol or id.")],
    dividend_type: Annotated[str, typer.Option("--type", help="fiat, stablecoin or token.")],
    per_token_usd: Annotated[str | None, typer.Option(
        help="USD per token held (fiat, stablecoin); up to 6 decimals.")] = None,
    per_token_qty: Annotated[str | None, typer.Option(
        help="New tokens per token held (token type).")] = None,
    record_date: Annotated[str | None, typer.Option(
        help="ISO-8601; who held then is paid; may be in the future; default now.")] = None,
    payment_date: Annotated[str | None, typer.Option(help="ISO-8601, planned payment.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Declare a draft dividend (the token's issuer). Its holders are those at the record date,
    snapshotted at once if it has passed, else when it does (`dividend snapshot-due`, or a
    running `alefctl serve`). The platform's fee, trading.dividend_fee_pct of each holder's
    gross, applies to fiat and stablecoin dividends: an issuer does not set it. Whether the
    platform treasury's own holding is paid is dividends.treasury_earns, stated on the
    declaration."""
    from alefctl.workflows.dividends.declaration import NewDividend
    from alefctl.workflows.dividends.declaration import declare as declare_dividend

    form = NewDividend(resolved("token", token), dividend_type, per_token_usd, per_token_qty,
                       parse_time(record_date, "record_date"), parse_time(payment_date, "payment_date"))
    settings = state.settings()
    with state.transaction() as (conn, actor):
        dividend = declare_dividend(
            conn, actor, form, fee_pct=settings.trading.dividend_fee_pct,
            treasury_earns=settings.dividends.treasury_earns,
            snapshot_grace=timedelta(seconds=settings.dividends.snapshot_grace_s))
    emit(dividend.to_dict(), as_json, lambda: info(
        f"dividend {dividend.id} declared (draft): {dividend.holder_count} holders, {_amount(dividend)}"
        if dividend.snapshot_taken_at else f"dividend {dividend.id} declared (draft): the holders"
        f" are snapshotted when the record date {dividend.record_date.isoformat()} passes"))


@app.command("submit")
@command_errors
@requires("dividend.submit")
def submit(dividend: DividendArg, as_json: JsonOption = False) -> None:
    """Submit a draft for admin approval (the token's issuer)."""
    from alefctl.workflows.dividends.review import submit as submit_dividend

    _review(submit_dividend, resolved("dividend", dividend), as_json)


@app.command("approve")
@command_errors
@requires("dividend.approve")
def approve(dividend: DividendArg, as_json: JsonOption = False) -> None:
    """Approve a submitted dividend (an admin other than the declarer)."""
    from alefctl.workflows.dividends.review import approve as approve_dividend

    _review(approve_dividend, resolved("dividend", dividend), as_json)


@app.command("cancel")
@command_errors
@requires("dividend.cancel")
def cancel(dividend: DividendArg,
           reason: Annotated[str | None, typer.Option(help="Why it is cancelled.")] = None,
           yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Cancel a dividend before its distribution starts (the token's issuer, or an admin)."""
    from alefctl.workflows.dividends.review import cancel as cancel_dividend

    dividend = resolved("dividend", dividend)
    confirm(f"Cancel dividend {dividend}? This cannot be undone.", yes)
    with state.transaction() as (conn, actor):
        cancelled = cancel_dividend(conn, actor, dividend, reason)
    emit(cancelled.to_dict(), as_json, lambda: info(f"dividend {cancelled.id} cancelled"))


@app.command("distribute")
@command_errors
@requires("dividend.distribute")
def distribute(
    dividend: DividendArg,
    chunk_size: Annotated[int, typer.Option(min=1, help="Payments per transaction.")] = 10_000,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Pay an approved dividend to its holders (admin); safe to re-run after a failure."""
    from alefctl.workflows.dividends.declaration import get_dividend
    from alefctl.workflows.dividends.distribution import distribute as pay_out

    dividend = resolved("dividend", dividend)
    with state.transaction() as (conn, actor):
        current = get_dividend(conn, actor, dividend)
    if current.status == "distributed":
        emit(current.to_dict(), as_json, lambda: info(f"dividend {current.id} is already distributed"))
        return
    confirm(f"Distribute {current.symbol} dividend {current.id}: {_amount(current)} to"
            f" {current.holder_count} holders, debiting the issuer {current.funding_usd} USD?", yes)
    with _progress(current.holder_count) as report:
        paid = pay_out(state.engine(), actor, dividend, chunk_size, report)
    emit(paid.to_dict(), as_json, lambda: info(
        f"dividend {paid.id} distributed to {paid.paid_count} holders" if paid.status == "distributed"
        else f"dividend {paid.id} is still distributing: {paid.pending_count} payments are being paid"
             " by another run; run again to finish"))


@app.command("retry")
@command_errors
@requires("dividend.retry")
def retry(
    dividend: DividendArg,
    payment: Annotated[str | None, typer.Option(help="Only this payment (its id).")] = None,
    to: Annotated[str | None, typer.Option(
        help="Re-route --payment to this active user (email); fiat and stablecoin only. A"
             " request another admin approves (alefctl approvals).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Pay failed payments again (admin): all of the dividend's, or --payment. A recipient
    still refused fails again with the reason: exit 1 if any did. --to asks a second admin to
    re-route that payment to another account (four-eyes); it prints the request."""
    from alefctl.workflows.dividends.failures import request_reroute, retry_failed

    payment = resolved_opt("dividend payment", payment)
    dividend = resolved("dividend", dividend)
    if to is not None:
        if payment is None:
            raise InvalidInput("--to re-routes one payment: name it with --payment", field="to")
        with state.transaction() as (conn, actor):
            pending = request_reroute(conn, actor, dividend, payment, to)
        emit(pending.to_dict(), as_json, lambda: info(
            f"approval request {pending.id}: {pending.summary}; another admin approves it"
            f" (alefctl approvals approve {pending.id})"))
        return
    with state.transaction() as (conn, actor):
        result = retry_failed(conn, actor, dividend, payment)
    emit(result.to_dict(), as_json, lambda: info(
        f"dividend {result.dividend.id}: {result.retried} retried, {result.paid} paid,"
        f" {result.failed} failed again"))
    if result.failed:
        raise typer.Exit(1)


@app.command("snapshot-due")
@command_errors
@requires("dividend.snapshot")
def snapshot_due(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Snapshot the holders of every declared dividend whose record date has passed (cron; a
    running `alefctl serve` does it too; safe to run twice at once)."""
    from alefctl.workflows.dividends.snapshot import take_due_snapshots

    grace = timedelta(seconds=state.settings().dividends.snapshot_grace_s)
    run = take_due_snapshots(state.engine(), state.actor(), grace)
    job_result(run.to_dict(), as_json=as_json, quiet=quiet, problems=[], render=lambda: info(
        f"{len(run.taken)} record-date snapshots taken"
        + "".join(f"\n  dividend {t['dividend_id']}: {t['holder_count']} holders" for t in run.taken)))


@app.command("list")
@command_errors
@requires("dividend.read")
def list_(token: Annotated[str | None, typer.Option(help="Only this token (symbol or id).")] = None,
          status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
          as_json: JsonOption = False) -> None:
    """List dividends, newest first (admins: all; issuers: their tokens')."""
    from alefctl.workflows.dividends.declaration import list_dividends

    token_id = resolved_opt("token", token)
    with state.transaction() as (conn, actor):
        found = list_dividends(conn, actor, token_id, status)
    rows = [[getattr(d, c) for c in LIST_COLUMNS] for d in found]
    emit([d.to_dict() for d in found], as_json, lambda: table("dividends", LIST_COLUMNS, rows))


@app.command("show")
@command_errors
@requires("dividend.read")
def show(dividend: DividendArg,
         payments: Annotated[bool, typer.Option("--payments", help="Include every payment.")] = False,
         as_json: JsonOption = False) -> None:
    """Show a dividend's totals and progress; --payments adds each holder's payment."""
    from alefctl.workflows.dividends.declaration import get_dividend, list_payments

    dividend = resolved("dividend", dividend)
    with state.transaction() as (conn, actor):
        found = get_dividend(conn, actor, dividend)
        rows = list_payments(conn, actor, dividend) if payments else []
    data: dict[str, Any] = found.to_dict()
    if payments:
        data["payments"] = [p.to_dict() for p in rows]

    def render() -> None:
        fields(f"dividend {found.id}", found.to_dict())
        if payments:
            table("payments", PAYMENT_COLUMNS, [[getattr(p, c) for c in PAYMENT_COLUMNS] for p in rows])

    emit(data, as_json, render)


def _review(step: Callable[..., Dividend], dividend: str, as_json: bool) -> None:
    with state.transaction() as (conn, actor):
        moved = step(conn, actor, dividend)
    emit(moved.to_dict(), as_json, lambda: info(f"dividend {moved.id} is {moved.status}"))


def _amount(dividend: Dividend) -> str:
    if dividend.dividend_type == "token":
        return f"{dividend.total_token_qty} {dividend.symbol} tokens"
    currency = "USDC" if dividend.dividend_type == "stablecoin" else "USD"
    return (f"net {dividend.total_net_usd} {currency} + fee {dividend.total_fee_usd} USD"
            f" (remainder {dividend.remainder_usd} kept by the issuer)")


@contextmanager
def _progress(holder_count: int) -> Iterator[Callable[[Any], None]]:
    """A Rich progress bar on a terminal; plain lines on stderr otherwise."""
    if not stderr.is_terminal:
        yield lambda p: info(f"paid {p.paid}/{p.holder_count}")
        return
    from rich.progress import Progress

    with Progress(console=stderr, transient=True) as bar:
        task = bar.add_task("paying holders", total=holder_count)
        yield lambda p: bar.update(task, completed=p.paid)
