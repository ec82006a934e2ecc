-- Agent operations on holders (alefctl/workflows/holders/): freeze, forced transfer, burn and
-- wallet recovery, decided in the database first and then done on-chain as jobs.

-- A position's frozen part: is_frozen freezes the whole wallet (no sell order at all),
-- frozen_quantity freezes that many tokens. Frozen tokens are never locked in an order: the
-- order path's free quantity is balance - locked_balance - frozen_quantity.
ALTER TABLE wallets ADD COLUMN IF NOT EXISTS frozen_quantity BIGINT NOT NULL DEFAULT 0
    CHECK (frozen_quantity >= 0);
ALTER TABLE wallets ADD COLUMN IF NOT EXISTS is_frozen BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE wallets DROP CONSTRAINT IF EXISTS wallets_frozen_not_locked;  -- re-runnable
ALTER TABLE wallets ADD CONSTRAINT wallets_frozen_not_locked
    CHECK (locked_balance + frozen_quantity <= balance);

-- A lost wallet replaced by a new one: `moving` while its per-token jobs run, `completed` once
-- users.wallet_address names the new wallet.
CREATE TABLE IF NOT EXISTS wallet_recoveries (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(id),
    old_wallet    evm_address NOT NULL,
    new_wallet    evm_address NOT NULL,
    reason        TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    approval_id   UUID REFERENCES approval_requests(id),
    status        VARCHAR(20) NOT NULL DEFAULT 'moving'
        CHECK (status IN ('moving', 'completed')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at  TIMESTAMPTZ,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CHECK (old_wallet <> new_wallet)
);
CREATE UNIQUE INDEX IF NOT EXISTS wallet_recoveries_one_moving
    ON wallet_recoveries (user_id) WHERE status = 'moving';

-- One agent operation: its database part is done when the row is written; chain_status follows
-- its on-chain job (pending -> sending -> done | failed; skipped for a token not deployed).
CREATE TABLE IF NOT EXISTS agent_operations (
    id            UUID PRIMARY KEY,
    kind          VARCHAR(20) NOT NULL
        CHECK (kind IN ('freeze', 'unfreeze', 'forced_transfer', 'burn', 'recover')),
    token_id      UUID NOT NULL REFERENCES tokens(id),
    user_id       UUID NOT NULL REFERENCES users(id),
    to_user_id    UUID REFERENCES users(id),
    quantity      BIGINT CHECK (quantity > 0),  -- NULL: the whole wallet (freeze, unfreeze)
    from_wallet   evm_address,
    to_wallet     evm_address,
    reason        TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    approval_id   UUID REFERENCES approval_requests(id),
    recovery_id   UUID REFERENCES wallet_recoveries(id),
    requested_by  UUID NOT NULL REFERENCES users(id),
    chain_status  VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (chain_status IN ('pending', 'sending', 'done', 'failed', 'skipped')),
    tx_hash       tx_hash,
    tx_nonce      BIGINT,
    chain_error   TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (kind <> 'recover' OR recovery_id IS NOT NULL),
    CHECK (kind <> 'forced_transfer' OR to_user_id IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS agent_operations_queue ON agent_operations (created_at)
    WHERE chain_status IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS agent_operations_token ON agent_operations (token_id, created_at);
