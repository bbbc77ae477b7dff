-- Pairwise subject identifiers (OIDC Core §8.1) back to the users they stand for: userinfo and
-- introspection receive a pairwise sub in the access token and must find the user. Written when
-- a pairwise client first gets tokens for a user (idempotently); the pairwise value is an HMAC,
-- so it names one user in one sector.
CREATE TABLE pairwise_subjects (
    pairwise_sub TEXT PRIMARY KEY,
    sub          TEXT NOT NULL
);
CREATE INDEX pairwise_subjects_sub ON pairwise_subjects (sub);
