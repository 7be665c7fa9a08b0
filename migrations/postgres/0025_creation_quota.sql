-- New accounts' daily limits: one row per group, event or message a limited account creates,
-- written in the transaction that counts them (under a lock on the account), so that parallel
-- requests cannot all pass the count.
CREATE TABLE creation_quota (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,                 -- group, event, message
    created_at BIGINT  NOT NULL
);
CREATE INDEX creation_quota_user ON creation_quota (user_id, kind, created_at);
