import { revocationJournalMigration } from '@openpks/auth';
import type { Migration } from '@openpks/db';

/** The `uaa` schema. Applied in order at start; never edit one that shipped, add the next. */
export const uaaMigrations: readonly Migration[] = [
  {
    id: '0001_identity',
    sql: `
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  origin text NOT NULL DEFAULT 'uaa',
  external_id text,
  email text NOT NULL,
  given_name text,
  family_name text,
  phone_number text,
  active boolean NOT NULL DEFAULT true,
  verified boolean NOT NULL DEFAULT true,
  password_hash text,
  password_last_modified timestamptz,
  password_change_required boolean NOT NULL DEFAULT false,
  -- renewed to revoke every token of the user at once (part of rev_sig)
  token_salt text NOT NULL,
  version integer NOT NULL DEFAULT 0,
  created timestamptz NOT NULL,
  last_modified timestamptz NOT NULL,
  last_logon_time timestamptz,
  previous_logon_time timestamptz
);
CREATE UNIQUE INDEX users_username_origin ON users (lower(username), origin);

CREATE TABLE login_failures (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (user_id, failed_at);

CREATE TABLE groups (
  id uuid PRIMARY KEY,
  display_name text NOT NULL,
  description text,
  version integer NOT NULL DEFAULT 0,
  created timestamptz NOT NULL,
  last_modified timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_display_name ON groups (lower(display_name));

CREATE TABLE group_members (
  group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  member_type text NOT NULL CHECK (member_type IN ('USER', 'GROUP')),
  origin text NOT NULL DEFAULT 'uaa',
  added timestamptz NOT NULL,
  PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);

CREATE TABLE clients (
  client_id text PRIMARY KEY,
  name text,
  -- null: a public client (empty secret), as pks_cli and pks_cluster_client
  secret_hash text,
  scope text[] NOT NULL DEFAULT '{}',
  authorities text[] NOT NULL DEFAULT '{}',
  authorized_grant_types text[] NOT NULL DEFAULT '{}',
  redirect_uri text[] NOT NULL DEFAULT '{}',
  autoapprove text[] NOT NULL DEFAULT '{}',
  resource_ids text[] NOT NULL DEFAULT '{}',
  access_token_validity integer,
  refresh_token_validity integer,
  allow_public boolean NOT NULL DEFAULT false,
  token_salt text NOT NULL,
  created timestamptz NOT NULL,
  last_modified timestamptz NOT NULL
);
`,
  },
  {
    id: '0002_tokens',
    sql: `
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  -- the PKCS#8 PEM, sealed with the data directory's key
  private_key_sealed text NOT NULL,
  public_key_pem text NOT NULL,
  created timestamptz NOT NULL,
  -- set when a newer key takes over; the key stays published until publish_until
  retired_at timestamptz,
  publish_until timestamptz
);

CREATE TABLE refresh_tokens (
  -- sha256 of the opaque token value; the value itself is never stored
  token_hash text PRIMARY KEY,
  jti text NOT NULL UNIQUE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope text[] NOT NULL,
  grant_type text NOT NULL,
  rev_sig text NOT NULL,
  auth_time timestamptz NOT NULL,
  -- issued through PKCE: the refresh grant may then come without the client secret (UAA's rule)
  pkce boolean NOT NULL DEFAULT false,
  created timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);

CREATE TABLE revoked_tokens (
  jti text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

CREATE TABLE authorization_codes (
  code_hash text PRIMARY KEY,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri text,
  scope text[] NOT NULL,
  code_challenge text,
  code_challenge_method text,
  nonce text,
  auth_time timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE sessions (
  session_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  auth_time timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
`,
  },
  {
    id: '0003_session_binding',
    sql: `
-- A session remembers the user's credentials as they were at sign-in (a hash, see credentialBinding) and
-- is checked against them on every use. Sessions from before carry nothing to check against, so they end;
-- their users sign in once more.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN credential_binding text NOT NULL;
-- Ending a user's sessions and unredeemed codes at once (password change, revoke-all) looks them up by user.
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);
`,
  },
  revocationJournalMigration,
];
