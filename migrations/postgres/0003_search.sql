-- Search: a normalised text per event (NFKC, lower case: title, catch, description, place,
-- address, group, speakers, tags), a trigram GIN index over it (pg_trgm; SQLite uses FTS5
-- here) so that `body LIKE '%term%'` does not scan every row, and the event's local
-- weekday / start minute for the weekend and evening preferences. Rows are written by the
-- store in Rust (NFKC is not available in SQL); events that predate this migration are
-- indexed at the next start.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE event_search (
    event_id BIGINT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    body     TEXT   NOT NULL
);
CREATE INDEX event_search_body_trgm ON event_search USING gin (body gin_trgm_ops);

ALTER TABLE events ADD COLUMN local_dow BIGINT NOT NULL DEFAULT 0;        -- 0 = Sunday … 6 = Saturday
ALTER TABLE events ADD COLUMN local_start_min BIGINT NOT NULL DEFAULT 0;  -- minutes after local midnight

CREATE INDEX events_status_ends ON events (status, ends_at);
CREATE INDEX events_status_created ON events (status, created_at);
