-- Order lifetime (README, "The order API"; alefctl/workflows/trading/lifetime.py).
-- Good-till-date (GTD) and day (DAY) orders rest like GTC until expire_at, then the server's
-- lifetime loop (or `alefctl order expire`) cancels them with cancel_reason 'expired'; expire_at
-- is kept here so that expiry survives a restart. A DAY order expires at its token's session
-- end (tokens.session_end, UTC; NULL: settings.lifetime.session_end).
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_time_in_force_check;
ALTER TABLE orders ADD CONSTRAINT orders_time_in_force_check
    CHECK (time_in_force IN ('GTC', 'IOC', 'FOK', 'GTD', 'DAY'));
ALTER TABLE orders ADD COLUMN IF NOT EXISTS expire_at TIMESTAMPTZ;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_expire_at_iff_dated;
ALTER TABLE orders ADD CONSTRAINT orders_expire_at_iff_dated
    CHECK ((time_in_force IN ('GTD', 'DAY')) = (expire_at IS NOT NULL));
CREATE INDEX IF NOT EXISTS orders_expiring ON orders (expire_at)
    WHERE expire_at IS NOT NULL AND status IN ('open', 'partially_filled', 'pending_stop');
ALTER TABLE tokens ADD COLUMN IF NOT EXISTS session_end TIME;

-- Cancel-on-disconnect (dead-man's switch): one per investor, armed and refreshed through
-- POST /api/v1/orders/cancel-all-after; when deadline passes, the server cancels every open
-- order and pending stop of the investor (cancel_reason 'cancel_all_after') and disarms it.
CREATE TABLE IF NOT EXISTS cancel_all_after (
    user_id     UUID PRIMARY KEY REFERENCES users(id),
    timeout_s   INTEGER NOT NULL CHECK (timeout_s > 0),
    deadline    TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cancel_all_after_deadline ON cancel_all_after (deadline);
