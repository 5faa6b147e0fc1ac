import type { Database, Queryable } from '@openpks/db';

/** A row of `broker.instances`: what the platform provisioned. */
export interface InstanceRow {
  id: string;
  service_id: string;
  plan_id: string;
  organization_guid: string | null;
  space_guid: string | null;
  parameters: Record<string, unknown>;
}

export interface NewInstance {
  id: string;
  serviceId: string;
  planId: string;
  organizationGuid: unknown;
  spaceGuid: unknown;
  context: unknown;
  /** The provision request's parameters, to recognise an identical repeat. */
  parameters: Record<string, unknown>;
}

/** `broker.instances`: the service instances, and forgetting one with everything that hangs off it. */
export const instanceStore = {
  async get(db: Queryable, id: string): Promise<InstanceRow | undefined> {
    const { rows } = await db.query<InstanceRow>('SELECT * FROM broker.instances WHERE id = $1', [id]);
    return rows[0];
  },

  async insert(db: Queryable, instance: NewInstance): Promise<void> {
    await db.query(
      `INSERT INTO broker.instances (id, service_id, plan_id, organization_guid, space_guid, context, parameters)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        instance.id,
        instance.serviceId,
        instance.planId,
        instance.organizationGuid,
        instance.spaceGuid,
        JSON.stringify(instance.context ?? null),
        JSON.stringify(instance.parameters),
      ],
    );
  },

  /** Every instance, oldest first (the management API's list, upgrade-all's default set). */
  async list(db: Queryable): Promise<{ id: string; plan_id: string }[]> {
    const { rows } = await db.query<{ id: string; plan_id: string }>(
      'SELECT id, plan_id FROM broker.instances ORDER BY created_at, id',
    );
    return rows;
  },

  /** The instance and its bindings are gone (its deployment was deleted, or never made). */
  async forget(db: Database, id: string): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.query('DELETE FROM broker.bindings WHERE instance_id = $1', [id]);
      await tx.query('DELETE FROM broker.instances WHERE id = $1', [id]);
    });
  },
};
