"""One token: its figures, its cap table (admins and its issuer), allocations awaiting payment,
deployment, and every lifecycle action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, Static

from alefctl.tui.token_actions import TokenActions
from alefctl.tui.widgets import cell_text, fill_table
from alefctl.errors import NotFound
from alefctl.workflows import dashboard, policy
from alefctl.workflows.cap_table import CapTable, cap_table
from alefctl.workflows.offering import Allocation, list_allocations
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from alefctl.workflows.actor import Actor

DEPLOY_TRANSACTIONS = 5  # IdentityRegistry, Compliance, SecurityToken and two agent grants
FACTS = (("status", "status"), ("trading mode", "trading_mode"), ("supply", "total_supply"),
         ("primary cap", "primary_cap"), ("sold", "tokens_sold"),
         ("awaiting payment", "tokens_reserved"), ("raised", "total_raised"),
         ("escrow", "escrow_balance"), ("price", "price_per_token"), ("NAV", "nav_per_token"),
         ("tick", "tick_size"), ("fee bps", "fee_bps"), ("offering opens", "primary_start"),
         ("offering closes", "primary_end"), ("maturity", "maturity_date"))
CAP_TABLE = (("issued", "issued"), ("  sold", "sold"), ("  team", "team"),
             ("  reserve", "reserve"), ("  platform", "platform"), ("  dividends", "dividends"),
             ("burned", "burned"), ("outstanding", "outstanding"), ("off platform", "off_platform"),
             ("held", "held"), ("treasury", "treasury"), ("holders", "holder_count"))
CAP_TABLE_WIDTH = 34
ADDRESSES_WIDTH = 66  # "identity registry", an address of 42 characters, padding and borders
ADDRESSES = (("token contract", "contract_address"), ("identity registry", "identity_registry_addr"),
             ("compliance", "compliance_addr"), ("deployed", "deployed_at"))


@dataclass(frozen=True)
class TokenView:
    """What the detail screen shows of a token, read in one transaction."""

    token: Token
    holders: int
    awaiting_payment: list[Allocation]
    deploy_steps: list[dict[str, Any]]
    cap_table: CapTable | None = None


def load_token_view(conn: Connection, actor: Actor, symbol: str,
                    with_allocations: bool = True) -> TokenView:
    """The token, its holder count, pending allocations (for a role that may read investors'
    allocations), deployment transactions and its cap table (admins and the token's issuer)."""
    token = get_token(conn, symbol)
    pending = (list_allocations(conn, str(token.id), status="pending_payment")
               if with_allocations else [])
    return TokenView(token, dashboard.holder_count(conn, token.id), pending,
                     dashboard.deploy_transactions(conn, token.id), _cap_table(conn, actor, token))


def _cap_table(conn: Connection, actor: Actor, token: Token) -> CapTable | None:
    if not policy.may(actor, "token.holders"):
        return None
    try:
        return cap_table(conn, actor, str(token.id))
    except NotFound:  # another issuer's token
        return None


class TokenDetailScreen(TokenActions):
    """A token's figures and addresses; the footer lists what can be done to it."""

    MODE = "tokens"
    READ_ACTION = "token.read"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, symbol: str):
        super().__init__()
        self.symbol = symbol
        self.view: TokenView | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="token-panels"):
            yield Static("Loading…", id="token-facts", classes="panel")
            shares = Static("", id="token-cap-table", classes="panel")
            shares.styles.width = CAP_TABLE_WIDTH  # the figures are short; the addresses are not
            yield shares
            addresses = Static("", id="token-addresses", classes="panel")
            addresses.styles.width = ADDRESSES_WIDTH  # whole addresses
            yield addresses
        yield Static("Allocations awaiting payment confirmation", id="allocations-title",
                     classes="title")
        allocations: DataTable[Any] = DataTable(id="allocations-table", cursor_type="row")
        allocations.add_columns("id", "investor", "quantity", "price", "amount", "subscribed")
        yield allocations
        yield Static("Deployment transactions", classes="title")
        yield ProgressBar(total=DEPLOY_TRANSACTIONS, show_eta=False, id="deploy-progress")
        steps: DataTable[Any] = DataTable(id="deploy-steps", cursor_type="row")
        steps.add_columns("step", "tx hash", "status", "gas used")
        yield steps

    def actor_known(self) -> None:
        """Investors' allocations only for a role that may read them (admins)."""
        for part in self.query("#allocations-title, #allocations-table"):
            part.display = self.may("allocation.read")
        super().actor_known()

    def reload(self) -> None:
        self.run_call(self.services.call, load_token_view, self.symbol,
                      self.may("allocation.read"), done=self.show_view, group="load",
                      exclusive=True)

    def show_view(self, view: TokenView) -> None:
        """Render the token's figures, allocations and deployment."""
        self.view = view
        token = view.token
        halted = [] if token.halt is None else [("halted", _halt_text(token.halt))]
        facts = _grid([(label, getattr(token, name)) for label, name in FACTS]
                      + [("holders", view.holders), *halted])
        panel = self.query_one("#token-facts", Static)
        panel.update(facts)
        panel.border_title = f"{token.symbol} · {token.name}"
        shares = self.query_one("#token-cap-table", Static)
        shares.display = view.cap_table is not None
        if view.cap_table is not None:
            shares.update(_grid([(label, getattr(view.cap_table, name))
                                 for label, name in CAP_TABLE]))
            shares.border_title = "cap table"
        self.query_one("#token-addresses", Static).update(
            _grid([(label, getattr(token, name)) for label, name in ADDRESSES]))
        fill_table(self.query_one("#allocations-table", DataTable), (
            (str(a.id), (a.id, a.email, a.quantity, a.price_per_token, a.amount, a.created_at))
            for a in view.awaiting_payment))
        self.show_deploy_steps(view.deploy_steps)

    def show_deploy_steps(self, steps: list[dict[str, Any]]) -> None:
        """The deployment's transactions, and how many of the five were sent."""
        self.query_one("#deploy-progress", ProgressBar).update(progress=len(steps))
        fill_table(self.query_one("#deploy-steps", DataTable), (
            (s["tx_hash"], (s["step"], s["tx_hash"], s["status"], s["gas_used"])) for s in steps))

    def action_back(self) -> None:
        self.app.pop_screen()


def _halt_text(halt: dict[str, Any]) -> str:
    """Until when (or until resumed) and why."""
    until = "resumed" if halt["until"] is None else cell_text(halt["until"])
    return f"until {until}: {halt['reason']}"


def _grid(rows: list[tuple[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, cell_text(value))
    return grid
