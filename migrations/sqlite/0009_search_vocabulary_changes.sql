-- The in-memory search index also keeps the tag vocabulary (tags and their aliases), so a
-- search resolves `tags=`/`tools=` without a query. Any write to either table bumps row 0
-- of `search_changes` (no event has id 0), which makes the next search reload it.

CREATE TRIGGER search_changes_vocabulary_tags_insert AFTER INSERT ON tags BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_vocabulary_tags_update AFTER UPDATE ON tags BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_vocabulary_tags_delete AFTER DELETE ON tags BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_vocabulary_aliases_insert AFTER INSERT ON tag_aliases BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_vocabulary_aliases_update AFTER UPDATE ON tag_aliases BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER search_changes_vocabulary_aliases_delete AFTER DELETE ON tag_aliases BEGIN
    INSERT INTO search_changes (event_id, seq) VALUES (0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes))
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq;
END;
