-- Bilingual events: the English title, catch and Markdown description beside the Japanese
-- (or only) text in title, catch and description. Empty: no English text.
ALTER TABLE events ADD COLUMN title_en TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN catch_en TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN description_en TEXT NOT NULL DEFAULT '';
