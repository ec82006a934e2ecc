-- An investor registers their own wallet address with a signed message (EIP-191) naming their
-- user id, the address, a nonce and the time it was signed (alefctl/workflows/account/wallet.py).
-- Each accepted proof is kept: a nonce is used once per user, so a captured signature cannot be
-- replayed, and the row is the record of which address replaced which. Safe to run again.
CREATE TABLE IF NOT EXISTS wallet_proofs (
    id                UUID PRIMARY KEY,
    user_id           UUID NOT NULL REFERENCES users(id),
    address           evm_address NOT NULL,
    previous_address  evm_address,
    nonce             VARCHAR(64) NOT NULL CHECK (nonce ~ '^[A-Za-z0-9_-]{8,64}$'),
    issued_at         TIMESTAMPTZ NOT NULL,
    signature         VARCHAR(132) NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT wallet_proofs_nonce_once UNIQUE (user_id, nonce)
);
CREATE INDEX IF NOT EXISTS wallet_proofs_user ON wallet_proofs (user_id, created_at);

-- An investor asks to withdraw fiat (alefctl/workflows/account/withdrawals.py): the amount is
-- held at once (a pending 'withdrawal' wallet transaction: it leaves the free balance, so it
-- can never be spent twice or go below zero) and leaves the platform only when an admin
-- confirms it (the row completes); at or above approvals.money_threshold_usd the confirmation
-- is a four-eyes request (awaiting_approval until a second admin approves). A rejection, or
-- the investor cancelling a pending request, cancels the pending row: the money comes back.
CREATE TABLE IF NOT EXISTS withdrawal_requests (
    id                     UUID PRIMARY KEY,
    user_id                UUID NOT NULL REFERENCES users(id),
    amount                 usd NOT NULL CHECK (amount > 0),
    reference              VARCHAR(200),
    status                 VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'awaiting_approval', 'completed', 'rejected', 'cancelled')),
    wallet_transaction_id  UUID NOT NULL REFERENCES wallet_transactions(id),
    approval_request_id    UUID REFERENCES approval_requests(id),
    decided_by             UUID REFERENCES users(id),
    decided_at             TIMESTAMPTZ,
    reason                 TEXT,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (status IN ('pending', 'awaiting_approval', 'cancelled') OR decided_by IS NOT NULL),
    CHECK (status <> 'rejected' OR coalesce(length(trim(reason)), 0) > 0)
);
CREATE INDEX IF NOT EXISTS withdrawal_requests_user ON withdrawal_requests (user_id, created_at);
CREATE INDEX IF NOT EXISTS withdrawal_requests_open ON withdrawal_requests (created_at)
    WHERE status IN ('pending', 'awaiting_approval');
