"""Command groups, registered in one place."""

from __future__ import annotations

import typer

from alefctl.commands import (
    allocation,
    approvals,
    audit,
    auth,
    business,
    chain,
    config,
    console,
    db,
    demo,
    holder,
    kyc,
    notification,
    offering,
    order,
    otc,
    serve,
    surveillance,
    token,
    user,
    wallet,
    withdrawal,
    worker,
)
from alefctl.commands.check import check as check_command
from alefctl.commands.dividend import app as dividend_app
from alefctl.commands.reconcile import reconcile as reconcile_command
from alefctl.commands.settlement import app as settlement_app


def register(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    app.command("login")(auth.login)
    app.command("logout")(auth.logout)
    app.command("whoami")(auth.whoami)
    app.add_typer(db.app, name="db")
    app.add_typer(config.app, name="config")
    app.add_typer(user.app, name="user")
    app.add_typer(wallet.app, name="wallet")
    app.add_typer(withdrawal.app, name="withdrawal")
    app.add_typer(approvals.app, name="approvals")
    app.add_typer(kyc.app, name="kyc")
    app.add_typer(business.app, name="business")
    app.add_typer(token.app, name="token")
    app.add_typer(allocation.app, name="allocation")
    app.add_typer(offering.app, name="offering")
    app.add_typer(chain.app, name="chain")
    app.add_typer(holder.app, name="holder")
    app.add_typer(order.app, name="order")
    app.add_typer(otc.app, name="otc")
    app.add_typer(surveillance.app, name="surveillance")
    app.add_typer(notification.app, name="notification")
    app.command("demo")(demo.demo)
    app.command("serve")(serve.serve)
    app.command("worker")(worker.worker)
    app.add_typer(dividend_app, name="dividend")
    app.command("check")(check_command)
    app.command("console")(console.console)
    app.add_typer(settlement_app, name="settlement")
    app.command("reconcile")(reconcile_command)
    app.add_typer(audit.app, name="audit")
