-- Visibility. An event is public, unlisted (reachable by its link, absent from every list,
-- search, feed, the sitemap and the API) or invitation-only (its page and registration need
-- a secret link, which its organizers can show again and replace). A group can be unlisted:
-- its events then leave the lists too. `listed` is what every list filters on, kept by the
-- writes that change either (event visibility, group unlisted) so lists need no join.
ALTER TABLE events ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
ALTER TABLE events ADD COLUMN invite_token TEXT;
ALTER TABLE events ADD COLUMN listed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE groups ADD COLUMN unlisted BOOLEAN NOT NULL DEFAULT FALSE;
