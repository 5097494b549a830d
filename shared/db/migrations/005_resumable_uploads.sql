-- compatible: yes (a new table)
-- Resumable uploads (tus): one row per upload, in progress or finished. The
-- bytes live in UPLOADS_DIR/.partial/{id} until the upload is complete and
-- becomes a recording. offset is what the server has acknowledged: those
-- bytes are on disk (fsynced) before the row says so.
CREATE TABLE uploads (
    id           uuid PRIMARY KEY,
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    length       bigint NOT NULL CHECK (length > 0),
    "offset"     bigint NOT NULL DEFAULT 0 CHECK ("offset" >= 0 AND "offset" <= length),
    -- filename and the optional recording fields, as the client sent them
    metadata     jsonb NOT NULL DEFAULT '{}',
    -- decided from the first 64 KiB, as soon as they arrive
    format       text,
    -- the SHA-256 state after offset bytes (encoding.BinaryMarshaler)
    hash_state   bytea,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    -- the recording it became, or the one that already had its bytes
    recording_id uuid,
    duplicate    boolean NOT NULL DEFAULT false
);
-- The per-member bounds count unfinished uploads; the sweep finds expired ones.
CREATE INDEX uploads_owner_idx ON uploads (owner_id) WHERE finished_at IS NULL;
CREATE INDEX uploads_expires_idx ON uploads (expires_at);
