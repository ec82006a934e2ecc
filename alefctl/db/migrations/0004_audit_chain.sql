-- Tamper-evident audit log: every audit_logs row is sealed into one hash chain.
--
--   seq        the row's place in the chain: 1, 2, 3, ... without gaps
--   prev_hash  row_hash of row seq - 1; 32 zero bytes for row 1 (the genesis)
--   row_hash   sha256(prev_hash || audit_chain_message(row))
--
-- The message is canonical text, hashed as UTF-8. For each field, in this order: '-' when it is
-- NULL, else its length in characters, ':' and its text. Fields: seq, id, created_at (UTC, to
-- the microsecond: 2024-05-01T09:30:00.123456Z), actor_id, source, action, object_type,
-- object_id, before, after (UUIDs in PostgreSQL's lower-case text form, before and after in
-- PostgreSQL's jsonb text form).
-- alefctl/db/audit.py builds the same message in Python; `alefctl audit verify` recomputes every
-- hash from the rows without the database's help.
--
-- Order. A row is sealed when its transaction commits, by a deferred constraint trigger, under
-- the row lock of audit_chain_head, the chain's last seq and hash. Audited transactions take
-- turns only over their commit, and the head is the last lock a transaction takes, so it can
-- never close a circle of waits with the workflows' own locks (alefctl/db/locks.py). The seal
-- is the one UPDATE the append-only trigger allows: made from the sealing trigger, on a row
-- not sealed yet, filling only the chain columns.
--
-- Genesis: the rows written before this migration are sealed here, in (created_at, id) order.
-- The migration can run again (over a database whose schema_migrations lost its row): each
-- step is skipped or replaced, and the genesis runs only while there is no chain head.

ALTER TABLE audit_logs
    ADD COLUMN IF NOT EXISTS seq        BIGINT,
    ADD COLUMN IF NOT EXISTS prev_hash  BYTEA,
    ADD COLUMN IF NOT EXISTS row_hash   BYTEA;

CREATE TABLE IF NOT EXISTS audit_chain_head (
    only_row  BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    seq       BIGINT NOT NULL CHECK (seq >= 0),
    hash      BYTEA NOT NULL CHECK (octet_length(hash) = 32)
);

-- One field of the message: '-' for NULL, else "<characters>:<text>".
CREATE OR REPLACE FUNCTION audit_chain_field(value TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(char_length(value)::text || ':' || value, '-')
$$;

CREATE OR REPLACE FUNCTION audit_chain_message(a audit_logs) RETURNS BYTEA LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT convert_to(
        audit_chain_field(a.seq::text)
        || audit_chain_field(a.id::text)
        || audit_chain_field(to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || audit_chain_field(a.actor_id::text)
        || audit_chain_field(a.source)
        || audit_chain_field(a.action)
        || audit_chain_field(a.object_type)
        || audit_chain_field(a.object_id::text)
        || audit_chain_field(a.before::text)
        || audit_chain_field(a.after::text),
        'UTF8')
$$;

-- Genesis: seal the existing rows (the update trigger is off while it runs; ALTER TABLE holds
-- the table exclusively until the migration commits, so nothing else writes meanwhile).
ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update;
DO $$
DECLARE
    r       RECORD;
    n       BIGINT := 0;
    h       BYTEA := decode(repeat('00', 32), 'hex');
    ids     UUID[] := '{}';
    prevs   BYTEA[] := '{}';
    hashes  BYTEA[] := '{}';
BEGIN
    IF EXISTS (SELECT FROM audit_chain_head) THEN
        RETURN;  -- sealed already
    END IF;
    -- The messages are computed by the query (where the SQL functions are inlined); the loop
    -- only chains their hashes.
    FOR r IN SELECT a.id, audit_chain_message(ROW(a.id, a.actor_id, a.action, a.object_type,
                    a.object_id, a.before, a.after, a.source, a.created_at,
                    row_number() OVER (ORDER BY a.created_at, a.id), NULL, NULL)::audit_logs) AS msg
               FROM audit_logs a ORDER BY a.created_at, a.id LOOP
        n := n + 1;
        ids := array_append(ids, r.id);
        prevs := array_append(prevs, h);
        h := sha256(h || r.msg);
        hashes := array_append(hashes, h);
    END LOOP;
    UPDATE audit_logs l SET seq = g.seq, prev_hash = g.prev_hash, row_hash = g.row_hash
      FROM unnest(ids, prevs, hashes) WITH ORDINALITY AS g(id, prev_hash, row_hash, seq)
     WHERE l.id = g.id;
    INSERT INTO audit_chain_head (seq, hash) VALUES (n, h);
END $$;
ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update;

CREATE UNIQUE INDEX IF NOT EXISTS audit_logs_chain ON audit_logs (seq);

-- Seal each new row at commit: take the head's row lock, link, hash, move the head.
CREATE OR REPLACE FUNCTION audit_logs_seal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sealed audit_logs := NEW;
BEGIN
    SELECT seq + 1, hash INTO sealed.seq, sealed.prev_hash FROM audit_chain_head FOR UPDATE;
    sealed.row_hash := sha256(sealed.prev_hash || audit_chain_message(sealed));
    UPDATE audit_logs SET seq = sealed.seq, prev_hash = sealed.prev_hash, row_hash = sealed.row_hash
     WHERE id = sealed.id;
    UPDATE audit_chain_head SET seq = sealed.seq, hash = sealed.row_hash;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS audit_logs_seal ON audit_logs;
CREATE CONSTRAINT TRIGGER audit_logs_seal AFTER INSERT ON audit_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_logs_seal();

-- Append-only still, but for the seal: from the sealing trigger (trigger depth 2), on a row
-- not sealed yet, content unchanged.
CREATE OR REPLACE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF pg_trigger_depth() > 1 AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND (NEW.id, NEW.actor_id, NEW.action, NEW.object_type, NEW.object_id, NEW.before,
                NEW.after, NEW.source, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.id, OLD.actor_id, OLD.action, OLD.object_type,
                OLD.object_id, OLD.before, OLD.after, OLD.source, OLD.created_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
