-- Pushed authorization requests (RFC 9126): the parameters a client pushed to /par, kept until
-- the authorization request that names them (once) or their short expiry. id_hash is the
-- SHA-256 of the reference's random part; params is the validated parameter set as JSON.
CREATE TABLE pushed_requests (
    id_hash    TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pushed_requests_expires ON pushed_requests (expires_at);
