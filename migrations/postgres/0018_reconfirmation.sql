-- Reconfirmation (参加の再確認): an organizer may require confirmed attendees to reconfirm by a
-- deadline, `reconfirm_hours` before the start. The request goes out a day before the
-- deadline (`reconfirm_requested_at`, and to each confirmed registration then:
-- `reconfirm_asked_at`); at the deadline seats asked and not reconfirmed are released
-- to the waitlist (`reconfirm_released_at`; the registration's `released_at`), which the
-- organizer can undo for a while.
ALTER TABLE events ADD COLUMN reconfirm_hours BIGINT;
ALTER TABLE events ADD COLUMN reconfirm_requested_at BIGINT;
ALTER TABLE events ADD COLUMN reconfirm_released_at BIGINT;
ALTER TABLE registrations ADD COLUMN reconfirm_asked_at BIGINT;
ALTER TABLE registrations ADD COLUMN reconfirmed_at BIGINT;
ALTER TABLE registrations ADD COLUMN released_at BIGINT;
-- The release looks for events whose deadline passed and are not released yet.
CREATE INDEX events_reconfirm ON events (reconfirm_released_at, starts_at) WHERE reconfirm_hours IS NOT NULL;
