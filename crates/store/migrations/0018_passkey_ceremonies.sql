-- Passkey ceremonies in progress (issue 24): the WebAuthn state of a registration or sign-in
-- (its challenge) kept on the server, never in the browser, until the browser's answer comes
-- back (taken once) or the ceremony expires. id_hash is the SHA-256 of the random id the page
-- carries; bound_to names what the ceremony is for (a user's registration, an interaction's
-- sign-in), so that an id presented elsewhere finds nothing.
CREATE TABLE passkey_ceremonies (
    id_hash    TEXT PRIMARY KEY,
    bound_to   TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
