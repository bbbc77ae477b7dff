-- One table for every JWT a server must accept only once, across every node: DPoP proofs
-- (RFC 9449 §11.1), client assertions (RFC 7523 §3 item 7) and request objects (RFC 9101
-- §10.8). jti_key is the SHA-256 of a kind prefix, the issuer of the JWT and its jti, so the
-- kinds never collide; a row lives as long as its JWT could be accepted.
ALTER TABLE dpop_proofs RENAME TO seen_jtis;
DROP INDEX dpop_proofs_expires;
CREATE INDEX seen_jtis_expires ON seen_jtis (expires_at);
