"""The audit log: one audit_logs row per admin or issuer action, inside the action's transaction,
sealed into one hash chain that `alefctl audit verify` walks.

The chain (the audit_chain migration in alefctl/db/migrations/). Every row carries `seq` (1, 2,
3, ... without gaps), `prev_hash` (the row_hash of row seq - 1; 32 zero bytes, GENESIS, for row
1) and `row_hash = sha256(prev_hash || message)`. The message is canonical text, hashed as
UTF-8: for each field of MESSAGE_FIELDS in order, `-` when it is NULL, else its length in
characters, `:` and its text (lengths make it unambiguous whatever a field contains). The texts
are PostgreSQL's own: the seq in decimal, UUIDs in lower case with hyphens, created_at in UTC to
the microsecond (`2024-05-01T09:30:00.123456Z`), before and after as jsonb prints them (keys
sorted, one form per value). A row changed after its seal no longer matches its hash; a row
deleted leaves a gap in seq and a prev_hash that matches nothing.

Order. Rows are sealed when their transaction commits, by a deferred constraint trigger that
locks the one row of audit_chain_head (the chain's last seq and hash), links and hashes the new
row and moves the head. Concurrent audited transactions therefore take turns only over their
commit, not from their audit row on, and the head is the last row lock any transaction takes:
a workflow that writes its audit row and then locks users (go-live does) cannot deadlock with
one that locks those users and then writes its own. The cost per audited action is one row lock,
one UPDATE of the new audit row (its chain columns) and one of the head, all inside the
database at commit: no extra round trip. Sealing in write_audit instead would hold the head
from the audit row to the commit and put it in the middle of every lock order.

Audited transactions run at READ COMMITTED, as every workflow's do: under REPEATABLE READ the
seal's lock of the head would fail with a serialization error whenever another audited
transaction committed after the snapshot was taken.

write_audit itself only inserts: the database seals every row, whoever inserts it, so no path
can add an unsealed row (only a superuser who disables the triggers can, and verify reports it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, text

from alefctl.ids import new_id
from alefctl.jsonfmt import to_jsonable

GENESIS = bytes(32)
MESSAGE_FIELDS = ("seq", "id", "created_at", "actor_id", "source", "action", "object_type",
                  "object_id", "before", "after")
# The fields of MESSAGE_FIELDS as text (PostgreSQL's forms), then prev_hash and row_hash, in
# chain order. A server-side cursor streams them.
CHAIN_ROWS_SQL = (
    "SELECT seq, id::text, to_char(created_at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor_id::text, source, action, object_type,"
    " object_id::text, before::text, after::text, prev_hash, row_hash"
    " FROM audit_logs WHERE seq IS NOT NULL ORDER BY seq"
)
STREAM_BATCH = 20_000


def write_audit(
    conn: Connection,
    *,
    actor_id: uuid.UUID | None,
    source: str,
    action: str,
    object_type: str,
    object_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; the caller's transaction makes it atomic with the action, and its
    commit seals the row into the chain."""
    conn.execute(
        text(
            "INSERT INTO audit_logs (id, actor_id, action, object_type, object_id, before, after,"
            " source) VALUES (:id, :actor, :action, :otype, :oid, CAST(:before AS jsonb),"
            " CAST(:after AS jsonb), :source)"
        ),
        {
            "id": new_id(),
            "actor": actor_id,
            "action": action,
            "otype": object_type,
            "oid": object_id,
            "before": None if before is None else json.dumps(to_jsonable(before)),
            "after": None if after is None else json.dumps(to_jsonable(after)),
            "source": source,
        },
    )


def chain_message(fields: Sequence[object]) -> bytes:
    """The canonical message of one row: its MESSAGE_FIELDS as text (None for NULL), in order."""
    texts = ["-" if value is None else f"{len(str(value))}:{value}" for value in fields]
    return "".join(texts).encode()


