-- Brute-force throttling shared by every node: failures per key (an account, a client, a
-- source address), the time the key is blocked until, and when the row may be forgotten (the
-- failure window ends; it also resets the count).
CREATE TABLE throttle (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
