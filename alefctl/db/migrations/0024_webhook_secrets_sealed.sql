-- Webhook signing secrets are stored sealed (Fernet, with security.encryption_key), which is
-- longer than the plain secret: the column becomes TEXT. Secrets stored plain before this stay
-- readable (alefctl/workflows/webhooks/signing.py `unsealed`).
ALTER TABLE webhooks ALTER COLUMN secret TYPE TEXT;
