"""Positions at any instant, from positions_history (migration 0017).

Every change of a wallet's balance is a positions_history row (written by triggers on wallets,
in the changing transaction) with the balance it left and when. A holder's position at instant T
is the balance of their last row at or before T, and they hold it since the last row at or
before T that started from zero (balance = change). The holder register and the record-date
snapshot of dividends both read POSITIONS_AS_OF: one ordered pass over the token's rows, served
by the index (token_id, user_id, changed_at, id).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, text

# (user_id, quantity, held_since) of every holder of :token with a position at :as_of.
POSITIONS_AS_OF = (
    "SELECT user_id, balance AS quantity, held_since FROM (SELECT user_id, balance,"
    " max(changed_at) FILTER (WHERE balance = change) OVER w AS held_since,"
    " lead(id) OVER w IS NULL AS latest FROM positions_history"
    " WHERE token_id = :token AND changed_at <= :as_of"
    " WINDOW w AS (PARTITION BY user_id ORDER BY changed_at, id)) h"
    " WHERE latest AND balance > 0"
)


def held_at(conn: Connection, token_id: uuid.UUID, as_of: datetime) -> dict[uuid.UUID, int]:
    """Each holder's quantity of a token at an instant."""
    rows = conn.execute(text(POSITIONS_AS_OF), {"token": token_id, "as_of": as_of})
    return {row.user_id: row.quantity for row in rows}

