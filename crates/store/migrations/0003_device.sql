-- RFC 8628 device codes. The device code is stored as its SHA-256; the user code (short, typed
-- by a person) is stored normalised and is unique while it lives.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code        TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL,
    sub              TEXT,
    auth_time        BIGINT,
    sid              TEXT,
    amr              TEXT,
    poll_interval    BIGINT NOT NULL,
    last_poll_at     BIGINT,
    slow_down        BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    redeemed_at      BIGINT
);
