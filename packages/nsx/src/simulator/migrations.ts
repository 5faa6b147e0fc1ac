import type { Migration } from '@openpks/db';

/**
 * The `nsx` schema: the simulator's Policy API objects, one row per object keyed by its policy path
 * (`/infra/ip-pools/p/ip-subnets/s`). IPAM is derived from the rows (carved subnets and allocated
 * addresses live in their bodies), so nothing can drift from what the API shows.
 */
export const nsxMigrations: readonly Migration[] = [
  {
    id: '0001_create_objects',
    sql: `
CREATE TABLE objects (
  path text PRIMARY KEY,
  parent text NOT NULL,
  kind text NOT NULL,
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX objects_parent_idx ON objects (parent, kind);
`,
  },
];
