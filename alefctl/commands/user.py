"""`alefctl user`: platform users and their API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    emit_list,
    emit_object,
    fields,
    info,
    requires,
    state,
    table,
)
from alefctl.commands.refs import resolved

if TYPE_CHECKING:
    from alefctl.workflows.eligibility import Withdrawn

app = typer.Typer(help="Users: create, list, show, activate, deactivate, FATCA, rate limits; API keys.",
                  no_args_is_help=True)
keys_app = typer.Typer(help="API keys for the HTTP API (stored hashed, shown once).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="api-key")

UserArg = Annotated[str, typer.Argument(help="User id, id prefix or email.")]
LIST_COLUMNS = ("email", "role", "kyc_status", "is_activated", "wallet_address", "fiat_balance")


@app.command("create")
@command_errors
@requires("user.create")
def create(
    email: Annotated[str, typer.Option(help="Login email (unique).")],
    name: Annotated[str, typer.Option("--name", help="Full legal name.")],
    role: Annotated[str, typer.Option(
        help="investor, issuer, admin, kyc_reviewer or operator (cron and services).")] = "investor",
    wallet: Annotated[str | None, typer.Option(help="EVM wallet address (0x...).")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code of residence.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user (admin)."""
    from alefctl.workflows.users import NewUser, create_user

    with state.transaction() as (conn, actor):
        user = create_user(conn, actor, NewUser(email, name, role, wallet, country))
    emit(user.to_dict(), as_json, lambda: info(f"created {user.role} {user.email} ({user.id})"))


