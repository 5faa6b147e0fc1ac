import type { Queryable } from '@openpks/db';

/** A row of `broker.bindings`, the parts the binding service reads. */
export interface BindingRow {
  request_hash: string;
  /** Sealed with the data directory's key (`SecretBox`): the credentials hold the user's tokens. */
  credentials_sealed: string;
  /** The client certificate's CN of a certificate binding; null for an OIDC binding. */
  kube_user: string | null;
}

/** `broker.bindings`: one row per binding, keyed by instance and binding id. */
export const bindingStore = {
  async get(db: Queryable, instanceId: string, bindingId: string): Promise<BindingRow | undefined> {
    const { rows } = await db.query<BindingRow>(
      'SELECT request_hash, credentials_sealed, kube_user FROM broker.bindings WHERE instance_id = $1 AND id = $2',
      [instanceId, bindingId],
    );
    return rows[0];
  },

  /** False when a binding with that id exists already (a racing request won). */
  async insert(
    db: Queryable,
    binding: {
      instanceId: string;
      bindingId: string;
      requestHash: string;
      credentialsSealed: string;
      originatingIdentity: unknown;
      kubeUser: string | null;
    },
  ): Promise<boolean> {
    const inserted = await db.query(
      `INSERT INTO broker.bindings (instance_id, id, request_hash, credentials_sealed, originating_identity, kube_user)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        binding.instanceId,
        binding.bindingId,
        binding.requestHash,
        binding.credentialsSealed,
        JSON.stringify(binding.originatingIdentity ?? null),
        binding.kubeUser,
      ],
    );
    return inserted.rowCount === 1;
  },

  /** False when there was no such binding. */
  async delete(db: Queryable, instanceId: string, bindingId: string): Promise<boolean> {
    const deleted = await db.query('DELETE FROM broker.bindings WHERE instance_id = $1 AND id = $2', [
      instanceId,
      bindingId,
    ]);
    return deleted.rowCount === 1;
  },
};
