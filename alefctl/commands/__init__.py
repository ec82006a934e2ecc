"""Command groups, registered in one place."""

from __future__ import annotations

import typer

from alefctl.commands import config, db, demo, user, wallet


def register(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    app.add_typer(db.app, name="db")
    app.add_typer(config.app, name="config")
    app.add_typer(user.app, name="user")
    app.add_typer(wallet.app, name="wallet")
    app.command("demo")(demo.demo)
