"""SVG screenshots of the overview and the market: `python -m alefctl.tui.screenshots docs/`.

Runs the console headless on the configured database and chain (ALEF_HOME, ALEF_DATABASE_URL,
...) as the user of ALEF_API_KEY or `alefctl login`, and writes console-overview.svg and
console-market.svg.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import suppress
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from alefctl.credentials import api_key
from alefctl.db import connect
from alefctl.db.guard import ensure_schema_current
from alefctl.settings import load_settings
from alefctl.tui.app import AlefConsole
from alefctl.tui.services import ConsoleServices
from alefctl.workflows.api_keys import authenticate

SIZE = (160, 46)
OTHER_SCREENS = ("kyc", "businesses", "tokens", "settlement", "dividends", "audit", "mints",
                 "surveillance")
SETTLE_SECONDS = 2.5


async def settle(pilot: Pilot) -> None:
    """Let the screen's calls finish and one poll run."""
    await asyncio.sleep(SETTLE_SECONDS)
    with suppress(WorkerCancelled):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def take(out_dir: Path, market_symbol: str | None, every_screen: bool = False) -> list[Path]:
    """Run the console headless and save the screenshots; returns their paths."""
    settings = load_settings(None)
    engine = connect(settings)
    ensure_schema_current(engine, settings)
    secret, _origin = api_key(settings)
    if secret is None:
        raise SystemExit("no identity: run `alefctl login` or set ALEF_API_KEY")
    with engine.begin() as conn:
        actor = authenticate(conn, secret, "console")
    services = ConsoleServices.from_settings(settings, engine, actor.email)
    app = AlefConsole(services)
    saved: list[Path] = []

    async def shoot(pilot: Pilot) -> None:
        await settle(pilot)
        saved.append(Path(app.save_screenshot("console-overview.svg", str(out_dir))))
        app.open_market(market_symbol or _first_market(services))
        await settle(pilot)
        saved.append(Path(app.save_screenshot("console-market.svg", str(out_dir))))
        for mode in OTHER_SCREENS if every_screen else ():
            app.switch_mode(mode)
            await settle(pilot)
            saved.append(Path(app.save_screenshot(f"console-{mode}.svg", str(out_dir))))
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=shoot)
    return saved


def _first_market(services: ConsoleServices) -> str:
    from alefctl.tui.market_data import market_symbols

    symbols = services.read(market_symbols)
    if not symbols:
        raise SystemExit("no token has an order book yet: pass --market SYMBOL")
    return symbols[0]


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory for the SVG files")
    parser.add_argument("--market", help="token symbol for the market screen (default: the first)")
    parser.add_argument("--all", action="store_true", help="also every other screen")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path in take(args.out_dir, args.market, args.all):
        print(path)


if __name__ == "__main__":
    main()
