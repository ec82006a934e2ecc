"""The lifecycle actions of the token detail screen, each a workflow call in a worker thread."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.widgets import selected_key
from alefctl.workflows.lifecycle import change_status, start_offering
from alefctl.workflows.offering import confirm_payments, reject_allocation
from alefctl.workflows.tokens import set_nav

DEPLOY_POLL_SECONDS = 0.5


class TokenActions(ConsoleScreen):
    """Deploy, offering, payments, go-live, NAV, pause/resume, mature, delist."""

    BINDINGS = [
        Binding("d", "deploy", "Deploy"), Binding("o", "start_offering", "Start offering"),
        Binding("c", "confirm_payments", "Confirm payments"),
        Binding("j", "reject_allocation", "Reject allocation"),
        Binding("s", "enable_secondary", "Go live"), Binding("n", "set_nav", "Set NAV"),
        Binding("p", "status('pause')", "Pause"), Binding("u", "status('resume')", "Resume"),
        Binding("m", "status('mature')", "Mature"), Binding("x", "status('delist')", "Delist"),
        Binding("k", "market", "Market"),
    ]
    symbol: str
    view: Any

    def _then_reload(self, _result: Any) -> None:
        self.reload()

    def action_deploy(self) -> None:
        self.confirm_then(ConfirmModal(
            f"Deploy {self.symbol}'s ERC-3643 suite? Five transactions on the configured chain,"
            " paid in gas by the platform signer.", "Deploy"), lambda _yes: self._deploy())

    def _deploy(self) -> None:
        self.query_one("#deploy-progress").add_class("running")
        poll = self.set_interval(DEPLOY_POLL_SECONDS, self._poll_deploy)

        def finished() -> None:
            poll.stop()
            self.query_one("#deploy-progress").remove_class("running")
            self.reload()

        self.run_call(self.services.deploy, self.symbol, always=finished,
                      success=lambda r: f"{self.symbol} deployed at {r['token']['contract_address']}"
                      + (" (already deployed)" if r["already_deployed"] else
                         f", {r['total_gas_used']:,} gas"))

    def _poll_deploy(self) -> None:
        from alefctl.workflows.dashboard import deploy_transactions

        if self.view is not None:
            self.run_call(self.services.read, deploy_transactions, self.view.token.id,
                          done=self.show_deploy_steps, group="deploy-poll", exclusive=True,
                          on_error=lambda _message: None)

    def show_deploy_steps(self, steps: list[dict[str, Any]]) -> None:
        """Implemented by the detail screen."""

    def action_start_offering(self) -> None:
        self.confirm_then(ConfirmModal(f"Open {self.symbol}'s primary offering now, for the"
                                       " default 30 days?", "Start offering"),
                          lambda _yes: self.run_call(
                              self.services.call, start_offering, self.symbol, done=self._then_reload,
                              success=lambda t: f"{t.symbol} offering open until {t.primary_end:%Y-%m-%d}"))

    def action_confirm_payments(self) -> None:
        pending = self.view.awaiting_payment if self.view else []
        quantity = sum(a.quantity for a in pending)
        amount = sum(a.amount for a in pending)
        self.confirm_then(ConfirmModal(
            f"Confirm payment of {len(pending)} allocations ({quantity:,} {self.symbol},"
            f" {amount:,} USD)? Their tokens are credited and mints queued.", "Confirm payments"),
            lambda _yes: self.run_call(
                self.services.call, confirm_payments, self.symbol, done=self._then_reload,
                success=lambda done: f"confirmed {len(done)} allocations; mints queued"))

    def action_reject_allocation(self) -> None:
        allocation_id = selected_key(self.query_one("#allocations-table", DataTable))
        if allocation_id is None:
            self.notify("No allocation selected.", severity="warning")
            return
        self.confirm_then(TextModal("Reject this allocation and refund the investor: the reason",
                                    confirm_label="Reject"),
                          lambda reason: self.run_call(
                              self.services.call, reject_allocation, allocation_id, reason,
                              done=self._then_reload,
                              success=lambda a: f"allocation of {a.email} rejected and refunded"))

    def action_enable_secondary(self) -> None:
        self.confirm_then(ConfirmModal(
            f"Enable secondary trading of {self.symbol} and pay out its escrow to the issuer"
            f" (less the {self.services.success_fee_pct}% success fee)?", "Go live"),
            lambda _yes: self.run_call(
                self.services.enable_secondary, self.symbol, done=self._then_reload,
                success=lambda r: f"{self.symbol} is trading; issuer proceeds {r['issuer_proceeds']}"
                                  f" USD, success fee {r['success_fee']} USD"))

    def action_set_nav(self) -> None:
        self.confirm_then(TextModal(f"NAV per {self.symbol} token, USD", placeholder="e.g. 10.25",
                                    confirm_label="Record NAV"),
                          lambda nav: self.run_call(
                              self.services.call, set_nav, self.symbol, nav, done=self._then_reload,
                              success=lambda t: f"{t.symbol} NAV {t.nav_per_token}"))

    def action_status(self, action: str) -> None:
        def run(_yes: Any = True) -> None:
            self.run_call(self.services.call, change_status, self.symbol, action,
                          done=self._then_reload, success=lambda t: f"{t.symbol} is {t.status}")

        if action in ("mature", "delist"):
            self.confirm_then(ConfirmModal(f"{action.capitalize()} {self.symbol}? This cannot be"
                                           " undone.", action.capitalize()), run)
        else:
            run()

    def action_market(self) -> None:
        self.app.open_market(self.symbol)  # type: ignore[attr-defined]
