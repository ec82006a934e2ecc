"""Dividends: declarations with their holders and amounts; approve, distribute (progress), cancel,
retry or re-route failed payments (dividend_failures.py)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, Static

from alefctl.tui.dividend_failures import FAILURE_BINDINGS, DividendFailures
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.widgets import fill_table, selected_key, status_text
from alefctl.workflows.dividends.declaration import Dividend, DividendPayment, list_dividends, list_payments
from alefctl.workflows.dividends.distribution import DistributionProgress
from alefctl.workflows.dividends.review import approve, cancel
from alefctl.workflows.transitions import DIVIDEND_FLOW

PAYMENTS_SHOWN = 200
# What a declaration in each status waits for: said instead of a dialog that cannot apply.
NEXT_STEP = {
    "draft": "it is a draft: the issuer must submit it first (alefctl dividend submit ID)",
    "pending_approval": "it awaits approval: a approves it (an admin other than the declarer)",
    "approved": "it is approved: d distributes it",
    "distributing": "its distribution is under way: d resumes it",
    "distributed": "it is distributed: nothing is left to do",
    "cancelled": "it is cancelled: nothing is left to do",
}


class DividendsScreen(DividendFailures):
    """Declarations newest first; the highlighted one's payments below."""

    MODE = "dividends"
    READ_ACTION = "dividend.read"  # an issuer sees their own tokens' dividends
    KEY_ACTIONS = {**DividendFailures.KEY_ACTIONS,
                   "approve": "dividend.approve", "distribute": "dividend.distribute",
                   "cancel_dividend": "dividend.cancel"}
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("d", "distribute", "Distribute"),
                Binding("x", "cancel_dividend", "Cancel dividend"), *FAILURE_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self.dividends: dict[str, Dividend] = {}
        self.payments: dict[str, DividendPayment] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Dividends", id="dividends-title", classes="title")
        table: DataTable[Any] = DataTable(id="dividends-table", cursor_type="row")
        table.add_columns("id", "token", "type", "status", "per token", "holders", "gross", "fee",
                          "net", "paid", "record date", "declared by")
        yield table
        progress = ProgressBar(show_eta=False, id="distribution-progress")
        progress.display = False  # shown once a distribution starts
        yield progress
        yield Static("Payments", id="payments-title", classes="title")
        payments: DataTable[Any] = DataTable(id="payments-table", cursor_type="row")
        payments.add_columns("holder", "balance", "gross", "fee", "net", "tokens", "status", "paid at")
        yield payments

    def reload(self) -> None:
        self.run_call(self.services.call, list_dividends, done=self.show_dividends, group="load",
                      exclusive=True)

    def show_dividends(self, dividends: list[Dividend]) -> None:
        """Fill the declarations table, then the payments of the highlighted one."""
        self.dividends = {str(d.id): d for d in dividends}
        waiting = sum(1 for d in dividends if d.status == "pending_approval")
        self.query_one("#dividends-title", Static).update(
            f"Dividends · {len(dividends)} · {waiting} awaiting approval")
        fill_table(self.query_one("#dividends-table", DataTable), (
            (str(d.id), (d.id, d.symbol, d.dividend_type, status_text(d.status),
                         d.per_token_usd if d.per_token_usd is not None else d.per_token_qty,
                         d.holder_count, d.total_gross_usd, d.total_fee_usd, d.total_net_usd,
                         f"{d.paid_count}/{d.holder_count}"
                         + (f" ({d.failed_count} failed)" if d.failed_count else ""),
                         d.record_date, d.declared_by_email))
            for d in dividends))
        self._load_payments()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "dividends-table":
            self._load_payments()

    def _load_payments(self) -> None:
        dividend_id = self._selected()
        if dividend_id is not None:
            self.run_call(self.services.call, list_payments, dividend_id, limit=PAYMENTS_SHOWN,
                          done=self.show_payments, group="payments", exclusive=True)

    def show_payments(self, payments: list[DividendPayment]) -> None:
        """Each holder's payment of the highlighted declaration."""
        self.payments = {str(p.id): p for p in payments}
        self.query_one("#payments-title", Static).update(
            f"Payments · first {PAYMENTS_SHOWN} holders by email")
        fill_table(self.query_one("#payments-table", DataTable), (
            (str(p.id), (p.email, p.token_balance, p.gross_amount, p.fee_amount, p.net_amount,
                         p.token_quantity, status_text(p.status), p.paid_at))
            for p in payments))

    def action_approve(self) -> None:
        dividend = self._selected_dividend("approve", "approve")
        if dividend:
            self.confirm_then(ConfirmModal(_describe("Approve", dividend), "Approve"),
                              lambda _yes: self.run_call(
                                  self.services.call, approve, str(dividend.id), done=self._done,
                                  success=lambda d: f"{d.symbol} dividend approved"))

    def action_distribute(self) -> None:
        dividend = self._selected_dividend("start_distribution", "distribute", also=("distributing",))
        if dividend:
            question = (_describe("Distribute", dividend) + f" The issuer is debited"
                        f" {dividend.funding_usd:,} USD.")
            self.confirm_then(ConfirmModal(question, "Distribute"),
                              lambda _yes: self._distribute(dividend))

    def _distribute(self, dividend: Dividend) -> None:
        bar = self.query_one("#distribution-progress", ProgressBar)
        bar.update(total=dividend.holder_count, progress=dividend.paid_count)
        bar.display = True
        app = self.app

        def progressed(progress: DistributionProgress) -> None:  # called in the worker thread
            app.call_from_thread(bar.update, total=progress.holder_count, progress=progress.paid)

        self.run_call(self.services.distribute, str(dividend.id), progressed, done=self._done,
                      success=lambda d: f"{d.symbol} dividend {d.status}: {d.paid_count} holders paid")

    def action_cancel_dividend(self) -> None:
        dividend = self._selected_dividend("cancel", "cancel")
        if dividend:
            self.confirm_then(TextModal(_describe("Cancel", dividend) + " This cannot be undone."
                                        " Reason (optional):", required=False,
                                        confirm_label="Cancel dividend"),
                              lambda reason: self.run_call(
                                  self.services.call, cancel, str(dividend.id), reason or None,
                                  done=self._done, success=lambda d: f"{d.symbol} dividend cancelled"))

    def _done(self, _dividend: Any) -> None:
        self.reload()

    def _selected(self) -> str | None:
        return selected_key(self.query_one("#dividends-table", DataTable))

    def _selected_dividend(self, flow_action: str, verb: str,
                           also: tuple[str, ...] = ()) -> Dividend | None:
        """The highlighted declaration if its status allows the action (DIVIDEND_FLOW); else
        a notice with its next step instead of a dialog."""
        dividend_id = self._selected()
        dividend = self.dividends.get(dividend_id) if dividend_id else None
        if dividend is None:
            self.notify("No dividend is highlighted.")
            return None
        if dividend.status not in (*DIVIDEND_FLOW[flow_action][0], *also):
            self.notify(f"Cannot {verb} the {dividend.symbol} dividend:"
                        f" {NEXT_STEP.get(dividend.status, dividend.status)}.",
                        title="Not now", timeout=10)
            return None
        return dividend


def _describe(verb: str, dividend: Dividend) -> str:
    amount = (f"{dividend.total_token_qty:,} {dividend.symbol} tokens" if dividend.dividend_type
              == "token" else f"net {dividend.total_net_usd:,} + fee {dividend.total_fee_usd:,} USD")
    return f"{verb} the {dividend.symbol} {dividend.dividend_type} dividend: {amount} to" \
           f" {dividend.holder_count} holders?"
