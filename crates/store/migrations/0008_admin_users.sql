-- Administrators: users who may sign in to the admin console (/admin). Everyone else keeps
-- what they had: no user is an administrator until an operator says so.
ALTER TABLE users ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
