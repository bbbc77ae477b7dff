-- Upstream providers added through the admin API or the CLI (issue 25), beside those of the
-- configuration file: the provider's definition as JSON, its client secret sealed under the
-- configuration's key (never readable from the database alone).
CREATE TABLE upstreams (
    id         TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
