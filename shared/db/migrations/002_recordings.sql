-- compatible: yes (new tables only)
-- Recordings and the members' scores of them.

CREATE TABLE recordings (
    id                uuid PRIMARY KEY,
    title             text NOT NULL CHECK (title <> ''),
    original_filename text NOT NULL,
    format            text NOT NULL,
    mime_type         text NOT NULL,
    duration_seconds  double precision CHECK (duration_seconds >= 0),
    file_size_bytes   bigint NOT NULL CHECK (file_size_bytes >= 0),
    sha256            bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
    uploaded_at       timestamptz NOT NULL,
    uploaded_by       uuid NOT NULL REFERENCES users (id),
    recorded_date     date,
    venue             text NOT NULL DEFAULT '',
    source            text NOT NULL DEFAULT '',
    notes             text NOT NULL DEFAULT ''
);
CREATE INDEX recordings_uploaded_at_idx ON recordings (uploaded_at DESC, id);
CREATE INDEX recordings_recorded_date_idx ON recordings (recorded_date DESC NULLS LAST, id);
CREATE INDEX recordings_title_idx ON recordings (lower(title), id);

CREATE TABLE scores (
    recording_id uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id),
    score        smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    scored_at    timestamptz NOT NULL,
    PRIMARY KEY (recording_id, user_id)
);
CREATE INDEX scores_user_idx ON scores (user_id, recording_id);
