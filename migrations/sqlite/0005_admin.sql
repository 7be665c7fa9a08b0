-- Organizer admin: the audit log of every change an organizer makes.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    event_id   INTEGER REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    action     TEXT    NOT NULL,   -- stable code: event.create, event.update, event.status, frame.capacity, attendee.check_in, group.create
    detail     TEXT    NOT NULL DEFAULT '',  -- what changed, human-readable
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_event ON audit_log (event_id, id);
CREATE INDEX audit_log_group ON audit_log (group_id, id);
