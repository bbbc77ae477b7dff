-- The session a sign-in during an interaction started: a later step of the same interaction
-- (consent) knows the user has just signed in, which `prompt=login` asks for.
ALTER TABLE interactions ADD COLUMN login_sid TEXT;
