-- Tsudoi schema, SQLite flavour. migrations/postgres/ carries the same numbering and meaning.
-- Instants are INTEGER Unix seconds (UTC); each event also stores its IANA zone name.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    nickname      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    email         TEXT    UNIQUE,
    password_hash TEXT,                       -- NULL: cannot log in (generated demo attendees)
    role          TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    bio           TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',  -- Markdown
    website     TEXT,
    image_url   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL REFERENCES groups (id),
    title        TEXT    NOT NULL,
    catch        TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',  -- Markdown, sanitised when rendered
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    time_zone    TEXT    NOT NULL DEFAULT 'Asia/Tokyo',
    venue_kind   TEXT    NOT NULL CHECK (venue_kind IN ('online', 'offline', 'hybrid')),
    place        TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT '',
    prefecture   TEXT,                         -- romanised code: tokyo, osaka, … (NULL when online only)
    lat          REAL,
    lon          REAL,
    online_url   TEXT,                         -- shown to confirmed registrants only
    language     TEXT    NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en', 'multi')),
    hashtag      TEXT    NOT NULL DEFAULT '',
    image_url    TEXT,
    status       TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    event_type   TEXT    NOT NULL DEFAULT 'participation' CHECK (event_type IN ('participation', 'advertisement')),
    beginner_ok  INTEGER NOT NULL DEFAULT 0,
    hands_on     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (ends_at >= starts_at)
);
CREATE INDEX events_status_starts ON events (status, starts_at);
CREATE INDEX events_group_starts ON events (group_id, starts_at);

-- 参加枠: each frame has its own capacity and rules. accepted_count / waiting_count are
-- caches of the registrations rows, kept in the same transaction as every registration
-- write (tests assert they always equal the rows).
CREATE TABLE frames (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL DEFAULT 0,
    name             TEXT    NOT NULL,
    capacity         INTEGER NOT NULL CHECK (capacity >= 1),
    method           TEXT    NOT NULL DEFAULT 'first_come' CHECK (method IN ('first_come', 'lottery')),
    fee              INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0),   -- yen
    opens_at         INTEGER,
    closes_at        INTEGER,
    draw_at          INTEGER,                                       -- lottery frames
    drawn_at         INTEGER,
    draw_seed        INTEGER,
    promotion_frozen INTEGER NOT NULL DEFAULT 0,
    accepted_count   INTEGER NOT NULL DEFAULT 0,
    waiting_count    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX frames_event ON frames (event_id, position);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('topic', 'tool')),
    position    INTEGER NOT NULL DEFAULT 0,
    description TEXT    NOT NULL DEFAULT ''
);

-- Alternative spellings (JS → JavaScript, k8s → Kubernetes), stored NFKC-lowercased.
CREATE TABLE tag_aliases (
    alias  TEXT    PRIMARY KEY,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE
);

CREATE TABLE event_tags (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    tag_id   INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, tag_id)
);
CREATE INDEX event_tags_tag ON event_tags (tag_id, event_id);

CREATE TABLE speakers (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL DEFAULT 0,
    name        TEXT    NOT NULL,
    affiliation TEXT    NOT NULL DEFAULT '',
    bio         TEXT    NOT NULL DEFAULT '',
    talk_title  TEXT    NOT NULL DEFAULT '',
    user_id     INTEGER REFERENCES users (id)
);
CREATE INDEX speakers_event ON speakers (event_id, position);

CREATE TABLE questions (
    id        INTEGER PRIMARY KEY,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL DEFAULT 0,
    kind      TEXT    NOT NULL CHECK (kind IN ('text', 'single', 'multiple')),
    label     TEXT    NOT NULL,
    options   TEXT    NOT NULL DEFAULT '[]',   -- JSON array of choices
    required  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX questions_event ON questions (event_id, position);

-- position orders the registrations of a frame (arrival order; the waitlist is promoted
-- strictly by it). One registration per user per event.
CREATE TABLE registrations (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    frame_id      INTEGER NOT NULL REFERENCES frames (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    position      INTEGER NOT NULL,
    receipt_code  TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    cancelled_at  INTEGER,
    checked_in_at INTEGER,
    CONSTRAINT registrations_one_per_user UNIQUE (event_id, user_id)
);
CREATE INDEX registrations_frame ON registrations (frame_id, status, position);
CREATE INDEX registrations_user ON registrations (user_id);

CREATE TABLE answers (
    registration_id INTEGER NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    question_id     INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    value           TEXT    NOT NULL,
    PRIMARY KEY (registration_id, question_id)
);
