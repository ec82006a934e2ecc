"""Overview: what needs an admin now, one count per queue, polled every two seconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.widgets import CountTile, fill_table, when
from alefctl.workflows import dashboard, notifications

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from alefctl.workflows.actor import Actor

POLL_SECONDS = 2.0
RECENT_ACTIVITY = 15
# (Attention field, label, the screen the tile opens); a tile shows when its screen does
TILES = (
    ("kyc", "KYC applications awaiting review", "kyc"),
    ("businesses", "businesses awaiting approval", "businesses"),
    ("payments", "allocations awaiting payment confirmation", "tokens"),
    ("mints", "failed mints", "mints"),
    ("settlements", "failed or stuck settlements", "settlement"),
    ("failed_settlements", "failed settlements", "settlement"),
    ("dividends", "dividends awaiting approval", "dividends"),
    ("alerts", "open surveillance alerts", "surveillance"),
    ("breakers", "circuit breakers tripped", "surveillance"),
    ("approvals", "requests awaiting a second admin", "approvals"),
    ("unread", "unread notifications in your inbox", "inbox"),
)


def overview_data(conn: Connection, actor: Actor, with_activity: bool
                  ) -> tuple[dashboard.Attention, list[dict[str, Any]]]:
    """The counts (the inbox's: the actor's unread) and (for a role that may read the audit
    log) its latest rows, in one transaction."""
    activity = dashboard.audit_log(conn, limit=RECENT_ACTIVITY) if with_activity else []
    counts = replace(dashboard.attention(conn), unread=notifications.unread_count(conn, actor))
    return counts, activity


class OverviewScreen(ConsoleScreen):
    """Counts that open their queues; refreshed on its own while shown."""

    MODE = "overview"

    def compose_body(self) -> ComposeResult:
        with Grid(id="tiles"):
            for field, label, mode in TILES:
                yield CountTile(label, mode, f"tile-{field}")
        yield Static("", id="overview-status", classes="status")
        yield Static("Recent activity", id="activity-title", classes="title")
        activity: DataTable[Any] = DataTable(id="activity", cursor_type="row")
        activity.add_columns("time (UTC)", "actor", "source", "action", "object", "object id")
        yield activity

    def on_mount(self) -> None:
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Reload while this screen is the one shown (no database load from hidden screens)."""
        if self.is_current and self.ready:
            self.reload()

    def actor_known(self) -> None:
        """Only the counts whose queues the role may open; the activity only for audit readers."""
        for field, _label, mode in TILES:
            self.query_one(f"#tile-{field}").display = self.app.may_open(mode)  # type: ignore[attr-defined]
        for part in self.query("#activity-title, #activity"):
            part.display = self.may("audit.read")
        super().actor_known()

    def reload(self) -> None:
        self.run_call(self.services.call, overview_data, self.may("audit.read"), done=self.show_counts,
                      on_error=self.show_problem, group="poll", exclusive=True)

    def show_counts(self, data: tuple[dashboard.Attention, list[dict[str, Any]]]) -> None:
        """Put fresh counts on the tiles, and the latest audit rows below."""
        counts, activity = data
        fill_table(self.query_one("#activity", DataTable), (
            (str(r["id"]), (r["created_at"], r["actor"], r["source"], r["action"], r["object_type"],
                            r["object_id"])) for r in activity))
        for field, _label, _mode in TILES:
            self.query_one(f"#tile-{field}", CountTile).show(getattr(counts, field))
        self.query_one("#overview-status", Static).update(
            f"[dim]updated {when(datetime.now().astimezone())} UTC · every {POLL_SECONDS:g} s ·"
            f" stuck: unsettled after {dashboard.STUCK_AFTER_MINUTES} min · enter on a count opens"
            " its queue[/dim]")

    def show_problem(self, message: str) -> None:
        """The last poll failed: say so in place, and notify once."""
        self.query_one("#overview-status", Static).update(f"[red]{message}[/red]")
        self.report_once(message)

    def on_count_tile_opened(self, event: CountTile.Opened) -> None:
        self.app.switch_mode(event.mode)
