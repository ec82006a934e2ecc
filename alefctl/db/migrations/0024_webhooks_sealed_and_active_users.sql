-- Webhook signing secrets are stored sealed (Fernet, with security.encryption_key), which is
-- longer than the plain secret: the column becomes TEXT. Secrets stored plain before this stay
-- readable (alefctl/workflows/webhooks/signing.py `unsealed`).
ALTER TABLE webhooks ALTER COLUMN secret TYPE TEXT;

-- A deactivated user's webhooks get no new deliveries: the outbox is filled only for
-- subscriptions of activated users (a former admin's endpoint no longer hears of withdrawals,
-- approvals or KYC submissions). The deliverer also skips them (workflows/webhooks/delivery.py).
CREATE OR REPLACE FUNCTION alef_notification_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, notification_id, event)
    SELECT alef_uuid7(), w.id, NEW.id, NEW.kind
    FROM webhooks w JOIN users u ON u.id = w.user_id
    WHERE w.status = 'active' AND u.is_activated
      AND (w.user_id = NEW.user_id OR (NEW.user_id IS NULL AND u.role = NEW.audience))
      AND (NEW.kind = ANY (w.events) OR '*' = ANY (w.events))
    ORDER BY w.id;
    PERFORM pg_notify('alef_notifications', json_build_object(
        'id', NEW.id, 'user_id', NEW.user_id, 'audience', NEW.audience, 'kind', NEW.kind,
        'subject', NEW.subject, 'object_type', NEW.object_type, 'object_id', NEW.object_id,
        'created_at', NEW.created_at)::text);
    RETURN NULL;
END $$;
