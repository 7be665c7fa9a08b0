-- E-mail verification: with SMTP on, an address receives Tsudoi's messages by mail only
-- once its owner has opened the link mailed to it (`email_verified_at`). Accounts that exist
-- before this migration, and accounts an operator loads (demo data, imports), count as
-- verified. Links are single-use and stored as their BLAKE2s hash, for the address they were
-- sent to: a link for an earlier address verifies nothing.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL;
CREATE TABLE email_verifications (
    token_hash TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);
