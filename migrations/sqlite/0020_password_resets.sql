-- Password reset (パスワードの再設定): single-use tokens that expire, mailed as a link (or
-- printed by `tsudoi user reset-password NICK`) and stored only as their BLAKE2s hash.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
