-- Upstream identities (issue 25): a user of an upstream provider (its id here and the subject
-- it gives them) linked to a user here. A provider's subject links to one user at most; a user
-- may have several. Deleted with the user.
CREATE TABLE upstream_links (
    provider     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    sub          TEXT NOT NULL,
    email        TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX upstream_links_sub ON upstream_links (sub);
