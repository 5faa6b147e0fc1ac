import { randomUUID } from 'node:crypto';
import type { Queryable } from '@openpks/db';

/** `director.settings`: the Director's own facts, such as the uuid it was given on its first start. */
export class SettingsStore {
  constructor(private readonly db: Queryable) {}

  /** The Director's uuid: made on the first start, the same on every later one and every replica. */
  async uuid(): Promise<string> {
    await this.db.query(
      `INSERT INTO director.settings (key, value) VALUES ('uuid', $1) ON CONFLICT DO NOTHING`,
      [randomUUID()],
    );
    const { rows } = await this.db.query<{ value: string }>(
      `SELECT value FROM director.settings WHERE key = 'uuid'`,
    );
    return rows[0]!.value;
  }
}
