"""The frame every console screen shares, and how it runs a call in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, get_current_worker

from alefctl.tui.services import describe_error
from alefctl.tui.widgets import NavBar
from alefctl.workflows import policy

if TYPE_CHECKING:
    from alefctl.tui.services import ConsoleServices
    from alefctl.workflows.actor import Actor

T = TypeVar("T")


class ConsoleScreen(Screen):
    """Header, navigation, the screen's body and the footer; reloads when shown.

    Who sees what comes from the policy (workflows/policy.py) alone: a screen names the action
    its data needs (READ_ACTION) and each of its keys the action it takes (KEY_ACTIONS, by the
    binding's action name); a role the policy refuses does not see the screen, nor the key.
    """

    MODE = ""
    READ_ACTION = "console.open"
    KEY_ACTIONS: dict[str, str] = {}
    BINDINGS = [Binding("ctrl+r", "reload", "Reload")]
    _last_problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    @property
    def services(self) -> ConsoleServices:
        """The app's door to the workflows."""
        return self.app.services  # type: ignore[attr-defined]

    @property
    def actor(self) -> Actor | None:
        """The acting user, once the app has resolved it (None before)."""
        return self.app.actor  # type: ignore[attr-defined, no-any-return]

    @property
    def ready(self) -> bool:
        """The acting user is known and may see this screen: its data may be loaded."""
        return self.actor is not None and policy.may(self.actor, self.READ_ACTION)

    def may(self, action: str) -> bool:
        """Whether the acting user's role may take the action (True while it is not known yet:
        the workflow still decides)."""
        return self.actor is None or policy.may(self.actor, action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide (and disable) a key whose action the role may not take."""
        needed = self.KEY_ACTIONS.get(action)
        return needed is None or self.may(needed)

    def on_screen_resume(self) -> None:
        self.actor_known()

    def actor_known(self) -> None:
        """Show the keys and the data the acting user may see (the app calls it once it knows)."""
        self.refresh_bindings()
        for bar in self.query(NavBar):
            bar.refresh()
        if self.ready:
            self.reload()

    def action_reload(self) -> None:
        if self.ready:
            self.reload()

    def reload(self) -> None:
        """Fetch the screen's data again (in a worker thread)."""

    def run_call(self, call: Callable[..., T], *args: Any, done: Callable[[T], Any] | None = None,
                 success: str | Callable[[T], str] | None = None, group: str = "action",
                 exclusive: bool = False, on_error: Callable[[str], Any] | None = None,
                 always: Callable[[], Any] | None = None, **kwargs: Any) -> Worker[None]:
        """Run call(*args) in a worker thread: its result to `done`, errors notified (or to on_error)."""
        app = self.app  # looked up here: a thread cannot find it once the screen is gone

        def deliver(callback: Callable[..., Any], *values: Any) -> None:
            if get_current_worker().is_cancelled:
                return
            with suppress(RuntimeError):  # the app closed while the call was running
                app.call_from_thread(self._if_attached, callback, *values)

        def tell(message: str, **options: Any) -> None:
            with suppress(RuntimeError):  # shown even after the screen left: the outcome matters
                app.call_from_thread(app.notify, message, **options)

        def job() -> None:
            try:
                attempt()
            finally:
                if always is not None:
                    deliver(always)

        def attempt() -> None:
            try:
                result = call(*args, **kwargs)
            except Exception as exc:  # every failure becomes a notification, never a crash
                if on_error is not None:
                    deliver(on_error, describe_error(exc))
                else:
                    tell(describe_error(exc), title="Refused", severity="error", timeout=10)
                return
            if on_error is not None:
                deliver(self._problem_cleared)
            if success is not None:
                tell(success(result) if callable(success) else success, title="Done")
            if done is not None:
                deliver(done, result)

        return self.run_worker(job, thread=True, group=group, exclusive=exclusive,
                               exit_on_error=False)

    def report_once(self, message: str) -> None:
        """A polling call failed: notify once, not again until it has worked in between."""
        if message != self._last_problem:
            self.notify(message, title="Refused", severity="error", timeout=10)
        self._last_problem = message

    def _problem_cleared(self) -> None:
        self._last_problem = None

    def _if_attached(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run a callback on the UI thread, unless this screen has left the app meanwhile."""
        if not self.is_attached:
            return
        try:
            callback(*args)
        except Exception as exc:  # a result that cannot be shown must not close the console
            self.notify(f"cannot show the result: {describe_error(exc)}", severity="error")

    def confirm_then(self, modal: Any, then: Callable[[Any], Any]) -> None:
        """Push a dialog and run `then` with its answer, unless it was cancelled."""

        def answered(answer: Any) -> None:
            if answer not in (None, False):
                then(answer)

        self.app.push_screen(modal, answered)
