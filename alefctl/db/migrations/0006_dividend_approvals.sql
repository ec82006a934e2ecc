-- Dividend approval moves onto four-eyes (alefctl/workflows/approvals.py, kind
-- 'dividend.approve'): submitting a dividend opens an approval request, and approving the
-- dividend decides that request. A dividend submitted before this migration gets its request
-- here, requested by its declarer at its submission (the audit row of dividend.submit).
-- At most one open request per dividend. Safe to run again.
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_one_open_dividend
    ON approval_requests ((params ->> 'dividend_id'))
    WHERE kind = 'dividend.approve' AND status IN ('pending', 'failed', 'approved');

INSERT INTO approval_requests (id, kind, summary, params, requested_by, requested_at)
SELECT gen_random_uuid(), 'dividend.approve',
       left(d.dividend_type || ' dividend of ' || t.symbol || ' (submitted before four-eyes)', 300),
       jsonb_build_object('dividend_id', d.id::text, 'symbol', t.symbol,
                          'dividend_type', d.dividend_type, 'per_token_usd', d.per_token_usd,
                          'per_token_qty', d.per_token_qty, 'holder_count', d.holder_count,
                          'declared_by', u.email),
       d.declared_by, d.updated_at
FROM dividend_declarations d
JOIN tokens t ON t.id = d.token_id
JOIN users u ON u.id = d.declared_by
WHERE d.status = 'pending_approval'
  AND NOT EXISTS (SELECT 1 FROM approval_requests r WHERE r.kind = 'dividend.approve'
                  AND r.params ->> 'dividend_id' = d.id::text
                  AND r.status IN ('pending', 'failed', 'approved'));
