-- Offerings that hold in every case (workflows/offering.py, offering_admin.py, tokens.py).
-- platform_pct: the business's platform (alef) allocation, fixed when the token is created, so
-- that primary + team + reserve + platform fit the supply and a sell-out can always go live.
-- NULL on tokens created before this migration: their go-live reads the business as before.
-- soft_cap: the least the offering must raise; below it the offering fails at its end and
-- every subscription is refunded. max_investment: the most tokens one investor may subscribe,
-- summed over their subscriptions (min_investment is summed the same way).
-- lockup_until: team and reserve tokens cannot be sold or withdrawn before it.
ALTER TABLE tokens
    ADD COLUMN IF NOT EXISTS platform_pct   NUMERIC(5, 2) CHECK (platform_pct >= 0),
    ADD COLUMN IF NOT EXISTS soft_cap       usd CHECK (soft_cap > 0),
    ADD COLUMN IF NOT EXISTS max_investment BIGINT CHECK (max_investment > 0),
    ADD COLUMN IF NOT EXISTS lockup_until   TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS cancelled_at   TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS cancel_reason  TEXT;

DO $$
DECLARE found_name text;
BEGIN
    -- schema.sql's unnamed checks: the split summing to 100 and the status list
    FOR found_name IN
        SELECT conname FROM pg_constraint WHERE conrelid = 'tokens'::regclass AND contype = 'c'
           AND (pg_get_constraintdef(oid) LIKE '%primary_offering_pct + team_pct%'
                OR conname = 'tokens_status_check')
    LOOP
        EXECUTE format('ALTER TABLE tokens DROP CONSTRAINT %I', found_name);
    END LOOP;
    FOR found_name IN
        SELECT conname FROM pg_constraint WHERE conrelid = 'token_allocations'::regclass
           AND conname IN ('token_allocations_status_check',
                           'token_allocations_allocation_type_check')
    LOOP
        EXECUTE format('ALTER TABLE token_allocations DROP CONSTRAINT %I', found_name);
    END LOOP;
END $$;

ALTER TABLE tokens ADD CONSTRAINT tokens_split_fits_supply
    CHECK (primary_offering_pct + team_pct + reserve_pct + coalesce(platform_pct, 0) <= 100);
ALTER TABLE tokens ADD CONSTRAINT tokens_status_check
    CHECK (status IN ('draft', 'primary', 'secondary', 'paused', 'matured', 'delisted',
                      'cancelled'));
ALTER TABLE tokens ADD CONSTRAINT tokens_cancelled_has_reason
    CHECK (status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL));
-- refunded: the offering was cancelled or failed and the investor got their money back
ALTER TABLE token_allocations ADD CONSTRAINT token_allocations_status_check
    CHECK (status IN ('pending_payment', 'confirmed', 'rejected', 'refunded'));
ALTER TABLE token_allocations ADD CONSTRAINT token_allocations_allocation_type_check
    CHECK (allocation_type IN ('primary', 'secondary', 'airdrop', 'go_live', 'dividend',
                               'team', 'reserve'));
-- A refunded allocation whose tokens were minted is burned on-chain (a chain job like a mint:
-- minted -> burning (hash written before it is sent) -> burned; workflows/onchain/burning.py).
ALTER TABLE token_allocations ADD COLUMN IF NOT EXISTS burn_tx_hash tx_hash;
DO $$
DECLARE found_name text;
BEGIN
    FOR found_name IN
        SELECT conname FROM pg_constraint WHERE conrelid = 'token_allocations'::regclass
           AND conname = 'token_allocations_on_chain_status_check'
    LOOP
        EXECUTE format('ALTER TABLE token_allocations DROP CONSTRAINT %I', found_name);
    END LOOP;
END $$;
ALTER TABLE token_allocations ADD CONSTRAINT token_allocations_on_chain_status_check
    CHECK (on_chain_status IN ('pending', 'minting', 'minted', 'failed', 'burning', 'burned'));
CREATE INDEX IF NOT EXISTS token_allocations_burn_queue ON token_allocations (updated_at)
    WHERE status = 'refunded' AND on_chain_status IN ('minted', 'burning');
-- Rolling investment limits (workflows/investment_limits.py) sum an investor's subscriptions
-- of the last 12 months.
CREATE INDEX IF NOT EXISTS token_allocations_investor
    ON token_allocations (user_id, created_at) WHERE allocation_type = 'primary';
