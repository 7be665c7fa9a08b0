-- Calendars, feeds, the public API and materials.

-- iCalendar SEQUENCE: grows by one whenever anything a calendar shows changes. A trigger
-- keeps it (and updated_at) right for every writer, present and future.
ALTER TABLE events ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER events_calendar_revision
AFTER UPDATE OF title, catch, description, starts_at, ends_at, time_zone, venue_kind, place, address,
                prefecture, lat, lon, status ON events
FOR EACH ROW
WHEN OLD.title IS NOT NEW.title OR OLD.catch IS NOT NEW.catch OR OLD.description IS NOT NEW.description
  OR OLD.starts_at IS NOT NEW.starts_at OR OLD.ends_at IS NOT NEW.ends_at OR OLD.time_zone IS NOT NEW.time_zone
  OR OLD.venue_kind IS NOT NEW.venue_kind OR OLD.place IS NOT NEW.place OR OLD.address IS NOT NEW.address
  OR OLD.prefecture IS NOT NEW.prefecture OR OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon
  OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE events SET sequence = OLD.sequence + 1, updated_at = MAX(OLD.updated_at + 1, CAST(strftime('%s', 'now') AS INTEGER))
    WHERE id = NEW.id;
END;

CREATE INDEX events_status_updated ON events (status, updated_at);

-- A secret token for the private calendar feed of my registrations (NULL until asked for).
ALTER TABLE users ADD COLUMN calendar_token TEXT;
CREATE UNIQUE INDEX users_calendar_token ON users (calendar_token) WHERE calendar_token IS NOT NULL;

-- 資料: slides, blog posts, videos attached to an event by its organizers and speakers.
CREATE TABLE materials (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    url        TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('slide', 'blog', 'movie', 'other')),
    created_at INTEGER NOT NULL
);
CREATE INDEX materials_event ON materials (event_id, id);
