import { leasesMigration, type Migration } from '@openpks/db';

/** The `api` schema: the API's own record of clusters, operations, events, profiles, upgrade runs, audit. */
export const apiMigrations: Migration[] = [
  {
    id: '0001_clusters',
    sql: `
CREATE TABLE clusters (
  uuid uuid PRIMARY KEY,
  name text NOT NULL,
  owner text NOT NULL,
  plan_name text NOT NULL,
  master_host text NOT NULL,
  master_port integer NOT NULL DEFAULT 8443,
  master_ips jsonb NOT NULL DEFAULT '[]',
  worker_instances integer NOT NULL,
  network_profile_name text,
  drain jsonb,
  k8s_version text,
  pks_version text NOT NULL,
  last_action text NOT NULL,
  last_action_state text NOT NULL,
  last_action_description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
-- A name is unique among clusters that still exist; a deleted cluster's name can be reused.
CREATE UNIQUE INDEX clusters_live_name ON clusters (name) WHERE deleted_at IS NULL;

CREATE TABLE operations (
  id uuid PRIMARY KEY,
  cluster_uuid uuid NOT NULL REFERENCES clusters (uuid),
  kind text NOT NULL,
  -- requested: not yet acknowledged by the broker; polling: following last_operation; then a final state.
  phase text NOT NULL,
  state text NOT NULL,
  request jsonb NOT NULL,
  originating_user text NOT NULL,
  broker_operation text,
  director_task_id integer,
  description text NOT NULL DEFAULT '',
  holder text,
  lease_expires_at timestamptz,
  task_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX operations_active ON operations (created_at) WHERE state = 'in progress';
CREATE UNIQUE INDEX operations_one_active_per_cluster ON operations (cluster_uuid) WHERE state = 'in progress';

CREATE TABLE cluster_events (
  id bigserial PRIMARY KEY,
  cluster_uuid uuid NOT NULL REFERENCES clusters (uuid),
  at timestamptz NOT NULL DEFAULT now(),
  event jsonb NOT NULL
);
CREATE INDEX cluster_events_by_cluster ON cluster_events (cluster_uuid, id);

CREATE TABLE network_profiles (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  parameters jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  status text NOT NULL,
  owner text NOT NULL,
  max_in_flight integer NOT NULL,
  holder text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE TABLE task_clusters (
  task_id uuid NOT NULL REFERENCES tasks (id),
  position integer NOT NULL,
  cluster_name text NOT NULL,
  is_canary boolean NOT NULL,
  state text NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  description text NOT NULL DEFAULT '',
  PRIMARY KEY (task_id, position)
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  client_id text NOT NULL,
  action text NOT NULL,
  target text,
  parameters jsonb NOT NULL DEFAULT '{}',
  outcome text NOT NULL,
  error_code text,
  message text
);
`,
  },
  leasesMigration('0002_leases'),
  {
    // What the NSX proxy step allocated for a cluster, and the profile parameters it runs with (which an
    // allowed profile update changes), apart from the cluster row so clusters without NSX carry nothing.
    id: '0003_cluster_networks',
    sql: `
CREATE TABLE cluster_networks (
  cluster_uuid uuid PRIMARY KEY,
  profile_parameters jsonb NOT NULL DEFAULT '{}',
  details jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    // Upgrade runs happen on the broker (its durable upgrade-all); a task is the API's view of one.
    id: '0004_task_broker_runs',
    sql: `
ALTER TABLE tasks ADD COLUMN broker_run_id text UNIQUE;
ALTER TABLE task_clusters ADD COLUMN cluster_uuid uuid;
ALTER TABLE task_clusters ADD COLUMN broker_operation_id text;
`,
  },
  {
    // Every write to a table that cached query answers read announces itself (http/answerCache.ts), from
    // the database rather than from each writer, so no code path (another replica, a script) can forget.
    // Per statement, and PostgreSQL folds a transaction's identical notices into one.
    id: '0005_reads_changed_notices',
    sql: `
CREATE FUNCTION notify_reads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('api_reads_changed', '"' || TG_TABLE_NAME || '"');
  RETURN NULL;
END
$$;
CREATE TRIGGER clusters_reads_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clusters
  FOR EACH STATEMENT EXECUTE FUNCTION notify_reads_changed();
CREATE TRIGGER cluster_events_reads_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cluster_events
  FOR EACH STATEMENT EXECUTE FUNCTION notify_reads_changed();
CREATE TRIGGER cluster_networks_reads_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cluster_networks
  FOR EACH STATEMENT EXECUTE FUNCTION notify_reads_changed();
CREATE TRIGGER network_profiles_reads_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON network_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION notify_reads_changed();
`,
  },
  {
    // When the broker stopped answering an operation (unreachable, or 5xx): past the API's limit the
    // operation ends failed with the reason instead of retrying forever. Cleared by every answer.
    id: '0006_operation_broker_unreachable',
    sql: `ALTER TABLE operations ADD COLUMN broker_unreachable_since timestamptz;`,
  },
  {
    // A cluster is spec + status + conditions (Cluster API's shape). The spec is what the user asked for:
    // plan_name, master_host/port, worker_instances, network_profile_name and drain (as before) plus the
    // versions wanted, and `generation`, bumped on every change of it. The status is what was observed on
    // the Director (`status`; null until first observed) and the generation the last successful operation
    // applied; pks_version, k8s_version and master_ips stay as the PKS-compatible mirror of it. Conditions
    // say why the two differ. An operation records the generation it applies and the spec it replaced
    // (put back when the broker refuses the change outright), and when it entered its phase (deadlines).
    id: '0007_cluster_spec_status_conditions',
    sql: `
ALTER TABLE clusters ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE clusters ADD COLUMN observed_generation integer NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN wanted_pks_version text;
ALTER TABLE clusters ADD COLUMN wanted_k8s_version text;
ALTER TABLE clusters ADD COLUMN status jsonb;
ALTER TABLE clusters ADD COLUMN conditions jsonb NOT NULL DEFAULT '[]';
UPDATE clusters SET wanted_pks_version = pks_version, wanted_k8s_version = k8s_version,
  observed_generation = CASE WHEN last_action_state = 'succeeded' THEN 1 ELSE 0 END;

ALTER TABLE operations ADD COLUMN generation integer;
ALTER TABLE operations ADD COLUMN previous_spec jsonb;
ALTER TABLE operations ADD COLUMN phase_since timestamptz NOT NULL DEFAULT now();
CREATE INDEX operations_latest_per_cluster ON operations (cluster_uuid, created_at DESC);
`,
  },
  {
    // Compute profiles (PKS 1.6, beta and REST-only there): which AZs a cluster's VMs go to, stored as
    // given after validation. The AZ list is jsonb: `{azs: [{name, datacenter?, cluster?, resource_pool?}]}`.
    // A cluster names the one it was created with (fixed for its life, like its plan).
    id: '0008_compute_profiles',
    sql: `
CREATE TABLE compute_profiles (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  parameters jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE clusters ADD COLUMN compute_profile_name text;
`,
  },
  {
    // Quotas (PKS 1.6's beta, PKS-REFERENCE §2): one limit per owner on clusters, CPUs and memory (GB)
    // over the owner's live clusters. No row, no limit. The create and resize checks lock the owner's row,
    // so two requests at the limit cannot both pass.
    id: '0009_quotas',
    sql: `
CREATE TABLE quotas (
  owner text PRIMARY KEY,
  cluster integer NOT NULL CHECK (cluster >= 1),
  cpu integer NOT NULL CHECK (cpu >= 0),
  memory double precision NOT NULL CHECK (memory >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Usage sums an owner's live clusters, inside the create's transaction with the quota row locked.
CREATE INDEX clusters_live_owner ON clusters (owner, plan_name) WHERE deleted_at IS NULL;
`,
  },
  {
    // A quota's limits each optional, as in PKS's model: NULL is no limit on that resource. The range
    // CHECKs of 0009 pass NULL as they are; a row must still limit something (lifting every limit is
    // deleting the quota).
    id: '0010_quota_limits_optional',
    sql: `
ALTER TABLE quotas ALTER COLUMN cluster DROP NOT NULL;
ALTER TABLE quotas ALTER COLUMN cpu DROP NOT NULL;
ALTER TABLE quotas ALTER COLUMN memory DROP NOT NULL;
ALTER TABLE quotas ADD CONSTRAINT quotas_some_limit
  CHECK (cluster IS NOT NULL OR cpu IS NOT NULL OR memory IS NOT NULL);
`,
  },
];
