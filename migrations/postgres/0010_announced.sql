-- When the group's followers were told about an event (Unix seconds): once per event, so
-- unpublishing and publishing again does not mail them a second time. Events published
-- before this migration count as announced.
ALTER TABLE events ADD COLUMN announced_at BIGINT;
UPDATE events SET announced_at = updated_at WHERE status <> 'draft';
