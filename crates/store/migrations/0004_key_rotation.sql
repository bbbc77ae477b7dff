-- At most one key waiting to become current per algorithm (DESIGN.md §4: the next key is
-- published before it signs).
CREATE UNIQUE INDEX signing_keys_one_next_per_alg ON signing_keys (alg) WHERE state = 'next';
