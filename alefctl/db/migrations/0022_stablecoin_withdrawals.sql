-- Stablecoin balances are deposited and withdrawn like fiat (alefctl/workflows/wallet.py,
-- alefctl/workflows/account/withdrawals.py): an investor's withdrawal request names its currency
-- (USD, the default, or USDC), which its held wallet transaction moves and its approval pays out.
-- The decision notification says the currency. Safe to run again.
ALTER TABLE withdrawal_requests ADD COLUMN IF NOT EXISTS currency VARCHAR(10) NOT NULL
    DEFAULT 'USD';
ALTER TABLE withdrawal_requests DROP CONSTRAINT IF EXISTS withdrawal_requests_currency_check;
ALTER TABLE withdrawal_requests ADD CONSTRAINT withdrawal_requests_currency_check
    CHECK (currency IN ('USD', 'USDC'));

CREATE OR REPLACE FUNCTION alef_withdrawal_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NEW.user_id, NULL, 'withdrawal.' || CASE NEW.status
        WHEN 'completed' THEN 'approved' ELSE 'rejected' END, 'Your withdrawal of '
        || NEW.amount || ' ' || NEW.currency || ' was ' || CASE NEW.status
        WHEN 'completed' THEN 'approved' ELSE 'rejected: ' || coalesce(NEW.reason, '') END,
        'withdrawal_request', NEW.id,
        jsonb_build_object('amount', NEW.amount::text, 'currency', NEW.currency));
    RETURN NULL;
END $$;
