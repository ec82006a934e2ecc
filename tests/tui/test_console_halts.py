"""Halts in the console: h halts the highlighted token with a reason, u lifts the halt."""

from __future__ import annotations

import pytest
from platform_builders import live_token
from test_console_tokens import answer, open_token, sources
from tui_helpers import SIZE, until

from alefctl.tui.app import AlefConsole

pytestmark = pytest.mark.asyncio


async def test_halt_then_resume_with_reasons(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 10})
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        await answer(pilot, app, "h", *"news pending", "enter")
        await until(pilot, lambda: detail.view.token.halt is not None)
        assert detail.view.token.halt["reason"] == "news pending"
        await answer(pilot, app, "u", *"news out", "enter")
        await until(pilot, lambda: detail.view.token.halt is None)
        assert detail.view.token.status == "secondary"
    assert sources(engine, "token.halt") == ["console"]
    assert sources(engine, "token.halt_lift") == ["console"]
