-- Token withdrawals (alefctl/workflows/custody.py): an investor takes tokens off the platform.
-- An admin's approval removes them from the books (the wallets row) and queues an agent
-- operation of kind 'withdraw': the agent force-transfers them from the investor's registered
-- (platform-custodied) wallet to the outside wallet the investor named (to_wallet), registered
-- with the investor's identity first. user_id = to_user_id = the investor. Safe to run again.
ALTER TABLE agent_operations DROP CONSTRAINT IF EXISTS agent_operations_kind_check;
ALTER TABLE agent_operations ADD CONSTRAINT agent_operations_kind_check CHECK (kind IN
    ('freeze', 'unfreeze', 'forced_transfer', 'burn', 'recover', 'withdraw'));
ALTER TABLE agent_operations DROP CONSTRAINT IF EXISTS agent_operations_withdraw_shape;
ALTER TABLE agent_operations ADD CONSTRAINT agent_operations_withdraw_shape CHECK (kind <> 'withdraw'
    OR (quantity IS NOT NULL AND to_wallet IS NOT NULL AND to_user_id = user_id));