@app.command("list")
@command_errors
@requires("user.list")
def list_(
    role: Annotated[str | None, typer.Option(help="Only users of this role.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List users in creation order."""
    from alefctl.workflows.users import list_users

    with state.transaction() as (conn, _actor):
        users = list_users(conn, role=role)
    emit_list("users", LIST_COLUMNS, users, as_json)


@app.command("show")
@command_errors
@requires("user.show")
def show(user: UserArg,
         balances: Annotated[bool, typer.Option(
             "--balances", help="Add fiat (available, locked, held) and stablecoins.")] = False,
         holdings: Annotated[bool, typer.Option(
             "--holdings", help="Add each token held: quantity, locked, on-chain, value.")] = False,
         as_json: JsonOption = False) -> None:
    """Show one user; with --balances and --holdings, what they hold (admin, for support)."""
    from alefctl.workflows.account.overview import support_view

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        view = support_view(conn, actor, user_id, with_balances=balances, with_holdings=holdings)
    emit(view, as_json, lambda: _render_support(view))


def _render_support(view: dict) -> None:
    """The user's fields, then their balances and holdings as tables."""
    found = {k: v for k, v in view.items() if k not in ("balances", "holdings")}
    fields(view["email"], found)
    if "balances" in view:
        fiat = view["balances"]["fiat"]
        table("fiat (USD)", list(fiat), [list(fiat.values())])
        coins = view["balances"]["stablecoins"]
        table("stablecoins", ("currency", "balance", "locked"),
              [[c["currency"], c["balance"], c["locked"]] for c in coins])
    if "holdings" in view:
        columns = ("symbol", "quantity", "locked_in_orders", "on_chain_quantity",
                   "average_cost", "last_price", "market_value")
        table("holdings", columns, [[h[c] for c in columns] for h in view["holdings"]])


@app.command("activate")
@command_errors
@requires("user.activate")
def activate(user: UserArg, as_json: JsonOption = False) -> None:
    """Allow a user to act on the platform again (admin)."""
    _set_activation(user, True, as_json)


@app.command("deactivate")
@command_errors
@requires("user.activate")
def deactivate(user: UserArg, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Stop a user from acting on the platform (admin); their open orders are cancelled."""
    from alefctl.workflows.eligibility import deactivate_user

    confirm(f"Deactivate {user}? Their open orders are cancelled.", yes)
    done = deactivate_user(state.engine(), state.actor(), resolved("user", user))
    _withdrawn(done, "deactivated", "was already deactivated", as_json)


@app.command("fatca")
@command_errors
@requires("user.fatca")
def fatca(user: UserArg,
          status: Annotated[str, typer.Option(help="clear or blocked.")],
          reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
          as_json: JsonOption = False) -> None:
    """Set a user's FATCA status (admin); blocked cancels their open orders."""
    from alefctl.workflows.eligibility import set_fatca_status

    done = set_fatca_status(state.engine(), state.actor(), resolved("user", user), status, reason)
    _withdrawn(done, f"FATCA {done.user.fatca_status}", f"was already FATCA {status}", as_json)


@app.command("rate-limit")
@command_errors
@requires("user.rate_limit")
def rate_limit(
    user: UserArg,
    orders: Annotated[int | None, typer.Option(
        help="Order entry requests per second (place, cancel, amend, OTC).")] = None,
    reads: Annotated[int | None, typer.Option(
        help="Other API requests and WebSocket messages per second.")] = None,
    reset: Annotated[bool, typer.Option(
        "--reset", help="Back to the defaults of the settings (ratelimit.*).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a user's rate limits, or give them rates of their own (admin; audited)."""
    from alefctl.workflows.rate_limits import Limits, set_user_limits, user_limits

    defaults = Limits.from_settings(state.settings().ratelimit)
    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        if orders is None and reads is None and not reset:
            emit_object(user, user_limits(conn, actor, user_id, defaults), as_json)
            return
        limits, changed = set_user_limits(conn, actor, user_id, defaults, orders_per_s=orders,
                                          reads_per_s=reads, reset=reset)
    message = (f"{limits.email}: {limits.orders_per_s} order requests/s ({limits.orders_source}),"
               f" {limits.reads_per_s} other requests/s ({limits.reads_source})")
    emit({**limits.to_dict(), "changed": changed}, as_json,
         lambda: info(message if changed else f"{message}, unchanged"))


def _withdrawn(done: Withdrawn, did: str, already: str, as_json: bool) -> None:
    """Say what a change of eligibility did, and which orders it cancelled."""
    message = f"{done.user.email} {did if done.changed else already}"
    if done.cancelled_orders:
        message += f"; {len(done.cancelled_orders)} open orders cancelled"
    emit(done.to_dict(), as_json, lambda: info(message))


def _set_activation(user: str, activated: bool, as_json: bool) -> None:
    from alefctl.workflows.users import set_activation

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        updated, changed = set_activation(conn, actor, user_id, activated)
    word = "activated" if activated else "deactivated"
    message = f"{updated.email} {word}" if changed else f"{updated.email} was already {word}"
    emit({**updated.to_dict(), "changed": changed}, as_json, lambda: info(message))


@keys_app.command("create")
@command_errors
@requires("api_key.manage")
def key_create(
    user: UserArg,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "default",
    as_json: JsonOption = False,
) -> None:
    """Create an API key; the secret is printed once and never stored."""
    from alefctl.workflows.api_keys import create_api_key

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        key, secret = create_api_key(conn, actor, user_id, name)

    def render() -> None:
        info(f"API key {key.key_prefix}… created for {user}; store it now, it is not shown again:")
        typer.echo(secret)

    emit({**key.to_dict(), "secret": secret}, as_json, render)


@keys_app.command("revoke")
@command_errors
@requires("api_key.manage")
def key_revoke(
    key: Annotated[str, typer.Argument(help="Key id, id prefix or key prefix (alef_...).")],
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key at once."""
    from alefctl.workflows.api_keys import revoke_api_key

    key_id = resolved("api key", key)
    confirm(f"Revoke API key {key}?", yes)
    with state.transaction() as (conn, actor):
        revoked, changed = revoke_api_key(conn, actor, key_id)
    message = f"revoked {revoked.key_prefix}" if changed else f"{revoked.key_prefix} was already revoked"
    emit({**revoked.to_dict(), "changed": changed}, as_json, lambda: info(message))


@keys_app.command("list")
@command_errors
@requires("api_key.manage")
def key_list(user: UserArg, as_json: JsonOption = False) -> None:
    """List a user's API keys (prefixes only)."""
    from alefctl.workflows.api_keys import list_api_keys

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        keys = list_api_keys(conn, actor, user_id)
    emit_list("API keys", ("key_prefix", "name", "created_at", "revoked_at"), keys, as_json)
