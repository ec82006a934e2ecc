-- Maturity and redemption (issue 19; alefctl/workflows/redemption.py).
--
-- A matured token's holders are redeemed at a price per token (face value or final NAV): an
-- admin requests it, a second admin approves (four-eyes), and the approval pays every holder
-- from the issuer's balance, takes their tokens off the books, queues one burn per holder as
-- an agent operation (holders/jobs.py burns it on-chain) and moves the token to 'redeemed'.
-- Each holder is paid price * quantity rounded down to the cent; the remainder is never taken
-- from the issuer (it stays with them) and is stated on the redemption.

-- The token's statuses: schema.sql's list, 0015's 'cancelled', and 'redeemed'.
ALTER TABLE tokens DROP CONSTRAINT IF EXISTS tokens_status_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_status_check
    CHECK (status IN ('draft', 'primary', 'secondary', 'paused', 'matured', 'delisted',
                      'cancelled', 'redeemed'));

-- One redemption per token at a time (a rejected request may be followed by another).
CREATE TABLE IF NOT EXISTS redemptions (
    id               UUID PRIMARY KEY,
    token_id         UUID NOT NULL REFERENCES tokens(id),
    price_per_token  NUMERIC(30, 8) NOT NULL CHECK (price_per_token > 0),
    currency         VARCHAR(10) NOT NULL,
    status           VARCHAR(20) NOT NULL DEFAULT 'pending_approval'
        CHECK (status IN ('pending_approval', 'paid', 'rejected')),
    approval_id      UUID REFERENCES approval_requests(id),
    requested_by     UUID NOT NULL REFERENCES users(id),
    holders          INTEGER CHECK (holders >= 0),
    quantity         BIGINT CHECK (quantity >= 0),        -- tokens redeemed and burned
    paid_total       usd CHECK (paid_total >= 0),         -- what left the issuer
    remainder        NUMERIC(30, 8) CHECK (remainder >= 0),  -- price * quantity - paid_total
    reason           TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at          TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CHECK (status <> 'paid' OR (paid_total IS NOT NULL AND quantity IS NOT NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS redemptions_one_open
    ON redemptions (token_id) WHERE status <> 'rejected';

-- Each holder's payment: the tokens taken, the money paid, and the burn's agent operation.
CREATE TABLE IF NOT EXISTS redemption_payments (
    id             UUID PRIMARY KEY,
    redemption_id  UUID NOT NULL REFERENCES redemptions(id),
    user_id        UUID NOT NULL REFERENCES users(id),
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    amount         usd NOT NULL CHECK (amount >= 0),
    operation_id   UUID NOT NULL REFERENCES agent_operations(id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (redemption_id, user_id)
);
