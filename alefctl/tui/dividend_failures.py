"""Failed dividend payments on the dividends screen: pay them again (r), or ask a second admin
to pay one to another account (t); the same workflows as `alefctl dividend retry [--to]`."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, Field, FormModal
from alefctl.tui.widgets import selected_key
from alefctl.workflows.dividends.declaration import Dividend, DividendPayment
from alefctl.workflows.dividends.failures import request_reroute, retry_failed

# Listed after the screen's own keys by DividendsScreen.
FAILURE_BINDINGS = [Binding("r", "retry_failed", "Retry failed"),
                    Binding("t", "reroute", "Re-route payment")]


class DividendFailures(ConsoleScreen):
    """Retry a declaration's failed payments; re-route the highlighted failed payment."""

    KEY_ACTIONS = {"retry_failed": "dividend.retry", "reroute": "dividend.retry"}
    dividends: dict[str, Dividend]
    payments: dict[str, DividendPayment]

    def _selected(self) -> str | None:
        """Implemented by DividendsScreen: the highlighted declaration's id."""
        return None

    def _done(self, _result: Any) -> None:
        """Implemented by DividendsScreen: reload."""

    def _with_failures(self) -> Dividend | None:
        dividend_id = self._selected()
        dividend = self.dividends.get(dividend_id) if dividend_id else None
        if dividend is None:
            self.notify("No dividend is highlighted.")
        elif not dividend.failed_count:
            self.notify(f"No payment of the {dividend.symbol} dividend has failed.", title="Not now")
            return None
        return dividend

    def action_retry_failed(self) -> None:
        dividend = self._with_failures()
        if dividend is None:
            return
        self.confirm_then(ConfirmModal(
            f"Pay the {dividend.failed_count} failed payments of the {dividend.symbol} dividend"
            " again, to their holders? A holder still refused fails again, with the reason.",
            "Retry"), lambda _yes: self.run_call(
                self.services.call, retry_failed, str(dividend.id), done=self._done,
                success=lambda r: f"{r.dividend.symbol} dividend: {r.retried} retried, {r.paid}"
                f" paid, {r.failed} failed again"))

    def action_reroute(self) -> None:
        dividend = self._with_failures()
        if dividend is None:
            return
        payment_id = selected_key(self.query_one("#payments-table", DataTable))
        payment = self.payments.get(payment_id) if payment_id else None
        if payment is None or payment.status != "failed":
            self.notify("Highlight a failed payment in the payments table first.", title="Not now")
            return

        def submit(answers: dict[str, str]) -> Any:
            return self.services.call(request_reroute, str(dividend.id), str(payment.id),
                                      answers["to"])

        self.confirm_then(FormModal(
            f"Pay {payment.email}'s failed {payment.net_amount:,} ({payment.failure_reason}) to"
            " another account? Another admin approves it (Four-eyes approvals).",
            [Field("to", "pay to (an active user's email)", "", "e.g. estate@x.io")], submit,
            "Request re-route"), lambda request: self._rerouted(request))

    def _rerouted(self, request: Any) -> None:
        self.notify(f"{request.summary}: awaits a second admin (Four-eyes approvals)", title="Done")
        self._done(request)
