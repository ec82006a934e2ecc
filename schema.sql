-- alefctl schema, version 1: the whole platform of spec/workflows.txt.
-- Applied once by `alefctl db init`; later changes are numbered files in alefctl/db/migrations/.
-- Money is NUMERIC in whole cents (the usd domain refuses sub-cent values instead of rounding
-- them silently); token quantities are whole tokens (BIGINT); times are TIMESTAMPTZ (UTC).

CREATE DOMAIN usd AS NUMERIC
    CHECK (VALUE = round(VALUE, 2) AND abs(VALUE) < 1e18);
CREATE DOMAIN evm_address AS VARCHAR(42)
    CHECK (VALUE ~ '^0x[0-9a-fA-F]{40}$');
CREATE DOMAIN tx_hash AS VARCHAR(66)
    CHECK (VALUE ~ '^0x[0-9a-f]{64}$');
CREATE DOMAIN country_code AS CHAR(2)
    CHECK (VALUE ~ '^[A-Z]{2}$');

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Users and access ----------------------------------------------------------------------------

CREATE TABLE users (
    id                    UUID PRIMARY KEY,
    email                 VARCHAR(254) NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    full_name             VARCHAR(200) NOT NULL CHECK (length(trim(full_name)) > 0),
    role                  VARCHAR(20) NOT NULL
        CHECK (role IN ('investor', 'issuer', 'admin', 'kyc_reviewer', 'system')),
    is_system             BOOLEAN NOT NULL DEFAULT false,
    is_activated          BOOLEAN NOT NULL DEFAULT true,
    country               country_code,
    kyc_status            VARCHAR(20) NOT NULL DEFAULT 'none'
        CHECK (kyc_status IN ('none', 'pending', 'in_review', 'approved', 'rejected')),
    kyc_level             SMALLINT NOT NULL DEFAULT 0 CHECK (kyc_level BETWEEN 0 AND 3),
    accreditation_status  VARCHAR(20) NOT NULL DEFAULT 'none'
        CHECK (accreditation_status IN ('none', 'retail', 'professional', 'institutional')),
    fatca_status          VARCHAR(20) NOT NULL DEFAULT 'none'
        CHECK (fatca_status IN ('none', 'clear', 'blocked')),
    wallet_address        evm_address UNIQUE,
    fiat_balance          usd NOT NULL DEFAULT 0.00 CHECK (fiat_balance >= 0),
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(id),
    name          VARCHAR(100) NOT NULL,
    key_prefix    VARCHAR(16) NOT NULL UNIQUE,
    key_hash      CHAR(64) NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE notifications (
    id           UUID PRIMARY KEY,
    user_id      UUID REFERENCES users(id),
    audience     VARCHAR(20) CHECK (audience IN ('investor', 'issuer', 'admin', 'kyc_reviewer')),
    kind         VARCHAR(40) NOT NULL,
    subject      VARCHAR(200) NOT NULL,
    object_type  VARCHAR(40),
    object_id    UUID,
    payload      JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at      TIMESTAMPTZ,
    CHECK (user_id IS NOT NULL OR audience IS NOT NULL)
);
CREATE INDEX notifications_unread ON notifications (audience, created_at) WHERE read_at IS NULL;

-- Append-only: every admin and issuer action, in the action's own transaction. The audit_chain
-- migration seals every row into a hash chain (seq, prev_hash, row_hash; alefctl/db/audit.py).
CREATE TABLE audit_logs (
    id           UUID PRIMARY KEY,
    actor_id     UUID REFERENCES users(id),
    action       VARCHAR(60) NOT NULL,
    object_type  VARCHAR(40) NOT NULL,
    object_id    UUID,
    before       JSONB,
    after        JSONB,
    source       VARCHAR(10) NOT NULL CHECK (source IN ('cli', 'console', 'api', 'worker')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_object ON audit_logs (object_type, object_id, created_at);
CREATE INDEX audit_logs_actor ON audit_logs (actor_id, created_at);

CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

-- KYC ------------------------------------------------------------------------------------------

CREATE TABLE kyc_applications (
    id                     UUID PRIMARY KEY,
    user_id                UUID NOT NULL REFERENCES users(id),
    status                 VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_review', 'approved', 'rejected')),
    full_name              VARCHAR(200) NOT NULL,
    nationality            VARCHAR(3) NOT NULL CHECK (nationality ~ '^[A-Z]{2,3}$'),
    date_of_birth          DATE,
    document_type          VARCHAR(20) NOT NULL
        CHECK (document_type IN ('passport', 'emirates_id', 'national_id', 'drivers_license')),
    document_number        TEXT NOT NULL,            -- encrypted (Fernet token), never plain
    document_number_last4  VARCHAR(4) NOT NULL,      -- for masked display
    verification_provider  VARCHAR(20) NOT NULL DEFAULT 'manual',
    kyc_level              SMALLINT CHECK (kyc_level BETWEEN 1 AND 3),
    reviewed_by            UUID REFERENCES users(id),
    reviewed_at            TIMESTAMPTZ,
    review_notes           TEXT,
    rejection_reason       TEXT,
    submitted_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (status <> 'rejected' OR coalesce(length(trim(rejection_reason)), 0) > 0),
    CHECK (status NOT IN ('approved', 'rejected') OR reviewed_by IS NOT NULL)
);
-- One open application per user (pending or in review).
CREATE UNIQUE INDEX kyc_applications_one_open ON kyc_applications (user_id)
    WHERE status IN ('pending', 'in_review');
CREATE INDEX kyc_applications_queue ON kyc_applications (status, submitted_at);

-- Businesses and tokens ------------------------------------------------------------------------

CREATE TABLE businesses (
    id                   UUID PRIMARY KEY,
    owner_id             UUID NOT NULL REFERENCES users(id),
    company_name         VARCHAR(200) NOT NULL CHECK (length(trim(company_name)) > 0),
    registration_number  VARCHAR(100) NOT NULL,
    country              country_code NOT NULL,
    industry             VARCHAR(100) NOT NULL,
    alef_allocation_pct  NUMERIC(5, 2) NOT NULL DEFAULT 0
        CHECK (alef_allocation_pct >= 0 AND alef_allocation_pct <= 100),
    status               VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'rejected', 'suspended')),
    rejection_reason     TEXT,
    reviewed_by          UUID REFERENCES users(id),
    reviewed_at          TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (country, registration_number),
    CHECK (status <> 'rejected' OR coalesce(length(trim(rejection_reason)), 0) > 0)
);

CREATE TABLE tokens (
    id                      UUID PRIMARY KEY,
    business_id             UUID NOT NULL REFERENCES businesses(id),
    created_by              UUID NOT NULL REFERENCES users(id),
    name                    VARCHAR(100) NOT NULL,
    symbol                  VARCHAR(10) NOT NULL UNIQUE CHECK (symbol ~ '^[A-Z][A-Z0-9]{0,9}$'),
    decimals                SMALLINT NOT NULL DEFAULT 18 CHECK (decimals BETWEEN 0 AND 18),
    status                  VARCHAR(20) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'primary', 'secondary', 'paused', 'matured', 'delisted')),
    trading_mode            VARCHAR(30) NOT NULL DEFAULT 'primary_subscription'
        CHECK (trading_mode IN ('primary_subscription', 'full_orderbook', 'fixed_price_otc')),
    total_supply            BIGINT NOT NULL CHECK (total_supply > 0),
    tokens_sold             BIGINT NOT NULL DEFAULT 0 CHECK (tokens_sold >= 0),
    tokens_reserved         BIGINT NOT NULL DEFAULT 0 CHECK (tokens_reserved >= 0),
    total_raised            usd NOT NULL DEFAULT 0.00 CHECK (total_raised >= 0),
    escrow_balance          usd NOT NULL DEFAULT 0.00 CHECK (escrow_balance >= 0),
    price_per_token         usd NOT NULL CHECK (price_per_token > 0),
    min_investment          BIGINT NOT NULL DEFAULT 1 CHECK (min_investment > 0),  -- tokens
    raise_currency          VARCHAR(10) NOT NULL DEFAULT 'USD' CHECK (raise_currency IN ('USD', 'USDC')),
    primary_offering_pct    NUMERIC(5, 2) NOT NULL CHECK (primary_offering_pct > 0),
    team_pct                NUMERIC(5, 2) NOT NULL DEFAULT 0 CHECK (team_pct >= 0),
    reserve_pct             NUMERIC(5, 2) NOT NULL DEFAULT 0 CHECK (reserve_pct >= 0),
    tick_size               usd NOT NULL DEFAULT 0.01 CHECK (tick_size > 0),
    fee_bps                 INTEGER NOT NULL DEFAULT 50 CHECK (fee_bps BETWEEN 0 AND 10000),
    otc_price               usd CHECK (otc_price > 0),
    nav_per_token           NUMERIC(20, 6) CHECK (nav_per_token > 0),
    nav_updated_at          TIMESTAMPTZ,
    maturity_date           TIMESTAMPTZ,
    primary_start           TIMESTAMPTZ,
    primary_end             TIMESTAMPTZ,
    contract_address        evm_address UNIQUE,
    identity_registry_addr  evm_address,
    compliance_addr         evm_address,
    deployed_at             TIMESTAMPTZ,
    secondary_enabled_at    TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (primary_offering_pct + team_pct + reserve_pct = 100),
    CHECK (tokens_sold + tokens_reserved <= total_supply),
    CHECK (primary_end IS NULL OR primary_start IS NULL OR primary_end > primary_start),
    CHECK (status = 'draft' OR contract_address IS NOT NULL OR status = 'delisted')
);
CREATE INDEX tokens_maturity_due ON tokens (maturity_date)
    WHERE status IN ('secondary', 'paused') AND maturity_date IS NOT NULL;

