import type { Queryable } from '@openpks/db';

/** One AZ of a compute profile, as PKS 1.6 takes it (the vSphere placement fields are optional). */
export interface ComputeProfileAz {
  name: string;
  datacenter?: string;
  cluster?: string;
  resource_pool?: string;
}

export interface ComputeProfileRecord {
  name: string;
  description: string;
  parameters: { azs: ComputeProfileAz[] };
  createdAt: Date;
}

interface Row {
  name: string;
  description: string;
  parameters: { azs: ComputeProfileAz[] };
  created_at: Date;
}

function recordOf(r: Row): ComputeProfileRecord {
  return {
    name: r.name,
    description: r.description,
    parameters: r.parameters,
    createdAt: new Date(r.created_at),
  };
}

/** `api.compute_profiles`. */
export const computeProfileStore = {
  async all(db: Queryable): Promise<ComputeProfileRecord[]> {
    const result = await db.query<Row>(`SELECT * FROM api.compute_profiles ORDER BY name`);
    return result.rows.map(recordOf);
  },
  async byName(db: Queryable, name: string): Promise<ComputeProfileRecord | undefined> {
    const result = await db.query<Row>(`SELECT * FROM api.compute_profiles WHERE name = $1`, [name]);
    return result.rows[0] && recordOf(result.rows[0]);
  },
  /** False when a profile of that name exists already. */
  async insert(
    db: Queryable,
    profile: { name: string; description: string; parameters: { azs: ComputeProfileAz[] } },
  ): Promise<boolean> {
    const result = await db.query(
      `INSERT INTO api.compute_profiles (name, description, parameters) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (name) DO NOTHING`,
      [profile.name, profile.description, JSON.stringify(profile.parameters)],
    );
    return result.rowCount === 1;
  },
  async remove(db: Queryable, name: string): Promise<void> {
    await db.query(`DELETE FROM api.compute_profiles WHERE name = $1`, [name]);
  },
};
