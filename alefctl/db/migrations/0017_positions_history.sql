-- Position history and record dates (issue 19: dividends, the holder register).
--
-- positions_history: one row for every change of a wallet's balance (a trade, a mint or
-- allocation, a token dividend, a transfer, a burn), with the balance it left and when. It is
-- written by statement-level triggers on wallets in the same transaction as the change, so no
-- code path (today's or a later one) can change a position without its history; the order path
-- pays one INSERT ... SELECT per statement that touches wallets, not one per row.
--   changed_at  clock_timestamp() when the changing statement ran (not now(): a transaction
--               that waited for a wallet's row lock runs after the one it waited for, so one
--               wallet's rows are in time order); ties within a statement are broken by id.
--   balance     the wallet's balance after the change (locked tokens included: still held).
-- A holder's position at instant T is the balance of their last row at or before T; the
-- register and the record-date snapshot read it (alefctl/workflows/register.py). The table has
-- no foreign keys on purpose: its rows come from wallets, whose keys are checked, and the order
-- path should not pay two key checks per changed wallet. The id is a sequence, not a UUID: it
-- orders the changes of one statement.
CREATE TABLE IF NOT EXISTS positions_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id    UUID NOT NULL,
    user_id     UUID NOT NULL,
    change      BIGINT NOT NULL CHECK (change <> 0),
    balance     BIGINT NOT NULL CHECK (balance >= 0),
    changed_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS positions_history_as_of
    ON positions_history (token_id, user_id, changed_at, id) INCLUDE (balance, change);
-- the changes from zero: when a holding began (the register's acquisition date), one probe
CREATE INDEX IF NOT EXISTS positions_history_openings
    ON positions_history (token_id, user_id, changed_at, id) WHERE balance = change;

-- The application's role (migration 0007) records history through the triggers but may not
-- rewrite it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'alef_app') THEN
        GRANT SELECT, INSERT ON positions_history TO alef_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON positions_history FROM alef_app;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION positions_history_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO positions_history (token_id, user_id, change, balance)
    SELECT n.token_id, n.user_id, n.balance - o.balance, n.balance
      FROM changed_new n JOIN changed_old o ON o.id = n.id
     WHERE n.balance <> o.balance
     ORDER BY n.user_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION positions_history_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO positions_history (token_id, user_id, change, balance)
    SELECT token_id, user_id, balance, balance FROM changed_new WHERE balance <> 0
     ORDER BY user_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION positions_history_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO positions_history (token_id, user_id, change, balance)
    SELECT token_id, user_id, -balance, 0 FROM changed_old WHERE balance <> 0 ORDER BY user_id;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS wallets_history_update ON wallets;
CREATE TRIGGER wallets_history_update AFTER UPDATE ON wallets
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION positions_history_updated();
DROP TRIGGER IF EXISTS wallets_history_insert ON wallets;
CREATE TRIGGER wallets_history_insert AFTER INSERT ON wallets
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION positions_history_inserted();
DROP TRIGGER IF EXISTS wallets_history_delete ON wallets;
CREATE TRIGGER wallets_history_delete AFTER DELETE ON wallets
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION positions_history_deleted();

-- Backfill (only while the table is empty): each wallet's changes from the records that hold
-- them with their time: confirmed allocations (credited at confirmation), trades (at match) and
-- paid token dividends (at payment). A wallet whose records do not explain its balance, or
-- would pass through a negative balance, gets one row with its whole balance at its creation.
DO $$
BEGIN
    IF EXISTS (SELECT FROM positions_history) THEN
        RETURN;
    END IF;
    CREATE TEMPORARY TABLE backfill ON COMMIT DROP AS
    SELECT e.token_id, e.user_id, e.change, e.changed_at,
           sum(e.change) OVER (PARTITION BY e.token_id, e.user_id
                               ORDER BY e.changed_at, e.ord ROWS UNBOUNDED PRECEDING) AS balance
      FROM (SELECT token_id, user_id, quantity AS change, coalesce(confirmed_at, created_at)
                   AS changed_at, 0 AS ord FROM token_allocations WHERE status = 'confirmed'
            UNION ALL SELECT token_id, buyer_id, quantity, created_at, 1 FROM trades
            UNION ALL SELECT token_id, seller_id, -quantity, created_at, 2 FROM trades
            UNION ALL SELECT d.token_id, p.user_id, p.token_quantity, p.paid_at, 3
                        FROM dividend_payments p JOIN dividend_declarations d
                          ON d.id = p.dividend_id
                       WHERE d.dividend_type = 'token' AND p.status = 'paid'
                         AND p.token_quantity > 0) e;
    CREATE TEMPORARY TABLE explained ON COMMIT DROP AS
    SELECT w.token_id, w.user_id FROM wallets w
      JOIN (SELECT token_id, user_id, sum(change) AS total, min(balance) AS lowest
              FROM backfill GROUP BY token_id, user_id) b USING (token_id, user_id)
     WHERE b.total = w.balance AND b.lowest >= 0;
    INSERT INTO positions_history (token_id, user_id, change, balance, changed_at)
    SELECT b.token_id, b.user_id, b.change, b.balance, b.changed_at
      FROM backfill b JOIN explained x USING (token_id, user_id)
     WHERE b.change <> 0 ORDER BY b.changed_at;
    INSERT INTO positions_history (token_id, user_id, change, balance, changed_at)
    SELECT w.token_id, w.user_id, w.balance, w.balance, w.created_at FROM wallets w
     WHERE w.balance > 0 AND NOT EXISTS (SELECT FROM explained x
                                         WHERE x.token_id = w.token_id AND x.user_id = w.user_id)
     ORDER BY w.created_at;
END $$;

-- Record dates: a declaration whose record date has not passed has no snapshot yet
-- (snapshot_taken_at NULL, no payments); the snapshot is taken from positions_history once it
-- passes. treasury_included says whether the platform treasury's own holding was paid
-- (setting dividends.treasury_earns; declarations made before this migration included it).
ALTER TABLE dividend_declarations
    ADD COLUMN IF NOT EXISTS snapshot_taken_at  TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS treasury_included  BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE dividend_declarations ALTER COLUMN treasury_included DROP DEFAULT;
UPDATE dividend_declarations SET snapshot_taken_at = created_at WHERE snapshot_taken_at IS NULL;
CREATE INDEX IF NOT EXISTS dividend_declarations_snapshot_due ON dividend_declarations (record_date)
    WHERE snapshot_taken_at IS NULL;

-- Failed payments: a holder who may not receive (deactivated) is 'failed' with the reason; an
-- admin retries it (to the holder again) or re-routes it (paid_to: another user receives it).
ALTER TABLE dividend_payments
    ADD COLUMN IF NOT EXISTS failure_reason  TEXT,
    ADD COLUMN IF NOT EXISTS failed_at       TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS paid_to         UUID REFERENCES users(id);
ALTER TABLE dividend_payments DROP CONSTRAINT IF EXISTS dividend_payments_failure;
ALTER TABLE dividend_payments ADD CONSTRAINT dividend_payments_failure
    CHECK (status <> 'failed' OR coalesce(length(trim(failure_reason)), 0) > 0);
