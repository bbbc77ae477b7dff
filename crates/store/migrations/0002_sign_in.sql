-- Sign-in state and tokens. Secrets (session cookies, codes, refresh tokens, interaction ids)
-- are stored only as SHA-256 hashes (DESIGN.md §4).

-- A pending authorization request while the user signs in and consents.
CREATE TABLE interactions (
    id_hash    TEXT PRIMARY KEY,
    request    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- SSO sessions. sid is the public session id that goes into ID tokens.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    sid        TEXT NOT NULL UNIQUE,
    sub        TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    amr        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_sub ON sessions (sub);

-- Consent remembered per user and client.
CREATE TABLE consents (
    sub        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (sub, client_id)
);

-- Authorization codes: single use. consumed_at is set atomically on redemption;
-- access_token_jti remembers what the redemption issued, so a replay can revoke it.
CREATE TABLE authorization_codes (
    code_hash        TEXT PRIMARY KEY,
    grant_id         TEXT NOT NULL,
    document         TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    consumed_at      BIGINT,
    access_token_jti TEXT,
    access_token_exp BIGINT
);

-- Refresh tokens. family_id groups a chain of rotations (and the code grant it came from);
-- rotated_at is set atomically when a token is used; revoked_at when its family is revoked.
CREATE TABLE refresh_tokens (
    token_hash       TEXT PRIMARY KEY,
    family_id        TEXT NOT NULL,
    document         TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    rotated_at       BIGINT,
    revoked_at       BIGINT,
    access_token_jti TEXT,
    access_token_exp BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens (JWTs) revoked before they expire; checked by userinfo.
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
