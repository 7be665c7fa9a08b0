-- Keys every instance of one site shares (the sign-up form's tickets are signed with the
-- key named 'forms'); made on first use, never shown.
CREATE TABLE site_secrets (
    name       TEXT    PRIMARY KEY,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- New accounts' daily limits count what a person created (and sent: messages_sender) recently, until
-- `limited_until` (set at sign-up; accounts an operator loads have none).
ALTER TABLE users ADD COLUMN limited_until INTEGER;
CREATE INDEX audit_log_user ON audit_log (user_id, created_at);

-- Moderation. Site administrators (`tsudoi admin grant NICK`) work through reports; a hidden
-- event or group leaves every public path (`listed` and the gates check `hidden_at`); a
-- suspended account cannot sign in, its sessions end, its profile and the groups only it
-- owns are hidden (`hidden_cause` names the suspension, so restoring the account restores
-- exactly those).
ALTER TABLE users ADD COLUMN site_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN suspended_at INTEGER;
ALTER TABLE groups ADD COLUMN hidden_at INTEGER;
ALTER TABLE groups ADD COLUMN hidden_cause TEXT;
ALTER TABLE events ADD COLUMN hidden_at INTEGER;
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    reporter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_kind TEXT    NOT NULL,                 -- event, group, user
    target_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by INTEGER REFERENCES users (id),
    resolution  TEXT                              -- hidden, suspended, dismissed
);
CREATE INDEX reports_open ON reports (resolved_at, target_kind, target_id);
CREATE UNIQUE INDEX reports_once ON reports (reporter_id, target_kind, target_id) WHERE resolved_at IS NULL;
CREATE INDEX reports_reporter ON reports (reporter_id, created_at);
-- The site's audit log: who hid, restored, suspended or dismissed what, and when.
CREATE TABLE moderation_log (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER NOT NULL REFERENCES users (id),
    action      TEXT    NOT NULL,                 -- event.hide, event.restore, group.hide, group.restore, user.suspend, user.restore, report.dismiss
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX moderation_log_recent ON moderation_log (id);

-- The embeddable widget (/embed/groups/{slug}): the origins allowed to frame it, as the
-- group's organizers chose them (CSP frame-ancestors); NULL lets any site embed it.
ALTER TABLE groups ADD COLUMN embed_origins TEXT;
