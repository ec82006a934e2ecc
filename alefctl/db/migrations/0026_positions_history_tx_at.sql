-- When the transaction that changed a position began (now()), next to when the statement ran
-- (changed_at, clock_timestamp(): what orders a wallet's rows). The records of a change of a
-- token's supply (allocations, burns, deposits: alefctl/workflows/cap_table.py) carry their
-- transaction's now() too, so `check` compares the register with the supply on one clock
-- (register_sums_to_outstanding): a transaction that began before another but wrote its
-- positions after it commits is counted before it on both sides. Rows from before: their
-- changed_at.
ALTER TABLE positions_history ADD COLUMN IF NOT EXISTS tx_at TIMESTAMPTZ;
UPDATE positions_history SET tx_at = changed_at WHERE tx_at IS NULL;
ALTER TABLE positions_history ALTER COLUMN tx_at SET DEFAULT now();
ALTER TABLE positions_history ALTER COLUMN tx_at SET NOT NULL;