def row_hash(prev_hash: bytes, fields: Sequence[object]) -> bytes:
    """sha256(prev_hash || message): the hash a row must carry."""
    return hashlib.sha256(prev_hash + chain_message(fields)).digest()


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold.

    kind: `changed` (the row's content or its prev_hash no longer gives its row_hash), `relinked`
    (its prev_hash is not the previous row's hash: that row was changed and re-hashed), `deleted`
    (rows seq .. seq + missing - 1 are gone; id is the first row after them, None at the end),
    `head` (the chain head is missing or does not match the last row), `unsealed` (a row outside
    the chain: inserted with the triggers off).
    """

    kind: str
    seq: int | None
    id: str | None
    missing: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return asdict(self)


@dataclass(frozen=True)
class ChainReport:
    """What verify found: rows checked, the head, and the first break (None if intact)."""

    rows: int
    head_seq: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        """True when the whole chain holds."""
        return self.first_break is None

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `alefctl audit verify --json`."""
        return {"ok": self.ok, "rows": self.rows,
                "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_break": None if self.first_break is None else self.first_break.to_dict()}


def walk_chain(rows: Iterable[Sequence[Any]], head_seq: int, head_hash: bytes) -> ChainReport:
    """Check rows of CHAIN_ROWS_SQL, in seq order, against each other and the head.

    Stops at the first break. A row is checked in three steps: its seq follows the previous
    one (else rows were deleted), its prev_hash is the previous row's hash (else that row was
    re-hashed), its own hash recomputes (else it was changed).
    """
    sha256 = hashlib.sha256
    expected_seq = 1
    prev = GENESIS
    last_id = None
    for row in rows:
        seq = row[0]
        if seq != expected_seq:
            before = (f"from #{expected_seq - 1} ({last_id})" if last_id is not None
                      else "from its start")
            return _report(expected_seq - 1, head_seq, head_hash, ChainBreak(
                "deleted", expected_seq, row[1], seq - expected_seq,
                f"audit rows #{expected_seq}..#{seq - 1} are missing (deleted): the chain goes"
                f" {before} to #{seq} ({row[1]})"))
        if row[10] != prev:
            cause = (f"row #{seq - 1} ({last_id}) was changed and re-hashed" if last_id is not None
                     else "it does not start from the genesis")
            return _report(seq - 1, head_seq, head_hash, ChainBreak(
                "relinked", seq, row[1], 0,
                f"audit row #{seq} ({row[1]}) does not link to the row before it: {cause}"))
        # chain_message, inlined: this loop runs once per row of the whole log.
        text_seq = str(seq)
        message = f"{len(text_seq)}:{text_seq}" + "".join(
            ["-" if value is None else f"{len(value)}:{value}" for value in row[1:10]])
        digest = sha256(prev + message.encode()).digest()
        if digest != row[11]:
            return _report(seq - 1, head_seq, head_hash, ChainBreak(
                "changed", seq, row[1], 0,
                f"audit row #{seq} ({row[1]}) does not match its hash: changed after it was"
                " written"))
        prev = digest
        last_id = row[1]
        expected_seq += 1
    last = expected_seq - 1
    if last < head_seq:
        return _report(last, head_seq, head_hash, ChainBreak(
            "deleted", last + 1, None, head_seq - last,
            f"audit rows #{last + 1}..#{head_seq} are missing (deleted): the chain ends at"
            f" #{last} ({last_id}), its head at #{head_seq}"))
    if last > head_seq or prev != head_hash:
        return _report(last, head_seq, head_hash, ChainBreak(
            "head", last, last_id, 0,
            f"the chain head (#{head_seq}) does not match the last row #{last} ({last_id})"))
    return _report(last, head_seq, head_hash, None)


def verify(conn: Connection) -> ChainReport:
    """Walk the whole chain (run it in a REPEATABLE READ transaction: rows and head of one
    snapshot). Rows stream from a server-side cursor; hashes are recomputed here, in Python,
    without the database's functions."""
    head = conn.execute(text("SELECT seq, hash FROM audit_chain_head")).first()
    if head is None:
        return _report(0, 0, GENESIS, ChainBreak(
            "head", None, None, 0, "the chain head (audit_chain_head) is missing"))
    head_seq, head_hash = head
    unsealed = conn.execute(text(
        "SELECT id::text FROM audit_logs WHERE seq IS NULL ORDER BY created_at, id LIMIT 1"
    )).scalar()
    driver = conn.connection.driver_connection
    with driver.cursor(name="audit_verify") as cursor:  # type: ignore[union-attr]
        cursor.itersize = STREAM_BATCH
        cursor.execute(CHAIN_ROWS_SQL)
        report = walk_chain(cursor, head_seq, bytes(head_hash))
    if report.ok and unsealed is not None:
        return _report(report.rows, head_seq, bytes(head_hash), ChainBreak(
            "unsealed", None, unsealed, 0,
            f"audit row {unsealed} is outside the chain (inserted with the triggers disabled)"))
    return report


def _report(rows: int, head_seq: int, head_hash: bytes,
            first_break: ChainBreak | None) -> ChainReport:
    return ChainReport(rows, head_seq, bytes(head_hash).hex(), first_break)
