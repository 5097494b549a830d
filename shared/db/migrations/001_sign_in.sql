-- compatible: yes (the first schema: there is no older code)
-- Users, invites, login links and sessions. Only SHA-256 hashes of secrets
-- are stored: a copy of the database lets nobody sign in.

CREATE TABLE users (
    id           uuid PRIMARY KEY,
    email        text NOT NULL CHECK (email = lower(btrim(email)) AND email <> ''),
    display_name text NOT NULL DEFAULT '',
    role         text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);
-- Emails are stored normalised, so a plain unique index is case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE invites (
    id          uuid PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    used_by     uuid REFERENCES users (id),
    revoked_at  timestamptz
);
CREATE INDEX invites_created_at_idx ON invites (created_at DESC);

CREATE TABLE login_tokens (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    -- No foreign key on user_id: its check would lock the member's row and
    -- make a member's send-link measurably slower than a stranger's (whose
    -- row has no user), and the rows live a day at most. A link whose user
    -- is gone is refused by the verify step.
    user_id      uuid,
    email        text NOT NULL,
    display_name text,
    invite_id    uuid REFERENCES invites (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    request_ip   text NOT NULL
);
-- The rate limits count recent requests per email and per address.
CREATE INDEX login_tokens_email_idx ON login_tokens (email, created_at);
CREATE INDEX login_tokens_ip_idx ON login_tokens (request_ip, created_at);
CREATE INDEX login_tokens_user_idx ON login_tokens (user_id) WHERE used_at IS NULL;

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
