-- What happened, per hour and kind (sign-ins, sign-in failures, tokens issued), for the admin
-- console's overview. Every node adds its own counts about once a minute; rows are kept two
-- days. bucket is "<hour>:<kind>", hour the Unix time divided by 3600.
CREATE TABLE activity (
    bucket     TEXT PRIMARY KEY,
    hour       BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    count      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX activity_hour ON activity (hour);
