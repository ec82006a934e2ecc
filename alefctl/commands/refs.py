"""Ids on the command line: every argument or option that names an object goes through the one
resolver (workflows/refs.py), so a unique id prefix, the console's 12-digit tail or a natural key
(email, symbol, company name) works wherever an id does (README, "Ids")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from alefctl.commands.common import state

TokenArg = Annotated[str, typer.Argument(help="Token symbol, id or id prefix.")]


def resolved(kind: str, raw: str) -> str:
    """The full id of the one object of this kind that raw names; exit 2 when it names several
    (listing them) or cannot be a reference, exit 3 when it names none."""
    return resolved_all(kind, [raw])[0]


def resolved_all(kind: str, raws: Sequence[str]) -> list[str]:
    """Each reference resolved, in one transaction."""
    from alefctl.workflows.refs import resolve_ref

    with state.transaction() as (conn, actor):
        return [str(resolve_ref(conn, kind, raw, actor)) for raw in raws]


def resolved_opt(kind: str, raw: str | None) -> str | None:
    """An optional reference (a filter option), resolved when given."""
    return None if raw is None else resolved(kind, raw)
