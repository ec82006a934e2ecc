"""Positions at any instant, from positions_history (migration 0017).

Every change of a wallet's balance is a positions_history row (written by triggers on wallets,
in the changing transaction) with the balance it left and when. A holder's position at instant T
is the balance of their last row at or before T, and they hold it since the last row at or
before T that started from zero (balance = change). The holder register and the record-date
snapshot of dividends both read POSITIONS_AS_OF, served by the index (token_id, user_id,
changed_at, id).
"""

from __future__ import annotations

# (user_id, quantity) of every holder of :token with a position at :as_of: for each wallet of
# the token (every holder there ever was has one), its last change at or before :as_of, one
# probe of the index each, so the cost follows the holders, not the length of the history.
POSITIONS_AS_OF = (
    "SELECT w.user_id, h.balance AS quantity FROM wallets w CROSS JOIN LATERAL (SELECT balance"
    " FROM positions_history p WHERE p.token_id = w.token_id AND p.user_id = w.user_id"
    " AND p.changed_at <= :as_of ORDER BY p.changed_at DESC, p.id DESC LIMIT 1) h"
    " WHERE w.token_id = :token AND h.balance > 0"
)
# held_since of a row p of POSITIONS_AS_OF: its last change from zero at or before :as_of.
HELD_SINCE_LATERAL = (
    "LEFT JOIN LATERAL (SELECT s.changed_at AS held_since FROM positions_history s"
    " WHERE s.token_id = :token AND s.user_id = p.user_id AND s.changed_at <= :as_of"
    " AND s.balance = s.change ORDER BY s.changed_at DESC, s.id DESC LIMIT 1) a ON true"
)
# (symbol, quantity) of every token :user held just before :before (a statement's opening and
# closing positions): each of the user's wallets, its last change before that instant.
HOLDINGS_BEFORE = (
    "SELECT t.symbol, h.balance AS quantity FROM wallets w JOIN tokens t ON t.id = w.token_id"
    " CROSS JOIN LATERAL (SELECT balance FROM positions_history p WHERE p.token_id = w.token_id"
    " AND p.user_id = w.user_id AND p.changed_at < :before ORDER BY p.changed_at DESC, p.id DESC"
    " LIMIT 1) h WHERE w.user_id = :user AND h.balance > 0 ORDER BY t.symbol"
)
