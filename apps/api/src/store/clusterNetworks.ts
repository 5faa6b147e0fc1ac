import type { Queryable } from '@openpks/db';

/** A cluster's NSX-T networking as the API records it: the profile it runs with and the proxy step's allocation. */
export interface ClusterNetworkRecord {
  clusterUuid: string;
  profileParameters: Record<string, unknown>;
  details: Record<string, unknown> | null;
}

export const clusterNetworks = {
  async get(db: Queryable, clusterUuid: string): Promise<ClusterNetworkRecord | undefined> {
    const result = await db.query<{
      cluster_uuid: string;
      profile_parameters: Record<string, unknown>;
      details: Record<string, unknown> | null;
    }>(`SELECT * FROM api.cluster_networks WHERE cluster_uuid = $1`, [clusterUuid]);
    const row = result.rows[0];
    return (
      row && {
        clusterUuid: row.cluster_uuid,
        profileParameters: row.profile_parameters,
        details: row.details,
      }
    );
  },
  /** The networking of several clusters in one query (the batch behind a request's DataLoader). */
  async many(db: Queryable, clusterUuids: readonly string[]): Promise<ClusterNetworkRecord[]> {
    const result = await db.query<{
      cluster_uuid: string;
      profile_parameters: Record<string, unknown>;
      details: Record<string, unknown> | null;
    }>(`SELECT * FROM api.cluster_networks WHERE cluster_uuid = ANY($1::uuid[])`, [clusterUuids]);
    return result.rows.map((row) => ({
      clusterUuid: row.cluster_uuid,
      profileParameters: row.profile_parameters,
      details: row.details,
    }));
  },
  async put(db: Queryable, record: ClusterNetworkRecord): Promise<void> {
    await db.query(
      `INSERT INTO api.cluster_networks (cluster_uuid, profile_parameters, details) VALUES ($1, $2::jsonb, $3::jsonb)
       ON CONFLICT (cluster_uuid) DO UPDATE SET profile_parameters = EXCLUDED.profile_parameters,
         details = EXCLUDED.details, updated_at = now()`,
      [
        record.clusterUuid,
        JSON.stringify(record.profileParameters),
        record.details === null ? null : JSON.stringify(record.details),
      ],
    );
  },
  async remove(db: Queryable, clusterUuid: string): Promise<void> {
    await db.query(`DELETE FROM api.cluster_networks WHERE cluster_uuid = $1`, [clusterUuid]);
  },
};
