-- Which clients received tokens in which SSO session, so that ending the session can tell them
-- (OIDC Back-Channel Logout 1.0).
CREATE TABLE session_clients (
    sid        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sid, client_id)
);
