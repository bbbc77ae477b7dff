-- Portable DDL: runs unchanged on SQLite (>= 3.35) and PostgreSQL (>= 12).
-- Times are Unix seconds (BIGINT); documents are JSON text; binary is base64 text.

CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY,
    document    TEXT NOT NULL,
    secret_hash TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    sub           TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    claims        TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE scopes (
    name       TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Signing keys. state: next -> current -> retired (DESIGN.md §4). At most one current key per
-- algorithm, enforced here so that nodes starting together cannot both install one.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    state        TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at   BIGINT
);
CREATE UNIQUE INDEX signing_keys_one_current_per_alg ON signing_keys (alg) WHERE state = 'current';