-- Token deployment is irreversible: once set, the contract addresses never change.
CREATE FUNCTION tokens_addresses_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.contract_address IS NOT NULL AND NEW.contract_address IS DISTINCT FROM OLD.contract_address)
       OR (OLD.identity_registry_addr IS NOT NULL
           AND NEW.identity_registry_addr IS DISTINCT FROM OLD.identity_registry_addr)
       OR (OLD.compliance_addr IS NOT NULL AND NEW.compliance_addr IS DISTINCT FROM OLD.compliance_addr)
    THEN
        RAISE EXCEPTION 'token % contract addresses are immutable once set', OLD.symbol
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tokens_addresses_immutable BEFORE UPDATE ON tokens
    FOR EACH ROW EXECUTE FUNCTION tokens_addresses_immutable();

CREATE TABLE nav_history (
    id             UUID PRIMARY KEY,
    token_id       UUID NOT NULL REFERENCES tokens(id),
    nav_per_token  NUMERIC(20, 6) NOT NULL CHECK (nav_per_token > 0),
    as_of          TIMESTAMPTZ NOT NULL,
    source         VARCHAR(100) NOT NULL DEFAULT 'manual',
    created_by     UUID REFERENCES users(id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX nav_history_token ON nav_history (token_id, as_of DESC);

CREATE TABLE offering_rounds (
    id               UUID PRIMARY KEY,
    token_id         UUID NOT NULL REFERENCES tokens(id),
    name             VARCHAR(100) NOT NULL,
    price_per_token  usd NOT NULL CHECK (price_per_token > 0),
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    sold             BIGINT NOT NULL DEFAULT 0 CHECK (sold >= 0),
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL,
    status           VARCHAR(20) NOT NULL DEFAULT 'planned'
        CHECK (status IN ('planned', 'open', 'closed', 'cancelled')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (sold <= quantity),
    CHECK (ends_at > starts_at)
);

-- Positions and money --------------------------------------------------------------------------

CREATE TABLE wallets (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id),
    token_id        UUID NOT NULL REFERENCES tokens(id),
    balance         BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    locked_balance  BIGINT NOT NULL DEFAULT 0 CHECK (locked_balance >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, token_id),
    CHECK (locked_balance <= balance)
);
CREATE INDEX wallets_holders ON wallets (token_id) WHERE balance > 0;

-- Stablecoin balances (USDC), one row per user and currency.
CREATE TABLE user_balances (
    user_id     UUID NOT NULL REFERENCES users(id),
    currency    VARCHAR(10) NOT NULL CHECK (currency IN ('USDC')),
    balance     usd NOT NULL DEFAULT 0.00 CHECK (balance >= 0),
    locked      usd NOT NULL DEFAULT 0.00 CHECK (locked >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, currency),
    CHECK (locked <= balance)
);

-- Every movement of money or tokens for a user; amount is signed from the user's side
-- (+ credit, - debit) so that each user's completed fiat rows explain their balance.
CREATE TABLE wallet_transactions (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id),
    token_id        UUID REFERENCES tokens(id),
    type            VARCHAR(20) NOT NULL CHECK (type IN (
        'deposit', 'withdrawal', 'token_buy', 'token_sell', 'trade_buy', 'trade_sell',
        'fee', 'refund', 'dividend', 'order_lock', 'order_unlock', 'proceeds', 'success_fee',
        'allocation', 'adjustment')),
    currency        VARCHAR(10) NOT NULL DEFAULT 'USD' CHECK (currency IN ('USD', 'USDC', 'TOKEN')),
    amount          usd NOT NULL DEFAULT 0.00,
    quantity        BIGINT,
    status          VARCHAR(20) NOT NULL DEFAULT 'completed'
        CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')),
    balance_after   usd,
    reference_type  VARCHAR(40),
    reference_id    UUID,
    description     TEXT,
    created_by      UUID REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX wallet_transactions_user ON wallet_transactions (user_id, created_at DESC);
CREATE INDEX wallet_transactions_reference ON wallet_transactions (reference_type, reference_id);

-- Primary offering -----------------------------------------------------------------------------

CREATE TABLE token_allocations (
    id                 UUID PRIMARY KEY,
    token_id           UUID NOT NULL REFERENCES tokens(id),
    user_id            UUID NOT NULL REFERENCES users(id),
    round_id           UUID REFERENCES offering_rounds(id),
    quantity           BIGINT NOT NULL CHECK (quantity > 0),
    price_per_token    usd NOT NULL DEFAULT 0.00 CHECK (price_per_token >= 0),
    amount             usd NOT NULL DEFAULT 0.00 CHECK (amount >= 0),
    allocation_type    VARCHAR(20) NOT NULL
        CHECK (allocation_type IN ('primary', 'secondary', 'airdrop', 'go_live', 'dividend')),
    status             VARCHAR(20) NOT NULL DEFAULT 'pending_payment'
        CHECK (status IN ('pending_payment', 'confirmed', 'rejected')),
    wallet_transaction_id UUID REFERENCES wallet_transactions(id),
    on_chain_status    VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (on_chain_status IN ('pending', 'minting', 'minted', 'failed')),
    on_chain_tx_hash   tx_hash,
    on_chain_nonce     BIGINT,
    on_chain_error     TEXT,
    on_chain_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (on_chain_attempts >= 0),
    confirmed_by       UUID REFERENCES users(id),
    confirmed_at       TIMESTAMPTZ,
    rejection_reason   TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (on_chain_status <> 'minted' OR on_chain_tx_hash IS NOT NULL)
);
CREATE INDEX token_allocations_token ON token_allocations (token_id, status);
CREATE INDEX token_allocations_mint_queue ON token_allocations (created_at)
    WHERE status = 'confirmed' AND on_chain_status IN ('pending', 'minting');

-- Trading --------------------------------------------------------------------------------------

CREATE TABLE orders (
    id                  UUID PRIMARY KEY,
    user_id             UUID NOT NULL REFERENCES users(id),
    token_id            UUID NOT NULL REFERENCES tokens(id),
    client_order_id     VARCHAR(64),
    side                VARCHAR(4) NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type          VARCHAR(15) NOT NULL
        CHECK (order_type IN ('limit', 'market', 'stop_loss', 'stop_limit')),
    time_in_force       VARCHAR(3) NOT NULL DEFAULT 'GTC' CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    stp_mode            VARCHAR(15) NOT NULL DEFAULT 'cancel_taker'
        CHECK (stp_mode IN ('none', 'cancel_taker', 'cancel_maker', 'cancel_both')),
    price               usd CHECK (price > 0),
    stop_price          usd CHECK (stop_price > 0),
    quantity            BIGINT NOT NULL CHECK (quantity > 0),
    filled_quantity     BIGINT NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
    remaining_quantity  BIGINT GENERATED ALWAYS AS (quantity - filled_quantity) STORED,
    locked_fiat         usd NOT NULL DEFAULT 0.00 CHECK (locked_fiat >= 0),
    locked_quantity     BIGINT NOT NULL DEFAULT 0 CHECK (locked_quantity >= 0),
    status              VARCHAR(20) NOT NULL
        CHECK (status IN ('open', 'partially_filled', 'filled', 'cancelled', 'pending_stop')),
    cancel_reason       VARCHAR(40),
    engine_seq          BIGINT,
    source              VARCHAR(10) NOT NULL DEFAULT 'api' CHECK (source IN ('cli', 'console', 'api', 'worker')),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (filled_quantity <= quantity),
    CHECK (order_type IN ('market', 'stop_loss') OR price IS NOT NULL),
    CHECK (order_type IN ('limit', 'market') OR stop_price IS NOT NULL)
);
-- Hot query: the open book of a token in time priority (rebuild on server start).
CREATE INDEX orders_open_by_token ON orders (token_id, created_at)
    WHERE status IN ('open', 'partially_filled', 'pending_stop');
CREATE INDEX orders_user ON orders (user_id, created_at DESC);
-- Retries are safe: one open order per client_order_id and investor.
CREATE UNIQUE INDEX orders_client_order_id_open ON orders (user_id, client_order_id)
    WHERE client_order_id IS NOT NULL AND status IN ('open', 'partially_filled', 'pending_stop');

CREATE TABLE order_status_history (
    id               UUID PRIMARY KEY,
    order_id         UUID NOT NULL REFERENCES orders(id),
    from_status      VARCHAR(20),
    to_status        VARCHAR(20) NOT NULL
        CHECK (to_status IN ('open', 'partially_filled', 'filled', 'cancelled', 'pending_stop')),
    filled_quantity  BIGINT NOT NULL DEFAULT 0,
    reason           VARCHAR(100),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, created_at);

CREATE TABLE trades (
    id                   UUID PRIMARY KEY,
    token_id             UUID NOT NULL REFERENCES tokens(id),
    buy_order_id         UUID NOT NULL REFERENCES orders(id),
    sell_order_id        UUID NOT NULL REFERENCES orders(id),
    buyer_id             UUID NOT NULL REFERENCES users(id),
    seller_id            UUID NOT NULL REFERENCES users(id),
    taker_side           VARCHAR(4) NOT NULL CHECK (taker_side IN ('buy', 'sell')),
    price                usd NOT NULL CHECK (price > 0),
    quantity             BIGINT NOT NULL CHECK (quantity > 0),
    total                usd NOT NULL CHECK (total > 0),
    platform_fee         usd NOT NULL DEFAULT 0.00 CHECK (platform_fee >= 0),
    effective_fee_bps    INTEGER NOT NULL DEFAULT 50 CHECK (effective_fee_bps BETWEEN 0 AND 10000),
    settlement_status    VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (settlement_status IN ('pending', 'processing', 'settled', 'failed')),
    settlement_type      VARCHAR(20) CHECK (settlement_type IN ('on_chain', 'off_chain')),
    settlement_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (settlement_attempts >= 0),
    settlement_error     TEXT,
    tx_hash              tx_hash,
    tx_nonce             BIGINT,
    settled_at           TIMESTAMPTZ,
    engine_seq           BIGINT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (total = price * quantity),
    CHECK (platform_fee <= total),
    CHECK (settlement_status <> 'settled' OR (settlement_type IS NOT NULL AND settled_at IS NOT NULL)),
    CHECK (settlement_type IS DISTINCT FROM 'on_chain' OR settlement_status <> 'settled' OR tx_hash IS NOT NULL)
);
-- Hot query: the settlement processor's queue.
CREATE INDEX trades_pending_settlement ON trades (created_at)
    WHERE settlement_status IN ('pending', 'processing');
CREATE INDEX trades_token ON trades (token_id, created_at DESC);
CREATE INDEX trades_buyer ON trades (buyer_id, created_at DESC);
CREATE INDEX trades_seller ON trades (seller_id, created_at DESC);

CREATE TABLE trade_settlement_history (
    id           UUID PRIMARY KEY,
    trade_id     UUID NOT NULL REFERENCES trades(id),
    from_status  VARCHAR(20),
    to_status    VARCHAR(20) NOT NULL
        CHECK (to_status IN ('pending', 'processing', 'settled', 'failed')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    tx_hash      tx_hash,
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX trade_settlement_history_trade ON trade_settlement_history (trade_id, created_at);

CREATE TABLE otc_orders (
    id                UUID PRIMARY KEY,
    user_id           UUID NOT NULL REFERENCES users(id),
    token_id          UUID NOT NULL REFERENCES tokens(id),
    side              VARCHAR(4) NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    price             usd NOT NULL CHECK (price > 0),
    total             usd NOT NULL CHECK (total > 0),
    locked_fiat       usd NOT NULL DEFAULT 0.00 CHECK (locked_fiat >= 0),
    locked_quantity   BIGINT NOT NULL DEFAULT 0 CHECK (locked_quantity >= 0),
    status            VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'executed')),
    reviewed_by       UUID REFERENCES users(id),
    reviewed_at       TIMESTAMPTZ,
    rejection_reason  TEXT,
    trade_id          UUID REFERENCES trades(id),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (total = price * quantity),
    CHECK (status <> 'rejected' OR coalesce(length(trim(rejection_reason)), 0) > 0)
);
CREATE INDEX otc_orders_pending ON otc_orders (token_id, created_at) WHERE status = 'pending';

-- Market protections and surveillance ----------------------------------------------------------

CREATE TABLE circuit_breaker_events (
    id               UUID PRIMARY KEY,
    token_id         UUID NOT NULL REFERENCES tokens(id),
    reference_price  usd NOT NULL,
    trigger_price    usd NOT NULL,
    tripped_at       TIMESTAMPTZ NOT NULL,
    resets_at        TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX circuit_breaker_events_token ON circuit_breaker_events (token_id, tripped_at DESC);

CREATE TABLE surveillance_alerts (
    id           UUID PRIMARY KEY,
    token_id     UUID NOT NULL REFERENCES tokens(id),
    kind         VARCHAR(20) NOT NULL CHECK (kind IN ('wash_trading', 'spoofing', 'layering')),
    user_id      UUID REFERENCES users(id),
    evidence     JSONB NOT NULL,
    status       VARCHAR(20) NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'acknowledged', 'dismissed', 'escalated')),
    resolved_by  UUID REFERENCES users(id),
    resolved_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX surveillance_alerts_open ON surveillance_alerts (created_at) WHERE status = 'open';

-- Dividends ------------------------------------------------------------------------------------

CREATE TABLE dividend_declarations (
    id               UUID PRIMARY KEY,
    token_id         UUID NOT NULL REFERENCES tokens(id),
    declared_by      UUID NOT NULL REFERENCES users(id),
    dividend_type    VARCHAR(20) NOT NULL CHECK (dividend_type IN ('fiat', 'token', 'stablecoin')),
    per_token_usd    NUMERIC(20, 6) CHECK (per_token_usd > 0),
    per_token_qty    BIGINT CHECK (per_token_qty > 0),
    record_date      TIMESTAMPTZ NOT NULL,
    payment_date     TIMESTAMPTZ,
    total_held       BIGINT NOT NULL DEFAULT 0 CHECK (total_held >= 0),
    total_gross_usd  usd NOT NULL DEFAULT 0.00 CHECK (total_gross_usd >= 0),
    fee_pct          NUMERIC(5, 2) NOT NULL DEFAULT 0 CHECK (fee_pct >= 0 AND fee_pct <= 100),
    total_fee_usd    usd NOT NULL DEFAULT 0.00 CHECK (total_fee_usd >= 0),
    total_net_usd    usd NOT NULL DEFAULT 0.00 CHECK (total_net_usd >= 0),
    remainder_usd    usd NOT NULL DEFAULT 0.00 CHECK (remainder_usd >= 0),
    total_token_qty  BIGINT NOT NULL DEFAULT 0 CHECK (total_token_qty >= 0),
    holder_count     INTEGER NOT NULL DEFAULT 0 CHECK (holder_count >= 0),
    status           VARCHAR(20) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'pending_approval', 'approved', 'distributing', 'distributed', 'cancelled')),
    approved_by      UUID REFERENCES users(id),
    approved_at      TIMESTAMPTZ,
    distributed_at   TIMESTAMPTZ,
    cancelled_at     TIMESTAMPTZ,
    cancel_reason    TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((dividend_type = 'token') = (per_token_qty IS NOT NULL)),
    CHECK ((dividend_type = 'token') OR per_token_usd IS NOT NULL),
    CHECK (approved_by IS NULL OR approved_by <> declared_by)
);
CREATE INDEX dividend_declarations_queue ON dividend_declarations (status, created_at);

