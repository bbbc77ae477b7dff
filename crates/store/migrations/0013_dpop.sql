-- DPoP (RFC 9449 §11.1): each proof's jti once per key, across every node. jti_key is the
-- SHA-256 of the key's thumbprint and the jti; a row lives as long as its proof could be
-- accepted. Clients may bind tokens with DPoP; what they are bound to travels in the stored
-- documents (codes, refresh tokens).
CREATE TABLE dpop_proofs (
    jti_key    TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_expires ON dpop_proofs (expires_at);
