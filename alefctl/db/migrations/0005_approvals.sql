-- Four-eyes (maker-checker): a severe operation (a large fiat deposit or withdrawal, later
-- forced transfers, burns, recovery) is first a pending request, which an admin other than the
-- requester approves or rejects (alefctl/workflows/approvals.py). A database-only operation is
-- approved and executed in one transaction: pending -> executed, or nothing. An execution the
-- operation itself refuses (a withdrawal the balance no longer covers) is recorded as failed and
-- may be approved again or rejected. 'approved' is for operations that run outside the
-- database (chain transactions), executed afterwards by a worker.
-- Safe to run again (IF NOT EXISTS), as on a database whose migration record was lost.
CREATE TABLE IF NOT EXISTS approval_requests (
    id            UUID PRIMARY KEY,
    kind          VARCHAR(40) NOT NULL,
    summary       VARCHAR(300) NOT NULL,
    params        JSONB NOT NULL,
    requested_by  UUID NOT NULL REFERENCES users(id),
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    status        VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'executed', 'failed')),
    decided_by    UUID REFERENCES users(id),
    decided_at    TIMESTAMPTZ,
    reason        TEXT,
    result        JSONB,
    executed_at   TIMESTAMPTZ,
    error         TEXT,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- a pending request is undecided; every other one names who decided and when
    CONSTRAINT approval_requests_decided CHECK ((status = 'pending') = (decided_by IS NULL)
                                                AND (decided_by IS NULL) = (decided_at IS NULL)),
    -- four eyes: only a rejection (the requester withdrawing it) may be the requester's own
    CONSTRAINT approval_requests_four_eyes
        CHECK (status IN ('pending', 'rejected') OR decided_by <> requested_by),
    CONSTRAINT approval_requests_reason CHECK (status <> 'rejected'
                                               OR coalesce(length(trim(reason)), 0) > 0),
    CONSTRAINT approval_requests_executed CHECK ((status = 'executed') = (executed_at IS NOT NULL)
                                                 AND (status <> 'executed' OR result IS NOT NULL)),
    CONSTRAINT approval_requests_error CHECK (status <> 'failed' OR coalesce(length(error), 0) > 0)
);
CREATE INDEX IF NOT EXISTS approval_requests_status ON approval_requests (status, requested_at);
