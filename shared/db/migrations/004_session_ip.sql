-- compatible: yes (a column with a default, indexes)
-- The address a session was started from: a member asking for a link from
-- a network where they are signed in is never held back by the per-email
-- ceiling that others' requests for their address may have reached.
ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT '';
CREATE INDEX sessions_user_ip_idx ON sessions (user_id, ip);
-- The per-pair limit counts requests for one address from one network.
CREATE INDEX login_tokens_email_ip_idx ON login_tokens (email, request_ip, created_at);
