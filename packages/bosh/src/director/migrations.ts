import type { Migration } from '@openpks/db';

/** The `director` schema: tasks, deployments, instances, variables, configs, artifacts and the sim CPI's records. */
export const directorMigrations: readonly Migration[] = [
  {
    id: '0001_create_director',
    sql: `
CREATE TABLE tasks (
  id serial PRIMARY KEY,
  type text NOT NULL,
  state text NOT NULL,
  description text NOT NULL,
  deployment text,
  context_id text,
  username text,
  params jsonb NOT NULL DEFAULT '{}',
  checkpoint jsonb NOT NULL DEFAULT '{}',
  result text,
  event_output text NOT NULL DEFAULT '',
  result_output text NOT NULL DEFAULT '',
  debug_output text NOT NULL DEFAULT '',
  holder text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX tasks_state_idx ON tasks (state, id);
CREATE INDEX tasks_deployment_idx ON tasks (deployment, id);

CREATE TABLE deployments (
  name text PRIMARY KEY,
  manifest text NOT NULL,
  cloud_config_id integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instances (
  deployment text NOT NULL,
  instance_group text NOT NULL,
  index integer NOT NULL,
  uuid text NOT NULL UNIQUE,
  az text,
  lifecycle text NOT NULL DEFAULT 'service',
  state text NOT NULL DEFAULT 'started',
  vm_cid text,
  agent_id text,
  ips jsonb NOT NULL DEFAULT '[]',
  disk_cid text,
  stemcell text,
  config_hash text,
  bootstrap boolean NOT NULL DEFAULT false,
  jobs jsonb NOT NULL DEFAULT '[]',
  vm_created_at timestamptz,
  PRIMARY KEY (deployment, instance_group, index)
);

CREATE TABLE variables (
  deployment text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment, name)
);

CREATE TABLE configs (
  id serial PRIMARY KEY,
  type text NOT NULL,
  name text NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted boolean NOT NULL DEFAULT false
);

CREATE TABLE stemcells (
  name text NOT NULL,
  version text NOT NULL,
  operating_system text NOT NULL,
  cid text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);

CREATE TABLE releases (
  name text NOT NULL,
  version text NOT NULL,
  commit_hash text NOT NULL DEFAULT 'unknown',
  job_names jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);

CREATE TABLE sim_vms (
  cid text PRIMARY KEY,
  agent_id text NOT NULL,
  ip text NOT NULL,
  deployment text,
  instance_group text,
  stemcell_cid text,
  cloud_properties jsonb NOT NULL DEFAULT '{}',
  env jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE sim_disks (
  cid text PRIMARY KEY,
  size_mb integer NOT NULL,
  vm_cid text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE sim_ips (
  ip text PRIMARY KEY,
  vm_cid text NOT NULL
);
`,
  },
  {
    // What an instance's VM and disk were made with: a change of vm_type, stemcell, networks or env
    // recreates the VM; a change of the disk's size or type migrates the disk (as BOSH does).
    id: '0002_instance_vm_and_disk_config',
    sql: `
ALTER TABLE instances ADD COLUMN vm_hash text;
ALTER TABLE instances ADD COLUMN disk_hash text;
`,
  },
  {
    // Task output as rows, one per write, instead of one text per type appended with `text || $2`: that
    // rewrote the whole value on every line (~11 ms an append once a debug log was large), and the event
    // stream re-read it all on every line. Output reads concatenate the rows in id order, so the bytes
    // (and the Range offsets clients hold) are the same as before; existing text becomes one row each.
    id: '0003_task_output_rows',
    sql: `
CREATE TABLE task_output (
  id bigserial PRIMARY KEY,
  task_id integer NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  type text NOT NULL,
  text text NOT NULL
);
CREATE INDEX task_output_task_type_idx ON task_output (task_id, type, id);
INSERT INTO task_output (task_id, type, text)
  SELECT id, output.type, output.text FROM tasks,
    LATERAL (VALUES ('event', event_output), ('result', result_output), ('debug', debug_output)) AS output (type, text)
  WHERE output.text <> ''
  ORDER BY id;
ALTER TABLE tasks DROP COLUMN event_output, DROP COLUMN result_output, DROP COLUMN debug_output;
`,
  },
  {
    // The Director's audit trail (`bosh events`): what was done, by whom, in which task, to which object,
    // and how it ended. A change that has a start and an end records both; the end names the start as
    // its parent and carries the error when it failed.
    id: '0004_events',
    sql: `
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  parent_id bigint,
  timestamp timestamptz NOT NULL DEFAULT now(),
  username text,
  action text NOT NULL,
  object_type text NOT NULL,
  object_name text,
  task text,
  deployment text,
  instance text,
  error text,
  context jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_deployment_idx ON events (deployment, id);
CREATE INDEX events_timestamp_idx ON events (timestamp);
`,
  },
  {
    // The sim CPI's masters keep each cluster's ClusterRoleBindings here (what etcd holds on a real
    // cluster), so the credentials a broker binding granted survive a restart; they go with the deployment.
    id: '0005_sim_cluster_role_bindings',
    sql: `
CREATE TABLE sim_cluster_role_bindings (
  deployment text NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  name text NOT NULL,
  binding jsonb NOT NULL,
  version bigserial NOT NULL,
  PRIMARY KEY (deployment, name)
);
`,
  },
];
