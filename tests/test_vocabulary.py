"""The order vocabulary is declared once (alefctl/workflows/trading/vocabulary.py); the
database's CHECK constraints and the engine's enums spell the same values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine
from alefctl.workflows.trading import vocabulary

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = (ROOT / "schema.sql").read_text()
ORDERS_TABLE = SCHEMA[SCHEMA.index("CREATE TABLE orders ("):]
ORDERS_TABLE = ORDERS_TABLE[:ORDERS_TABLE.index("\n);")]


MIGRATIONS = sorted((ROOT / "alefctl" / "db" / "migrations").glob("*.sql"))


def check_values(column: str) -> set[str]:
    """The values that the orders table's CHECK (column IN (...)) allows: as schema.sql declares
    it, or as the last migration that redefines it (orders_<column>_check) does."""
    found = re.search(rf"CHECK \({column} IN \(([^)]*)\)\)", ORDERS_TABLE)
    assert found, column
    for migration in MIGRATIONS:
        redefined = re.findall(rf"ADD CONSTRAINT orders_{column}_check\s+CHECK \({column} IN"
                               r" \(([^)]*)\)\)", migration.read_text())
        if redefined:
            found = [None, redefined[-1]]
    return set(re.findall(r"'([^']*)'", found[1]))


@pytest.mark.parametrize(("column", "values"), [
    ("side", vocabulary.SIDES),
    ("order_type", vocabulary.ORDER_TYPES),
    ("time_in_force", vocabulary.TIME_IN_FORCE),
    ("stp_mode", vocabulary.STP_MODES),
    ("status", vocabulary.ORDER_STATUSES),
])
def test_schema_checks_allow_the_vocabulary(column: str, values: tuple[str, ...]) -> None:
    assert check_values(column) == set(values)
    assert len(values) == len(set(values))


def test_open_order_indexes_cover_the_open_statuses() -> None:
    indexes = re.findall(r"ON orders \([^)]*\)\s+WHERE (?:[^;]* AND )?status IN \(([^)]*)\);", SCHEMA)
    assert len(indexes) == 2
    for listed in indexes:
        assert f"({listed})" == vocabulary.OPEN_STATUSES_SQL


def test_the_engine_spells_the_same_values() -> None:
    assert {str(v) for v in engine.Side} == set(vocabulary.SIDES)
    assert {str(v) for v in engine.OrderType} == set(vocabulary.ORDER_TYPES)
    assert {str(v) for v in engine.TimeInForce} == set(vocabulary.TIME_IN_FORCE)
    assert {str(v) for v in engine.SelfTradePrevention} == set(vocabulary.STP_MODES)


def test_subsets_and_defaults_are_words_of_the_vocabulary() -> None:
    statuses = set(vocabulary.ORDER_STATUSES)
    assert set(vocabulary.OPEN_STATUSES) | set(vocabulary.FINISHED_STATUSES) == statuses
    assert not set(vocabulary.OPEN_STATUSES) & set(vocabulary.FINISHED_STATUSES)
    assert set(vocabulary.PRICED_TYPES) | set(vocabulary.STOP_TYPES) < set(vocabulary.ORDER_TYPES)
    assert vocabulary.DEFAULT_ORDER_TYPE in vocabulary.ORDER_TYPES
    assert vocabulary.DEFAULT_TIME_IN_FORCE in vocabulary.TIME_IN_FORCE
    assert vocabulary.DEFAULT_STP_MODE in vocabulary.STP_MODES


def test_no_other_module_spells_the_open_statuses() -> None:
    spelled = [path.relative_to(ROOT) for path in (ROOT / "alefctl").rglob("*.py")
               if re.search(r"""['"]partially_filled['"],\s*['"]pending_stop['"]""",
                            path.read_text())
               and path.name != "vocabulary.py"]
    assert spelled == []


def test_the_order_body_is_the_workflows_request_and_documents_the_vocabulary() -> None:
    from alefctl.server.routes import body_schema, parse_body
    from alefctl.workflows.orders import OrderRequest

    body = body_schema(OrderRequest)["requestBody"]["content"]["application/json"]["schema"]
    fields = body["properties"]
    assert fields["side"]["enum"] == list(vocabulary.SIDES)
    assert fields["order_type"]["enum"] == list(vocabulary.ORDER_TYPES)
    assert fields["time_in_force"]["enum"] == list(vocabulary.TIME_IN_FORCE)
    assert fields["self_trade_prevention"]["enum"] == list(vocabulary.STP_MODES)
    assert body["required"] == ["token_id", "side", "quantity"]
    parsed = parse_body(OrderRequest, b'{"token_id": "DATE", "side": "buy", "quantity": 3}')
    assert parsed == OrderRequest("DATE", "buy", vocabulary.DEFAULT_ORDER_TYPE, 3)
