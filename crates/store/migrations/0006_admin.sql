-- Administration (admin API, CLI, dynamic client registration).

-- Every change made through the admin API, the CLI or registration: who, what, when. Never
-- secrets. id is a UUIDv7, so ordering by id is ordering by time.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target);

-- RFC 7592: the SHA-256 of a dynamically registered client's registration access token.
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;
