-- Notifications people read and webhooks that carry them (README, "Notifications and webhooks";
-- alefctl/workflows/notifications.py, alefctl/workflows/webhooks/).
--
-- Events become notification rows in the transaction that makes them happen. Workflows that
-- already call notify_user / notify_role keep doing so; the events below are derived from the
-- rows themselves by triggers, so the order path (fills written in one group commit) pays no
-- extra round trip, and no workflow that moves these statuses can forget to tell anyone.
-- Each new notification is announced (pg_notify 'alef_notifications', for the WebSocket channel)
-- and copied into the webhook outbox of every active subscription that wants its kind, in the
-- same transaction: a committed notification is never lost to a webhook, even after a crash.
-- Safe to run again.

-- UUID v7 as alefctl/ids.py makes them: 48 bits of milliseconds, the version, 12 bits of
-- sub-millisecond time (so rows one trigger writes sort in the order written), then random.
CREATE OR REPLACE FUNCTION alef_uuid7() RETURNS uuid LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stamp numeric := extract(epoch FROM clock_timestamp()) * 1000;
    ms bigint := floor(stamp);
    fraction int := floor((stamp - ms) * 4096);
BEGIN
    RETURN (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(fraction), 3, '0')
            || substr(replace(gen_random_uuid()::text, '-', ''), 17, 16))::uuid;
END $$;

-- Read state per reader: a role notification (audience) is read by each of its people apart.
CREATE TABLE IF NOT EXISTS notification_reads (
    notification_id  UUID NOT NULL REFERENCES notifications(id),
    user_id          UUID NOT NULL REFERENCES users(id),
    read_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX IF NOT EXISTS notifications_user ON notifications (user_id, created_at)
    WHERE user_id IS NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_audience_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_audience_check
    CHECK (audience IN ('investor', 'issuer', 'admin', 'kyc_reviewer', 'operator'));

-- A webhook subscription: its owner, where to POST, which kinds ('*' for all), the signing
-- secret (shown once at creation), and the failures in a row that disable it.
CREATE TABLE IF NOT EXISTS webhooks (
    id                    UUID PRIMARY KEY,
    user_id               UUID NOT NULL REFERENCES users(id),
    url                   VARCHAR(2000) NOT NULL CHECK (url ~ '^https?://'),
    events                TEXT[] NOT NULL CHECK (cardinality(events) > 0),
    secret                VARCHAR(100) NOT NULL,
    status                VARCHAR(20) NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'disabled', 'deleted')),
    consecutive_failures  INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    disabled_reason       TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhooks_owner ON webhooks (user_id) WHERE status = 'active';

-- The durable outbox and delivery log: one row per (subscription, notification), delivered in
-- seq order per subscription (a later row waits while an earlier one is pending).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id               UUID PRIMARY KEY,
    seq              BIGSERIAL NOT NULL UNIQUE,
    webhook_id       UUID NOT NULL REFERENCES webhooks(id),
    notification_id  UUID NOT NULL REFERENCES notifications(id),
    event            VARCHAR(40) NOT NULL,
    status           VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'abandoned')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_attempt_at  TIMESTAMPTZ,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, notification_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq)
    WHERE status = 'pending';

CREATE OR REPLACE FUNCTION alef_notification_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, notification_id, event)
    SELECT alef_uuid7(), w.id, NEW.id, NEW.kind
    FROM webhooks w JOIN users u ON u.id = w.user_id
    WHERE w.status = 'active'
      AND (w.user_id = NEW.user_id OR (NEW.user_id IS NULL AND u.role = NEW.audience))
      AND (NEW.kind = ANY (w.events) OR '*' = ANY (w.events))
    ORDER BY w.id;
    PERFORM pg_notify('alef_notifications', json_build_object(
        'id', NEW.id, 'user_id', NEW.user_id, 'audience', NEW.audience, 'kind', NEW.kind,
        'subject', NEW.subject, 'object_type', NEW.object_type, 'object_id', NEW.object_id,
        'created_at', NEW.created_at)::text);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS notification_written ON notifications;
