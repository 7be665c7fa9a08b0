-- Change log for the in-memory search index (SQLite only): every write that can change
-- what a search returns for an event bumps that event's row here to a new, increasing
-- sequence number. A searching process applies the rows above the last number it saw, so
-- writes from any connection or process (the CLI demo generator, tests, another writer)
-- reach its index. One row per event: the table never grows beyond the events.

CREATE TABLE search_changes (
    event_id INTEGER PRIMARY KEY,
    seq      INTEGER NOT NULL
);
CREATE INDEX search_changes_seq ON search_changes (seq);

CREATE TRIGGER search_changes_events_insert AFTER INSERT ON events BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_events_update AFTER UPDATE ON events BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_events_delete AFTER DELETE ON events BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (OLD.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER search_changes_frames_insert AFTER INSERT ON frames BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_frames_update
AFTER UPDATE OF capacity, accepted_count, fee, opens_at, closes_at, event_id ON frames BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_frames_delete AFTER DELETE ON frames BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (OLD.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER search_changes_tags_insert AFTER INSERT ON event_tags BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_tags_delete AFTER DELETE ON event_tags BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (OLD.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;

-- The search text (title, group, speakers, tag names, …) is rewritten by the store whenever
-- one of them changes.
CREATE TRIGGER search_changes_body_insert AFTER INSERT ON event_search BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_body_update AFTER UPDATE ON event_search BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (NEW.event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;

-- The next queue position of a frame is `MAX(position) + 1` over its registrations; with
-- only (frame_id, status, position) that MAX walked every registration of the frame (each
-- registration slower than the last in a rush). This index answers it in one seek.
CREATE INDEX registrations_frame_position ON registrations (frame_id, position);
