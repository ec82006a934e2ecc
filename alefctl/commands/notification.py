"""`alefctl notification`: your inbox (your own notifications and your role's) and the webhook
deliverer cron runs."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    command_errors,
    emit,
    emit_list,
    info,
    job_result,
    requires,
    state,
)
from alefctl.commands.refs import resolved_all

app = typer.Typer(help="Notifications: your inbox, marking read, webhook deliveries.",
                  no_args_is_help=True)
COLUMNS = ("id", "kind", "subject", "created_at", "read")


@app.command("list")
@command_errors
@requires("notification.read")
def list_(unread: Annotated[bool, typer.Option(help="Only the unread.")] = False,
          limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 50,
          as_json: JsonOption = False) -> None:
    """Your notifications and your role's: unread first, then newest first."""
    from alefctl.workflows.account.pages import PageQuery
    from alefctl.workflows.notifications import list_notifications

    with state.transaction() as (conn, actor):
        page = list_notifications(conn, actor, PageQuery(limit), unread_only=unread)
    emit_list("notifications", COLUMNS, page.items, as_json)


@app.command("read")
@command_errors
@requires("notification.read")
def read(ids: Annotated[list[str] | None, typer.Argument(help="Notification ids.")] = None,
         all_: Annotated[bool, typer.Option("--all", help="Mark every one read.")] = False,
         as_json: JsonOption = False) -> None:
    """Mark notifications read (for you; a role's stays unread for the others)."""
    from alefctl.workflows.notifications import mark_read

    with state.transaction() as (conn, actor):
        result = mark_read(conn, actor, resolved_all("notification", ids or []), all_)
    emit(result, as_json, lambda: info(f"{result['marked']} marked read;"
                                       f" {result['unread']} unread"))


@app.command("deliver-webhooks")
@command_errors
@requires("webhook.deliver")
def deliver_webhooks(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Deliver due webhooks from the outbox (cron; a running `alefctl serve` does it too;
    safe to run twice at once: a subscription is served by one runner at a time)."""
    from alefctl.pii import load_cipher
    from alefctl.workflows.webhooks.delivery import deliver_due

    settings = state.settings()
    report = deliver_due(state.engine(), settings.webhooks, load_cipher(settings))
    job_result(report.to_dict(), as_json=as_json, quiet=quiet, problems=report.problems(),
               render=lambda: info(f"{report.delivered} delivered, {report.failed} failed"))
