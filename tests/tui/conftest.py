"""Console fixtures: the app's services on this test's database and the session's embedded EVM."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

import pytest
from platform_builders import CIPHER

from alefctl.tui.services import ConsoleServices


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--snapshot-update", action="store_true", dest="snapshot_update",
                     help="rewrite the console's screen snapshots (tests/tui/snapshots/)")


@pytest.fixture
def console_as(engine):  # noqa: ANN001, ANN201
    """Services acting as a user (by email), as `alefctl console --as EMAIL` builds them."""

    def make(email: str, chain_client=None) -> ConsoleServices:  # noqa: ANN001
        return ConsoleServices(engine, email, lambda: CIPHER, lambda: nullcontext(chain_client),
                               Decimal("2"))

    return make