CREATE TRIGGER notification_written AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION alef_notification_written();

CREATE OR REPLACE FUNCTION alef_notify(p_user UUID, p_audience TEXT, p_kind TEXT, p_subject TEXT,
                                       p_type TEXT, p_object UUID, p_payload JSONB)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO notifications (id, user_id, audience, kind, subject, object_type, object_id,
                               payload)
    VALUES (alef_uuid7(), p_user, p_audience, p_kind, left(p_subject, 200), p_type, p_object,
            coalesce(p_payload, '{}'))
$$;

CREATE OR REPLACE FUNCTION alef_symbol(p_token UUID) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT symbol FROM tokens WHERE id = p_token
$$;

-- KYC decision (to the applicant).
CREATE OR REPLACE FUNCTION alef_kyc_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NEW.user_id, NULL, 'kyc.' || NEW.status,
        CASE NEW.status WHEN 'approved' THEN 'Your KYC application was approved'
             ELSE 'Your KYC application was rejected: ' || coalesce(NEW.rejection_reason, '') END,
        'kyc_application', NEW.id, '{}');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS kyc_decided ON kyc_applications;
CREATE TRIGGER kyc_decided AFTER UPDATE OF status ON kyc_applications FOR EACH ROW
    WHEN (NEW.status IN ('approved', 'rejected') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION alef_kyc_decided();

-- A business waiting for review (to admins).
CREATE OR REPLACE FUNCTION alef_business_waiting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NULL, 'admin', 'business.pending', 'Business ' || NEW.company_name
        || ' awaits review', 'business', NEW.id, '{}');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS business_waiting ON businesses;
CREATE TRIGGER business_waiting AFTER INSERT ON businesses FOR EACH ROW
    WHEN (NEW.status = 'pending') EXECUTE FUNCTION alef_business_waiting();

-- Allocation confirmed, rejected, minted (to the investor).
CREATE OR REPLACE FUNCTION alef_allocation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event TEXT;
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('confirmed', 'rejected') THEN
        event := NEW.status;
    ELSIF NEW.on_chain_status IS DISTINCT FROM OLD.on_chain_status
          AND NEW.on_chain_status = 'minted' THEN
        event := 'minted';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM alef_notify(NEW.user_id, NULL, 'allocation.' || event,
        'Your allocation of ' || NEW.quantity || ' ' || alef_symbol(NEW.token_id) || ' was '
        || event, 'token_allocation', NEW.id,
        jsonb_build_object('symbol', alef_symbol(NEW.token_id), 'quantity', NEW.quantity));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS allocation_changed ON token_allocations;
CREATE TRIGGER allocation_changed AFTER UPDATE OF status, on_chain_status ON token_allocations
    FOR EACH ROW EXECUTE FUNCTION alef_allocation_changed();

-- Order filled, cancelled or expired (to its owner).
CREATE OR REPLACE FUNCTION alef_order_closed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event TEXT := CASE WHEN NEW.status = 'filled' THEN 'filled'
                       WHEN NEW.cancel_reason = 'expired' THEN 'expired' ELSE 'cancelled' END;
BEGIN
    PERFORM alef_notify(NEW.user_id, NULL, 'order.' || event,
        'Your ' || NEW.side || ' order of ' || NEW.quantity || ' ' || alef_symbol(NEW.token_id)
        || ' was ' || event, 'order', NEW.id,
        jsonb_build_object('symbol', alef_symbol(NEW.token_id), 'side', NEW.side,
                           'quantity', NEW.quantity, 'filled_quantity', NEW.filled_quantity,
                           'cancel_reason', NEW.cancel_reason));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS order_closed ON orders;
