-- Resource servers (RFC 8707): the APIs tokens can be asked for, a JSON document each, keyed by
-- their identifier (an absolute URI). Device authorizations remember the resources they were
-- asked for (space separated; resource identifiers hold no spaces).
CREATE TABLE resources (
    identifier TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
ALTER TABLE device_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '';
