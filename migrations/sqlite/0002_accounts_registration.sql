-- Accounts, sessions and the registration machinery (lottery draws, rate limiting support).

-- Server-side sessions (tower-sessions records, JSON data).
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- One row per lottery draw: the seed makes the outcome re-derivable, the log lists the
-- drawn order. UNIQUE(frame_id) is what makes a draw happen exactly once.
CREATE TABLE lottery_draws (
    id        INTEGER PRIMARY KEY,
    frame_id  INTEGER NOT NULL UNIQUE REFERENCES frames (id) ON DELETE CASCADE,
    seed      INTEGER NOT NULL,
    drawn_at  INTEGER NOT NULL,
    winners   INTEGER NOT NULL,
    log       TEXT    NOT NULL             -- JSON: [{"registration_id", "user_id", "rank", "result"}]
);

CREATE INDEX frames_lottery_due ON frames (draw_at) WHERE method = 'lottery' AND drawn_at IS NULL;
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
