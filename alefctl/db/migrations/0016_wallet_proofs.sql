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
