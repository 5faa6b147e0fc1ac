import type { Migration } from '@openpks/db';

/**
 * The `nsx` schema: the simulator's Policy API objects, one row per object keyed by its policy path
 * (`/infra/ip-pools/p/ip-subnets/s`). `body` is the intent, as the Policy API answers GETs with it;
 * `realized` is what NSX decided for it (a carved subnet, an allocated address, or an error) and when that
 * becomes visible, served only through `/infra/realized-state/realized-entities` as on a real manager.
 * IPAM is derived from the rows, so nothing can drift from what the API shows.
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
  {
    id: '0002_realized_state',
    // Rows written before the realized state kept NSX's decisions in the intent: move them over (already
    // visible), so a data directory from then keeps its IPAM exact.
    sql: `
ALTER TABLE objects ADD COLUMN realized jsonb;
UPDATE objects SET realized = jsonb_build_object('at', 0, 'attributes', jsonb_strip_nulls(
    jsonb_build_object('cidr', body->>'cidr', 'start_ip', body->>'start_ip')))
  WHERE kind = 'ip-subnets' AND body ? 'cidr';
UPDATE objects SET body = body - 'cidr' - 'start_ip'
  WHERE kind = 'ip-subnets' AND body->>'resource_type' = 'IpAddressPoolBlockSubnet';
UPDATE objects SET realized = jsonb_build_object('at', 0, 'attributes',
    jsonb_build_object('allocation_ip', body->>'allocation_ip'))
  WHERE kind = 'ip-allocations' AND body ? 'allocation_ip';
`,
  },
];
