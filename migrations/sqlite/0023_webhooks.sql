-- Outgoing webhooks per group (Standard Webhooks: signed JSON, retried with backoff).
-- `secret` is the signing key (`whsec_…`): it must sign every delivery, so it is kept; the
-- admin shows it once, when it is made or rotated.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,                 -- comma-separated types, e.g. event.published,registration.created
    secret     TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_group ON webhooks (group_id);

-- The outbox: what happened, written by triggers in the very transaction that made it
-- happen (so every writer, the SQLite fast path included, feeds it and a crash loses none),
-- and only for groups that have a webhook. A worker turns each row into deliveries.
-- AUTOINCREMENT: ids are never reused once rows are fanned out (they name the messages).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT    NOT NULL,
    event_id        INTEGER NOT NULL,
    registration_id INTEGER,
    created_at      INTEGER NOT NULL
);

-- One delivery per webhook and happening; `msg_id` stays the same across retries.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    msg_id          TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    event_id        INTEGER,                    -- deliveries about one event go out in order
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',  -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

CREATE TRIGGER webhook_registration_insert AFTER INSERT ON registrations
WHEN EXISTS (SELECT 1 FROM webhooks w JOIN events e ON e.group_id = w.group_id WHERE e.id = NEW.event_id)
BEGIN
    INSERT INTO webhook_outbox (type, event_id, registration_id, created_at)
    VALUES ('registration.created', NEW.event_id, NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER webhook_registration_status AFTER UPDATE OF status ON registrations
WHEN OLD.status IS NOT NEW.status
  AND EXISTS (SELECT 1 FROM webhooks w JOIN events e ON e.group_id = w.group_id WHERE e.id = NEW.event_id)
BEGIN
    INSERT INTO webhook_outbox (type, event_id, registration_id, created_at)
    SELECT CASE
             WHEN NEW.status = 'cancelled' THEN 'registration.cancelled'
             WHEN OLD.status = 'cancelled' THEN 'registration.created'
             WHEN OLD.status = 'waitlisted' AND NEW.status = 'confirmed' THEN 'registration.promoted'
           END,
           NEW.event_id, NEW.id, CAST(strftime('%s', 'now') AS INTEGER)
    WHERE NEW.status = 'cancelled' OR OLD.status = 'cancelled'
       OR (OLD.status = 'waitlisted' AND NEW.status = 'confirmed');
END;

CREATE TRIGGER webhook_event_change
AFTER UPDATE OF title, catch, description, starts_at, ends_at, time_zone, venue_kind, place, address,
                prefecture, lat, lon, online_url, status ON events
WHEN (OLD.title IS NOT NEW.title OR OLD.catch IS NOT NEW.catch OR OLD.description IS NOT NEW.description
  OR OLD.starts_at IS NOT NEW.starts_at OR OLD.ends_at IS NOT NEW.ends_at OR OLD.time_zone IS NOT NEW.time_zone
  OR OLD.venue_kind IS NOT NEW.venue_kind OR OLD.place IS NOT NEW.place OR OLD.address IS NOT NEW.address
  OR OLD.prefecture IS NOT NEW.prefecture OR OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon
  OR OLD.online_url IS NOT NEW.online_url OR OLD.status IS NOT NEW.status)
  AND EXISTS (SELECT 1 FROM webhooks w WHERE w.group_id = NEW.group_id)
BEGIN
    INSERT INTO webhook_outbox (type, event_id, registration_id, created_at)
    SELECT CASE
             WHEN NEW.status = 'cancelled' THEN 'event.cancelled'
             WHEN OLD.status <> 'published' THEN 'event.published'
             ELSE 'event.updated'
           END,
           NEW.id, NULL, CAST(strftime('%s', 'now') AS INTEGER)
    WHERE (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
       OR (NEW.status = 'published');
END;
