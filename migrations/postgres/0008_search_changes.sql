-- Same number as migrations/sqlite/0008. On SQLite this migration adds the change log that
-- feeds the in-memory search index; PostgreSQL (several instances, each would need its own
-- index kept in step) searches with SQL and pg_trgm, so it needs no log.
--
-- Shared with SQLite: the next queue position of a frame is MAX(position) + 1 over its
-- registrations, which (frame_id, status, position) cannot answer with one index seek.
CREATE INDEX IF NOT EXISTS registrations_frame_position ON registrations (frame_id, position);
