"""The console app: one mode per screen, number keys between them, `?` for help."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from alefctl.tui.approvals import ApprovalsScreen
from alefctl.tui.audit import AuditScreen
from alefctl.tui.base import ConsoleScreen
from alefctl.tui.businesses import BusinessesScreen
from alefctl.tui.dividends import DividendsScreen
from alefctl.tui.inbox import InboxScreen
from alefctl.tui.kyc import KycQueueScreen
from alefctl.tui.market import MarketScreen
from alefctl.tui.mints import MintsScreen
from alefctl.tui.modals import TextViewModal
from alefctl.tui.otc import OtcScreen
from alefctl.tui.overview import OverviewScreen
from alefctl.tui.settlement import SettlementScreen
from alefctl.tui.surveillance import SurveillanceScreen
from alefctl.tui.tokens import TokensScreen
from alefctl.tui.users import UsersScreen
from alefctl.tui.widgets import NAVIGATION
from alefctl.workflows import policy

if TYPE_CHECKING:
    from alefctl.tui.services import ConsoleServices
    from alefctl.workflows.actor import Actor

SCREENS_BY_MODE: dict[str, type[ConsoleScreen]] = {
    "overview": OverviewScreen, "kyc": KycQueueScreen, "businesses": BusinessesScreen,
    "tokens": TokensScreen, "market": MarketScreen, "settlement": SettlementScreen,
    "dividends": DividendsScreen, "audit": AuditScreen, "mints": MintsScreen,
    "surveillance": SurveillanceScreen, "otc": OtcScreen, "approvals": ApprovalsScreen,
    "inbox": InboxScreen, "users": UsersScreen,
}
HOME = "overview"  # console.open: every role the console admits may see it
# Screens without a number key, reached from another screen and from the command palette.
UNNUMBERED = (("otc", "OTC approvals", "Pending fixed-price OTC orders (o on Market)"),
              ("approvals", "Four-eyes approvals",
               "Requests awaiting a second admin (enter on the overview's count)"),
              ("inbox", "Inbox", "Your notifications and your role's (enter on the overview's"
               " unread count)"),
              ("users", "Users", "Accounts: activate, deactivate, FATCA, rate limits (admins)"))
GLOBAL_HELP = ("1-9, 0: switch screen (see the bar under the title) · ctrl+p: command palette ·"
               " ctrl+r: reload · ?: this help · q: quit\nTables: arrows to move, enter to open."
               " Destructive actions ask first (y / n). Every action is audited as yours, source"
               " console.")


class AlefConsole(App[None]):
    """The admins' dashboard over the workflows; every call runs in a worker thread."""

    TITLE = "alefctl console"
    CSS_PATH = "console.tcss"
    MODES = SCREENS_BY_MODE  # type: ignore[assignment]
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", title, show=False) for mode, key, title in NAVIGATION),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, services: ConsoleServices, *, start: str = "overview"):
        super().__init__()
        self.services = services
        self.start_mode = start
        self.market_symbol: str | None = None
        self.actor: Actor | None = None

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        self.run_worker(self._resolve_actor, thread=True, group="actor", exit_on_error=False)

    def _resolve_actor(self) -> None:
        from alefctl.tui.services import describe_error

        try:
            actor = self.services.actor()
        except Exception as exc:
            self.call_from_thread(self.notify, describe_error(exc), title="Acting user",
                                  severity="error", timeout=15)
            return
        self.call_from_thread(self._show_actor, actor)

    def _show_actor(self, actor: Actor) -> None:
        self.actor = actor
        self.sub_title = f"as {actor.email} ({actor.role})"
        self.refresh_bindings()
        if self.current_mode in SCREENS_BY_MODE and not self.may_open(self.current_mode):
            self.switch_mode(HOME)  # its resume loads it
        elif isinstance(self.screen, ConsoleScreen):
            self.screen.actor_known()

    def may_open(self, mode: str) -> bool:
        """Whether the acting user may see a screen (all of them until the user is known; no
        screen loads data before)."""
        return self.actor is None or policy.may(self.actor, SCREENS_BY_MODE[mode].READ_ACTION)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Screens the role may not see have no key (nor a palette entry, nor a tab)."""
        if action == "switch_mode" and parameters:
            return self.may_open(str(parameters[0]))
        return True

    def open_market(self, symbol: str) -> None:
        """Show the market screen on this token."""
        self.market_symbol = symbol
        self.switch_mode("market")

    def action_help(self) -> None:
        keys = {}
        for key, active in self.screen.active_bindings.items():
            if active.binding.show and active.binding.description:
                keys[self.get_key_display(active.binding) or key] = active.binding.description
        lines = [f"{key:>10}  {description}" for key, description in keys.items()]
        body = f"{GLOBAL_HELP}\n\nOn this screen:\n" + "\n".join(lines)
        about = (type(self.screen).__doc__ or "").strip().splitlines()[0]
        self.push_screen(TextViewModal(f"Help · {about}", body))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        shortcuts = [(mode, title, f"Open the {title} screen (key {key})")
                     for mode, key, title in NAVIGATION]
        for mode, title, help_text in [*shortcuts, *UNNUMBERED]:
            if self.may_open(mode):
                yield SystemCommand(f"Go to {title}", help_text,
                                    lambda mode=mode: self.switch_mode(mode))  # type: ignore[misc]
