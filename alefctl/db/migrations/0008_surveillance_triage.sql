-- Surveillance triage: an alert is open -> acknowledged (someone owns it) -> dismissed or
-- escalated; it may also be dismissed or escalated straight from open
-- (SURVEILLANCE_FLOW in alefctl/workflows/transitions.py, steps in workflows/surveillance.py).
-- Each step may carry a note, appended to `notes` ({at, by, action, text}); dismissing and
-- escalating need one (the reason). The evidence (orders and trades) is read from the ids the
-- detector stored in `evidence`, so no copy of those rows is kept here.
ALTER TABLE surveillance_alerts
    ADD COLUMN IF NOT EXISTS assignee_id     UUID REFERENCES users(id),
    ADD COLUMN IF NOT EXISTS acknowledged_by UUID REFERENCES users(id),
    ADD COLUMN IF NOT EXISTS acknowledged_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS notes           JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS updated_at      TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE surveillance_alerts DROP CONSTRAINT IF EXISTS surveillance_alerts_resolved;
-- a dismissed or escalated alert names who resolved it and when; an unresolved one does not
ALTER TABLE surveillance_alerts ADD CONSTRAINT surveillance_alerts_resolved
    CHECK ((status IN ('dismissed', 'escalated')) = (resolved_by IS NOT NULL)
           AND (resolved_by IS NULL) = (resolved_at IS NULL));
ALTER TABLE surveillance_alerts DROP CONSTRAINT IF EXISTS surveillance_alerts_acknowledged;
ALTER TABLE surveillance_alerts ADD CONSTRAINT surveillance_alerts_acknowledged
    CHECK ((status <> 'acknowledged' OR acknowledged_by IS NOT NULL)
           AND (acknowledged_by IS NULL) = (acknowledged_at IS NULL));
CREATE INDEX IF NOT EXISTS surveillance_alerts_status
    ON surveillance_alerts (status, created_at DESC);
