-- The change log of the in-memory search index, as SQLite's 0008 and 0009 (which this one
-- migration covers: PostgreSQL's 0008 predates the index serving PostgreSQL). Every write
-- that can change what a search returns for an event bumps that event's row here to a new,
-- increasing sequence number; row 0 stands for the tag vocabulary (tags and aliases). Each
-- instance applies the rows above the last number it saw before a search, so writes made
-- by any instance reach every index. One row per event: the table never grows beyond them.
--
-- Why not a sequence: with concurrent writers, sequence values commit out of order (T1 takes
-- 7, T2 takes 8 and commits, an instance reads "up to 8", then T1 commits 7 — never seen).
-- Instead the number comes from one counter row, bumped under its row lock at COMMIT time
-- (the triggers are DEFERRABLE INITIALLY DEFERRED constraint triggers): a writer holds the
-- counter from its bump until its commit is visible, so a later writer gets a larger number
-- only after the earlier one is visible. Numbers are therefore visible in order, and "seq >
-- last seen" misses nothing. The lock is held for the commit only (not from the first write
-- of a transaction), so writers of different events barely wait for each other, and no
-- other lock is taken after it (no deadlock). A transaction takes one number for all its
-- changes (kept in a transaction-local setting), so a bulk import bumps the counter once.

CREATE TABLE search_changes (
    event_id BIGINT PRIMARY KEY,
    seq      BIGINT NOT NULL
);
CREATE INDEX search_changes_seq ON search_changes (seq);

CREATE TABLE search_seq (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    n        BIGINT  NOT NULL
);
INSERT INTO search_seq (n) VALUES (0);

-- Notes event `ev` (0: the vocabulary) as changed by the current transaction.
CREATE FUNCTION search_change_note(ev BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT := NULLIF(current_setting('tsudoi.search_seq', TRUE), '')::BIGINT;
BEGIN
    IF s IS NULL THEN
        UPDATE search_seq SET n = n + 1 RETURNING n INTO s;
        PERFORM set_config('tsudoi.search_seq', s::TEXT, TRUE);
    END IF;
    INSERT INTO search_changes (event_id, seq) VALUES (ev, s)
    ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq WHERE search_changes.seq <> excluded.seq;
END
$$;

-- Rows of `events` (their `id`).
CREATE FUNCTION search_changes_of_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM search_change_note(OLD.id);
    ELSE
        PERFORM search_change_note(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- Rows that belong to an event (their `event_id`; an update may move them to another).
CREATE FUNCTION search_changes_of_event_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM search_change_note(OLD.event_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.event_id <> OLD.event_id) THEN
        PERFORM search_change_note(NEW.event_id);
    END IF;
    RETURN NULL;
END
$$;

-- Tags and aliases: row 0.
CREATE FUNCTION search_changes_of_vocabulary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_change_note(0);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER search_changes_events AFTER INSERT OR UPDATE OR DELETE ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_event();
CREATE CONSTRAINT TRIGGER search_changes_frames
    AFTER INSERT OR DELETE OR UPDATE OF capacity, accepted_count, fee, opens_at, closes_at, event_id ON frames
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_event_row();
CREATE CONSTRAINT TRIGGER search_changes_event_tags AFTER INSERT OR UPDATE OR DELETE ON event_tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_event_row();
-- The search text (title, group, speakers, tag names, …) is rewritten by the store whenever
-- one of them changes.
CREATE CONSTRAINT TRIGGER search_changes_body AFTER INSERT OR UPDATE OR DELETE ON event_search
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_event_row();
CREATE CONSTRAINT TRIGGER search_changes_tags AFTER INSERT OR UPDATE OR DELETE ON tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_vocabulary();
CREATE CONSTRAINT TRIGGER search_changes_tag_aliases AFTER INSERT OR UPDATE OR DELETE ON tag_aliases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_changes_of_vocabulary();
