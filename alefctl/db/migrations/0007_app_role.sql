-- The application's database role may not alter the audit log.
--
-- The schema's owner (the embedded server's superuser, or an external database's migration
-- user) runs `db init` and the migrations. alefctl's processes connect as the application role
-- alef_app (on the embedded server always; on an external database when its URL names that
-- role: README, "Database roles"), which owns nothing: it reads and writes the platform's
-- tables, but on audit_logs it may only INSERT and SELECT, and on audit_chain_head only SELECT.
-- Not being the owner, it cannot ALTER the table, drop or disable the append-only trigger, or
-- grant itself more. A new row is still sealed into the chain at commit: the seal function runs
-- as its owner (SECURITY DEFINER, fixed search_path), and the append-only trigger still admits
-- only that seal.
--
-- Where no role alef_app exists (an external database whose administrator has not created it,
-- or a migration user that may not create roles) the grants are skipped. Safe to run again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alef_app') THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            RETURN;
        END IF;
        CREATE ROLE alef_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO alef_app', current_database());
    GRANT USAGE ON SCHEMA public TO alef_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO alef_app;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO alef_app;
    REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_logs FROM alef_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_chain_head FROM alef_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM alef_app;
    -- tables and sequences later migrations create (as this owner) are the app's to use too;
    -- a later table that must be append-only revokes as above
    ALTER DEFAULT PRIVILEGES IN SCHEMA public
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO alef_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public
        GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO alef_app;
END $$;

ALTER FUNCTION audit_logs_seal() SECURITY DEFINER SET search_path = public, pg_temp;
