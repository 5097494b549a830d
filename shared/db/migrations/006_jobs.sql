-- compatible: yes (nullable columns, a NOT NULL column with a default, and a NOT NULL relaxed)
-- Work after the answer is a job in River's tables (the migrate step makes
-- them beside these).
--
-- A sign-in link's token is minted when its mail goes out, not when it is
-- asked for, so no job ever holds a secret: until then token_hash is NULL
-- and the link cannot sign anyone in. A delivery that fails for good marks
-- its link dead (delivery_failed_at). request_id ties the link to the
-- request's log lines.
ALTER TABLE login_tokens ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE login_tokens ADD COLUMN request_id text;
ALTER TABLE login_tokens ADD COLUMN delivery_failed_at timestamptz;

-- Each recording is processed once after upload: its loudness is measured,
-- its waveform drawn and its listening copy made, all from one decoding.
ALTER TABLE recordings ADD COLUMN processing_state text NOT NULL DEFAULT 'pending'
    CHECK (processing_state IN ('pending', 'ready', 'failed'));
ALTER TABLE recordings ADD COLUMN processing_error text;
ALTER TABLE recordings ADD COLUMN listen_mime_type text;
ALTER TABLE recordings ADD COLUMN listen_bytes bigint;
ALTER TABLE recordings ADD COLUMN loudness_lufs real;
ALTER TABLE recordings ADD COLUMN true_peak_dbtp real;
ALTER TABLE recordings ADD COLUMN loudness_range_lu real;
