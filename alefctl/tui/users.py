"""Users (admins): every account with its role, activation, KYC and FATCA status; activate,
deactivate, set FATCA, revoke an approved KYC, give the highlighted user rate limits of their
own."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.errors import InvalidInput
from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, Field, FormModal, TextModal
from alefctl.tui.widgets import fill_table, selected_key
from alefctl.workflows.eligibility import Withdrawn, deactivate_user, revoke_kyc, set_fatca_status
from alefctl.workflows.rate_limits import UserLimits, set_user_limits, user_limits
from alefctl.workflows.users import User, list_users, set_activation


class UsersScreen(ConsoleScreen):
    """Users in creation order; keys act on the highlighted one."""

    MODE = "users"
    READ_ACTION = "user.list"
    KEY_ACTIONS = {"activate": "user.activate", "deactivate": "user.activate",
                   "fatca": "user.fatca", "revoke_kyc": "kyc.revoke",
                   "rate_limit": "user.rate_limit"}
    BINDINGS = [Binding("a", "activate", "Activate"), Binding("d", "deactivate", "Deactivate"),
                Binding("f", "fatca", "FATCA"), Binding("v", "revoke_kyc", "Revoke KYC"),
                Binding("l", "rate_limit", "Rate limits")]

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, User] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Users", id="users-title", classes="title")
        table: DataTable[Any] = DataTable(id="users-table", cursor_type="row")
        table.add_columns("email", "name", "role", "active", "KYC", "level", "FATCA", "country",
                          "created")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.read, list_users, done=self.show_users, group="load",
                      exclusive=True)

    def show_users(self, users: list[User]) -> None:
        """Fill the table (system accounts are listed too, and refuse changes)."""
        self.users = {u.email: u for u in users}
        inactive = sum(1 for u in users if not u.is_activated)
        self.query_one("#users-title", Static).update(
            f"Users · {len(users)} · {inactive} deactivated")
        fill_table(self.query_one("#users-table", DataTable), (
            (u.email, (u.email, u.full_name, "system" if u.is_system else u.role,
                       "yes" if u.is_activated else "no", u.kyc_status, u.kyc_level,
                       u.fatca_status, u.country, u.created_at))
            for u in users))

    def _selected(self) -> User | None:
        email = selected_key(self.query_one("#users-table", DataTable))
        user = self.users.get(email) if email else None
        if user is None:
            self.notify("No user is highlighted.")
        return user

    def action_activate(self) -> None:
        user = self._selected()
        if user:
            self.run_call(self.services.call, set_activation, user.email, True,
                          done=lambda _r: self.reload(), success=lambda r: f"{r[0].email}"
                          f" {'activated' if r[1] else 'was already activated'}")

    def action_deactivate(self) -> None:
        user = self._selected()
        if user:
            self.confirm_then(ConfirmModal(f"Deactivate {user.email}? They can no longer act on"
                                           " the platform; their open orders are cancelled.",
                                           "Deactivate"),
                              lambda _yes: self.run_call(
                                  self.services.on_engine, deactivate_user, user.email,
                                  done=lambda _r: self.reload(),
                                  success=lambda r: _withdrawn(r, "deactivated")))

    def action_fatca(self) -> None:
        user = self._selected()
        if not user:
            return

        def submit(answers: dict[str, str]) -> Withdrawn:
            return self.services.on_engine(set_fatca_status, user.email, answers["status"],
                                           answers["reason"])

        self.confirm_then(FormModal(
            f"{user.email}'s FATCA status (now {user.fatca_status}); blocked cancels their open"
            " orders.", [Field("status", "status", user.fatca_status, "clear or blocked"),
                         Field("reason", "reason (kept in the audit log)", "", "required")],
            submit, "Set FATCA"), lambda r: self._done(_withdrawn(r, f"FATCA {r.user.fatca_status}")))

    def action_revoke_kyc(self) -> None:
        user = self._selected()
        if not user:
            return
        if user.kyc_status != "approved":
            self.notify(f"{user.email} has no approved KYC to revoke (it is {user.kyc_status}).",
                        title="Not now")
            return
        self.confirm_then(TextModal(f"Revoke {user.email}'s approved KYC (they may resubmit; their"
                                    " open orders are cancelled): the reason",
                                    confirm_label="Revoke KYC"),
                          lambda reason: self.run_call(
                              self.services.on_engine, revoke_kyc, user.email, reason,
                              done=lambda _r: self.reload(),
                              success=lambda r: _withdrawn(r, "KYC revoked")))

    def action_rate_limit(self) -> None:
        user = self._selected()
        if user:
            self.run_call(self.services.call, user_limits, user.email, self.services.rate_limits,
                          done=self._rate_form, group="form-load", exclusive=True)

    def _rate_form(self, limits: UserLimits) -> None:
        defaults = self.services.rate_limits
        shown = {"orders": limits.orders_per_s, "reads": limits.reads_per_s}
        fields = [Field("orders", f"order requests a second ({limits.orders_source})",
                        str(shown["orders"]), f"default {defaults.orders_per_s}"),
                  Field("reads", f"other requests a second ({limits.reads_source})",
                        str(shown["reads"]), f"default {defaults.reads_per_s}")]

        def submit(answers: dict[str, str]) -> tuple[UserLimits, bool]:
            rates = {name: _rate(value, name) for name, value in answers.items()}
            changed = {name: rate for name, rate in rates.items() if rate != shown[name]}
            if all(rate is None for rate in rates.values()):
                return self.services.call(set_user_limits, limits.email, defaults, reset=True)
            return self.services.call(set_user_limits, limits.email, defaults,
                                      orders_per_s=changed.get("orders"),
                                      reads_per_s=changed.get("reads"))

        self.confirm_then(FormModal(
            f"{limits.email}'s rate limits (both lines blank: back to the defaults of the"
            " settings).", fields, submit, "Save rates"),
            lambda r: self._done(f"{r[0].email}: {r[0].orders_per_s} order requests/s"
                                 f" ({r[0].orders_source}), {r[0].reads_per_s} other requests/s"
                                 f" ({r[0].reads_source})" + ("" if r[1] else ", unchanged")))

    def _done(self, message: str) -> None:
        self.notify(message, title="Done")
        self.reload()


def _rate(value: str, name: str) -> int | None:
    """A rate as typed: a whole number, or None for a blank line."""
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"{name} must be a whole number of requests a second (got {value!r})",
                           field=name)
    return int(value)


def _withdrawn(done: Withdrawn, did: str) -> str:
    """What a change of eligibility did, and how many open orders it cancelled."""
    message = f"{done.user.email} {did if done.changed else 'unchanged'}"
    if done.cancelled_orders:
        message += f"; {len(done.cancelled_orders)} open orders cancelled"
    return message
