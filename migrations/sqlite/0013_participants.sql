-- The participant list (参加者一覧): a registration can be anonymous to the public (counted
-- as "others"; organizers still see it), an organizer can hide an event's whole list, and a
-- person can keep the events they attend off their profile and the API.
ALTER TABLE registrations ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN participants_hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN hide_attended INTEGER NOT NULL DEFAULT 0;
