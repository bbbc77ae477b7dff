-- Keys only the server itself uses (HMAC keys: refresh-token successors, CSRF tokens), shared
-- by every node: the first node to start generates each one, the others read it. Never
-- published, never sent to a client.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Access tokens issued to a retried refresh inside the reuse grace window: the retry gets the
-- same successor refresh token and a fresh access token, which a family revocation must reach.
CREATE TABLE reissued_access_tokens (
    jti        TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX reissued_access_tokens_family ON reissued_access_tokens (family_id);
