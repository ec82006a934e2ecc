-- Rate limits of the HTTP API (alefctl/workflows/rate_limits.py, alefctl/server/rate_limit.py).
-- Each user has two token buckets, `orders` (order entry) and `reads` (every other request,
-- and WebSocket messages); each refills at a rate per second up to a burst. The defaults are
-- settings (ratelimit.*); an admin may set other rates for one user (`alefctl user
-- rate-limit`), kept here: NULL means the default.
CREATE TABLE IF NOT EXISTS user_rate_limits (
    user_id      UUID PRIMARY KEY REFERENCES users(id),
    orders_per_s INTEGER CHECK (orders_per_s BETWEEN 1 AND 1000000),
    reads_per_s  INTEGER CHECK (reads_per_s BETWEEN 1 AND 1000000),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The buckets, shared by every server process on this database: each request takes a token
-- in one statement (several requests in one round trip). Unlogged: no write-ahead log, so its
-- updates cost no fsync, and a crash merely refills every bucket. `tokens` is what the last
-- take left at `taken_at`, with the rate and burst it was taken at; `granted` how many of the
-- last take's `asked` requests it let through. Half-empty pages keep its updates HOT.
CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_buckets (
    user_id    UUID NOT NULL,
    budget     TEXT NOT NULL CHECK (budget IN ('orders', 'reads')),
    tokens     DOUBLE PRECISION NOT NULL,
    taken_at   TIMESTAMPTZ NOT NULL,
    per_second DOUBLE PRECISION NOT NULL CHECK (per_second > 0),
    burst      DOUBLE PRECISION NOT NULL CHECK (burst >= 1),
    asked      INTEGER NOT NULL,
    granted    INTEGER NOT NULL,
    PRIMARY KEY (user_id, budget)
) WITH (fillfactor = 50);