CREATE TRIGGER order_closed AFTER UPDATE OF status ON orders FOR EACH ROW
    WHEN (NEW.status IN ('filled', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION alef_order_closed();
DROP TRIGGER IF EXISTS order_closed_at_once ON orders;
CREATE TRIGGER order_closed_at_once AFTER INSERT ON orders FOR EACH ROW
    WHEN (NEW.status IN ('filled', 'cancelled')) EXECUTE FUNCTION alef_order_closed();

-- Trade settled (to buyer and seller) or failed (to admins).
CREATE OR REPLACE FUNCTION alef_trade_settled() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    what TEXT := NEW.quantity || ' ' || alef_symbol(NEW.token_id) || ' at ' || NEW.price;
BEGIN
    IF NEW.settlement_status = 'failed' THEN
        PERFORM alef_notify(NULL, 'admin', 'settlement.failed', 'Settlement of trade ' || what
            || ' failed: ' || coalesce(NEW.settlement_error, ''), 'trade', NEW.id, '{}');
    ELSE
        PERFORM alef_notify(party, NULL, 'trade.settled', 'Your trade of ' || what
            || ' settled', 'trade', NEW.id, jsonb_build_object('symbol',
            alef_symbol(NEW.token_id), 'quantity', NEW.quantity, 'price', NEW.price::text))
        FROM (SELECT DISTINCT unnest(ARRAY[NEW.buyer_id, NEW.seller_id]) AS party) AS parties;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS trade_settled ON trades;
CREATE TRIGGER trade_settled AFTER UPDATE OF settlement_status ON trades FOR EACH ROW
    WHEN (NEW.settlement_status IN ('settled', 'failed')
          AND OLD.settlement_status IS DISTINCT FROM NEW.settlement_status)
    EXECUTE FUNCTION alef_trade_settled();

-- Dividend paid (to the holder).
CREATE OR REPLACE FUNCTION alef_dividend_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NEW.user_id, NULL, 'dividend.paid', 'A dividend of '
        || CASE WHEN NEW.token_quantity > 0 THEN NEW.token_quantity || ' tokens'
             ELSE NEW.net_amount || ' USD' END
        || ' was paid to you', 'dividend_payment', NEW.id,
        jsonb_build_object('dividend_id', NEW.dividend_id, 'net_amount', NEW.net_amount::text));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS dividend_paid ON dividend_payments;
CREATE TRIGGER dividend_paid AFTER UPDATE OF status ON dividend_payments FOR EACH ROW
    WHEN (NEW.status = 'paid' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION alef_dividend_paid();
DROP TRIGGER IF EXISTS dividend_paid_at_once ON dividend_payments;
CREATE TRIGGER dividend_paid_at_once AFTER INSERT ON dividend_payments FOR EACH ROW
    WHEN (NEW.status = 'paid') EXECUTE FUNCTION alef_dividend_paid();

-- Withdrawal approved (completed) or rejected (to the investor).
CREATE OR REPLACE FUNCTION alef_withdrawal_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NEW.user_id, NULL, 'withdrawal.' || CASE NEW.status
        WHEN 'completed' THEN 'approved' ELSE 'rejected' END, 'Your withdrawal of '
        || NEW.amount || ' USD was ' || CASE NEW.status WHEN 'completed' THEN 'approved'
        ELSE 'rejected: ' || coalesce(NEW.reason, '') END, 'withdrawal_request', NEW.id,
        jsonb_build_object('amount', NEW.amount::text));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS withdrawal_decided ON withdrawal_requests;
CREATE TRIGGER withdrawal_decided AFTER UPDATE OF status ON withdrawal_requests FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'rejected') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION alef_withdrawal_decided();

-- A surveillance alert (to admins).
CREATE OR REPLACE FUNCTION alef_surveillance_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alef_notify(NULL, 'admin', 'surveillance.alert', 'Surveillance alert: ' || NEW.kind
        || ' on ' || alef_symbol(NEW.token_id), 'surveillance_alert', NEW.id, '{}');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS surveillance_alert ON surveillance_alerts;
CREATE TRIGGER surveillance_alert AFTER INSERT ON surveillance_alerts FOR EACH ROW
    EXECUTE FUNCTION alef_surveillance_alert();
