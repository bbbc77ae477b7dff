-- Second factors (issue 24). A TOTP factor keeps its secret sealed under the configuration's
-- key (never readable from the database alone) and the last time step it accepted, so that each
-- code works once across every node; a passkey keeps its WebAuthn credential. Recovery codes
-- are kept as SHA-256 hashes, each used once.
CREATE TABLE user_factors (
    id           TEXT PRIMARY KEY,
    sub          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    secret       TEXT NOT NULL,
    last_step    BIGINT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX user_factors_sub ON user_factors (sub);

CREATE TABLE recovery_codes (
    sub       TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (sub, code_hash)
);

-- A sign-in waiting for its second factor: whose password was right, and how (JSON).
ALTER TABLE interactions ADD COLUMN pending_factor TEXT;
