import { leasesMigration, type Migration } from '@openpks/db';

/**
 * The `broker` schema. The Director's deployment `service-instance_<id>` and its tasks (found by context
 * id) are the truth about what runs; these tables remember what the platform asked for, so identical and
 * conflicting requests are told apart and a restarted broker answers `last_operation`.
 */
export const brokerMigrations: readonly Migration[] = [
  {
    id: '0001_instances_operations_bindings',
    sql: `
CREATE TABLE instances (
  id text PRIMARY KEY,
  service_id text NOT NULL,
  plan_id text NOT NULL,
  organization_guid text,
  space_guid text,
  context jsonb,
  -- the parameters of the provision request, to recognise an identical repeat
  parameters jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per asynchronous operation; its id is the BOSH context id of every task it starts.
CREATE TABLE operations (
  id text PRIMARY KEY,
  instance_id text NOT NULL,
  type text NOT NULL CHECK (type IN ('create', 'update', 'delete', 'upgrade', 'recreate')),
  plan_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('in progress', 'succeeded', 'failed')),
  description text NOT NULL,
  -- steps: the deploy (or delete) task and the lifecycle errands, in order; step = how many were started
  steps jsonb NOT NULL,
  step integer NOT NULL DEFAULT 0,
  step_started_at timestamptz NOT NULL DEFAULT now(),
  first_task_id integer,
  request_hash text,
  originating_identity jsonb,
  request_identity text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX operations_instance ON operations (instance_id, created_at DESC);
-- at most one operation in progress per instance: the database settles races between requests
CREATE UNIQUE INDEX operations_one_in_progress ON operations (instance_id) WHERE state = 'in progress';

CREATE TABLE bindings (
  instance_id text NOT NULL,
  id text NOT NULL,
  request_hash text NOT NULL,
  -- the credentials hold the user's tokens: sealed with the data directory's key
  credentials_sealed text NOT NULL,
  originating_identity jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, id)
);
`,
  },
  {
    id: '0002_upgrade_runs',
    sql: `
CREATE TABLE upgrade_runs (
  id text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  operation_type text NOT NULL CHECK (operation_type IN ('upgrade', 'recreate')),
  max_in_flight integer NOT NULL,
  attempt_limit integer NOT NULL,
  attempt_interval_ms integer NOT NULL,
  polling_interval_ms integer NOT NULL,
  description text NOT NULL DEFAULT '',
  cancel_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE TABLE upgrade_run_instances (
  run_id text NOT NULL REFERENCES upgrade_runs (id) ON DELETE CASCADE,
  instance_id text NOT NULL,
  ordinal integer NOT NULL,
  is_canary boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'busy', 'in progress', 'succeeded', 'failed', 'skipped', 'cancelled', 'orphaned')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  operation_id text,
  description text NOT NULL DEFAULT '',
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, instance_id)
);
`,
  },
  leasesMigration('0003_leases'),
  {
    // Who started a run: the API (for a user's upgrade-clusters) or an operator's upgrade-all.
    id: '0004_upgrade_run_created_by',
    sql: `ALTER TABLE upgrade_runs ADD COLUMN created_by text;`,
  },
  {
    // Bindings without OIDC: a client certificate from the broker's client CA, let in by a ClusterRoleBinding.
    id: '0005_client_ca_certificate_bindings',
    sql: `
CREATE TABLE client_ca (
  id text PRIMARY KEY,
  certificate text NOT NULL,
  -- the CA's private key, sealed with the data directory's key
  private_key_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- the Kubernetes user (client certificate CN) of a certificate binding; null for an OIDC binding
ALTER TABLE bindings ADD COLUMN kube_user text;
`,
  },
  {
    // The broker drives its operations itself (deploy → errand, drain → delete), with or without anyone
    // polling: each is leased by the replica driving it, so two never start the same step and a
    // restarted broker takes up what a stopped or crashed one left.
    id: '0006_operation_leases',
    sql: `
ALTER TABLE operations ADD COLUMN lease_holder text, ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX operations_in_progress ON operations (created_at) WHERE state = 'in progress';
`,
  },
];
