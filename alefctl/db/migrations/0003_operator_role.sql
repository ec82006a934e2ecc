-- The operator role: cron jobs and service accounts (workers, checks, reconcile, the server)
-- act with an operator's API key, which may run jobs and read-only checks but move no money
-- and change no user (alefctl/workflows/policy.py).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('investor', 'issuer', 'admin', 'kyc_reviewer', 'operator', 'system'));