CREATE TABLE dividend_payments (
    id                     UUID PRIMARY KEY,
    dividend_id            UUID NOT NULL REFERENCES dividend_declarations(id),
    user_id                UUID NOT NULL REFERENCES users(id),
    token_balance          BIGINT NOT NULL CHECK (token_balance > 0),
    gross_amount           usd NOT NULL DEFAULT 0.00 CHECK (gross_amount >= 0),
    fee_amount             usd NOT NULL DEFAULT 0.00 CHECK (fee_amount >= 0),
    net_amount             usd NOT NULL DEFAULT 0.00 CHECK (net_amount >= 0),
    token_quantity         BIGINT NOT NULL DEFAULT 0 CHECK (token_quantity >= 0),
    status                 VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'paid', 'failed')),
    wallet_transaction_id  UUID REFERENCES wallet_transactions(id),
    on_chain_status        VARCHAR(20)
        CHECK (on_chain_status IN ('pending', 'minting', 'minted', 'failed')),
    on_chain_tx_hash       tx_hash,
    on_chain_nonce         BIGINT,
    on_chain_error         TEXT,
    paid_at                TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (dividend_id, user_id),
    CHECK (net_amount = gross_amount - fee_amount)
);

-- Chain ----------------------------------------------------------------------------------------

-- Every transaction alefctl sends, written with its hash and nonce before the receipt is awaited.
CREATE TABLE gas_transactions (
    id                UUID PRIMARY KEY,
    token_id          UUID REFERENCES tokens(id),
    purpose           VARCHAR(40) NOT NULL,
    reference_type    VARCHAR(40),
    reference_id      UUID,
    tx_hash           tx_hash NOT NULL UNIQUE,
    nonce             BIGINT NOT NULL CHECK (nonce >= 0),
    from_address      evm_address NOT NULL,
    to_address        evm_address,
    contract_address  evm_address,
    gas_limit         BIGINT,
    gas_used          BIGINT CHECK (gas_used >= 0),
    gas_price_wei     NUMERIC(78, 0),
    block_number      BIGINT,
    status            VARCHAR(20) NOT NULL DEFAULT 'sent'
        CHECK (status IN ('sent', 'confirmed', 'reverted', 'dropped')),
    error             TEXT,
    chain_id          BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at      TIMESTAMPTZ
);
CREATE INDEX gas_transactions_token ON gas_transactions (token_id, purpose, created_at);
CREATE INDEX gas_transactions_unconfirmed ON gas_transactions (created_at) WHERE status = 'sent';
