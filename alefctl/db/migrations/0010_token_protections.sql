-- Market protections per token, and trading halts as database state (README, "Protections and
-- halts"; alefctl/workflows/halts.py).
--
-- Thresholds: NULL means the platform's default (settings.protections), so a token without an
-- override follows a change of the settings. A percentage of 0 switches that check off.
-- Halt: a token is halted while halted_at is set and halted_until is NULL (until an admin
-- resumes it) or later than now. The order group reads these columns under the token's row
-- lock, and a tripped circuit breaker writes them in the transaction of the trade that tripped
-- it, so a halt survives a restart of the server.
ALTER TABLE tokens
    ADD COLUMN IF NOT EXISTS breaker_move_pct NUMERIC(7, 2)
        CHECK (breaker_move_pct >= 0 AND breaker_move_pct <= 10000),
    ADD COLUMN IF NOT EXISTS breaker_window_s INTEGER
        CHECK (breaker_window_s BETWEEN 1 AND 86400),
    ADD COLUMN IF NOT EXISTS breaker_halt_s INTEGER
        CHECK (breaker_halt_s BETWEEN 1 AND 604800),
    ADD COLUMN IF NOT EXISTS fat_finger_pct NUMERIC(7, 2)
        CHECK (fat_finger_pct >= 0 AND fat_finger_pct <= 10000),
    ADD COLUMN IF NOT EXISTS nav_deviation_pct NUMERIC(7, 2)
        CHECK (nav_deviation_pct >= 0 AND nav_deviation_pct <= 10000),
    ADD COLUMN IF NOT EXISTS halted_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS halted_until TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS halt_reason TEXT
        CHECK (length(halt_reason) BETWEEN 1 AND 500);

ALTER TABLE tokens DROP CONSTRAINT IF EXISTS tokens_halt_shape;
ALTER TABLE tokens ADD CONSTRAINT tokens_halt_shape CHECK (
    (halted_at IS NULL AND halted_until IS NULL AND halt_reason IS NULL)
    OR (halted_at IS NOT NULL AND halt_reason IS NOT NULL
        AND (halted_until IS NULL OR halted_until > halted_at)));
