"""Ids people can type: every command that names an object takes its full id, a unique prefix
(8+ hex digits), the console's 12-digit tail or, where one exists, its natural key; an ambiguous
prefix exits 2 naming the matches, a too-short one 2, an unknown one 3 (workflows/refs.py).

One world with at least three objects of every kind is built once for the module; the cases
that change something (revoke, reject, retry) each use their own object."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from platform_builders import build_platform, live_token, wallet_for
from server_client import place, running_api
from sqlalchemy import Engine, create_engine, event, text

from alefctl.workflows.refs import KINDS, resolve_ref

CIPHER_KEY = "nCwRrD6fLMYqYOzdFvfU1lFf0FUT7iIKxk6dk5KPp3o="  # platform_builders.CIPHER's


@dataclass
class World:
    engine: Engine
    cli: Any  # conftest's Cli
    names: dict[str, str] = field(default_factory=dict)  # natural keys chosen by the builder

    def ids(self, table: str, where: str = "true") -> list[str]:
        with self.engine.connect() as conn:
            return [str(i) for i in conn.execute(text(f"SELECT id FROM {table} WHERE {where}"
                                                      " ORDER BY id")).scalars()]


@pytest.fixture(scope="module")
def world(new_database: Callable[[], str], chain_client: Any, make_cli: Callable[..., Any],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from alefctl.workflows.api_keys import create_api_key
    from alefctl.workflows.businesses import NewBusiness, register_business
    from alefctl.workflows.dividends.declaration import NewDividend, declare
    from alefctl.workflows.otc import set_trading_mode
    from alefctl.workflows.wallet import submit_deposit

    url, home = new_database(), tmp_path_factory.mktemp("refs")
    engine = create_engine(url)
    platform = build_platform(engine)
    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100, "dave": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    with running_api(engine, url, home / "server", platform.admin) as api:
        for _ in range(3):  # three trades, six filled orders, an empty book
            assert place(api, "alice", "sell", 1, "12.00").status_code == 201
            assert place(api, "carol", "buy", 1, "12.00").json()["status"] == "filled"
        with engine.begin() as conn:
            set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
        for _ in range(3):
            assert place(api, "carol", "buy", 1, "10.00").status_code in (201, 202)
    platform.draft_token("FIG")
    platform.draft_token("OLIVE")
    with engine.begin() as conn:
        palm = register_business(conn, platform.issuer, NewBusiness(
            "Palm Groves LLC", "REG-PALM-1", "AE", "agriculture", "0"))
        for _ in range(3):
            declare(conn, platform.issuer, NewDividend("DATE", "fiat", "0.10"), fee_pct="1.00")
            submit_deposit(conn, platform.admin, "bob@x.io", "5000", None, threshold=Decimal("1000"))
        keys = [create_api_key(conn, platform.admin, "alice@x.io", f"k{n}")[0] for n in range(4)]
        conn.execute(text("UPDATE token_allocations SET on_chain_status = 'failed',"
                          " on_chain_error = 'test'"))
    cli = make_cli(url, home / "cli", ALEF_SECURITY_ENCRYPTION_KEY=CIPHER_KEY)  # the builders' cipher
    yield World(engine, cli, {"business": str(palm.id), "business_name": "palm groves llc",
                              "api_key_prefix": keys[3].key_prefix, "api_key": str(keys[3].id)})
    engine.dispose()


@dataclass(frozen=True)
class Case:
    """A representative command of a kind: its words around the reference, and how its --json
    answer names the object it acted on."""

    kind: str
    command: tuple[str, ...]  # "REF" stands for the reference
    targets: str = "true"  # the objects the changing cases may act on
    answer_id: Callable[[Any, World, str], bool] = lambda out, world, expected: out["id"] == expected


def _requeued(out: Any, world: World, expected: str) -> bool:
    with world.engine.connect() as conn:
        status = conn.execute(text("SELECT on_chain_status FROM token_allocations WHERE id = :i"),
                              {"i": expected}).scalar_one()
    return out == {"requeued": 1} and status == "pending"


CASES = [
    Case("user", ("user", "show", "REF")),
    Case("token", ("token", "show", "REF")),
    Case("business", ("business", "show", "REF")),
    Case("api key", ("user", "api-key", "revoke", "REF", "--yes"), targets="name LIKE 'k_'"),
    Case("kyc application", ("kyc", "show", "REF")),
    Case("allocation", ("allocation", "retry", "REF"), answer_id=_requeued),
    Case("order", ("order", "show", "REF")),
    Case("trade", ("settlement", "show", "REF")),
    Case("otc order", ("otc", "reject", "REF", "--reason", "test")),
    Case("dividend", ("dividend", "show", "REF")),
    Case("approval request", ("approvals", "show", "REF")),
]
NATURAL = {"user": ("ALICE@x.io", "SELECT id FROM users WHERE email = 'alice@x.io'"),
           "token": ("fig", "SELECT id FROM tokens WHERE symbol = 'FIG'")}


def _run(world: World, case: Case, ref: str, *extra: str) -> Any:
    return world.cli(*[ref if word == "REF" else word for word in case.command], *extra)


def _ids(world: World, case: Case) -> list[str]:
    return world.ids(KINDS[case.kind].table)


def _targets(world: World, case: Case) -> list[str]:
    return world.ids(KINDS[case.kind].table, case.targets)


def _unique_prefix(target: str, others: list[str]) -> str:
    digits = target.replace("-", "")
    rest = [o.replace("-", "") for o in others if o != target]
    length = next(n for n in range(8, 33) if not any(o.startswith(digits[:n]) for o in rest))
    return digits[:length]


def _shared_prefix(ids: list[str]) -> tuple[str, str, str]:
    """The longest prefix two of the ids share (they are sorted), and those two."""
    plain = [i.replace("-", "") for i in ids]
    best = max(zip(plain, plain[1:], strict=False),
               key=lambda pair: next((n for n in range(32) if pair[0][n] != pair[1][n]), 32))
    length = next(n for n in range(32) if best[0][n] != best[1][n])
    return best[0][:length], str(uuid.UUID(best[0])), str(uuid.UUID(best[1]))


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_a_unique_prefix_names_the_object(world: World, case: Case) -> None:
    target = _targets(world, case)[0]
    result = _run(world, case, _unique_prefix(target, _ids(world, case)), "--json")
    assert result.exit_code == 0, result.stderr
    assert case.answer_id(json.loads(result.stdout), world, target)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_the_consoles_twelve_digit_tail_names_the_object(world: World, case: Case) -> None:
    target = _targets(world, case)[1]
    result = _run(world, case, target[-12:], "--json")
    assert result.exit_code == 0, result.stderr
    assert case.answer_id(json.loads(result.stdout), world, target)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_an_ambiguous_prefix_exits_2_naming_the_matches(world: World, case: Case) -> None:
    shared, first, second = _shared_prefix(_ids(world, case))
    assert len(shared) >= 8, "the world needs two objects of the kind created close together"
    result = _run(world, case, shared)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "ambiguous" in result.stderr
    assert first in result.stderr and second in result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_a_too_short_prefix_exits_2(world: World, case: Case) -> None:
    result = _run(world, case, _ids(world, case)[0][:6])
    assert result.exit_code == 2 and "at least 8 hex digits" in result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_an_unknown_reference_exits_3(world: World, case: Case) -> None:
    result = _run(world, case, "ffffffff-ff")
    assert result.exit_code == 3 and f"no {case.kind} matches 'ffffffff-ff'" in result.stderr


@pytest.mark.parametrize("case", [c for c in CASES if c.kind in ("user", "token", "business",
                                                                 "api key")],
                         ids=["user", "token", "business", "api key"])
def test_the_natural_key_names_the_object(world: World, case: Case) -> None:
    if case.kind in NATURAL:
        ref, query = NATURAL[case.kind]
        with world.engine.connect() as conn:
            expected = str(conn.execute(text(query)).scalar_one())
    else:
        ref = world.names["business_name" if case.kind == "business" else "api_key_prefix"]
        expected = world.names["business" if case.kind == "business" else "api_key"]
    result = _run(world, case, ref, "--json")
    assert result.exit_code == 0, result.stderr
    assert case.answer_id(json.loads(result.stdout), world, expected)
    # FACE is hex, yet a symbol: an unknown one is not found (3), not a too-short id (2)
    unknown = _run(world, case, {"user": "nobody@x.io", "token": "FACE", "business": "No Such Co",
                                 "api key": "alef_nosuchkey"}[case.kind])
    assert unknown.exit_code == 3, unknown.stderr


def test_a_natural_key_two_objects_share_is_ambiguous(world: World) -> None:
    result = world.cli("business", "show", "date farms llc")  # three businesses of that name
    assert result.exit_code == 2 and result.stderr.count("Date Farms LLC") >= 2


def test_a_prefix_finds_only_the_investors_own_orders(world: World) -> None:
    carol = world.cli.as_user("carol@x.io")
    alices = world.ids("orders", "user_id = (SELECT id FROM users WHERE email = 'alice@x.io')")
    mine = world.ids("orders", "user_id = (SELECT id FROM users WHERE email = 'carol@x.io')")
    assert carol.json("order", "show", mine[0][-12:])["id"] == mine[0]
    hidden = carol("order", "show", alices[0][-12:])
    assert hidden.exit_code == 3 and alices[0] not in hidden.stderr


def test_the_primary_key_index_serves_a_prefix(world: World) -> None:
    """The prefix is a range of the uuid column, which its primary key index answers (no cast of
    the column, which would need a scan of the table)."""
    from alefctl.workflows.actor import resolve_actor

    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    order_id = world.ids("orders")[0]
    with world.engine.connect() as conn:
        actor = resolve_actor(conn, "admin@x.io", "cli")
        event.listen(world.engine, "before_cursor_execute", capture)
        try:
            assert str(resolve_ref(conn, "order", order_id[:23], actor)) == order_id
        finally:
            event.remove(world.engine, "before_cursor_execute", capture)
        statement, params = statements[-1]
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {statement}", params).scalars())
    assert "orders_pkey" in plan and "Seq Scan" not in plan, plan


# Parameters that name an object in words other than "id": each is a filter by natural key only.
NOT_IDS = {("order", "list", "token"), ("settlement", "list", "user"), ("audit", "list", "actor")}
ROLE_EMAIL = {"admin": None, "issuer": "issuer@x.io", "investor": "carol@x.io",
              "kyc_reviewer": "reviewer@x.io", "operator": None}
VALID = {"token": "DATE", "user": "alice@x.io", "wallet": wallet_for("alice"), "mode": "full_orderbook",
         "type": "fiat", "symbol": "NEWSYM", "name": "n", "reason": "r", "from_user": "alice@x.io",
         "to_user": "bob@x.io"}


def _id_parameters() -> list[tuple[tuple[str, ...], Any, Any]]:
    """(command words, click command, parameter) for every parameter whose help says it takes an
    id, or whose name is an entity's; the walk covers every command registered."""
    import typer

    from alefctl.cli import app

    found = []

    def walk(command: Any, words: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (Typer bundles its own Click)
            for name, sub in command.commands.items():
                walk(sub, (*words, name))
            return
        for param in command.params:
            help_text = getattr(param, "help", None) or ""
            names_id = " id" in f" {help_text.lower()}".replace(",", " ").replace("(", " ")
            entity = param.name in {"order", "trade", "user", "token", "business", "allocation",
                                    "dividend", "request", "application", "otc", "key", "actor",
                                    "trades"}
            if (names_id or entity) and (*words, param.name) not in NOT_IDS:
                found.append((words, command, param))

    walk(typer.main.get_command(app), ())
    return found


def _arguments(command: Any, target: Any, ref: str) -> list[str]:
    """Words that reach the command body: the reference for the target, valid values for the
    other required parameters, --yes where there is one."""
    words: list[str] = []
    for param in command.params:
        value = ref if param is target else VALID.get(param.name or "", "1")
        if param is not target and not param.required:
            if "--yes" in getattr(param, "opts", []):
                words.append("--yes")
            continue
        if param.param_type_name == "argument":
            words.append(value)
        else:
            words += [param.opts[0], value]
    return words


def test_every_id_parameter_goes_through_the_resolver(world: World) -> None:
    """A new command (or option) that takes an id without the resolver fails here: given an
    8-digit prefix no object has, it must answer the resolver's "no <kind> matches" (exit 3),
    not "not a valid UUID" nor an empty success."""
    from alefctl.workflows import policy

    parameters = _id_parameters()
    assert len(parameters) >= 40
    unresolved = []
    for words, command, param in parameters:
        roles = policy.roles_for(getattr(command.callback, "alef_action", "token.read"))
        email = next(ROLE_EMAIL[r] for r in ("admin", "issuer", "investor", "kyc_reviewer")
                     if r in roles)
        cli = world.cli if email is None else world.cli.as_user(email)
        result = cli(*words, *_arguments(command, param, "ffffffff"))
        if result.exit_code != 3 or "matches 'ffffffff'" not in result.stderr:
            unresolved.append((" ".join(words), param.name, result.exit_code, result.stderr))
    assert unresolved == []


def test_readme_says_how_ids_are_given() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "at least 8 hex digits" in readme and "full UUIDs" in readme
