-- Attendees follow groups: their new events appear on /me (and by e-mail when configured).
CREATE TABLE group_follows (
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_follows_user ON group_follows (user_id);
