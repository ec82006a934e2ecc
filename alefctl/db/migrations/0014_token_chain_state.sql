-- Token status and compliance rules, kept on-chain by chain jobs (docs/architecture.md, "Custody
-- and delivery versus payment"; alefctl/workflows/onchain/token_state.py).
-- token_compliance_rules: what an issuer's counsel asked for, per token; checked before orders
-- and subscriptions are accepted (alefctl/workflows/compliance.py) and enforced on-chain by the
-- token's Compliance contract once the job has run. NULL limits mean no limit. allowed_countries
-- are countries whose denial was lifted (`--allow-country`): the job lifts their restriction
-- on-chain too.
CREATE TABLE IF NOT EXISTS token_compliance_rules (
    token_id          UUID PRIMARY KEY REFERENCES tokens(id),
    denied_countries  TEXT[] NOT NULL DEFAULT '{}'
        CHECK (array_to_string(denied_countries, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$'),
    allowed_countries TEXT[] NOT NULL DEFAULT '{}'
        CHECK (array_to_string(allowed_countries, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$'),
    max_balance       BIGINT CHECK (max_balance > 0),
    max_holders       INTEGER CHECK (max_holders > 0),
    updated_by        UUID REFERENCES users(id),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- token_chain_jobs: one request to bring a token's on-chain state (paused, compliance rules) to
-- what the database says, queued in the transaction that changed the database. The worker reads
-- the desired state when it runs and sends only what differs, so a job is idempotent; the hash
-- of the transaction in flight is recorded before broadcast, so a crash is resumed, not redone.
CREATE TABLE IF NOT EXISTS token_chain_jobs (
    id            UUID PRIMARY KEY,
    token_id      UUID NOT NULL REFERENCES tokens(id),
    kind          VARCHAR(20) NOT NULL CHECK (kind IN ('status', 'compliance')),
    status        VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    tx_hash       tx_hash,
    error         TEXT,
    requested_by  UUID REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at       TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS token_chain_jobs_open ON token_chain_jobs (created_at, id)
    WHERE status IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS token_chain_jobs_token ON token_chain_jobs (token_id, created_at);
