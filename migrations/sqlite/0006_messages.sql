-- Messages: what organizers write and what Tsudoi sends by itself (confirmation,
-- promotion, changes, cancellation, reminders), kept as an outbox with one row per
-- recipient (shown on /me; e-mailed when SMTP is configured, with its delivery state).
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER REFERENCES events (id) ON DELETE CASCADE,
    sender_id  INTEGER REFERENCES users (id),      -- NULL: sent by Tsudoi itself
    kind       TEXT    NOT NULL,                    -- organizer, confirmation, promotion, event_changed, event_cancelled, reminder
    audience   TEXT    NOT NULL DEFAULT '',         -- all, confirmed, waitlisted, frame:<id>, or one user
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_event ON messages (event_id, id);

CREATE TABLE message_recipients (
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at         INTEGER,
    email_status    TEXT    NOT NULL DEFAULT 'none' CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_recipients_user ON message_recipients (user_id, message_id);
CREATE INDEX message_recipients_pending ON message_recipients (email_status, next_attempt_at);

-- The day-before reminder is sent once per event.
ALTER TABLE events ADD COLUMN reminded_at INTEGER;
