import type { Database } from '@openpks/db';

/**
 * Records `count` clusters in the API's own table in one set-based statement, as if created and
 * succeeded earlier (read figures need a fleet; creating it through the Director is what other figures
 * measure). Names are `<prefix>-00000`…, so they sort in creation order.
 */
export async function seedClusters(
  db: Database,
  prefix: string,
  count: number,
  owner: string,
): Promise<void> {
  await db.query(
    `INSERT INTO api.clusters (uuid, name, owner, plan_name, master_host, master_port, master_ips,
       worker_instances, network_profile_name, drain, k8s_version, pks_version, last_action, last_action_state,
       last_action_description)
     SELECT gen_random_uuid(), $1 || '-' || lpad(i::text, 5, '0'), $3, 'small',
       $1 || '-' || i || '.bench.example.com', 8443,
       jsonb_build_array('127.2.' || (i / 250) || '.' || (i % 250 + 1)), 3, NULL, NULL, '1.15.5', '1.6.0-openpks',
       'CREATE', 'succeeded', 'Instance provisioning completed'
     FROM generate_series(0, $2::int - 1) AS i`,
    [prefix, count, owner],
  );
}
