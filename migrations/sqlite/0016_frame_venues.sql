-- Hybrid events: a frame may have its own venue (in person, online or both), place and
-- online URL. NULL / empty: the event's. The URL is shown to that frame's confirmed
-- registrants only, as the event's is.
ALTER TABLE frames ADD COLUMN venue_kind TEXT CHECK (venue_kind IN ('online', 'offline', 'hybrid'));
ALTER TABLE frames ADD COLUMN place TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN online_url TEXT;
