-- The participant list (参加者一覧): a registration can be anonymous to the public (counted
-- as "others"; organizers still see it), an organizer can hide an event's whole list, and a
-- person can keep the events they attend off their profile and the API.
ALTER TABLE registrations ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN participants_hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN hide_attended BOOLEAN NOT NULL DEFAULT FALSE;
