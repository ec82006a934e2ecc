"""The lifecycle actions of the token detail screen, each a workflow call in a worker thread."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.token_settings import SETTINGS_BINDINGS, TokenSettings
from alefctl.tui.widgets import selected_key
from alefctl.workflows import dashboard
from alefctl.workflows.halts import halt_token, resume_trading
from alefctl.workflows.lifecycle import change_status, enable_secondary, start_offering
from alefctl.workflows.offering import confirm_payments, reject_allocation
from alefctl.workflows.offering_admin import cancel_offering
from alefctl.workflows.tokens import set_nav

DEPLOY_POLL_SECONDS = 0.5


class TokenActions(TokenSettings):
    """Deploy, offering, payments, cancel the offering, go-live, NAV, pause, halt, resume,
    mature, delist; and the token's settings (token_settings.py)."""

    BINDINGS = [
        Binding("d", "deploy", "Deploy"), Binding("o", "start_offering", "Start offering"),
        Binding("c", "confirm_payments", "Confirm payments"),
        Binding("j", "reject_allocation", "Reject allocation"),
        Binding("z", "cancel_offering", "Cancel offering"),
        Binding("s", "enable_secondary", "Go live"), Binding("n", "set_nav", "Set NAV"),
        Binding("p", "status('pause')", "Pause"), Binding("h", "halt", "Halt"),
        Binding("u", "resume", "Resume"),
        Binding("m", "status('mature')", "Mature"), Binding("x", "status('delist')", "Delist"),
        Binding("k", "market", "Market"), Binding("l", "holders", "Holders"),
        *SETTINGS_BINDINGS,
    ]
    KEY_ACTIONS = {**TokenSettings.KEY_ACTIONS,
                   "deploy": "token.deploy", "start_offering": "token.lifecycle",
                   "confirm_payments": "offering.confirm_payment",
                   "reject_allocation": "allocation.reject", "enable_secondary": "token.lifecycle",
                   "cancel_offering": "offering.cancel",
                   "set_nav": "token.set_nav", "status": "token.lifecycle",
                   "halt": "token.halt", "resume": "token.lifecycle",
                   "holders": "holder.read"}
    symbol: str
    view: Any

    def action_holders(self) -> None:
        from alefctl.tui.holders import HoldersScreen

        self.app.push_screen(HoldersScreen(self.symbol))

    def action_deploy(self) -> None:
        if self.view is not None and self.view.token.contract_address:
            self.notify(f"{self.symbol} is already deployed at {self.view.token.contract_address}.")
            return
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
        if not self._can("start_offering", "start the offering of"):
            return
        if not self.view.token.contract_address:
            self.notify(f"{self.symbol} is not deployed yet: d deploys it, then o opens its"
                        " offering.", title="Not now", timeout=10)
            return
        self.confirm_then(ConfirmModal(f"Open {self.symbol}'s primary offering now, for the"
                                       " default 30 days?", "Start offering"),
                          lambda _yes: self.run_call(
                              self.services.call, start_offering, self.symbol, done=self._then_reload,
                              success=lambda t: f"{t.symbol} offering open until {t.primary_end:%Y-%m-%d}"))

    def action_confirm_payments(self) -> None:
        pending = self.view.awaiting_payment if self.view else []
        if not pending:
            self.notify(f"No allocation of {self.symbol} awaits payment confirmation.")
            return
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

    def action_cancel_offering(self) -> None:
        if not self._can("cancel", "cancel the offering of"):
            return
        self.confirm_then(TextModal(f"Cancel {self.symbol}'s offering, refunding every subscription:"
                                    " the reason (told to investors)", confirm_label="Cancel offering"),
                          lambda reason: self.run_call(
                              self.services.call, cancel_offering, self.symbol, reason,
                              done=self._then_reload,
                              success=lambda r: f"{self.symbol} offering cancelled;"
                              f" {len(r['refunds'])} subscriptions refunded"))

    def action_enable_secondary(self) -> None:
        """Go live after a confirmation showing what go-live will do, as the workflow computes it
        (run and rolled back), and warning of mints not yet on-chain."""
        if not self._can("enable_secondary", "take live"):
            return
        token_id = self.view.token.id

        def preview() -> tuple[dict[str, Any], dict[str, int]]:
            outcome = self.services.preview(enable_secondary, self.symbol,
                                            self.services.success_fee_pct)
            return outcome, self.services.read(dashboard.unminted_allocations, token_id)

        self.run_call(preview, done=self._confirm_go_live,
                      on_error=lambda message: self.notify(
                          f"Cannot take {self.symbol} live yet: {message}", title="Not now",
                          severity="warning", timeout=15))

    def _confirm_go_live(self, preview: tuple[dict[str, Any], dict[str, int]]) -> None:
        self.confirm_then(ConfirmModal(go_live_question(self.symbol, self.services.success_fee_pct,
                                                        *preview), "Go live"),
                          lambda _yes: self.run_call(
                              self.services.enable_secondary, self.symbol, done=self._then_reload,
                              success=lambda r: f"{self.symbol} is trading; issuer proceeds"
                              f" {r['issuer_proceeds']} USD, success fee {r['success_fee']} USD"))

    def action_set_nav(self) -> None:
        self.confirm_then(TextModal(f"NAV per {self.symbol} token, USD", placeholder="e.g. 10.25",
                                    confirm_label="Record NAV"),
                          lambda nav: self.run_call(
                              self.services.call, set_nav, self.symbol, nav, done=self._then_reload,
                              success=lambda t: f"{t.symbol} NAV {t.nav_per_token}"))

    def action_status(self, action: str) -> None:
        if not self._can(action, action):
            return

        def run(_yes: Any = True) -> None:
            self.run_call(self.services.call, change_status, self.symbol, action,
                          done=self._then_reload, success=lambda t: f"{t.symbol} is {t.status}")

        def retire(_yes: Any) -> None:  # closes the market: orders and OTC orders cancelled
            self.run_call(self.services.retire, self.symbol, action, done=self._then_reload,
                          success=lambda t: f"{t.symbol} is {t.status}; its open orders and"
                          " OTC orders were cancelled")

        if action in ("mature", "delist"):
            self.confirm_then(ConfirmModal(f"{action.capitalize()} {self.symbol}? Its open orders"
                                           " and OTC orders are cancelled; this cannot be"
                                           " undone.", action.capitalize()), retire)
        else:
            run()

    def action_halt(self) -> None:
        if self.view is None or not self._can("pause", "halt"):  # pause: the statuses that trade
            return
        self._with_reason(f"Halt trading of {self.symbol} until resumed", "e.g. news pending",
                          "Halt", halt_token, f"{self.symbol} is halted")

    def action_resume(self) -> None:
        """Lift a halt (asking why), else resume a paused token."""
        if self.view is None or self.view.token.halt is None:
            self.action_status("resume")
            return
        self._with_reason(f"Lift the halt of {self.symbol} ({self.view.token.halt['reason']})",
                          "e.g. news published", "Resume", resume_trading,
                          f"{self.symbol} trades again")

    def _with_reason(self, question: str, placeholder: str, label: str, workflow: Any,
                     success: str) -> None:
        """Ask for the reason, then run workflow(token, reason) and reload."""
        self.confirm_then(TextModal(f"{question}: the reason", required=True,
                                    placeholder=placeholder, confirm_label=label),
                          lambda reason: self.run_call(self.services.call, workflow, self.symbol,
                                                       reason, done=self._then_reload,
                                                       success=success))

    def action_market(self) -> None:
        self.app.open_market(self.symbol)  # type: ignore[attr-defined]


def go_live_question(symbol: str, fee_pct: Any, outcome: dict[str, Any],
                     unminted: dict[str, int]) -> str:
    """What go-live will do: sold, the treasury's allocation, the fee, the proceeds; and a
    warning while mints are not yet on-chain (their holders' trades could not settle)."""
    token = outcome["token"]
    lines = [f"Take {symbol} live: secondary trading on the order book.", "",
             f"  sold in the offering   {token['tokens_sold']:,} tokens, raised"
             f" {Decimal(token['total_raised']):,} USD",
             f"  treasury allocation    {outcome['treasury_allocation']:,} tokens (minted to the"
             " treasury)",
             f"  success fee            {outcome['success_fee']:,} USD ({fee_pct}%)",
             f"  issuer proceeds        {outcome['issuer_proceeds']:,} USD (the escrow less the fee)",
             f"  mints still pending    {sum(unminted.values()):,}"]
    if unminted:
        counts = ", ".join(f"{count} {status}" for status, count in sorted(unminted.items()))
        lines += ["", f"Warning: {sum(unminted.values())} allocations are not on-chain yet"
                  f" ({counts}). Their holders can trade, but those trades cannot settle on-chain"
                  " until the mints complete (see the Mints screen)."]
    return "\n".join(lines)
