-- Ranked lottery: the other frames an applicant accepts, best first. Choice 1 is the frame
-- applied to (the registration's own frame_id until the draw) and is not stored here; rows
-- choice 2 and below. Only lottery frames drawn at the same time may be ranked.
CREATE TABLE registration_choices (
    registration_id BIGINT  NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    choice          BIGINT  NOT NULL CHECK (choice >= 2),
    frame_id        BIGINT  NOT NULL REFERENCES frames (id) ON DELETE CASCADE,
    PRIMARY KEY (registration_id, choice)
);
CREATE INDEX registration_choices_frame ON registration_choices (frame_id);
