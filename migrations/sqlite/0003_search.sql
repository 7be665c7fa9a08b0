-- Search: a normalised text per event (NFKC, lower case: title, catch, description, place,
-- address, group, speakers, tags), a trigram FTS5 index over it for terms of 3+ characters,
-- and the event's local weekday / start minute for the weekend and evening preferences.
-- Rows are written by the store in Rust (NFKC is not available in SQL); events that predate
-- this migration are indexed at the next start.

CREATE TABLE event_search (
    event_id INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    body     TEXT    NOT NULL
);

CREATE VIRTUAL TABLE event_fts USING fts5 (
    body,
    content = 'event_search',
    content_rowid = 'event_id',
    tokenize = 'trigram'
);

ALTER TABLE events ADD COLUMN local_dow INTEGER NOT NULL DEFAULT 0;        -- 0 = Sunday … 6 = Saturday
ALTER TABLE events ADD COLUMN local_start_min INTEGER NOT NULL DEFAULT 0;  -- minutes after local midnight

CREATE INDEX events_status_ends ON events (status, ends_at);
CREATE INDEX events_status_created ON events (status, created_at);
