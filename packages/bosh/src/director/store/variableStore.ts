import type { Queryable } from '@openpks/db';
import type { SecretBox } from '@openpks/pki';
import type { VariableValue } from '../variables.js';

/**
 * `director.variables`: each deployment's generated variables, sealed with the SecretBox (bound to
 * deployment and name, so a value cannot be moved to another), opened only when read.
 */
export class VariableStore {
  constructor(
    private readonly db: Queryable,
    private readonly box: SecretBox,
  ) {}

  #context(deployment: string, name: string): string {
    return `director.variables/${deployment}/${name}`;
  }

  #open(deployment: string, name: string, sealed: string): VariableValue {
    return JSON.parse(this.box.openString(sealed, this.#context(deployment, name))) as VariableValue;
  }

  #seal(deployment: string, name: string, value: VariableValue): string {
    return this.box.seal(JSON.stringify(value), this.#context(deployment, name));
  }

  async get(deployment: string, name: string): Promise<VariableValue | undefined> {
    const { rows } = await this.db.query<{ value: string }>(
      'SELECT value FROM director.variables WHERE deployment = $1 AND name = $2',
      [deployment, name],
    );
    const row = rows[0];
    return row === undefined ? undefined : this.#open(deployment, name, row.value);
  }

  /** A variable with its type and when this version was generated (the config server read API). */
  async find(
    deployment: string,
    name: string,
  ): Promise<{ type: string; value: VariableValue; createdAt: Date } | undefined> {
    const { rows } = await this.db.query<{ type: string; value: string; created_at: Date }>(
      'SELECT type, value, created_at FROM director.variables WHERE deployment = $1 AND name = $2',
      [deployment, name],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      type: row.type,
      value: this.#open(deployment, name, row.value),
      createdAt: new Date(row.created_at),
    };
  }

  async all(deployment: string): Promise<Map<string, VariableValue>> {
    const { rows } = await this.db.query<{ name: string; value: string }>(
      'SELECT name, value FROM director.variables WHERE deployment = $1',
      [deployment],
    );
    return new Map(rows.map((row) => [row.name, this.#open(deployment, row.name, row.value)]));
  }

  /**
   * Adds new variables in one statement (a variable that exists already stays as it is); unnest keeps
   * the arrays' order (generation order, CAs first).
   */
  async add(
    deployment: string,
    fresh: readonly { name: string; type: string; value: VariableValue }[],
  ): Promise<void> {
    if (fresh.length === 0) return;
    await this.db.query(
      `INSERT INTO director.variables (deployment, name, type, value)
       SELECT $1, name, type, value FROM unnest($2::text[], $3::text[], $4::text[]) AS v (name, type, value)
       ON CONFLICT (deployment, name) DO NOTHING`,
      [
        deployment,
        fresh.map((v) => v.name),
        fresh.map((v) => v.type),
        fresh.map((v) => this.#seal(deployment, v.name, v.value)),
      ],
    );
  }

  /** A new version of a variable: readers see a new `created_at`. */
  async replace(deployment: string, name: string, value: VariableValue): Promise<void> {
    await this.db.query(
      `UPDATE director.variables SET value = $3, created_at = clock_timestamp() WHERE deployment = $1 AND name = $2`,
      [deployment, name, this.#seal(deployment, name, value)],
    );
  }

  async deleteAll(deployment: string): Promise<void> {
    await this.db.query('DELETE FROM director.variables WHERE deployment = $1', [deployment]);
  }
}
