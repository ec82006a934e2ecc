-- Token withdrawals and deposits (alefctl/workflows/custody.py): tokens leave or come back to
-- the platform as agent operations. A 'withdraw' is approved by an admin, which removes the
-- tokens from the books (the wallets row) and queues the job: the agent force-transfers them from
-- the investor's registered (platform-custodied) wallet to the outside wallet the investor named
-- (to_wallet), registered with the investor's identity first. A 'deposit' brings tokens back from
-- an outside wallet the investor withdrew to (from_wallet) into their registered wallet
-- (to_wallet); the books are credited only when the chain confirmed it (the job's 'done').
-- user_id = to_user_id = the investor. Safe to run again.
ALTER TABLE agent_operations DROP CONSTRAINT IF EXISTS agent_operations_kind_check;
ALTER TABLE agent_operations ADD CONSTRAINT agent_operations_kind_check CHECK (kind IN
    ('freeze', 'unfreeze', 'forced_transfer', 'burn', 'recover', 'withdraw', 'deposit'));
ALTER TABLE agent_operations DROP CONSTRAINT IF EXISTS agent_operations_custody_shape;
ALTER TABLE agent_operations ADD CONSTRAINT agent_operations_custody_shape CHECK (
    kind NOT IN ('withdraw', 'deposit') OR (quantity IS NOT NULL AND from_wallet IS NOT NULL
    AND to_wallet IS NOT NULL AND to_user_id = user_id));
CREATE INDEX IF NOT EXISTS agent_operations_outside_wallet ON agent_operations (lower(to_wallet))
    WHERE kind = 'withdraw';
