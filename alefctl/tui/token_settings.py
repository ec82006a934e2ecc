"""A token's settings on its detail screen: protection thresholds, compliance rules, the
offering's window, the redemption request, the trading mode and when DAY orders expire. Each is
a form whose one workflow call runs from the dialog: a refusal shows in it, a success closes it
with a notice and a reload."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ChoiceModal, Field, FormModal
from alefctl.tui.widgets import cell_text
from alefctl.workflows.compliance import ComplianceRules, get_rules, set_rules
from alefctl.workflows.offering_admin import set_offering_window
from alefctl.workflows.otc import set_trading_mode
from alefctl.workflows.protections import TOKEN_FIELDS, set_protections, show_protections
from alefctl.workflows.redemption import request_redemption
from alefctl.workflows.trading.lifetime import parse_session_end, set_session_end
from alefctl.workflows.transitions import TOKEN_FLOW
from alefctl.workflows.validation import instant

# Listed after the lifecycle keys by TokenActions (a class's own bindings come after its base's).
SETTINGS_BINDINGS = [Binding("b", "protections", "Protections"),
                     Binding("e", "compliance", "Compliance"),
                     Binding("w", "offering_window", "Offering window"),
                     Binding("r", "redeem", "Redeem"), Binding("t", "trading_mode", "Trading mode"),
                     Binding("g", "session_end", "Session end")]
PROTECTION_LABELS = {"breaker_move_pct": "circuit breaker: move that halts, %",
                     "breaker_window_s": "circuit breaker: window, seconds",
                     "breaker_halt_s": "circuit breaker: halt lasts, seconds",
                     "fat_finger_pct": "confirm a price this % off the last",
                     "nav_deviation_pct": "confirm a price this % off the NAV"}


class TokenSettings(ConsoleScreen):
    """Protections, compliance rules, the offering window, redemption (admins)."""

    KEY_ACTIONS = {"protections": "token.protections", "compliance": "token.compliance",
                   "offering_window": "offering.window", "redeem": "token.redeem",
                   "trading_mode": "token.trading_mode", "session_end": "token.session_end"}
    symbol: str
    view: Any

    def _then_reload(self, _result: Any) -> None:
        self.reload()

    def _can(self, flow_action: str, verb: str) -> bool:
        """Whether the token's status allows the action (TOKEN_FLOW); else a notice saying what
        it needs, instead of a dialog."""
        if self.view is None:
            self.notify(f"{self.symbol} is still loading.")
            return False
        status = self.view.token.status
        allowed = TOKEN_FLOW[flow_action][0]
        if status not in allowed:
            self.notify(f"Cannot {verb} {self.symbol}: it is {status}, and this needs"
                        f" {' or '.join(allowed)}.", title="Not now", timeout=10)
        return status in allowed

    def _form(self, modal: FormModal, success: Any) -> None:
        """Show the form; once its call succeeded, notify and reload."""

        def done(result: Any) -> None:
            self.notify(success(result), title="Done")
            self._then_reload(result)

        self.confirm_then(modal, done)

    def action_protections(self) -> None:
        """The thresholds that apply; a blank line follows the platform's default."""
        defaults = self.services.protections
        self.run_call(self.services.read, show_protections, self.symbol, defaults,
                      done=self._protections_form, group="form-load", exclusive=True)

    def _protections_form(self, shown: dict[str, Any]) -> None:
        defaults = self.services.protections.thresholds
        own = {name: str(shown[name]) for name in shown["own"]}
        fields = [Field(name, PROTECTION_LABELS[name], own.get(name, ""),
                        f"default {getattr(defaults, name)}") for name in TOKEN_FIELDS]

        def submit(answers: dict[str, str]) -> dict[str, Any]:
            given = {name: value for name, value in answers.items() if value}
            cleared = any(name not in given for name in own)  # back to the default: reset first
            changes = given if cleared else {name: value for name, value in given.items()
                                             if own.get(name) != value}
            return self.services.call(set_protections, self.symbol, changes,
                                      self.services.protections, reset=cleared)

        self._form(FormModal(
            f"{self.symbol}'s protections (blank: the platform's default; 0 turns one off)."
            f" Orders over {shown['fat_finger_block_x']}x the last price are blocked"
            " platform-wide.", fields, submit, "Save protections"),
            lambda r: f"{r['symbol']} protections saved; its own: {', '.join(r['own']) or 'none'}")

    def action_compliance(self) -> None:
        if self.view is None:
            self.notify(f"{self.symbol} is still loading.")
            return
        self.run_call(self.services.read, get_rules, self.view.token.id,
                      done=self._compliance_form, group="form-load", exclusive=True)

    def _compliance_form(self, rules: ComplianceRules) -> None:
        fields = [Field("denied", "denied countries (ISO codes)", " ".join(rules.denied_countries),
                        "e.g. US IR (blank: none)"),
                  Field("max_balance", "most tokens one investor holds",
                        str(rules.max_balance or ""), "blank: no limit"),
                  Field("max_holders", "most investors holding it",
                        str(rules.max_holders or ""), "blank: no limit")]

        def submit(answers: dict[str, str]) -> ComplianceRules:
            now = {code.upper() for code in answers["denied"].replace(",", " ").split()}
            before = set(rules.denied_countries)
            return self.services.call(
                set_rules, self.symbol, deny=sorted(now - before), allow=sorted(before - now),
                max_balance=_limit(answers["max_balance"], rules.max_balance),
                max_holders=_limit(answers["max_holders"], rules.max_holders))

        self._form(FormModal(
            f"{self.symbol}'s compliance rules, checked before orders and subscriptions and set"
            " on-chain by a chain job.", fields, submit, "Save rules"),
            lambda r: f"{self.symbol} compliance: denied {', '.join(r.denied_countries) or 'none'},"
            f" max balance {r.max_balance or 'none'}, max holders {r.max_holders or 'none'}")

    def action_offering_window(self) -> None:
        if not self._can("cancel", "move the offering window of"):  # cancel: an offering open
            return
        ends = self.view.token.primary_end

        def submit(answers: dict[str, str]) -> Any:
            return self.services.call(set_offering_window, self.symbol,
                                      instant(answers["ends_at"], field="ends_at"))

        self._form(FormModal(
            f"Extend or shorten {self.symbol}'s offering (now ends {cell_text(ends)}).",
            [Field("ends_at", "new end (ISO-8601, UTC if no zone)", "",
                   "e.g. 2027-01-31 or 2027-01-31T18:00")], submit, "Move the end"),
            lambda t: f"{t.symbol} offering now ends {cell_text(t.primary_end)}")

    def action_redeem(self) -> None:
        if not self._can("redeem", "redeem"):
            return
        nav = self.view.token.nav_per_token

        def submit(answers: dict[str, str]) -> dict[str, Any]:
            return self.services.call(request_redemption, self.symbol, answers["price"])

        self._form(FormModal(
            f"Redeem {self.symbol}: every holder is paid this price per token from the issuer's"
            " balance and their tokens are burned. Another admin approves it (Four-eyes"
            " approvals).", [Field("price", "price per token (face value or final NAV)", "",
                                   f"NAV {nav}" if nav is not None else "e.g. 10.00")],
            submit, "Request redemption"),
            lambda r: f"{r['symbol']}: redemption at {r['price_per_token']} per token awaits a"
            " second admin (Four-eyes approvals)")


    def action_trading_mode(self) -> None:
        if not self._can("mature", "change the trading mode of"):  # mature: trading or paused
            return
        self.confirm_then(ChoiceModal(
            f"Trade {self.symbol} on (now {self.view.token.trading_mode}; its open orders must be"
            " cancelled first):", [("full_orderbook", "the order book (full_orderbook)"),
                                   ("fixed_price_otc", "fixed-price OTC (fixed_price_otc)")]),
            self._switch_mode)

    def _switch_mode(self, mode: str) -> None:
        def success(token: dict[str, Any]) -> str:
            return f"{token['symbol']} trades in {token['trading_mode']}"

        if mode == "full_orderbook":
            self.run_call(self.services.call, set_trading_mode, self.symbol, mode,
                          done=self._then_reload, success=success)
            return

        def submit(answers: dict[str, str]) -> dict[str, Any]:
            return self.services.call(set_trading_mode, self.symbol, mode, answers["price"])

        self._form(FormModal(f"{self.symbol} trades at a fixed price: OTC orders against the"
                             " treasury, each approved by an admin.",
                             [Field("price", "OTC price per token, USD", "", "e.g. 10.00")],
                             submit, "Switch to OTC"), success)

    def action_session_end(self) -> None:
        def submit(answers: dict[str, str]) -> dict[str, Any]:
            return self.services.call(set_session_end, self.symbol,
                                      parse_session_end(answers["at"]))

        self._form(FormModal(f"When {self.symbol}'s DAY orders expire (for DAY orders placed from"
                             " now on).", [Field("at", "session end, HH:MM UTC", "",
                                                 "e.g. 16:00, or default")],
                             submit, "Set session end"),
                   lambda r: f"{r['symbol']} DAY orders expire at"
                   f" {r['session_end'] or 'the default'} UTC")


def _limit(answer: str, current: int | None) -> str | None:
    """A limit's change for set_rules: None leaves it, "0" removes it (a blank line)."""
    if not answer:
        return None if current is None else "0"
    return None if answer == str(current) else answer
