import type { Queryable } from '@openpks/db';

export interface NetworkProfileRecord {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  createdAt: Date;
}

export const networkProfileStore = {
  async all(db: Queryable): Promise<NetworkProfileRecord[]> {
    const result = await db.query<{
      name: string;
      description: string;
      parameters: Record<string, unknown>;
      created_at: Date;
    }>(`SELECT * FROM api.network_profiles ORDER BY name`);
    return result.rows.map((r) => ({
      name: r.name,
      description: r.description,
      parameters: r.parameters,
      createdAt: new Date(r.created_at),
    }));
  },
  async byName(db: Queryable, name: string): Promise<NetworkProfileRecord | undefined> {
    return (await this.all(db)).find((p) => p.name === name);
  },
  /** False when a profile of that name exists already. */
  async insert(
    db: Queryable,
    profile: { name: string; description: string; parameters: Record<string, unknown> },
  ): Promise<boolean> {
    const result = await db.query(
      `INSERT INTO api.network_profiles (name, description, parameters) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (name) DO NOTHING`,
      [profile.name, profile.description, JSON.stringify(profile.parameters)],
    );
    return result.rowCount === 1;
  },
  async remove(db: Queryable, name: string): Promise<void> {
    await db.query(`DELETE FROM api.network_profiles WHERE name = $1`, [name]);
  },
};
