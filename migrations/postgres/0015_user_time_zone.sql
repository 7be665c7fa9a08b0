-- A person's own time zone (IANA name; NULL: follow the browser). Event pages add a line in
-- it, and e-mails about an event add its time there.
ALTER TABLE users ADD COLUMN time_zone TEXT;
