import type { Queryable } from '@openpks/db';

export interface ConfigRow {
  id: number;
  name: string;
  type: string;
  content: string;
  created_at: Date;
}

const CONFIG_COLUMNS = 'id, name, type, content, created_at';

/** `director.configs`: every version of every config (cloud, runtime, cpi, …) by type and name. */
export class ConfigStore {
  constructor(private readonly db: Queryable) {}

  /** The latest version of a config, unless deleted. */
  async latest(type: string, name: string): Promise<ConfigRow | undefined> {
    const { rows } = await this.db.query<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM director.configs WHERE type = $1 AND name = $2 AND NOT deleted
       ORDER BY id DESC LIMIT 1`,
      [type, name],
    );
    return rows[0];
  }

  /** The id of the latest cloud config, or null when there is none. */
  async latestCloudConfigId(): Promise<number | null> {
    const { rows } = await this.db.query<{ id: number | null }>(
      "SELECT max(id) AS id FROM director.configs WHERE type = 'cloud' AND NOT deleted",
    );
    return rows[0]?.id ?? null;
  }

  async get(id: number): Promise<ConfigRow | undefined> {
    const { rows } = await this.db.query<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM director.configs WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Adds a new version. */
  async add(type: string, name: string, content: string): Promise<ConfigRow> {
    const { rows } = await this.db.query<ConfigRow>(
      `INSERT INTO director.configs (type, name, content) VALUES ($1, $2, $3) RETURNING ${CONFIG_COLUMNS}`,
      [type, name, content],
    );
    return rows[0]!;
  }

  /** Marks every version of a config deleted; false when there was none. */
  async delete(type: string | null, name: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE director.configs SET deleted = true WHERE type = $1 AND name = $2 AND NOT deleted',
      [type, name],
    );
    return rowCount > 0;
  }

  /** Configs not deleted, newest first; `perName` keeps that many of each (type, name). */
  async list(filter: {
    type?: string | undefined;
    name?: string | undefined;
    perName: number | null;
  }): Promise<ConfigRow[]> {
    const where = ['NOT deleted'];
    const params: unknown[] = [];
    if (filter.type !== undefined) {
      params.push(filter.type);
      where.push(`type = $${params.length}`);
    }
    if (filter.name !== undefined) {
      params.push(filter.name);
      where.push(`name = $${params.length}`);
    }
    const ranked = `SELECT ${CONFIG_COLUMNS}, row_number() OVER (PARTITION BY type, name ORDER BY id DESC) AS rank
                    FROM director.configs WHERE ${where.join(' AND ')}`;
    if (filter.perName !== null) params.push(filter.perName);
    const { rows } = await this.db.query<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM (${ranked}) c
       ${filter.perName !== null ? `WHERE rank <= $${params.length}` : ''}
       ORDER BY type, name, id DESC`,
      params,
    );
    return rows;
  }
}
