-- The hourly allowance of messages per organizer counts their recent messages.
CREATE INDEX messages_sender ON messages (sender_id, created_at);
