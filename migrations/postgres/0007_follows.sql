-- Attendees follow groups: their new events appear on /me (and by e-mail when configured).
CREATE TABLE group_follows (
    group_id   BIGINT  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_follows_user ON group_follows (user_id);
