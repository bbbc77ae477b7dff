-- Ceremonies in progress: state a browser's round trip needs, kept on the server, never in the
-- browser, until the answer comes back (taken once) or it expires. A passkey's WebAuthn
-- challenge (issue 24); an upstream sign-in's nonce and PKCE verifier (issue 25). id_hash is
-- the SHA-256 of the random id the page or the redirect carries; bound_to names what it is for
-- (a user's registration, an interaction's sign-in, an upstream provider), so that an id
-- presented elsewhere finds nothing.
CREATE TABLE ceremonies (
    id_hash    TEXT PRIMARY KEY,
    bound_to   TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ceremonies_expires ON ceremonies (expires_at);
